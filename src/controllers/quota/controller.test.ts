// The quota controllers on the runtime against a real engine on SQLite (startControllers, leader
// election and all): ResourceQuota status (hard from spec, used counted; replenished on deletion),
// Tenant usage following Clusters, NodePool resizes and namespace labels, and a recount that waits
// out the grace period after a charge before lowering usage.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../../api/types.js';
import { ROOT_CLUSTER } from '../../apiserver/keys.js';
import { Quotas } from '../../apiserver/quota/quota.js';
import { CHARGED_AT_ANNOTATION, TENANT_LABEL } from '../../apiserver/quota/usage.js';
import { startTestEnv, type TestEnv } from '../../runtime/testenv.js';
import { startControllers, type RunningControllers } from '../../server/controllers.js';
import { eventually } from '../../testing/wait.js';

const GRACE_MS = 1500;

describe('quota controllers (real engine, SQLite)', () => {
  let env: TestEnv;
  let running: RunningControllers;
  const cluster = ROOT_CLUSTER;

  before(async () => {
    env = await startTestEnv();
    const quotas = new Quotas({ engine: () => env.engine, recountGraceMs: GRACE_MS });
    running = startControllers(env.engine, env.store, env.log, { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200, quotas, quotaResyncMs: 60_000 });
  });
  after(async () => {
    await running?.stop(5000);
    await env?.stop();
  });

  const status = async (plural: string, name: string, namespace?: string, group = ''): Promise<Record<string, unknown>> => {
    const o = await env.client.get(env.resource(plural, group), { cluster, ...(namespace ? { namespace } : {}) }, name);
    return (o.status ?? {}) as Record<string, unknown>;
  };

  it('keeps a ResourceQuota\'s status: hard from the spec, used counted from the objects, lowered when they are deleted', async () => {
    const c = env.client;
    await c.create(env.resource('namespaces'), { cluster }, { metadata: { name: 'rq' } });
    const inNs = { cluster, namespace: 'rq' };
    for (const n of ['a', 'b', 'c']) await c.create(env.resource('configmaps'), inNs, { metadata: { name: n } });
    await c.create(env.resource('resourcequotas'), inNs, { metadata: { name: 'q' }, spec: { hard: { 'count/configmaps': '5', secrets: '1', 'requests.cpu': '2' } } });
    await eventually('status of the new quota', async () => JSON.stringify(await status('resourcequotas', 'q', 'rq')) === JSON.stringify({ hard: { 'count/configmaps': '5', 'requests.cpu': '2', secrets: '1' }, used: { 'count/configmaps': '3', 'requests.cpu': '0', secrets: '0' } }));
    await c.delete(env.resource('configmaps'), inNs, 'a');
    await eventually('used to follow the deletion', async () => ((await status('resourcequotas', 'q', 'rq')).used as Record<string, string>)['count/configmaps'] === '2');
    // A change of the spec shows in status.hard.
    await c.patch(env.resource('resourcequotas'), inNs, 'q', { spec: { hard: { 'count/configmaps': '9', secrets: null, 'requests.cpu': null } } });
    await eventually('status.hard to follow the spec', async () => JSON.stringify(await status('resourcequotas', 'q', 'rq')) === JSON.stringify({ hard: { 'count/configmaps': '9' }, used: { 'count/configmaps': '2' } }));
  });

  it('keeps a Tenant\'s usage: Clusters and NodePools of its namespaces, resizes, namespaces joining and leaving', async () => {
    const c = env.client;
    const TENANT = env.resource('tenants', 'kumo.dev');
    await c.create(TENANT, { cluster }, { apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'acme' }, spec: { quota: { clusters: 10 } } });
    await c.create(env.resource('namespaces'), { cluster }, { metadata: { name: 'acme-a', labels: { [TENANT_LABEL]: 'acme' } } });
    const inNs = { cluster, namespace: 'acme-a' };
    await c.create(env.resource('clusters', 'kumo.dev'), inNs, { metadata: { name: 'dev' }, spec: {} });
    await c.create(env.resource('nodepools', 'kumo.dev'), inNs, { metadata: { name: 'w' }, spec: { cluster: 'dev', replicas: 2, template: { flavor: 'medium' } } });
    const sorted = (o: unknown): string => JSON.stringify(Object.fromEntries(Object.entries((o ?? {}) as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))));
    const usage = async (): Promise<string> => sorted((await status('tenants', 'acme', undefined, 'kumo.dev')).usage);
    await eventually('usage of the tenant', async () => (await usage()) === sorted({ clusters: 1, cpu: '8', memory: '16Gi', nodes: 2 }));
    await c.patch(env.resource('nodepools', 'kumo.dev'), inNs, 'w', { spec: { replicas: 5 } });
    await eventually('usage after a resize', async () => (await usage()) === sorted({ clusters: 1, cpu: '20', memory: '40Gi', nodes: 5 }));
    await c.patch(env.resource('namespaces'), { cluster }, 'acme-a', { metadata: { labels: { [TENANT_LABEL]: null } } });
    await eventually('usage after the namespace left the tenant', async () => (await usage()) === sorted({ clusters: 0, cpu: '0', memory: '0', nodes: 0 }));
  });

  it('does not lower usage charged less than the grace period ago; lowers it after', async () => {
    const c = env.client;
    await c.create(env.resource('namespaces'), { cluster }, { metadata: { name: 'grace' } });
    const inNs = { cluster, namespace: 'grace' };
    const RQ = env.resource('resourcequotas');
    await c.create(RQ, inNs, { metadata: { name: 'q' }, spec: { hard: { configmaps: '4' } } });
    await eventually('the first count', async () => ((await status('resourcequotas', 'q', 'grace')).used as Record<string, string> | undefined)?.configmaps === '0');
    // As admission leaves it after charging two objects still on their way to the store.
    const q = await c.get(RQ, inNs, 'q');
    const { resourceVersion: _rv, ...md } = q.metadata ?? {};
    const charged: KObject = { ...q, metadata: { ...md, annotations: { [CHARGED_AT_ANNOTATION]: new Date().toISOString() } }, status: { hard: { configmaps: '4' }, used: { configmaps: '2' } } };
    await c.update(RQ, inNs, charged);
    await c.updateStatus(RQ, inNs, charged);
    const started = Date.now();
    await c.create(env.resource('configmaps'), inNs, { metadata: { name: 'x' } }); // a delete/create wakes the controller
    await c.delete(env.resource('configmaps'), inNs, 'x');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(((await status('resourcequotas', 'q', 'grace')).used as Record<string, string>).configmaps, '2', 'kept within the grace period');
    await eventually('usage lowered after the grace period', async () => ((await status('resourcequotas', 'q', 'grace')).used as Record<string, string>).configmaps === '0', 10_000);
    assert.ok(Date.now() - started >= GRACE_MS - 400, `lowered after ${Date.now() - started} ms`);
  });
});
