// Tenancy in the engine, in process over HTTP on a real temp SQLite store, with RBAC in the chain
// before it (as `kumo server --authorization-mode RBAC` has them): the caches following the store,
// namespaces labelled by tenant admins only, the label kept by everyone but system admins, Tenants
// created by system admins only, spec changes beyond members refused for tenant admins, bad specs 422,
// and the filtered list and watch of Tenants and Namespaces. A minimal stand-in for the request
// pipeline authenticates by an `X-Test-User` header (`name;group,…`).
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
import { AuthorizerChain, privilegedGroupsAuthorizer } from '../auth/authorize.js';
import { setRequestUser, type UserInfo } from '../auth/types.js';
import { rbacAdmission, rbacWritten } from '../authz/admission.js';
import { ensureBootstrapPolicy } from '../authz/bootstrap.js';
import { PolicyCache } from '../authz/cache.js';
import { forbiddenFor } from '../authz/forbidden.js';
import { RbacAuthorizer } from '../authz/rbac.js';
import { authorizationReviews } from '../authz/reviews.js';
import { ApiEngine } from '../engine.js';
import { ROOT_CLUSTER } from '../keys.js';
import { requestAttributes } from '../http.js';
import { tenancyAdmission, tenancyNarrow, tenancyWritten } from './admission.js';
import { TenancyAuthorizer } from './authorizer.js';
import { TenancyCache } from './cache.js';

const G = 'rbac.authorization.k8s.io';
const T = '/apis/kumo.dev/v1alpha1/tenants';

