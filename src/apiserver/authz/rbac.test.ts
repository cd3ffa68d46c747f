import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../../api/types.js';
import type { LogicalCluster } from '../keys.js';
import type { Attributes, UserInfo } from '../auth/types.js';
import { PolicyIndex, type RbacKind } from './policy.js';
import { RbacAuthorizer } from './rbac.js';

const ROOT = 'root' as LogicalCluster;
const OTHER = 'other' as LogicalCluster;

function put(index: PolicyIndex, kind: RbacKind, obj: KObject, cluster = ROOT): void {
  const m = obj.metadata ?? {};
  index.apply(kind, cluster, typeof m.namespace === 'string' ? m.namespace : '', String(m.name), obj);
}

const clusterRole = (name: string, rules: unknown[]): KObject => ({ kind: 'ClusterRole', metadata: { name }, rules });
const role = (namespace: string, name: string, rules: unknown[]): KObject => ({ kind: 'Role', metadata: { namespace, name }, rules });
const subject = (kind: string, name: string, namespace?: string): Record<string, unknown> => ({ kind, name, ...(namespace ? { namespace } : {}), apiGroup: kind === 'ServiceAccount' ? '' : 'rbac.authorization.k8s.io' });
const crb = (name: string, roleName: string, subjects: unknown[]): KObject => ({ kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName }, subjects });
const rb = (namespace: string, name: string, refKind: string, roleName: string, subjects: unknown[]): KObject => ({
  kind: 'RoleBinding',
  metadata: { namespace, name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: refKind, name: roleName },
  subjects,
});

function attrs(user: UserInfo, verb: string, resource: string, namespace = '', extra: Partial<Attributes> = {}): Attributes {
  return { user, verb, cluster: ROOT, isResourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace, name: '', ...extra };
}

const alice: UserInfo = { username: 'alice', groups: ['system:authenticated'] };
const bob: UserInfo = { username: 'bob', groups: ['team-a', 'system:authenticated'] };
const sa: UserInfo = { username: 'system:serviceaccount:apps:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:apps', 'system:authenticated'] };

function fixture(): PolicyIndex {
  const index = new PolicyIndex();
  put(index, 'ClusterRole', clusterRole('reader', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['configmaps'] }]));
  put(index, 'ClusterRole', clusterRole('health', [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] }]));
  put(index, 'ClusterRoleBinding', crb('alice-reads', 'reader', [subject('User', 'alice')]));
  put(index, 'ClusterRoleBinding', crb('everyone-health', 'health', [subject('Group', 'system:authenticated')]));
  put(index, 'Role', role('team-a', 'editor', [{ verbs: ['*'], apiGroups: [''], resources: ['secrets'] }]));
  put(index, 'RoleBinding', rb('team-a', 'team-edits', 'Role', 'editor', [subject('User', 'nobody'), subject('Group', 'team-a')]));
  put(index, 'RoleBinding', rb('apps', 'builder', 'ClusterRole', 'reader', [subject('ServiceAccount', 'builder')]));
  put(index, 'RoleBinding', rb('team-a', 'dangling', 'ClusterRole', 'gone', [subject('User', 'bob')]));
  return index;
}

describe('RBAC authorizer', () => {
  const authz = new RbacAuthorizer(fixture());

  it('allows through a ClusterRoleBinding, with kube\'s reason', () => {
    assert.deepEqual(authz.authorize(attrs(alice, 'list', 'configmaps', 'anywhere')), { decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "alice-reads" of ClusterRole "reader" to User "alice"' });
  });

  it('has no opinion (never denies) when no rule matches', () => {
    assert.deepEqual(authz.authorize(attrs(alice, 'delete', 'configmaps', 'x')), { decision: 'noOpinion', reason: '' });
  });

  it('allows through a group in a RoleBinding only in its namespace; the reason names the subject that matched', () => {
    assert.deepEqual(authz.authorize(attrs(bob, 'delete', 'secrets', 'team-a')), { decision: 'allow', reason: 'RBAC: allowed by RoleBinding "team-edits/team-a" of Role "editor" to Group "team-a"' });
    assert.equal(authz.authorize(attrs(bob, 'delete', 'secrets', 'team-b')).decision, 'noOpinion');
    assert.equal(authz.authorize(attrs(bob, 'delete', 'secrets', '')).decision, 'noOpinion');
  });

  it('reports a binding to a missing role in the reason', () => {
    assert.deepEqual(authz.authorize(attrs(bob, 'get', 'pods', 'team-a')), { decision: 'noOpinion', reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found' });
  });

  it('matches a ServiceAccount subject with the binding\'s namespace', () => {
    assert.deepEqual(authz.authorize(attrs(sa, 'get', 'configmaps', 'apps')), { decision: 'allow', reason: 'RBAC: allowed by RoleBinding "builder/apps" of ClusterRole "reader" to ServiceAccount "builder/apps"' });
    assert.equal(authz.authorize(attrs({ ...sa, username: 'system:serviceaccount:other:builder' }, 'get', 'configmaps', 'apps')).decision, 'noOpinion');
  });

  it('authorizes non-resource URLs', () => {
    const nonResource = (path: string): Attributes => ({ ...attrs(alice, 'get', ''), isResourceRequest: false, path });
    assert.equal(authz.authorize(nonResource('/healthz')).decision, 'allow');
    assert.equal(authz.authorize(nonResource('/apis/kumo.dev')).decision, 'allow');
    assert.equal(authz.authorize(nonResource('/metrics')).decision, 'noOpinion');
  });

  it('keeps logical clusters apart', () => {
    assert.equal(authz.authorize({ ...attrs(alice, 'list', 'configmaps'), cluster: OTHER }).decision, 'noOpinion');
  });

  it('follows changes: a removed binding or role takes its permissions away', () => {
    const index = fixture();
    const a = new RbacAuthorizer(index);
    index.apply('RoleBinding', ROOT, 'team-a', 'team-edits', null);
    assert.equal(a.authorize(attrs(bob, 'delete', 'secrets', 'team-a')).decision, 'noOpinion');
    index.apply('ClusterRole', ROOT, '', 'reader', null);
    assert.deepEqual(a.authorize(attrs(alice, 'list', 'configmaps')), { decision: 'noOpinion', reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "reader" not found' });
    // A changed subject list is re-indexed.
    put(index, 'ClusterRole', clusterRole('reader', [{ verbs: ['list'], apiGroups: [''], resources: ['configmaps'] }]));
    put(index, 'ClusterRoleBinding', crb('alice-reads', 'reader', [subject('User', 'carol')]));
    assert.equal(a.authorize(attrs(alice, 'list', 'configmaps')).decision, 'noOpinion');
    assert.equal(a.authorize(attrs({ username: 'carol', groups: [] }, 'list', 'configmaps')).decision, 'allow');
  });

  it('lists the rules of a user in a namespace (SelfSubjectRulesReview)', () => {
    const r = authz.rulesFor(bob, ROOT, 'team-a');
    assert.deepEqual(r.resourceRules, [{ verbs: ['*'], apiGroups: [''], resources: ['secrets'] }]);
    assert.deepEqual(r.nonResourceRules, [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] }]);
    assert.equal(r.incomplete, false);
    assert.equal(r.evaluationError, 'clusterrole.rbac.authorization.k8s.io "gone" not found');
  });
});
