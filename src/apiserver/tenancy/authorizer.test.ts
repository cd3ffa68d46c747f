// The tenancy authorizer's decisions from a TenancyIndex fed directly (no store): roles through users
// and groups, the strongest role winning, namespaces of other tenants, the cluster-scoped rules on
// tenants and namespaces, and that every decision agrees with the rules `rulesFor` reports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../../api/types.js';
import type { Attributes, UserInfo } from '../auth/types.js';
import { rulesAllow, type PolicyRule } from '../authz/rules.js';
import { ROOT_CLUSTER, type LogicalCluster } from '../keys.js';
import { TenancyAuthorizer } from './authorizer.js';
import { TENANT_LABEL } from './roles.js';
import { TenancyIndex } from './tenants.js';

const tenant = (name: string, members: { kind: string; name: string; role: string }[]): KObject => ({ apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { members } });
const ns = (name: string, t?: string): KObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(t ? { labels: { [TENANT_LABEL]: t } } : {}) } });
const user = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] });

function attrs(u: UserInfo, verb: string, group: string, resource: string, namespace = '', name = '', subresource = ''): Attributes {
  return { user: u, verb, cluster: ROOT_CLUSTER, isResourceRequest: true, path: '', apiGroup: group, apiVersion: 'v1', resource, subresource, namespace, name };
}

function fixture(): TenancyIndex {
  const index = new TenancyIndex();
  const c = ROOT_CLUSTER;
  index.apply('Tenant', c, 'a', tenant('a', [
    { kind: 'User', name: 'alice', role: 'admin' },
    { kind: 'User', name: 'carol', role: 'viewer' },
    { kind: 'Group', name: 'team-a', role: 'member' },
    { kind: 'Group', name: 'a-viewers', role: 'viewer' },
  ]));
  index.apply('Tenant', c, 'b', tenant('b', [{ kind: 'User', name: 'bob', role: 'member' }]));
  index.apply('Namespace', c, 'a1', ns('a1', 'a'));
  index.apply('Namespace', c, 'a2', ns('a2', 'a'));
  index.apply('Namespace', c, 'b1', ns('b1', 'b'));
  index.apply('Namespace', c, 'plain', ns('plain'));
  index.apply('Namespace', c, 'ghost', ns('ghost', 'no-such-tenant'));
  return index;
}

const alice = user('alice');
const bob = user('bob');
const carol = user('carol', 'a-viewers');
const dave = user('dave', 'team-a');
const eve = user('eve');

