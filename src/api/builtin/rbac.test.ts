import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../types.js';
import { clusterRole, clusterRoleBinding, printBinding, role, roleBinding } from './rbac.js';

const fields = (errs: { field?: string }[] | undefined): (string | undefined)[] => (errs ?? []).map((c) => c.field);

describe('RBAC', () => {
  it('names with path segments and prints like kube-apiserver', () => {
    for (const rt of [role(), clusterRole(), roleBinding(), clusterRoleBinding()]) assert.equal(rt.nameFormat, 'path-segment');
    assert.deepEqual(role().printerColumns.map((c) => c.name), ['Created At']);
    assert.deepEqual(
      roleBinding().printerColumns.map((c) => [c.name, c.priority ?? 0]),
      [['Role', 0], ['Age', 0], ['Users', 1], ['Groups', 1], ['ServiceAccounts', 1]],
    );
  });

  it('prints bindings with users, groups and namespace/name service accounts', () => {
    const rb: KObject = {
      metadata: { creationTimestamp: '2026-01-01T00:00:00Z' },
      roleRef: { kind: 'ClusterRole', name: 'view', apiGroup: 'rbac.authorization.k8s.io' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'User', name: 'bob' },
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', namespace: 'ci', name: 'deployer' },
      ],
    };
    assert.deepEqual(printBinding(rb, Date.parse('2026-01-01T00:05:00Z')), ['ClusterRole/view', '5m', 'alice, bob', 'devs', 'ci/deployer']);
  });

  it('checks policy rules as pkg/apis/rbac/validation does', () => {
    const roleRt = role();
    const r = (o: KObject, old: KObject | undefined) => roleRt.strategy?.validate?.(o, old);
    assert.deepEqual(fields(r?.({ rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] }, undefined)), []);
    assert.deepEqual(fields(r?.({ rules: [{ verbs: [] }] }, undefined)), ['rules[0].verbs', 'rules[0].apiGroups', 'rules[0].resources']);
    assert.deepEqual(fields(r?.({ rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }, undefined)), ['rules[0].nonResourceURLs']);
    const crRt = clusterRole();
    const cr = (o: KObject, old: KObject | undefined) => crRt.strategy?.validate?.(o, old);
    assert.deepEqual(fields(cr?.({ rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }, undefined)), []);
    assert.deepEqual(fields(cr?.({ rules: [{ verbs: ['get'], nonResourceURLs: ['/x'], resources: ['pods'] }] }, undefined)), ['rules[0].nonResourceURLs']);
    assert.deepEqual(fields(cr?.({ aggregationRule: {} }, undefined)), ['aggregationRule.clusterRoleSelectors']);
  });

  it('defaults the RBAC group on User/Group subjects and roleRef, then validates bindings', () => {
    const rt = roleBinding();
    const o: KObject = { roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'a' }, { kind: 'ServiceAccount', name: 'sa' }] };
    rt.strategy?.prepareForCreate?.(o);
    assert.deepEqual(o, {
      roleRef: { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' },
      subjects: [{ kind: 'User', name: 'a', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'ServiceAccount', name: 'sa' }],
    });
    assert.deepEqual(rt.strategy?.validate?.(o, undefined), []);
    const changed = { ...o, roleRef: { kind: 'Role', name: 'other', apiGroup: 'rbac.authorization.k8s.io' } };
    const msgs = rt.strategy?.validate?.(changed, o).map((c) => c.message) ?? [];
    assert.equal(msgs.length, 1);
    assert.match(msgs[0] ?? '', /^Invalid value: .*"name":"other".*: cannot change roleRef$/);
    const bad: KObject = { roleRef: { kind: 'Pod', name: 'a/b', apiGroup: 'x' }, subjects: [{ kind: 'Robot', name: '' }, { kind: 'ServiceAccount', name: 's', apiGroup: 'x' }] };
    assert.deepEqual(fields(rt.strategy?.validate?.(bad, undefined)), [
      'roleRef.apiGroup',
      'roleRef.kind',
      'roleRef.name',
      'subjects[0].name',
      'subjects[0].kind',
      'subjects[1].apiGroup',
    ]);
  });

  it('binds only ClusterRoles cluster-wide and needs service account namespaces there', () => {
    const rt = clusterRoleBinding();
    const o: KObject = { roleRef: { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] };
    assert.deepEqual(fields(rt.strategy?.validate?.(o, undefined)), ['roleRef.kind', 'subjects[0].namespace']);
  });
});
