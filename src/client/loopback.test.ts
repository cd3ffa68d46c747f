import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KumoError, isKumoError, statusFor } from '../lib/errors.js';
import type { KObject } from '../api/types.js';
import { ROOT_CLUSTER, parseLogicalCluster } from '../apiserver/keys.js';
import { startTestEnv, type TestEnv } from '../runtime/testenv.js';
import type { WatchEvent } from './client.js';
import { formatKey, keyOf, objectKey, parseKey } from './keys.js';
import { errorFromStatus } from './status.js';

const root = { cluster: ROOT_CLUSTER };
const inDefault = { cluster: ROOT_CLUSTER, namespace: 'default' };

function cm(name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data };
}

async function rejects(p: Promise<unknown>, code: KumoError['code']): Promise<KumoError> {
  try {
    await p;
  } catch (err) {
    assert.ok(isKumoError(err), `expected a KumoError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('object keys', () => {
  it('formats and parses namespaced and cluster-scoped keys; refuses anything else', () => {
    const c = parseLogicalCluster('c1');
    assert.equal(formatKey({ cluster: c, namespace: 'ns', name: 'a' }), 'c1/ns/a');
    assert.equal(formatKey({ cluster: c, name: 'a' }), 'c1/a');
    assert.deepEqual(parseKey('c1/ns/a'), { cluster: 'c1', namespace: 'ns', name: 'a' });
    assert.deepEqual(parseKey('c1/a'), { cluster: 'c1', name: 'a' });
    for (const bad of ['', 'c1', 'c1//a', 'C1/a', 'c1/ns/a/b', '/a']) assert.throws(() => parseKey(bad), /malformed object key/, bad);
    assert.equal(objectKey(c, cm('x')), 'c1/x');
    assert.deepEqual(keyOf(c, { metadata: { name: 'x', namespace: 'n' } }), { cluster: 'c1', namespace: 'n', name: 'x' });
  });

  it('errorFromStatus inverts statusFor for every code', () => {
    for (const code of ['NotFound', 'AlreadyExists', 'Conflict', 'Invalid', 'Gone', 'TooManyRequests', 'Timeout', 'Internal'] as const) {
      const back = errorFromStatus(statusFor(new KumoError(code, `m-${code}`, { name: 'n' })));
      assert.equal(back.code, code);
      assert.equal(back.message, `m-${code}`);
      assert.equal(back.details.name, 'n');
    }
    assert.equal(errorFromStatus({ kind: 'Status', code: 410, reason: 'Gone' }).code, 'Gone');
    assert.equal(errorFromStatus('junk').code, 'Internal');
  });
});

describe('LoopbackClient against a real engine', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env.stop());

  it('create, get, list with selectors, update with a stale resourceVersion is a Conflict, delete', async () => {
    const CM = env.resource('configmaps');
    const created = await env.client.create(CM, inDefault, cm('a', { k: '1' }, { app: 'x' }));
    assert.equal(created.metadata?.namespace, 'default');
    assert.match(String(created.metadata?.resourceVersion), /^[1-9][0-9]*$/);
    await env.client.create(CM, inDefault, cm('b', {}, { app: 'y' }));
    await rejects(env.client.create(CM, inDefault, cm('a')), 'AlreadyExists');

    const got = await env.client.get(CM, inDefault, 'a');
    assert.deepEqual(got.data, { k: '1' });
    got.data = { k: '2' };
    const updated = await env.client.update(CM, inDefault, got);
    assert.deepEqual(updated.data, { k: '2' });
    // The first read's resourceVersion is stale now.
    await rejects(env.client.update(CM, inDefault, { ...got, data: { k: '3' } }), 'Conflict');

    const list = await env.client.list(CM, inDefault, { labelSelector: 'app=x' });
    assert.deepEqual(list.items.map((o) => o.metadata?.name), ['a']);
    assert.match(list.resourceVersion, /^[0-9]+$/);
    const byField = await env.client.list(CM, root, { fieldSelector: 'metadata.name=b' });
    assert.deepEqual(byField.items.map((o) => o.metadata?.name), ['b']);
    await rejects(env.client.list(CM, inDefault, { labelSelector: 'app in (' }), 'BadRequest');

    await env.client.delete(CM, inDefault, 'a');
    await rejects(env.client.get(CM, inDefault, 'a'), 'NotFound');
    await rejects(env.client.delete(CM, inDefault, 'a'), 'NotFound');
    await env.client.delete(CM, inDefault, 'b');
  });

  it('merge patch: merges, removes with null, retries internally, and honours a resourceVersion precondition', async () => {
    const CM = env.resource('configmaps');
    const c = await env.client.create(CM, inDefault, cm('p', { a: '1', b: '2' }));
    const p1 = await env.client.patch(CM, inDefault, 'p', { data: { b: null, c: '3' }, metadata: { labels: { l: 'v' } } });
    assert.deepEqual(p1.data, { a: '1', c: '3' });
    assert.deepEqual(p1.metadata?.labels, { l: 'v' });
    await rejects(env.client.patch(CM, inDefault, 'p', { metadata: { resourceVersion: c.metadata?.resourceVersion }, data: { a: 'x' } }), 'Conflict');
    const p2 = await env.client.patch(CM, inDefault, 'p', { metadata: { resourceVersion: p1.metadata?.resourceVersion }, data: { a: 'x' } });
    assert.equal((p2.data as Record<string, string>).a, 'x');
    // Concurrent patches of different fields all land (each retries on conflict).
    await Promise.all(Array.from({ length: 8 }, (_, i) => env.client.patch(CM, inDefault, 'p', { data: { [`k${i}`]: String(i) } })));
    const final = await env.client.get(CM, inDefault, 'p');
    for (let i = 0; i < 8; i++) assert.equal((final.data as Record<string, string>)[`k${i}`], String(i));
    await rejects(env.client.patch(CM, inDefault, 'missing', { data: {} }), 'NotFound');
    await env.client.delete(CM, inDefault, 'p');
  });

  it('updateStatus changes only status; update keeps status; status patch; generation follows spec', async () => {
    const T = env.resource('tenants', 'kumo.dev');
    const t = await env.client.create(T, root, { apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name: 't1' }, spec: {} });
    assert.equal(t.metadata?.generation, 1);
    const withStatus = await env.client.updateStatus(T, root, { ...t, spec: { members: [{ kind: 'User', name: 'u', role: 'admin' }] }, status: { conditions: [] } });
    assert.deepEqual(withStatus.status, { conditions: [] });
    assert.deepEqual(withStatus.spec, t.spec, 'the status subresource ignores spec');
    assert.equal(withStatus.metadata?.generation, 1);
    const specChanged = await env.client.update(T, root, { ...withStatus, spec: { members: [{ kind: 'User', name: 'u', role: 'admin' }] }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ignored', message: '', lastTransitionTime: '2024-01-01T00:00:00Z' }] } });
    assert.equal(specChanged.metadata?.generation, 2);
    assert.deepEqual(specChanged.status, { conditions: [] }, 'the main resource ignores status');
    const patched = await env.client.patch(T, root, 't1', { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ok', message: '', lastTransitionTime: '2024-01-01T00:00:00Z' }] } }, { subresource: 'status' });
    assert.equal((patched.status as { conditions: unknown[] }).conditions.length, 1);
    await rejects(env.client.updateStatus(env.resource('configmaps'), inDefault, cm('x')), 'NotFound');
    await env.client.delete(T, root, 't1');
  });

  it('writes with unknown fields are refused (Strict), dry runs store nothing', async () => {
    const CM = env.resource('configmaps');
    await rejects(env.client.create(CM, inDefault, { ...cm('u'), bogus: 1 }), 'BadRequest');
    await env.client.create(CM, inDefault, cm('dry'), { dryRun: true });
    await rejects(env.client.get(CM, inDefault, 'dry'), 'NotFound');
  });

  it('a Namespace has the same lifecycle as over HTTP: prepared and given a default ServiceAccount; deleting it makes it Terminating', async () => {
    const NS = env.resource('namespaces');
    const ns = await env.client.create(NS, root, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n1' } });
    assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(ns.status, { phase: 'Active' });
    await env.client.get(env.resource('serviceaccounts'), { ...root, namespace: 'n1' }, 'default');
    await env.client.delete(NS, root, 'n1');
    const terminating = await env.client.get(NS, root, 'n1');
    assert.equal((terminating.status as { phase?: string }).phase, 'Terminating');
    assert.equal(typeof terminating.metadata?.deletionTimestamp, 'string');
    await rejects(env.client.create(env.resource('configmaps'), { ...root, namespace: 'n1' }, cm('late', {})), 'Forbidden');
  });

  it('resolves any copy of a ResourceType; an unserved one is NotFound', async () => {
    const copy = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
    await env.client.list(copy, inDefault);
    await rejects(env.client.list({ ...copy, plural: 'widgets' }, inDefault), 'NotFound');
  });

  it('watch: events after a list in order, bookmarks, copies, and Gone (thrown) once the resourceVersion is compacted', async () => {
    const CM = env.resource('configmaps');
    const start = await env.client.list(CM, inDefault);
    const ac = new AbortController();
    const events: WatchEvent[] = [];
    const watching = (async () => {
      for await (const ev of env.client.watch(CM, inDefault, { signal: ac.signal, resourceVersion: start.resourceVersion })) {
        events.push(ev);
        if (events.length === 3) ac.abort();
      }
    })();
    await env.client.create(CM, inDefault, cm('w', { v: '1' }));
    await env.client.patch(CM, inDefault, 'w', { data: { v: '2' } });
    await env.client.delete(CM, inDefault, 'w');
    await watching;
    assert.deepEqual(events.map((e) => `${e.type} ${String(e.object.metadata?.name)}`), ['ADDED w', 'MODIFIED w', 'DELETED w']);
    // Copies: changing one does not change what another watcher sees.
    const revs = events.map((e) => Number(e.object.metadata?.resourceVersion));
    assert.ok(revs[0]! < revs[1]! && revs[1]! < revs[2]!, `increasing: ${revs.join(',')}`);

    // A quiet watch with bookmarks gets them.
    const bm = await startTestEnv({ client: { bookmarkIntervalMs: 20 } });
    try {
      const ac2 = new AbortController();
      const l = await bm.client.list(CM, inDefault);
      for await (const ev of bm.client.watch(CM, inDefault, { signal: ac2.signal, resourceVersion: l.resourceVersion, allowWatchBookmarks: true })) {
        assert.equal(ev.type, 'BOOKMARK');
        assert.ok(Number(ev.object.metadata?.resourceVersion) >= Number(l.resourceVersion));
        break;
      }
      // Server-side timeout ends the iterator normally.
      const t0 = Date.now();
      for await (const _ of bm.client.watch(CM, inDefault, { signal: ac2.signal, resourceVersion: l.resourceVersion, timeoutSeconds: 0.1 })) assert.fail('no events expected');
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      await bm.stop();
    }

    // Compaction past the watch's resourceVersion: the iterator throws Gone.
    const old = await env.client.list(CM, inDefault);
    await env.client.create(CM, inDefault, cm('g1'));
    await env.client.create(CM, inDefault, cm('g2'));
    await env.store.compact(await env.store.currentRevision());
    const ac3 = new AbortController();
    await rejects(
      (async () => {
        for await (const _ of env.client.watch(CM, inDefault, { signal: ac3.signal, resourceVersion: old.resourceVersion })) assert.fail('no events expected');
      })(),
      'Gone',
    );
  });
});
