import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactRules, compactString, covers, ruleAllows, type PolicyRule, type RuleRequest } from './rules.js';

function res(verb: string, apiGroup: string, resource: string, extra: Partial<RuleRequest> = {}): RuleRequest {
  return { verb, isResourceRequest: true, path: '', apiGroup, resource, subresource: '', name: '', ...extra };
}

function url(verb: string, path: string): RuleRequest {
  return { verb, isResourceRequest: false, path, apiGroup: '', resource: '', subresource: '', name: '' };
}

describe('RBAC rule matching (RuleAllows)', () => {
  const cases: [string, PolicyRule, RuleRequest, boolean][] = [
    ['exact verb, group, resource', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }, res('get', '', 'configmaps'), true],
    ['other verb', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }, res('list', '', 'configmaps'), false],
    ['verb *', { verbs: ['*'], apiGroups: [''], resources: ['configmaps'] }, res('deletecollection', '', 'configmaps'), true],
    ['other group', { verbs: ['get'], apiGroups: ['apps'], resources: ['configmaps'] }, res('get', '', 'configmaps'), false],
    ['group *', { verbs: ['get'], apiGroups: ['*'], resources: ['leases'] }, res('get', 'coordination.k8s.io', 'leases'), true],
    ['resource *', { verbs: ['get'], apiGroups: ['kumo.dev'], resources: ['*'] }, res('get', 'kumo.dev', 'clusters'), true],
    ['resource * covers subresources', { verbs: ['get'], apiGroups: ['kumo.dev'], resources: ['*'] }, res('get', 'kumo.dev', 'clusters', { subresource: 'status' }), true],
    ['a resource does not cover its subresource', { verbs: ['get'], apiGroups: ['kumo.dev'], resources: ['clusters'] }, res('get', 'kumo.dev', 'clusters', { subresource: 'status' }), false],
    ['resource/subresource', { verbs: ['get'], apiGroups: ['kumo.dev'], resources: ['clusters/status'] }, res('get', 'kumo.dev', 'clusters', { subresource: 'status' }), true],
    ['resource/subresource is not the resource', { verbs: ['get'], apiGroups: ['kumo.dev'], resources: ['clusters/status'] }, res('get', 'kumo.dev', 'clusters'), false],
    ['*/subresource', { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] }, res('update', 'kumo.dev', 'nodepools', { subresource: 'status' }), true],
    ['*/subresource, other subresource', { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] }, res('update', 'kumo.dev', 'nodepools', { subresource: 'scale' }), false],
    ['*/subresource is not the resource', { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] }, res('update', 'kumo.dev', 'nodepools'), false],
    ['*/sub does not match a longer suffix', { verbs: ['get'], apiGroups: ['*'], resources: ['*/tus'] }, res('get', '', 'pods', { subresource: 'status' }), false],
    ['resourceNames allows the name', { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a', 'b'] }, res('get', '', 'secrets', { name: 'b' }), true],
    ['resourceNames refuses another name', { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, res('get', '', 'secrets', { name: 'c' }), false],
    ['resourceNames refuses an unnamed list', { verbs: ['list'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, res('list', '', 'secrets'), false],
    ['a resource rule does not match a URL', { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, url('get', '/healthz'), false],
    ['URL exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, url('get', '/healthz'), true],
    ['URL exact, other path', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, url('get', '/healthz/etcd'), false],
    ['URL prefix *', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, url('get', '/apis/kumo.dev/v1alpha1'), true],
    ['URL prefix * needs the prefix', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, url('get', '/apis'), false],
    ['URL *', { verbs: ['*'], nonResourceURLs: ['*'] }, url('post', '/anything'), true],
    ['URL verb', { verbs: ['get'], nonResourceURLs: ['/metrics'] }, url('post', '/metrics'), false],
    ['a URL rule does not match a resource', { verbs: ['*'], nonResourceURLs: ['*'] }, res('get', '', 'configmaps'), false],
    ['empty groups match nothing', { verbs: ['get'], resources: ['configmaps'] }, res('get', '', 'configmaps'), false],
  ];
  for (const [name, rule, req, want] of cases) {
    it(name, () => assert.equal(ruleAllows(req, rule), want));
  }
});

describe('escalation cover check (Covers)', () => {
  const cases: [string, PolicyRule[], PolicyRule[], string[]][] = [
    ['star covers everything', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [{ verbs: ['get', 'delete'], apiGroups: ['', 'apps'], resources: ['secrets', 'deployments'] }], []],
    ['exact cover', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }], []],
    [
      'missing verb is listed broken down',
      [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }],
      [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['configmaps'] }],
      ['{APIGroups:[""], Resources:["configmaps"], Verbs:["delete"]}'],
    ],
    ['names covered by an unrestricted owner', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['x'] }], []],
    [
      'an owner restricted to names does not cover all names',
      [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['x'] }],
      [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }],
      ['{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}'],
    ],
    ['URL prefix covers', [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/apis/kumo.dev'] }], []],
    ['URL not covered', [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }], ['{NonResourceURLs:["/metrics"], Verbs:["get"]}']],
    [
      'subresource is its own resource',
      [{ verbs: ['update'], apiGroups: ['kumo.dev'], resources: ['clusters'] }],
      [{ verbs: ['update'], apiGroups: ['kumo.dev'], resources: ['clusters/status'] }],
      ['{APIGroups:["kumo.dev"], Resources:["clusters/status"], Verbs:["update"]}'],
    ],
  ];
  for (const [name, owner, servant, missing] of cases) {
    it(name, () => {
      const r = covers(owner, servant);
      assert.equal(r.covered, missing.length === 0);
      assert.deepEqual(r.missing.map(compactString), missing);
    });
  }

  it('compacts missing rules of one group and resource into one line of verbs', () => {
    const { missing } = covers([], [{ verbs: ['get', 'list', 'delete'], apiGroups: [''], resources: ['secrets', 'configmaps'] }]);
    assert.deepEqual(compactRules(missing).map(compactString), ['{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list" "delete"]}', '{APIGroups:[""], Resources:["configmaps"], Verbs:["get" "list" "delete"]}']);
  });
});
