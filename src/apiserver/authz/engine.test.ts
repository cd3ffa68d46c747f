// RBAC in the engine, in process over HTTP on a real temp SQLite store: the policy cache following
// the store, the bootstrap policy, escalation refused on the write path (403 with kube's message),
// read-your-writes for RBAC writes, and the authorization.k8s.io reviews served and in discovery. A
// minimal stand-in for the request pipeline authenticates by an `X-Test-User` header (`name;group,…`),
// impersonates, and authorizes with system:masters + RBAC, as `kumo server --authorization-mode RBAC`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinResourceTypes } from '../../api/index.js';
import { schemaOps } from '../../api/schema/ops.js';
import type { ResourceType } from '../../api/types.js';
import { KumoError, statusFor } from '../../lib/errors.js';
import { openStore } from '../../store/registry.js';
import type { Store } from '../../store/types.js';
import { MASTERS_GROUP, setRequestUser, type Authorizer, type UserInfo } from '../auth/types.js';
import { ApiEngine } from '../engine.js';
import { ROOT_CLUSTER } from '../keys.js';
import { requestAttributes } from '../http.js';
import { rbacAdmission, rbacWritten } from './admission.js';
import { ensureBootstrapPolicy } from './bootstrap.js';
import { PolicyCache } from './cache.js';
import { forbiddenFor } from './forbidden.js';
import { impersonator } from './impersonation.js';
import { RbacAuthorizer } from './rbac.js';
import { authorizationReviews } from './reviews.js';

const G = 'rbac.authorization.k8s.io';