describe('TenancyAuthorizer', () => {
  const index = fixture();
  const z = new TenancyAuthorizer(index);
  const allowed = (a: Attributes): boolean => {
    const d = z.authorize(a);
    assert.notEqual(d.decision, 'deny', 'tenancy never denies');
    return d.decision === 'allow';
  };

  it('decides namespaced requests by the role in the namespace\'s tenant', () => {
    const cases: [UserInfo, string, string, string, string, boolean][] = [
      // user, verb, group, resource, namespace, allowed
      [alice, 'delete', '', 'secrets', 'a1', true],
      [alice, 'create', 'rbac.authorization.k8s.io', 'rolebindings', 'a2', true],
      [alice, 'get', '', 'configmaps', 'b1', false],
      [alice, 'get', '', 'configmaps', 'plain', false],
      [bob, 'create', 'kumo.dev', 'clusters', 'b1', true],
      [bob, 'create', '', 'secrets', 'b1', true],
      [bob, 'get', '', 'secrets', 'b1', true],
      [bob, 'create', 'rbac.authorization.k8s.io', 'rolebindings', 'b1', false],
      [bob, 'update', '', 'resourcequotas', 'b1', false],
      [bob, 'get', '', 'configmaps', 'a1', false],
      [carol, 'list', '', 'configmaps', 'a1', true],
      [carol, 'watch', 'kumo.dev', 'clusters', 'a2', true],
      [carol, 'get', '', 'secrets', 'a1', false],
      [carol, 'list', '', 'secrets', 'a1', false],
      [carol, 'create', '', 'configmaps', 'a1', false],
      [carol, 'get', 'kumo.dev', 'importtokens', 'a1', false],
      [dave, 'create', 'kumo.dev', 'nodepools', 'a1', true],
      [dave, 'delete', 'coordination.k8s.io', 'leases', 'a1', true],
      [dave, 'get', '', 'secrets', 'a1', true],
      [dave, 'create', '', 'configmaps', 'b1', false],
      [eve, 'get', '', 'configmaps', 'a1', false],
      [eve, 'get', '', 'configmaps', 'ghost', false],
      // The namespace object itself: `namespace` is its name.
      [carol, 'get', '', 'namespaces', 'a1', true],
      [bob, 'delete', '', 'namespaces', 'b1', false],
      [alice, 'delete', '', 'namespaces', 'a1', true],
      [alice, 'delete', '', 'namespaces', 'b1', false],
    ];
    for (const [u, verb, group, resource, namespace, want] of cases) {
      assert.equal(allowed(attrs(u, verb, group, resource, namespace, resource === 'namespaces' ? namespace : 'x')), want, `${u.username} ${verb} ${resource} in ${namespace}`);
    }
  });

  it('takes the strongest role of the user and its groups', () => {
    const both = user('carol', 'a-viewers', 'team-a');
    assert.equal(allowed(attrs(both, 'create', '', 'configmaps', 'a1', 'x')), true);
    assert.equal(z.authorize(attrs(both, 'create', '', 'configmaps', 'a1', 'x')).reason, 'tenancy: member of tenant "a"');
  });

  it('decides Tenants: read by members, update by admins, the filtered list for anyone in a tenant', () => {
    const cases: [UserInfo, string, string, boolean][] = [
      [alice, 'get', 'a', true],
      [alice, 'update', 'a', true],
      [alice, 'patch', 'a', true],
      [alice, 'delete', 'a', false],
      [alice, 'get', 'b', false],
      [dave, 'get', 'a', true],
      [dave, 'update', 'a', false],
      [carol, 'patch', 'a', false],
      [bob, 'get', 'a', false],
      [alice, 'list', '', true],
      [bob, 'watch', '', true],
      [eve, 'list', '', false],
      [eve, 'get', 'a', false],
      [alice, 'create', '', false],
      [alice, 'deletecollection', '', false],
    ];
    for (const [u, verb, name, want] of cases) assert.equal(allowed(attrs(u, verb, 'kumo.dev', 'tenants', '', name)), want, `${u.username} ${verb} tenants ${name}`);
    assert.equal(allowed(attrs(alice, 'update', 'kumo.dev', 'tenants', '', 'a', 'status')), false, 'status is not the admin\'s');
    assert.equal(z.authorize(attrs(bob, 'list', 'kumo.dev', 'tenants')).reason, 'tenancy: the list is narrowed to the caller\'s tenants');
  });

  it('decides Namespaces at the cluster scope: create for tenant admins, the filtered list for anyone in a tenant', () => {
    assert.equal(allowed(attrs(alice, 'create', '', 'namespaces')), true);
    assert.equal(allowed(attrs(bob, 'create', '', 'namespaces')), false);
    assert.equal(allowed(attrs(eve, 'create', '', 'namespaces')), false);
    assert.equal(allowed(attrs(bob, 'list', '', 'namespaces')), true);
    assert.equal(allowed(attrs(eve, 'watch', '', 'namespaces')), false);
    assert.equal(allowed(attrs(bob, 'list', '', 'configmaps')), false, 'no lists across namespaces');
  });

  it('has no opinion on other logical clusters and non-resource requests', () => {
    assert.equal(allowed({ ...attrs(alice, 'get', '', 'configmaps', 'a1', 'x'), cluster: 'other' as LogicalCluster }), false);
    assert.equal(allowed({ ...attrs(alice, 'get', '', '', ''), isResourceRequest: false, path: '/metrics' }), false);
  });

  it('follows changes: members removed, namespaces relabelled, tenants deleted', () => {
    const idx = fixture();
    const zz = new TenancyAuthorizer(idx);
    const can = (u: UserInfo, ns: string): boolean => zz.authorize(attrs(u, 'get', '', 'configmaps', ns, 'x')).decision === 'allow';
    assert.equal(can(dave, 'a1'), true);
    idx.apply('Tenant', ROOT_CLUSTER, 'a', tenant('a', [{ kind: 'User', name: 'alice', role: 'admin' }]));
    assert.equal(can(dave, 'a1'), false);
    assert.equal(can(alice, 'a1'), true);
    idx.apply('Namespace', ROOT_CLUSTER, 'a1', ns('a1', 'b'));
    assert.equal(can(alice, 'a1'), false);
    assert.equal(can(bob, 'a1'), true);
    idx.apply('Namespace', ROOT_CLUSTER, 'a1', null);
    assert.equal(can(bob, 'a1'), false);
    idx.apply('Tenant', ROOT_CLUSTER, 'a', null);
    assert.equal(can(alice, 'a2'), false);
    assert.equal(zz.authorize(attrs(alice, 'list', 'kumo.dev', 'tenants')).decision, 'noOpinion');
    idx.clear('Tenant');
    assert.equal(can(bob, 'b1'), false);
  });

  it('reports rules that allow exactly what it allows', () => {
    const users = [alice, bob, carol, dave, eve, user('carol', 'a-viewers', 'team-a')];
    const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'bind', 'escalate', 'impersonate'];
    const resources: [string, string, string][] = [
      ['', 'configmaps', ''], ['', 'secrets', ''], ['', 'pods', 'exec'], ['', 'pods', 'log'], ['', 'serviceaccounts', 'token'], ['', 'resourcequotas', ''],
      ['kumo.dev', 'clusters', ''], ['kumo.dev', 'clusters', 'proxy'], ['kumo.dev', 'nodepools', 'scale'], ['kumo.dev', 'importtokens', ''],
      ['rbac.authorization.k8s.io', 'roles', ''], ['coordination.k8s.io', 'leases', ''], ['apps', 'deployments', ''],
    ];
    const namespaces = ['a1', 'a2', 'b1', 'plain', 'ghost'];
    let checked = 0;
    for (const u of users) {
      for (const namespace of namespaces) {
        const rules = z.rulesFor(u, ROOT_CLUSTER, namespace).resourceRules as PolicyRule[];
        // A namespace's rules hold there; requests of no namespace see the cluster-wide ones, which every
        // namespace's answer also lists (they hold everywhere, as a ClusterRoleBinding's do).
        const clusterWide = z.rulesFor(u, ROOT_CLUSTER, '').resourceRules as PolicyRule[];
        for (const r of clusterWide) assert.ok(rules.some((x) => JSON.stringify(x) === JSON.stringify(r)));
        const same = (a: Attributes): void => {
          checked++;
          assert.equal(allowed(a), rulesAllow(a, a.namespace === '' ? clusterWide : rules), `${u.username} ${a.verb} ${a.resource}/${a.subresource} ${a.name} in ${JSON.stringify(a.namespace)}`);
        };
        for (const verb of verbs) {
          for (const [group, resource, sub] of resources) same(attrs(u, verb, group, resource, namespace, 'x', sub));
          same(attrs(u, verb, '', 'namespaces', namespace, namespace));
          for (const name of ['', 'a', 'b']) {
            same(attrs(u, verb, 'kumo.dev', 'tenants', '', name));
            // kubectl auth can-i sends its namespace for cluster-scoped kinds too.
            same(attrs(u, verb, 'kumo.dev', 'tenants', namespace, name));
            same(attrs(u, verb, 'kumo.dev', 'tenants', namespace, name, 'status'));
          }
          same(attrs(u, verb, '', 'namespaces', '', ''));
          same(attrs(u, verb, '', 'namespaces', namespace, ''));
        }
      }
    }
    assert.ok(checked > 4000);
  });
});
