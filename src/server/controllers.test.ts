// The management plane's controllers on the runtime, against a real engine on SQLite: namespace
// deletion and CRD serving in more than one logical cluster (one ALL_CLUSTERS informer each), the
// garbage collector, and leader election handing the leader-only controllers over.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../api/types.js';
import { parseLogicalCluster, ROOT_CLUSTER, type LogicalCluster } from '../apiserver/keys.js';
import { isKumoError } from '../lib/errors.js';
import { startTestEnv, type TestEnv } from '../runtime/testenv.js';
import { startControllers, type RunningControllers } from './controllers.js';
import { eventually } from '../testing/wait.js';

async function gone(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch (err) {
    if (isKumoError(err, 'NotFound')) return true;
    throw err;
  }
}

function crd(group: string): KObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
      scope: 'Namespaced',
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
}

describe('controllers on the runtime (real engine, SQLite)', () => {
  let env: TestEnv;
  let running: RunningControllers;
  const other = parseLogicalCluster('tenant-a');

  before(async () => {
    env = await startTestEnv();
    await env.engine.ensureSystemNamespaces(other);
    running = startControllers(env.engine, env.store, env.log, { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 });
    assert.equal(await running.crdsServed(5000), true);
  });
  after(async () => {
    await running?.stop(5000);
    await env?.stop();
  });

  for (const cluster of [ROOT_CLUSTER, parseLogicalCluster('tenant-a')]) {
    it(`empties a deleted namespace in logical cluster ${cluster}, waits for objects with finalizers, then removes it`, async () => {
      const NS = env.resource('namespaces');
      const CM = env.resource('configmaps');
      const c = env.client;
      await c.create(NS, { cluster }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
      const inNs = { cluster, namespace: 'doomed' };
      for (let i = 0; i < 5; i++) await c.create(CM, inNs, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } });
      await c.create(CM, inNs, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
      await c.delete(NS, { cluster }, 'doomed');
      // The controller deletes in name order: the held one ("held" after "cm-4") is marked last.
      await eventually('the plain configmaps to go and the held one to be marked deleted', async () => {
        const left = (await c.list(CM, inNs)).items;
        return left.length === 1 && left[0]?.metadata?.name === 'held' && typeof left[0].metadata.deletionTimestamp === 'string';
      });
      assert.equal(((await c.get(NS, { cluster }, 'doomed')).status as { phase: string }).phase, 'Terminating');
      await c.patch(CM, inNs, 'held', { metadata: { finalizers: null } });
      await eventually('the namespace to go', () => gone(c.get(NS, { cluster }, 'doomed')));
    });
  }

  it('serves a CRD only in its own logical cluster, reports it Established, and on deletion removes its objects first', async () => {
    const CRD = env.engine.crdResourceType;
    const c = env.client;
    await c.create(CRD, { cluster: other }, crd('example.com'));
    const widgets = { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };
    await eventually('Established', async () => {
      const got = await c.get(CRD, { cluster: other }, 'widgets.example.com');
      const conds = ((got.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
      return conds.some((x) => x.type === 'Established' && x.status === 'True');
    });
    assert.ok(env.engine.resourceTypes(other).some((t) => t.plural === 'widgets'));
    assert.ok(!env.engine.resourceTypes(ROOT_CLUSTER).some((t) => t.plural === 'widgets'), 'not served in root');
    await c.create(widgets, { cluster: other, namespace: 'default' }, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' } });
    await c.delete(CRD, { cluster: other }, 'widgets.example.com');
    await eventually('the CRD to go', () => gone(c.get(CRD, { cluster: other }, 'widgets.example.com')));
    assert.ok(!env.engine.resourceTypes(other).some((t) => t.plural === 'widgets'), 'no longer served');
    // Re-created, it starts empty: the old object went with the old CRD.
    await c.create(CRD, { cluster: other }, crd('example.com'));
    await eventually('served again', () => env.engine.resourceTypes(other).some((t) => t.plural === 'widgets'));
    assert.equal((await c.list(widgets, { cluster: other, namespace: 'default' })).items.length, 0);
  });

  it('serves every version of a CRD from one storage version, rewriting apiVersion (conversion strategy None)', async () => {
    const CRD = env.engine.crdResourceType;
    const c = env.client;
    const twoVersions = crd('versions.example.com');
    const schema = { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
    (twoVersions.spec as { versions: unknown[] }).versions = [
      { name: 'v1', served: true, storage: true, schema },
      { name: 'v2', served: true, storage: false, schema },
    ];
    await c.create(CRD, { cluster: ROOT_CLUSTER }, twoVersions);
    await eventually('served', () => env.engine.resourceTypes(ROOT_CLUSTER).some((t) => t.group === 'versions.example.com' && t.version === 'v2'));
    const v1 = { group: 'versions.example.com', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };
    const v2 = { ...v1, version: 'v2' };
    const at = { cluster: ROOT_CLUSTER, namespace: 'default' };
    const ac = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const ev of c.watch(v1, at, { signal: ac.signal, resourceVersion: (await c.list(v1, at)).resourceVersion })) {
        seen.push(`${ev.type} ${String(ev.object.apiVersion)}`);
        ac.abort();
      }
    })();
    const created = await c.create(v2, at, { apiVersion: 'versions.example.com/v2', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } });
    assert.equal(created.apiVersion, 'versions.example.com/v2');
    assert.equal((await c.get(v1, at, 'w')).apiVersion, 'versions.example.com/v1');
    assert.equal((await c.get(v2, at, 'w')).apiVersion, 'versions.example.com/v2');
    assert.deepEqual((await c.list(v1, at, { resourceVersion: '0' })).items.map((o) => o.apiVersion), ['versions.example.com/v1']);
    await watching;
    assert.deepEqual(seen, ['ADDED versions.example.com/v1']);
    await eventually('storedVersions', async () => {
      const got = await c.get(CRD, { cluster: ROOT_CLUSTER }, 'widgets.versions.example.com');
      return JSON.stringify((got.status as { storedVersions?: string[] } | undefined)?.storedVersions) === '["v1"]';
    });
  });

  it('collects garbage in any logical cluster: a dependent goes with its owner', async () => {
    const CM = env.resource('configmaps');
    const c = env.client;
    const at = { cluster: other, namespace: 'default' };
    const owner = await c.create(CM, at, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } });
    await c.create(CM, at, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dependent', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: String(owner.metadata?.uid) }] },
    });
    await c.delete(CM, at, 'owner');
    await eventually('the dependent to go', () => gone(c.get(CM, at, 'dependent')));
  });

  it('runs the leader-only controllers on one replica; another takes over when it stops', async () => {
    await eventually('a leader', () => running.leader() !== '');
    const first = running.leader();
    const second = startControllers(env.engine, env.store, env.log, { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 });
    try {
      await eventually('the second to see the leader', () => second.leader() === first);
      await running.stop(5000);
      await eventually('the second replica to lead', () => second.leader() !== '' && second.leader() !== first);
      // The new leader's namespace controller works.
      const NS = env.resource('namespaces');
      const cluster: LogicalCluster = ROOT_CLUSTER;
      await env.client.create(NS, { cluster }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'after-handover' } });
      await env.client.delete(NS, { cluster }, 'after-handover');
      await eventually('the namespace to go', () => gone(env.client.get(NS, { cluster }, 'after-handover')));
    } finally {
      running = second;
    }
  });
});