describe('RBAC in the engine (in process, SQLite, HTTP)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-authz-test-'));
  let store: Store;
  let engine: ApiEngine;
  let cache: PolicyCache;
  let server: http.Server;
  let base = '';
  const ac = new AbortController();

  before(async () => {
    store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`, {});
    cache = new PolicyCache(store, { progressIntervalMs: 200 });
    const rbac = new RbacAuthorizer(cache.index);
    const masters: Authorizer = { name: 'masters', authorize: (a) => (a.user.groups.includes(MASTERS_GROUP) ? { decision: 'allow', reason: '' } : { decision: 'noOpinion', reason: '' }) };
    const chain: Authorizer = {
      name: 'chain',
      async authorize(a) {
        for (const z of [masters, rbac]) {
          const r = await z.authorize(a);
          if (r.decision !== 'noOpinion') return r;
        }
        return { decision: 'noOpinion', reason: '' };
      },
    };
    engine = new ApiEngine({
      store,
      resourceTypes: builtinResourceTypes(),
      schema: schemaOps,
      serverAddress: () => '127.0.0.1:0',
      createOnly: authorizationReviews({ authorizer: chain, ruleResolvers: () => [masters, rbac] }),
      admit: rbacAdmission(cache, () => chain),
      written: rbacWritten(cache),
    });
    await engine.ensureSystemNamespaces();
    const rt = (plural: string): ResourceType => engine.resourceTypes().find((r) => r.group === G && r.plural === plural) as ResourceType;
    await ensureBootstrapPolicy({ clusterRoles: engine.storage(rt('clusterroles')), clusterRoleBindings: engine.storage(rt('clusterrolebindings')) }, ROOT_CLUSTER);
    void cache.run(ac.signal);
    assert.equal(await cache.waitForSync(AbortSignal.timeout(5000)), true);
    const impersonate = impersonator(chain);
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          try {
            const [name = 'system:anonymous', groups = ''] = String(req.headers['x-test-user'] ?? '').split(';');
            const authn: UserInfo = { username: name, groups: [...groups.split(',').filter((g) => g !== ''), 'system:authenticated'] };
            const user = await impersonate(req, authn);
            setRequestUser(req, user);
            const a = requestAttributes(req, user);
            const d = await chain.authorize(a);
            if (d.decision !== 'allow') throw forbiddenFor(a, d.reason);
            if (!(await engine.handle(req, res, Buffer.concat(chunks)))) throw new KumoError('NotFound', 'not found');
          } catch (err) {
            const s = statusFor(err);
            res.writeHead(s.code, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify(s));
          }
        })();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.close();
    ac.abort();
    await engine?.stop();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function call(user: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ code: number; body: Record<string, unknown> }> {
    const r = await fetch(`${base}${p}`, { method, headers: { 'x-test-user': user, 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { code: r.status, body: (await r.json()) as Record<string, unknown> };
  }
  const admin = 'root;system:masters';
  const canI = async (user: string, verb: string, resource: string, namespace: string, group = ''): Promise<boolean> => {
    const r = await call(user, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { resourceAttributes: { verb, resource, namespace, group } } });
    assert.equal(r.code, 201, JSON.stringify(r.body));
    return (r.body.status as { allowed: boolean }).allowed;
  };

  it('lists the review kinds in discovery, create-only', async () => {
    const r = await call(admin, 'GET', '/apis/authorization.k8s.io/v1');
    const resources = (r.body.resources as { name: string; verbs: string[]; namespaced: boolean }[]).map((x) => `${x.name} ${x.verbs.join(',')} ${x.namespaced}`);
    assert.deepEqual(resources.sort(), ['localsubjectaccessreviews create true', 'selfsubjectaccessreviews create false', 'selfsubjectrulesreviews create false', 'subjectaccessreviews create false']);
    assert.equal((await call(admin, 'GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')).code, 405);
  });

  it('a RoleBinding gives access as soon as its create returns; deleting it takes it away', async () => {
    assert.equal(await canI('dana', 'list', 'configmaps', 'default'), false);
    const list = await call('dana', 'GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(list.code, 403);
    assert.equal(list.body.message, 'configmaps is forbidden: User "dana" cannot list resource "configmaps" in API group "" in the namespace "default"');
    const rb = { apiVersion: `${G}/v1`, kind: 'RoleBinding', metadata: { name: 'dana-view' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'system:aggregate-to-view' }, subjects: [{ kind: 'User', apiGroup: G, name: 'dana' }] };
    assert.equal((await call(admin, 'POST', `/apis/${G}/v1/namespaces/default/rolebindings`, rb)).code, 201);
    assert.equal((await call('dana', 'GET', '/api/v1/namespaces/default/configmaps')).code, 200);
    assert.equal(await canI('dana', 'list', 'configmaps', 'default'), true);
    assert.equal(await canI('dana', 'list', 'configmaps', 'kube-system'), false);
    assert.equal((await call(admin, 'DELETE', `/apis/${G}/v1/namespaces/default/rolebindings/dana-view`)).code, 200);
    assert.equal((await call('dana', 'GET', '/api/v1/namespaces/default/configmaps')).code, 403);
  });

  it('refuses an escalating Role and RoleBinding with kube\'s 403, allows what the user holds', async () => {
    // erin writes RBAC objects in "default" and reads its configmaps (no `*` verb: that would include escalate and bind).
    const rbacVerbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
    const role = { apiVersion: `${G}/v1`, kind: 'Role', metadata: { name: 'erin' }, rules: [{ verbs: rbacVerbs, apiGroups: [G], resources: ['roles', 'rolebindings'] }, { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }] };
    assert.equal((await call(admin, 'POST', `/apis/${G}/v1/namespaces/default/roles`, role)).code, 201);
    const rb = { apiVersion: `${G}/v1`, kind: 'RoleBinding', metadata: { name: 'erin' }, roleRef: { apiGroup: G, kind: 'Role', name: 'erin' }, subjects: [{ kind: 'User', apiGroup: G, name: 'erin' }] };
    assert.equal((await call(admin, 'POST', `/apis/${G}/v1/namespaces/default/rolebindings`, rb)).code, 201);

    const ok = { apiVersion: `${G}/v1`, kind: 'Role', metadata: { name: 'reader' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }] };
    assert.equal((await call('erin', 'POST', `/apis/${G}/v1/namespaces/default/roles`, ok)).code, 201);
    const bad = { apiVersion: `${G}/v1`, kind: 'Role', metadata: { name: 'secrets' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }] };
    const refused = await call('erin', 'POST', `/apis/${G}/v1/namespaces/default/roles`, bad);
    assert.equal(refused.code, 403);
    assert.equal(refused.body.reason, 'Forbidden');
    assert.equal(
      refused.body.message,
      'roles.rbac.authorization.k8s.io "secrets" is forbidden: user "erin" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    );
    // Widening an existing role through a patch is refused the same way.
    const patched = await call('erin', 'PATCH', `/apis/${G}/v1/namespaces/default/roles/reader`, { rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }] }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(patched.code, 403);
    // Binding cluster-admin is refused; binding a role she holds is allowed.
    const bindAdmin = { apiVersion: `${G}/v1`, kind: 'RoleBinding', metadata: { name: 'x' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', apiGroup: G, name: 'erin' }] };
    const r = await call('erin', 'POST', `/apis/${G}/v1/namespaces/default/rolebindings`, bindAdmin);
    assert.equal(r.code, 403);
    assert.match(String(r.body.message), /^rolebindings\.rbac\.authorization\.k8s\.io "x" is forbidden: user "erin" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}\n\{NonResourceURLs:\["\*"\], Verbs:\["\*"\]\}$/);
    const bindReader = { ...bindAdmin, metadata: { name: 'y' }, roleRef: { apiGroup: G, kind: 'Role', name: 'reader' } };
    assert.equal((await call('erin', 'POST', `/apis/${G}/v1/namespaces/default/rolebindings`, bindReader)).code, 201);
  });

  it('impersonation needs the impersonate verb; --as answers for the impersonated user', async () => {
    const asDana = { 'impersonate-user': 'dana' };
    const denied = await call('frank', 'GET', '/api/v1/namespaces/default/configmaps', undefined, asDana);
    assert.equal(denied.code, 403);
    assert.equal(denied.body.message, 'users "dana" is forbidden: User "frank" cannot impersonate resource "users" in API group "" at the cluster scope');
    const cr = { apiVersion: `${G}/v1`, kind: 'ClusterRole', metadata: { name: 'impersonate-dana' }, rules: [{ verbs: ['impersonate'], apiGroups: [''], resources: ['users'], resourceNames: ['dana'] }] };
    assert.equal((await call(admin, 'POST', `/apis/${G}/v1/clusterroles`, cr)).code, 201);
    const crb = { apiVersion: `${G}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'frank-impersonates' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'impersonate-dana' }, subjects: [{ kind: 'User', apiGroup: G, name: 'frank' }] };
    assert.equal((await call(admin, 'POST', `/apis/${G}/v1/clusterrolebindings`, crb)).code, 201);
    // Allowed to impersonate, but dana herself may not list configmaps any more.
    assert.equal((await call('frank', 'GET', '/api/v1/namespaces/default/configmaps', undefined, asDana)).code, 403);
    const ssar = await call('frank', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: { resourceAttributes: { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' } } }, asDana);
    assert.equal((ssar.body.status as { allowed: boolean; reason: string }).reason, 'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"');
    assert.equal((await call('frank', 'GET', '/api/v1/namespaces/default/configmaps', undefined, { 'impersonate-user': 'erin' })).code, 403, 'only dana');
  });

  it('SelfSubjectRulesReview lists the caller\'s rules (kubectl auth can-i --list)', async () => {
    const r = await call('erin', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { spec: { namespace: 'default' } });
    assert.equal(r.code, 201);
    const status = r.body.status as { resourceRules: { resources: string[]; verbs: string[] }[]; nonResourceRules: { nonResourceURLs: string[] }[]; incomplete: boolean };
    assert.ok(status.resourceRules.some((x) => x.resources.includes('selfsubjectaccessreviews')));
    assert.ok(status.resourceRules.some((x) => x.resources.includes('rolebindings') && x.verbs.includes('create')));
    assert.ok(status.nonResourceRules.some((x) => x.nonResourceURLs.includes('/api/*')));
    assert.equal(status.incomplete, false);
  });

  it('SubjectAccessReview needs its own permission; answers for the user in its spec', async () => {
    const body = { spec: { user: 'erin', resourceAttributes: { verb: 'get', resource: 'configmaps', namespace: 'default' } } };
    assert.equal((await call('erin', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', body)).code, 403);
    const r = await call(admin, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', body);
    assert.equal((r.body.status as { allowed: boolean }).allowed, true);
  });
});
