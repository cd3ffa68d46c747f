import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError } from '../../lib/errors.js';
import type { LogicalCluster } from '../keys.js';
import type { Attributes, Authorizer, UserInfo } from '../auth/types.js';
import { impersonate, impersonationRequests } from './impersonation.js';

const ROOT = 'root' as LogicalCluster;
const admin: UserInfo = { username: 'admin', groups: ['system:authenticated'] };

/** Allows what `allowed` lists as `verb resource[/sub] group ns/name`, and records every question. */
function recorder(allowed: string[]): Authorizer & { asked: string[] } {
  const asked: string[] = [];
  return {
    name: 'test',
    asked,
    authorize(a: Attributes) {
      const q = `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.apiGroup || '-'} ${a.namespace ? `${a.namespace}/` : ''}${a.name}`;
      asked.push(q);
      return allowed.includes(q) ? { decision: 'allow', reason: '' } : { decision: 'noOpinion', reason: '' };
    },
  };
}

describe('impersonation', () => {
  it('leaves a request without Impersonate-* headers as it is', async () => {
    assert.deepEqual(await impersonate({}, admin, ROOT, recorder([])), admin);
  });

  it('impersonates a user, adding system:authenticated', async () => {
    const a = recorder(['impersonate users - bob']);
    assert.deepEqual(await impersonate({ 'impersonate-user': ['bob'] }, admin, ROOT, a), { username: 'bob', groups: ['system:authenticated'] });
  });

  it('checks every group, the uid and each extra value', async () => {
    const a = recorder(['impersonate users - bob', 'impersonate groups - dev', 'impersonate groups - ops', 'impersonate uids authentication.k8s.io 42', 'impersonate userextras/scopes authentication.k8s.io view']);
    const user = await impersonate({ 'impersonate-user': ['bob'], 'impersonate-group': ['dev', 'ops'], 'impersonate-uid': ['42'], 'impersonate-extra-scopes': ['view'] }, admin, ROOT, a);
    assert.deepEqual(user, { username: 'bob', groups: ['dev', 'ops', 'system:authenticated'], uid: '42', extra: { scopes: ['view'] } });
    assert.equal(a.asked.length, 5);
  });

  it('impersonates a service account with its groups, checked in its namespace', async () => {
    const a = recorder(['impersonate serviceaccounts - apps/builder']);
    assert.deepEqual(await impersonate({ 'impersonate-user': ['system:serviceaccount:apps:builder'] }, admin, ROOT, a), {
      username: 'system:serviceaccount:apps:builder',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:apps', 'system:authenticated'],
    });
  });

  it('refuses with kube\'s 403 when a part is not allowed', async () => {
    const a = recorder(['impersonate users - bob']);
    await assert.rejects(impersonate({ 'impersonate-user': ['bob'], 'impersonate-group': ['system:masters'] }, admin, ROOT, a), (err: unknown) => {
      assert.ok(isKumoError(err, 'Forbidden'));
      assert.equal(err.message, 'groups "system:masters" is forbidden: User "admin" cannot impersonate resource "groups" in API group "" at the cluster scope');
      return true;
    });
    await assert.rejects(impersonate({ 'impersonate-user': ['system:serviceaccount:apps:x'] }, admin, ROOT, a), (err: unknown) => {
      assert.ok(isKumoError(err, 'Forbidden'));
      assert.equal(err.message, 'serviceaccounts "x" is forbidden: User "admin" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "apps"');
      return true;
    });
  });

  it('refuses groups, extras or a uid without a user', () => {
    assert.throws(() => impersonationRequests({ 'impersonate-group': ['dev'] }), (err: unknown) => isKumoError(err, 'BadRequest') && /without impersonating a user/.test(err.message));
  });

  it('impersonating system:anonymous adds system:unauthenticated', async () => {
    const a = recorder(['impersonate users - system:anonymous']);
    assert.deepEqual(await impersonate({ 'impersonate-user': ['system:anonymous'] }, admin, ROOT, a), { username: 'system:anonymous', groups: ['system:unauthenticated'] });
  });
});