describe('tenancy in the engine (in process, SQLite, HTTP)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-tenancy-test-'));
  let store: Store;
  let engine: ApiEngine;
  let server: http.Server;
  let base = '';
  const ac = new AbortController();

  before(async () => {
    store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`, {});
    const policy = new PolicyCache(store, { progressIntervalMs: 200 });
    const tenancy = new TenancyCache(store, { progressIntervalMs: 200 });
    const rbac = new RbacAuthorizer(policy.index);
    const tz = new TenancyAuthorizer(tenancy.index);
    const chain = new AuthorizerChain([privilegedGroupsAuthorizer(), rbac, tz]);
    const others = new AuthorizerChain([privilegedGroupsAuthorizer(), rbac]);
    const admitRbac = rbacAdmission(policy, () => chain);
    const admitTenancy = tenancyAdmission(tenancy, () => others);
    const writtenRbac = rbacWritten(policy);
    const writtenTenancy = tenancyWritten(tenancy);
    engine = new ApiEngine({
      store,
      resourceTypes: builtinResourceTypes(),
      schema: schemaOps,
      serverAddress: () => '127.0.0.1:0',
      createOnly: authorizationReviews({ authorizer: chain, ruleResolvers: () => chain.authorizers }),
      admit: async (rt, ctx, obj, old) => {
        await admitRbac(rt, ctx, obj, old);
        await admitTenancy(rt, ctx, obj, old);
      },
      written: async (rt, rev) => {
        await writtenRbac(rt, rev);
        await writtenTenancy(rt, rev);
      },
      narrow: tenancyNarrow(tenancy, () => others),
    });
    await engine.ensureSystemNamespaces();
    const rt = (plural: string): ResourceType => engine.resourceTypes().find((r) => r.group === G && r.plural === plural) as ResourceType;
    await ensureBootstrapPolicy({ clusterRoles: engine.storage(rt('clusterroles')), clusterRoleBindings: engine.storage(rt('clusterrolebindings')) }, ROOT_CLUSTER);
    void policy.run(ac.signal);
    void tenancy.run(ac.signal);
    assert.equal(await policy.waitForSync(AbortSignal.timeout(5000)), true);
    assert.equal(await tenancy.waitForSync(AbortSignal.timeout(5000)), true);
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          try {
            const [name = 'system:anonymous', groups = ''] = String(req.headers['x-test-user'] ?? '').split(';');
            const user: UserInfo = { username: name, groups: [...groups.split(',').filter((g) => g !== ''), 'system:authenticated'] };
            setRequestUser(req, user);
            const a = requestAttributes(req, user);
            const d = await chain.authorize(a);
            if (d.decision !== 'allow') throw forbiddenFor(a, d.reason);
            if (!(await engine.handle(req, res, Buffer.concat(chunks)))) throw new KumoError('NotFound', 'not found');
          } catch (err) {
            const s = statusFor(err);
            if (res.headersSent) {
              res.end();
              return;
            }
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
    server?.closeAllConnections();
    server?.close();
    ac.abort();
    await engine?.stop();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function call(user: string, method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; body: Record<string, unknown> }> {
    const r = await fetch(`${base}${p}`, { method, headers: { 'x-test-user': user, 'content-type': contentType }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { code: r.status, body: (await r.json()) as Record<string, unknown> };
  }
  const root = 'root;system:masters';
  const ops = 'olga;kumo:system-admins';
  const tenant = (name: string, members: unknown[], quota?: unknown) => ({ apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { members, ...(quota ? { quota } : {}) } });
  const ns = (name: string, t?: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(t ? { labels: { 'kumo.dev/tenant': t } } : {}) } });
  const names = (b: Record<string, unknown>): string[] => (b.items as { metadata: { name: string } }[]).map((i) => i.metadata.name).sort();

  it('creates tenants as a system admin only; bad specs are 422 naming the field', async () => {
    const a = tenant('a', [{ kind: 'User', name: 'alice', role: 'admin' }, { kind: 'Group', name: 'team-a', role: 'member' }, { kind: 'User', name: 'carol', role: 'viewer' }]);
    assert.equal((await call(root, 'POST', T, a)).code, 201);
    assert.equal((await call(ops, 'POST', T, tenant('b', [{ kind: 'User', name: 'bob', role: 'member' }]))).code, 201, 'kumo:system-admins');
    const byAlice = await call('alice', 'POST', T, tenant('c', [{ kind: 'User', name: 'alice', role: 'admin' }]));
    assert.equal(byAlice.code, 403);
    assert.equal(byAlice.body.message, 'tenants.kumo.dev is forbidden: User "alice" cannot create resource "tenants" in API group "kumo.dev" at the cluster scope');

    const dup = await call(root, 'POST', T, tenant('d', [{ kind: 'User', name: 'x', role: 'admin' }, { kind: 'User', name: 'x', role: 'viewer' }]));
    assert.equal(dup.code, 422);
    assert.match(String(dup.body.message), /spec\.members\[1\]: Duplicate value/);
    const role = await call(root, 'POST', T, tenant('d', [{ kind: 'User', name: 'x', role: 'owner' }]));
    assert.equal(role.code, 422);
    assert.match(String(role.body.message), /spec\.members\[0\]\.role: Unsupported value: "owner"/);
    const anon = await call(root, 'POST', T, tenant('d', [{ kind: 'Group', name: 'system:unauthenticated', role: 'viewer' }, { kind: 'User', name: ' x', role: 'viewer' }]));
    assert.equal(anon.code, 422);
    const causes = ((anon.body.details as { causes: { field: string }[] }).causes ?? []).map((c) => c.field).sort();
    assert.deepEqual(causes, ['spec.members[0].name', 'spec.members[1].name']);
    const ports = await call(root, 'POST', T, tenant('d', [], { loadBalancerPorts: { from: 9000, to: 8000 } }));
    assert.equal(ports.code, 422);
    assert.match(String(ports.body.message), /spec\.quota\.loadBalancerPorts\.to/);
  });

  it('lets tenant admins create namespaces labelled for their tenant, nobody else', async () => {
    assert.equal((await call('alice', 'POST', '/api/v1/namespaces', ns('a1', 'a'))).code, 201);
    // In force as soon as the create returns (read-your-writes through the tenancy cache).
    assert.equal((await call('alice', 'POST', '/api/v1/namespaces/a1/configmaps', { metadata: { name: 'cm' }, data: { k: 'v' } })).code, 201);
    assert.equal((await call('dave;team-a', 'GET', '/api/v1/namespaces/a1/configmaps/cm')).code, 200);

    const other = await call('alice', 'POST', '/api/v1/namespaces', ns('x1', 'b'));
    assert.equal(other.code, 403);
    assert.equal(other.body.message, 'namespaces "x1" is forbidden: User "alice" may not label a namespace kumo.dev/tenant=b: only admins of tenant "b" and system administrators may');
    const unlabelled = await call('alice', 'POST', '/api/v1/namespaces', ns('x2'));
    assert.equal(unlabelled.code, 403);
    assert.equal(unlabelled.body.message, 'namespaces "x2" is forbidden: User "alice" may create namespaces only labelled kumo.dev/tenant=<tenant> for a tenant they administer');
    const member = await call('bob', 'POST', '/api/v1/namespaces', ns('b1', 'b'));
    assert.equal(member.code, 403, 'a member does not create namespaces');
    assert.equal((await call('eve', 'POST', '/api/v1/namespaces', ns('e1', 'a'))).code, 403);
    assert.equal((await call(ops, 'POST', '/api/v1/namespaces', ns('b1', 'b'))).code, 201);
    assert.equal((await call(root, 'POST', '/api/v1/namespaces', ns('plain'))).code, 201);
  });

  it('keeps the label: only system admins change or remove it; tenant admins claim unlabelled namespaces they may update', async () => {
    const relabel = await call('alice', 'PATCH', '/api/v1/namespaces/a1', { metadata: { labels: { 'kumo.dev/tenant': 'b' } } }, 'application/merge-patch+json');
    assert.equal(relabel.code, 403);
    assert.equal(relabel.body.message, 'namespaces "a1" is forbidden: only system administrators (groups system:masters, kumo:system-admins) may change or remove the label kumo.dev/tenant ("a") of a namespace');
    const remove = await call('alice', 'PATCH', '/api/v1/namespaces/a1', { metadata: { labels: { 'kumo.dev/tenant': null } } }, 'application/merge-patch+json');
    assert.equal(remove.code, 403);
    assert.equal((await call('alice', 'PATCH', '/api/v1/namespaces/a1', { metadata: { labels: { team: 'blue' } } }, 'application/merge-patch+json')).code, 200, 'other labels are the admin\'s');
    const moved = await call(root, 'PATCH', '/api/v1/namespaces/plain', { metadata: { labels: { 'kumo.dev/tenant': 'a' } } }, 'application/merge-patch+json');
    assert.equal(moved.code, 200);
    assert.equal((await call('alice', 'GET', '/api/v1/namespaces/plain')).code, 200);
    assert.equal((await call(root, 'PATCH', '/api/v1/namespaces/plain', { metadata: { labels: { 'kumo.dev/tenant': null } } }, 'application/merge-patch+json')).code, 200);
    assert.equal((await call('alice', 'GET', '/api/v1/namespaces/plain')).code, 403);
  });

  it('lets tenant admins change members, not the quota; members and viewers only read their Tenant', async () => {
    const add = await call('alice', 'PATCH', `${T}/a`, { spec: { members: [{ kind: 'User', name: 'alice', role: 'admin' }, { kind: 'Group', name: 'team-a', role: 'member' }, { kind: 'User', name: 'carol', role: 'viewer' }, { kind: 'User', name: 'frank', role: 'viewer' }] } }, 'application/merge-patch+json');
    assert.equal(add.code, 200, JSON.stringify(add.body));
    assert.equal((await call('frank', 'GET', '/api/v1/namespaces/a1/configmaps/cm')).code, 200, 'in force when the update returns');
    const quota = await call('alice', 'PATCH', `${T}/a`, { spec: { quota: { clusters: 100 } } }, 'application/merge-patch+json');
    assert.equal(quota.code, 403);
    assert.equal(quota.body.message, 'tenants.kumo.dev "a" is forbidden: User "alice" may change spec.members of the tenant, not spec.quota: only system administrators (groups system:masters, kumo:system-admins) may');
    assert.equal((await call(ops, 'PATCH', `${T}/a`, { spec: { quota: { clusters: 3 } } }, 'application/merge-patch+json')).code, 200);
    assert.equal((await call('dave;team-a', 'PATCH', `${T}/a`, { spec: { members: [] } }, 'application/merge-patch+json')).code, 403);
    assert.equal((await call('carol', 'GET', `${T}/a`)).code, 200);
    assert.equal((await call('carol', 'GET', `${T}/b`)).code, 403);
    assert.equal((await call('alice', 'DELETE', `${T}/a`)).code, 403);
    assert.equal((await call('alice', 'PUT', `${T}/a/status`, { ...tenant('a', []), status: { usage: { clusters: 0 } } })).code, 403);
  });

  it('narrows lists of Tenants and Namespaces to the caller\'s tenants', async () => {
    assert.deepEqual(names((await call('alice', 'GET', T)).body), ['a']);
    assert.deepEqual(names((await call('bob', 'GET', T)).body), ['b']);
    assert.deepEqual(names((await call('dave;team-a', 'GET', T)).body), ['a']);
    assert.deepEqual(names((await call(root, 'GET', T)).body), ['a', 'b']);
    assert.deepEqual(names((await call('alice', 'GET', '/api/v1/namespaces')).body), ['a1']);
    assert.deepEqual(names((await call('bob', 'GET', '/api/v1/namespaces?resourceVersion=0')).body), ['b1'], 'from the object cache too');
    assert.deepEqual(names((await call('bob', 'GET', '/api/v1/namespaces?limit=1')).body), ['b1']);
    const paged = await call('carol', 'GET', `${T}?limit=1`);
    assert.deepEqual(names(paged.body), ['a']);
    assert.equal((paged.body.metadata as Record<string, unknown>).remainingItemCount, undefined);
    assert.equal((await call('eve', 'GET', T)).code, 403, 'no tenant, no list');
    assert.equal((await call('eve', 'GET', '/api/v1/namespaces')).code, 403);
    // RBAC's own grant lists everything (plain Kubernetes).
    const crb = { apiVersion: `${G}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'bob-view-ns' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'system:aggregate-to-view' }, subjects: [{ kind: 'User', apiGroup: G, name: 'bob' }] };
    assert.equal((await call(root, 'POST', `/apis/${G}/v1/clusterrolebindings`, crb)).code, 201);
    assert.ok(names((await call('bob', 'GET', '/api/v1/namespaces')).body).includes('default'));
    assert.equal((await call(root, 'DELETE', `/apis/${G}/v1/clusterrolebindings/bob-view-ns`)).code, 200);
    assert.deepEqual(names((await call('bob', 'GET', '/api/v1/namespaces')).body), ['b1']);
  });

  it('sends a watcher events of its own tenants only', async () => {
    const ctl = new AbortController();
    const r = await fetch(`${base}${T}?watch=1&resourceVersion=0`, { headers: { 'x-test-user': 'bob' }, signal: ctl.signal });
    assert.equal(r.status, 200);
    const seen: string[] = [];
    const reader = (async () => {
      let buf = '';
      const dec = new TextDecoder();
      try {
        for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
          buf += dec.decode(chunk);
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const ev = JSON.parse(buf.slice(0, i)) as { type: string; object: { metadata: { name: string } } };
            buf = buf.slice(i + 1);
            seen.push(`${ev.type} ${ev.object.metadata.name}`);
          }
        }
      } catch {
        // aborted
      }
    })();
    await call(root, 'PATCH', `${T}/a`, { metadata: { labels: { touched: '1' } } }, 'application/merge-patch+json');
    await call(root, 'PATCH', `${T}/b`, { metadata: { labels: { touched: '1' } } }, 'application/merge-patch+json');
    // bob joins a, then leaves it: ADDED, then DELETED.
    await call(root, 'PATCH', `${T}/a`, { spec: { members: [{ kind: 'User', name: 'alice', role: 'admin' }, { kind: 'Group', name: 'team-a', role: 'member' }, { kind: 'User', name: 'carol', role: 'viewer' }, { kind: 'User', name: 'bob', role: 'viewer' }] } }, 'application/merge-patch+json');
    await call(root, 'PATCH', `${T}/a`, { spec: { members: [{ kind: 'User', name: 'alice', role: 'admin' }, { kind: 'Group', name: 'team-a', role: 'member' }, { kind: 'User', name: 'carol', role: 'viewer' }] } }, 'application/merge-patch+json');
    await call(root, 'POST', T, tenant('z', [{ kind: 'User', name: 'zed', role: 'admin' }]));
    await call(root, 'POST', T, tenant('y', [{ kind: 'User', name: 'bob', role: 'viewer' }]));
    const deadline = Date.now() + 5000;
    while (seen.length < 5 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    await new Promise((res) => setTimeout(res, 200));
    ctl.abort();
    await reader;
    assert.deepEqual(seen, ['ADDED b', 'MODIFIED b', 'ADDED a', 'DELETED a', 'ADDED y']);
  });

  it('shows the tenant-derived rules in SelfSubjectRulesReview and access reviews', async () => {
    const r = await call('dave;team-a', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { spec: { namespace: 'a1' } });
    assert.equal(r.code, 201);
    const rules = (r.body.status as { resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[] }).resourceRules;
    assert.ok(rules.some((x) => x.resources?.includes('clusters') && x.verbs.includes('create') && x.apiGroups?.includes('kumo.dev')));
    assert.ok(rules.some((x) => x.resources?.includes('tenants') && x.resourceNames?.includes('a') && x.verbs.includes('get')));
    const ssar = await call('carol', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: { resourceAttributes: { verb: 'get', resource: 'secrets', namespace: 'a1' } } });
    assert.equal((ssar.body.status as { allowed: boolean }).allowed, false);
    const ok = await call('carol', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: { resourceAttributes: { verb: 'list', resource: 'configmaps', namespace: 'a1' } } });
    assert.deepEqual(ok.body.status, { allowed: true, reason: 'tenancy: viewer of tenant "a"' });
  });
});
