// Quota admission and recounts in the engine, in process on a real temp SQLite store: tenant quotas
// on Clusters and NodePools, ResourceQuota object counts, LimitRanges of NodePools, charges given
// back when the write is not stored, 50 concurrent creates against a quota of N (also split over two
// engines — two "servers" — on one store), and the controller's recount with its grace period.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinResourceTypes } from '../../api/index.js';
import { schemaOps } from '../../api/schema/ops.js';
import type { KObject, ResourceType } from '../../api/types.js';
import { isKumoError, KumoError } from '../../lib/errors.js';
import { openStore } from '../../store/registry.js';
import type { Store } from '../../store/types.js';
import { chainAdmission } from '../admission.js';
import { ApiEngine } from '../engine.js';
import { ROOT_CLUSTER } from '../keys.js';
import type { WriteContext } from '../rest.js';
import { Quotas } from './quota.js';
import { CHARGED_AT_ANNOTATION, TENANT_LABEL } from './usage.js';

const cluster = ROOT_CLUSTER;

interface Server {
  engine: ApiEngine;
  quotas: Quotas;
}

function server(store: Store, opts: { graceMs?: number; now?: () => Date } = {}): Server {
  const ref: { engine?: ApiEngine } = {};
  const quotas = new Quotas({
    engine: () => {
      if (!ref.engine) throw new Error('engine not ready');
      return ref.engine;
    },
    ...(opts.graceMs !== undefined ? { recountGraceMs: opts.graceMs } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const engine = new ApiEngine({ store, resourceTypes: builtinResourceTypes(), schema: schemaOps, serverAddress: () => '127.0.0.1:0', admit: chainAdmission(quotas.admit) });
  ref.engine = engine;
  return { engine, quotas };
}

describe('quotas in the engine (in process, SQLite)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-quota-test-'));
  let store: Store;
  let a: Server;
  let b: Server;
  const rt = (plural: string, group = ''): ResourceType => {
    const found = a.engine.resourceTypes().find((t) => t.plural === plural && t.group === group);
    if (!found) throw new Error(`${plural} not served`);
    return found;
  };
  /** Creates through server `s` (each engine has its own ResourceType objects). */
  const create = (s: Server, r: ResourceType, obj: KObject, namespace?: string, extra: Partial<WriteContext> = {}): Promise<KObject> => {
    const own = s.engine.resourceTypes().find((t) => t.plural === r.plural && t.group === r.group) ?? r;
    return s.engine.createObject(own, { cluster, ...(namespace ? { namespace } : {}), ...extra }, obj);
  };
  const get = (r: ResourceType, name: string, namespace?: string): Promise<KObject> => a.engine.storage(r).get({ cluster, ...(namespace ? { namespace } : {}) }, name);
  const tenantNs = async (name: string, tenant: string): Promise<void> => {
    await create(a, rt('namespaces'), { metadata: { name, labels: { [TENANT_LABEL]: tenant } } });
  };
  const tenant = (name: string, quota: Record<string, unknown>): Promise<KObject> => create(a, rt('tenants', 'kumo.dev'), { apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { quota } });
  const usage = async (name: string): Promise<Record<string, unknown>> => {
    const t = await get(rt('tenants', 'kumo.dev'), name);
    return ((t.status as Record<string, unknown> | undefined)?.usage ?? {}) as Record<string, unknown>;
  };
  const used = async (namespace: string, name: string): Promise<Record<string, unknown>> => {
    const q = await get(rt('resourcequotas'), name, namespace);
    return ((q.status as Record<string, unknown> | undefined)?.used ?? {}) as Record<string, unknown>;
  };
  const count = async (r: ResourceType, namespace?: string): Promise<number> => (await a.engine.storage(r).list({ cluster, ...(namespace ? { namespace } : {}) })).items.length;
  /** Settles every promise: [fulfilled, rejected reasons]. */
  const settle = async <T>(ps: Promise<T>[]): Promise<[T[], unknown[]]> => {
    const r = await Promise.allSettled(ps);
    return [r.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : [])), r.flatMap((x) => (x.status === 'rejected' ? [x.reason as unknown] : []))];
  };

  before(async () => {
    store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`, {});
    a = server(store, { graceMs: 0 });
    b = server(store, { graceMs: 0 });
    await a.engine.ensureSystemNamespaces();
  });

  after(async () => {
    await a.engine.stop();
    await b.engine.stop();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('50 parallel Cluster creates against a tenant quota of 7: exactly 7 succeed, 43 get 403 with the quota message', async () => {
    await tenant('acme', { clusters: 7 });
    await tenantNs('acme-a', 'acme');
    await tenantNs('acme-b', 'acme');
    const clusters = rt('clusters', 'kumo.dev');
    const [ok, refused] = await settle(Array.from({ length: 50 }, (_, i) => create(a, clusters, { metadata: { name: `c${i}` }, spec: {} }, i % 2 ? 'acme-a' : 'acme-b')));
    assert.equal(ok.length, 7);
    assert.equal(refused.length, 43);
    for (const err of refused) {
      assert.ok(isKumoError(err, 'Forbidden'), String(err));
      assert.match(err.message, /^clusters\.kumo\.dev "c\d+" is forbidden: exceeded quota: acme, requested: clusters=1, used: clusters=7, limited: clusters=7$/);
    }
    assert.equal((await count(clusters, 'acme-a')) + (await count(clusters, 'acme-b')), 7);
    assert.equal((await usage('acme')).clusters, 7);
    assert.ok(a.quotas.charger.stats.writes < 50, `charges were batched: ${a.quotas.charger.stats.writes} writes for 7 charges`);
  });

  it('50 parallel creates split over two engines on one store (two servers): exactly N succeed', async () => {
    await tenant('duo', { clusters: 11 });
    await tenantNs('duo-a', 'duo');
    const clusters = rt('clusters', 'kumo.dev');
    const before = { a: a.quotas.charger.stats.conflicts, b: b.quotas.charger.stats.conflicts };
    const [ok, refused] = await settle(Array.from({ length: 50 }, (_, i) => create(i % 2 ? a : b, clusters, { metadata: { name: `d${i}` }, spec: {} }, 'duo-a')));
    assert.equal(ok.length, 11);
    assert.equal(refused.length, 39);
    assert.deepEqual(refused.filter((e) => !isKumoError(e, 'Forbidden')).map(String), []);
    assert.equal(await count(clusters, 'duo-a'), 11);
    assert.equal((await usage('duo')).clusters, 11);
    // The two servers' charges met in the store (compare-and-swap conflicts, retried).
    const conflicts = a.quotas.charger.stats.conflicts - before.a + (b.quotas.charger.stats.conflicts - before.b);
    assert.ok(conflicts >= 0);
  });

  it('NodePools charge nodes, CPU and memory from their flavor; growth on update (and scale) is charged, dry runs are not', async () => {
    await tenant('nodes', { nodes: 6, cpu: '10', memory: '64Gi' });
    await tenantNs('nodes-a', 'nodes');
    const pools = rt('nodepools', 'kumo.dev');
    await create(a, pools, { metadata: { name: 'p1' }, spec: { cluster: 'c', replicas: 4 } }, 'nodes-a');
    assert.deepEqual(await usage('nodes'), { nodes: 4, cpu: '8', memory: '16Gi' });
    // A dry run is checked, not charged.
    await create(a, pools, { metadata: { name: 'dry' }, spec: { cluster: 'c', replicas: 1 } }, 'nodes-a', { dryRun: true });
    assert.deepEqual(await usage('nodes'), { nodes: 4, cpu: '8', memory: '16Gi' });
    await assert.rejects(
      create(a, pools, { metadata: { name: 'p2' }, spec: { cluster: 'c', replicas: 2 } }, 'nodes-a'),
      (err: unknown) => isKumoError(err, 'Forbidden') && err.message === 'nodepools.kumo.dev "p2" is forbidden: exceeded quota: nodes, requested: cpu=4, used: cpu=8, limited: cpu=10',
    );
    // Growing p1 by one node fits (cpu 10); by two more it does not.
    await a.engine.storage(pools).patch({ cluster, namespace: 'nodes-a' }, 'p1', (cur) => ({ ...cur, spec: { ...(cur.spec as object), replicas: 5 } }));
    assert.deepEqual(await usage('nodes'), { nodes: 5, cpu: '10', memory: '20Gi' });
    await assert.rejects(
      a.engine.storage(pools).patch({ cluster, namespace: 'nodes-a' }, 'p1', (cur) => ({ ...cur, spec: { ...(cur.spec as object), replicas: 7 } })),
      (err: unknown) => isKumoError(err, 'Forbidden') && /exceeded quota: nodes, requested: cpu=4,nodes=2, used: cpu=10,nodes=5, limited: cpu=10,nodes=6$/.test(err.message),
    );
    // A flavor Kumo does not know cannot be counted against a CPU quota.
    await assert.rejects(
      create(a, pools, { metadata: { name: 'odd' }, spec: { cluster: 'c', replicas: 0, template: { flavor: 'huge' } } }, 'nodes-a'),
      (err: unknown) => isKumoError(err, 'Forbidden') && /failed quota: nodes: flavor "huge" is not known/.test(err.message),
    );
    // Shrinking is not charged; the recount lowers usage.
    await a.engine.storage(pools).patch({ cluster, namespace: 'nodes-a' }, 'p1', (cur) => ({ ...cur, spec: { ...(cur.spec as object), replicas: 1 } }));
    assert.deepEqual(await usage('nodes'), { nodes: 5, cpu: '10', memory: '20Gi' });
    const r = await a.quotas.recountTenant(cluster, 'nodes');
    assert.equal(r.updated, true);
    assert.deepEqual(await usage('nodes'), { clusters: 0, nodes: 1, cpu: '2', memory: '4Gi' });
  });

  it('ResourceQuota count/configmaps: 50 parallel creates against 5 → 5 succeed, the rest get kube\'s message', async () => {
    await create(a, rt('namespaces'), { metadata: { name: 'rq' } });
    await create(a, rt('resourcequotas'), { metadata: { name: 'q' }, spec: { hard: { 'count/configmaps': '5', secrets: '2' } } }, 'rq');
    // The other server applies the quota once its object cache has it (as kube's informer-fed lister).
    const bRq = b.engine.resourceTypes().find((t) => t.plural === 'resourcequotas' && t.group === '') ?? rt('resourcequotas');
    for (let i = 0; (await b.engine.storage(bRq).list({ cluster, namespace: 'rq' }, { resourceVersion: '0' })).items.length === 0; i++) {
      assert.ok(i < 200, 'the second engine never saw the quota');
      await new Promise((r) => setTimeout(r, 10));
    }
    const cms = rt('configmaps');
    const [ok, refused] = await settle(Array.from({ length: 50 }, (_, i) => create(i % 3 ? a : b, cms, { metadata: { name: `cm${i}` } }, 'rq')));
    assert.equal(ok.length, 5);
    assert.equal(refused.length, 45);
    for (const err of refused) {
      assert.ok(isKumoError(err, 'Forbidden'));
      assert.match(err.message, /^configmaps "cm\d+" is forbidden: exceeded quota: q, requested: count\/configmaps=1, used: count\/configmaps=5, limited: count\/configmaps=5$/);
    }
    assert.equal(await count(cms, 'rq'), 5);
    const q = await get(rt('resourcequotas'), 'q', 'rq');
    // Admission counts what it charges; the controller's recount fills in the other names.
    assert.deepEqual((q.status as Record<string, unknown>).used, { 'count/configmaps': '5' });
    assert.deepEqual((q.status as Record<string, unknown>).hard, { 'count/configmaps': '5', secrets: '2' });
    assert.equal(typeof (q.metadata?.annotations as Record<string, string>)[CHARGED_AT_ANNOTATION], 'string');
  });

  it('a create that fails after its charge gives the charge back', async () => {
    await create(a, rt('namespaces'), { metadata: { name: 'undo' } });
    await create(a, rt('resourcequotas'), { metadata: { name: 'q' }, spec: { hard: { secrets: '2' } } }, 'undo');
    const secrets = rt('secrets');
    await create(a, secrets, { metadata: { name: 's1' } }, 'undo');
    assert.deepEqual(await used('undo', 'q'), { secrets: '1' });
    await assert.rejects(create(a, secrets, { metadata: { name: 's1' } }, 'undo'), (err: unknown) => isKumoError(err, 'AlreadyExists'));
    assert.deepEqual(await used('undo', 'q'), { secrets: '1' });
    await create(a, secrets, { metadata: { name: 's2' } }, 'undo');
    await assert.rejects(create(a, secrets, { metadata: { name: 's3' } }, 'undo'), (err: unknown) => isKumoError(err, 'Forbidden'));
    assert.deepEqual(await used('undo', 'q'), { secrets: '2' });
  });

  it('a later admission plugin refusing the write gives the earlier charges back', async () => {
    await create(a, rt('namespaces'), { metadata: { name: 'chain' } });
    await create(a, rt('resourcequotas'), { metadata: { name: 'q' }, spec: { hard: { configmaps: '1' } } }, 'chain');
    const refuseAll = chainAdmission(a.quotas.admit, () => Promise.reject(new KumoError('Forbidden', 'no')));
    await assert.rejects(refuseAll(rt('configmaps'), { cluster, namespace: 'chain' }, { metadata: { name: 'x' } }, undefined), /no/);
    assert.deepEqual(await used('chain', 'q'), { configmaps: '0' });
  });

  it('a new quota counts what exists on its first charge; the recount follows deletions', async () => {
    await create(a, rt('namespaces'), { metadata: { name: 'late' } });
    const cms = rt('configmaps');
    for (const n of ['a', 'b', 'c']) await create(a, cms, { metadata: { name: n } }, 'late');
    await create(a, rt('resourcequotas'), { metadata: { name: 'q' }, spec: { hard: { 'count/configmaps': '4', 'requests.cpu': '2' } } }, 'late');
    await create(a, cms, { metadata: { name: 'd' } }, 'late');
    assert.deepEqual(await used('late', 'q'), { 'count/configmaps': '4' });
    await assert.rejects(create(a, cms, { metadata: { name: 'e' } }, 'late'), /used: count\/configmaps=4, limited: count\/configmaps=4/);
    await a.engine.storage(cms).delete({ cluster, namespace: 'late' }, 'a');
    const r = await a.quotas.recountQuota(cluster, 'late', 'q');
    assert.equal(r.updated, true);
    assert.deepEqual(await used('late', 'q'), { 'count/configmaps': '3', 'requests.cpu': '0' });
    await create(a, cms, { metadata: { name: 'e' } }, 'late');
  });

  it('a recount does not lower usage charged within its grace period, and says when to look again', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const s = server(store, { graceMs: 10_000, now: () => new Date(now) });
    await create(s, rt('namespaces'), { metadata: { name: 'grace' } });
    await create(s, rt('resourcequotas'), { metadata: { name: 'q' }, spec: { hard: { configmaps: '3' } } }, 'grace');
    await create(s, rt('configmaps'), { metadata: { name: 'x' } }, 'grace');
    await s.engine.storage(s.engine.resourceTypes().find((t) => t.plural === 'configmaps' && t.group === '') ?? rt('configmaps')).delete({ cluster, namespace: 'grace' }, 'x');
    now += 4000;
    const early = await s.quotas.recountQuota(cluster, 'grace', 'q');
    assert.equal(early.requeueAfterMs, 6050);
    assert.deepEqual(await used('grace', 'q'), { configmaps: '1' });
    now += 7000;
    const late = await s.quotas.recountQuota(cluster, 'grace', 'q');
    assert.equal(late.requeueAfterMs, undefined);
    assert.deepEqual(await used('grace', 'q'), { configmaps: '0' });
    await s.engine.stop();
  });

  it('LimitRange kumo.dev/NodePool bounds each node\'s flavor', async () => {
    await create(a, rt('namespaces'), { metadata: { name: 'lr' } });
    await create(a, rt('limitranges'), { metadata: { name: 'nodes' }, spec: { limits: [{ type: 'kumo.dev/NodePool', max: { cpu: '4', memory: '16Gi' }, min: { cpu: '2' } }] } }, 'lr');
    const pools = rt('nodepools', 'kumo.dev');
    await create(a, pools, { metadata: { name: 'ok' }, spec: { cluster: 'c', template: { flavor: 'medium' } } }, 'lr');
    await assert.rejects(
      create(a, pools, { metadata: { name: 'big' }, spec: { cluster: 'c', template: { flavor: 'large' } } }, 'lr'),
      (err: unknown) =>
        isKumoError(err, 'Forbidden') &&
        err.message === 'nodepools.kumo.dev "big" is forbidden: [maximum cpu usage per NodePool node is 4, but flavor "large" has 8, maximum memory usage per NodePool node is 16Gi, but flavor "large" has 32Gi]',
    );
  });
});
