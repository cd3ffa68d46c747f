import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError } from '../../lib/errors.js';
import type { LogicalCluster } from '../keys.js';
import type { UserInfo } from '../auth/types.js';
import { PolicyIndex } from './policy.js';
import { RbacAuthorizer } from './rbac.js';
import { localSubjectAccessReview, selfSubjectAccessReview, selfSubjectRulesReview, subjectAccessReview } from './reviews.js';

const ROOT = 'root' as LogicalCluster;
const G = 'rbac.authorization.k8s.io';

function authorizer(): RbacAuthorizer {
  const i = new PolicyIndex();
  i.apply('ClusterRole', ROOT, '', 'reader', { metadata: { name: 'reader' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }] });
  i.apply('RoleBinding', ROOT, 'dev', 'r', { metadata: { name: 'r', namespace: 'dev' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'Group', apiGroup: G, name: 'devs' }] });
  return new RbacAuthorizer(i);
}

const carol: UserInfo = { username: 'carol', groups: ['devs', 'system:authenticated'] };

describe('authorization reviews', () => {
  it('SelfSubjectAccessReview answers for the caller', async () => {
    const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: 'dev', verb: 'list', resource: 'configmaps' } } };
    const yes = await selfSubjectAccessReview(body, carol, ROOT, authorizer());
    assert.deepEqual(yes.status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "r/dev" of ClusterRole "reader" to Group "devs"' });
    assert.equal(yes.kind, 'SelfSubjectAccessReview');
    assert.deepEqual(yes.spec, body.spec);
    const no = await selfSubjectAccessReview({ spec: { resourceAttributes: { namespace: 'prod', verb: 'list', resource: 'configmaps' } } }, carol, ROOT, authorizer());
    assert.deepEqual(no.status, { allowed: false });
  });

  it('SelfSubjectAccessReview of a non-resource URL', async () => {
    const r = await selfSubjectAccessReview({ spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } } }, carol, ROOT, authorizer());
    assert.equal((r.status as { allowed: boolean }).allowed, false); // bound in dev only: URLs need a ClusterRoleBinding
  });

  it('refuses a spec without exactly one kind of attributes (422)', async () => {
    await assert.rejects(selfSubjectAccessReview({ spec: {} }, carol, ROOT, authorizer()), (err: unknown) => isKumoError(err, 'Invalid') && /exactly one of nonResourceAttributes or resourceAttributes must be specified/.test(err.message));
    await assert.rejects(
      selfSubjectAccessReview({ spec: { resourceAttributes: {}, nonResourceAttributes: {} } }, carol, ROOT, authorizer()),
      (err: unknown) => isKumoError(err, 'Invalid') && /cannot be specified in combination/.test(err.message),
    );
  });

  it('SubjectAccessReview answers for the user and groups in its spec', async () => {
    const r = await subjectAccessReview({ spec: { user: 'x', groups: ['devs'], resourceAttributes: { namespace: 'dev', verb: 'get', resource: 'configmaps', name: 'a' } } }, ROOT, authorizer());
    assert.equal((r.status as { allowed: boolean }).allowed, true);
    await assert.rejects(subjectAccessReview({ spec: { resourceAttributes: { verb: 'get' } } }, ROOT, authorizer()), (err: unknown) => isKumoError(err, 'Invalid') && /at least one of user or group must be specified/.test(err.message));
  });

  it('LocalSubjectAccessReview is confined to the namespace of the request', async () => {
    const r = await localSubjectAccessReview({ spec: { groups: ['devs'], resourceAttributes: { verb: 'get', resource: 'configmaps' } } }, 'dev', ROOT, authorizer());
    assert.equal((r.status as { allowed: boolean }).allowed, true);
    assert.equal((r.spec as { resourceAttributes: { namespace: string } }).resourceAttributes.namespace, 'dev');
    await assert.rejects(localSubjectAccessReview({ spec: { groups: ['devs'], resourceAttributes: { namespace: 'prod', verb: 'get', resource: 'configmaps' } } }, 'dev', ROOT, authorizer()), (err: unknown) => isKumoError(err, 'BadRequest') && /must match namespace: dev/.test(err.message));
  });

  it('SelfSubjectRulesReview lists the caller\'s rules in a namespace', async () => {
    const r = await selfSubjectRulesReview({ spec: { namespace: 'dev' } }, carol, ROOT, [authorizer()]);
    assert.deepEqual(r.status, {
      resourceRules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }],
      incomplete: false,
    });
    await assert.rejects(selfSubjectRulesReview({ spec: {} }, carol, ROOT, [authorizer()]), (err: unknown) => isKumoError(err, 'BadRequest'));
  });
});
