import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../../api/types.js';
import type { LogicalCluster } from '../keys.js';
import { reconcileAggregation } from './aggregation.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles, reconcileClusterRole, reconcileClusterRoleBinding } from './bootstrap.js';
import { PolicyIndex } from './policy.js';
import { RbacAuthorizer } from './rbac.js';
import type { Attributes } from '../auth/types.js';

const ROOT = 'root' as LogicalCluster;

/** Runs aggregation until nothing changes (what the controller converges to). */
function aggregateAll(roles: KObject[]): KObject[] {
  let current = roles.map((r) => structuredClone(r));
  for (let round = 0; round < 10; round++) {
    let changed = false;
    current = current.map((r) => {
      const next = reconcileAggregation(r, current);
      if (next) changed = true;
      return next ?? r;
    });
    if (!changed) return current;
  }
  throw new Error('aggregation did not converge');
}

function byName(roles: KObject[], name: string): KObject {
  const r = roles.find((x) => x.metadata?.name === name);
  if (!r) throw new Error(`no ${name}`);
  return r;
}

describe('bootstrap policy', () => {
  it('has kube\'s roles and bindings, annotated for auto-update', () => {
    const names = bootstrapClusterRoles().map((r) => r.metadata?.name);
    for (const n of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user', 'system:public-info-viewer', 'system:service-account-issuer-discovery', 'system:aggregate-to-admin', 'system:aggregate-to-edit', 'system:aggregate-to-view']) {
      assert.ok(names.includes(n), n);
    }
    for (const r of [...bootstrapClusterRoles(), ...bootstrapClusterRoleBindings()]) {
      assert.deepEqual(r.metadata?.annotations, { 'rbac.authorization.kubernetes.io/autoupdate': 'true' });
      assert.equal((r.metadata?.labels as Record<string, string>)['kubernetes.io/bootstrapping'], 'rbac-defaults');
    }
    const crb = byName(bootstrapClusterRoleBindings(), 'cluster-admin');
    assert.deepEqual(crb.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
  });

  it('aggregates admin ⊇ edit ⊇ view, with the kumo.dev kinds', () => {
    const roles = aggregateAll(bootstrapClusterRoles());
    const index = new PolicyIndex();
    for (const r of roles) index.apply('ClusterRole', ROOT, '', String(r.metadata?.name), r);
    for (const [role, user] of [['view', 'v'], ['edit', 'e'], ['admin', 'a']]) {
      index.apply('RoleBinding', ROOT, 'ns', role ?? '', { metadata: { name: role, namespace: 'ns' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }] });
    }
    const authz = new RbacAuthorizer(index);
    const can = (user: string, verb: string, group: string, resource: string, subresource = ''): boolean =>
      authz.authorize({ user: { username: user, groups: [] }, verb, cluster: ROOT, isResourceRequest: true, path: '', apiGroup: group, apiVersion: 'v1', resource, subresource, namespace: 'ns', name: '' } satisfies Attributes).decision === 'allow';
    // view: read, no Secrets, no writes
    assert.ok(can('v', 'list', '', 'configmaps'));
    assert.ok(can('v', 'watch', 'kumo.dev', 'clusters'));
    assert.ok(can('v', 'get', 'kumo.dev', 'clusters', 'status'));
    assert.ok(!can('v', 'get', '', 'secrets'));
    assert.ok(!can('v', 'create', '', 'configmaps'));
    assert.ok(!can('v', 'get', 'kumo.dev', 'importtokens'));
    // edit: view + writes + Secrets, no RBAC
    assert.ok(can('e', 'list', '', 'configmaps'));
    assert.ok(can('e', 'get', '', 'secrets'));
    assert.ok(can('e', 'create', 'kumo.dev', 'nodepools'));
    assert.ok(can('e', 'update', 'coordination.k8s.io', 'leases'));
    assert.ok(can('e', 'impersonate', '', 'serviceaccounts'));
    assert.ok(!can('e', 'create', 'rbac.authorization.k8s.io', 'rolebindings'));
    // admin: edit + RBAC in the namespace
    assert.ok(can('a', 'delete', 'kumo.dev', 'clusters'));
    assert.ok(can('a', 'create', 'rbac.authorization.k8s.io', 'rolebindings'));
    assert.ok(can('a', 'create', 'authorization.k8s.io', 'localsubjectaccessreviews'));
    assert.ok(!can('a', 'create', 'apiextensions.k8s.io', 'customresourcedefinitions'));
  });

  it('reconciles: adds what a default lacks, keeps extras, leaves autoupdate=false alone', () => {
    const expected = byName(bootstrapClusterRoles(), 'system:basic-user');
    const trimmed: KObject = { ...structuredClone(expected), rules: [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] }, { verbs: ['get'], apiGroups: [''], resources: ['extra'] }] };
    const next = reconcileClusterRole(trimmed, expected);
    assert.ok(next);
    const rules = next.rules as { resources?: string[] }[];
    assert.ok(rules.some((r) => r.resources?.includes('extra')), 'extra permission kept');
    assert.ok(rules.some((r) => r.resources?.includes('selfsubjectrulesreviews')), 'missing permission added');
    assert.equal(reconcileClusterRole(next, expected), null, 'stable');
    const off: KObject = { ...trimmed, metadata: { ...trimmed.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } } };
    assert.equal(reconcileClusterRole(off, expected), null);

    const b = byName(bootstrapClusterRoleBindings(), 'system:discovery');
    const custom: KObject = { ...structuredClone(b), subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'extra' }] };
    const nb = reconcileClusterRoleBinding(custom, b);
    assert.deepEqual(nb?.subjects, [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'extra' }, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }]);
  });
});
