import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KumoError } from '../lib/errors.js';
import type { KObject } from '../api/types.js';
import { ROOT_CLUSTER } from '../apiserver/keys.js';
import type { Client, ClientResource, ListOptions, ObjectList, Scope, WatchEvent, WatchOptions } from '../client/client.js';
import { Indexer, OWNER_UID_INDEX, indexByOwnerUid } from './indexer.js';
import { Informer, type InformerEvents, type InformerOptions } from './informer.js';
import { startTestEnv, type TestEnv } from './testenv.js';
import { eventually as waitFor } from '../testing/wait.js';

const inDefault = { cluster: ROOT_CLUSTER, namespace: 'default' };

function cm(name: string, data: Record<string, string> = {}, extra: Record<string, unknown> = {}): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data };
}

/** A client in front of the real one whose watches can be cut, and whose calls can be made to fail. */
class FaultyClient implements Client {
  private readonly live = new Set<AbortController>();
  /** New watches fail with Unavailable while set. */
  down = false;
  /** The next N lists fail with Unavailable. */
  failLists = 0;
  /** Watches yield nothing and ignore their signal (a dead TCP stream). */
  deadWatches = false;
  watchCalls = 0;
  constructor(private readonly inner: Client) {}

  /** Ends every open watch (the stream drops). */
  cut(): void {
    for (const ac of this.live) ac.abort();
  }
  get: Client['get'] = (...a) => this.inner.get(...a);
  create: Client['create'] = (...a) => this.inner.create(...a);
  update: Client['update'] = (...a) => this.inner.update(...a);
  updateStatus: Client['updateStatus'] = (...a) => this.inner.updateStatus(...a);
  patch: Client['patch'] = (...a) => this.inner.patch(...a);
  delete: Client['delete'] = (...a) => this.inner.delete(...a);
  list(rt: ClientResource, scope: Scope, opts?: ListOptions): Promise<ObjectList> {
    if (this.failLists > 0) {
      this.failLists--;
      return Promise.reject(new KumoError('Unavailable', 'list refused by the test'));
    }
    return this.inner.list(rt, scope, opts);
  }
  async *watch(rt: ClientResource, scope: Scope, opts: WatchOptions): AsyncGenerator<WatchEvent> {
    this.watchCalls++;
    if (this.down) throw new KumoError('Unavailable', 'watch refused by the test');
    if (this.deadWatches) {
      await new Promise(() => undefined); // never settles, whatever the signal says
      return;
    }
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    this.live.add(ac);
    try {
      yield* this.inner.watch(rt, scope, { ...opts, signal: ac.signal });
    } finally {
      this.live.delete(ac);
      opts.signal.removeEventListener('abort', onAbort);
    }
  }
}

interface Recorder {
  log: string[];
  events: { [E in keyof InformerEvents]: InformerEvents[E][] };
}

function record(inf: Informer): Recorder {
  const r: Recorder = { log: [], events: { synced: [], relisted: [], error: [] } };
  const name = (o: KObject): string => String(o.metadata?.name);
  inf.addEventHandler({
    onAdd: (o, initial) => r.log.push(`add ${name(o)}${initial ? ' (initial)' : ''}`),
    onUpdate: (o, n) => r.log.push(`update ${name(o)} ${JSON.stringify(o.data)}→${JSON.stringify(n.data)}`),
    onDelete: (o) => r.log.push(`delete ${name(o)}`),
  });
  inf.on('synced', (e) => r.events.synced.push(e));
  inf.on('relisted', (e) => r.events.relisted.push(e));
  inf.on('error', (e) => r.events.error.push(e));
  return r;
}

describe('informer against a real engine', () => {
  let env: TestEnv;
  const stops: (() => Promise<void>)[] = [];
  before(async () => {
    env = await startTestEnv({ client: { bookmarkIntervalMs: 20 } });
  });
  after(async () => {
    for (const s of stops.splice(0)) await s();
    await env.stop();
  });

  /** Starts an informer; it is stopped (and checked to have stopped) at the end of the suite. */
  function run(opts: Partial<InformerOptions> & Pick<InformerOptions, 'rt'>): Informer {
    const inf = new Informer({ client: env.client, cluster: ROOT_CLUSTER, log: env.log, backoff: { initialMs: 10, maxMs: 40, jitter: 0 }, ...opts });
    const ac = new AbortController();
    const done = inf.start(ac.signal);
    stops.push(async () => {
      ac.abort();
      await done;
    });
    return inf;
  }

  it('lists, syncs, then sees adds, updates and deletes in order; the cache follows', async () => {
    const CM = env.resource('configmaps');
    await env.client.create(CM, inDefault, cm('pre', { v: '0' }));
    const inf = new Informer({ client: env.client, rt: CM, cluster: ROOT_CLUSTER, namespace: 'default', log: env.log });
    const r = record(inf);
    assert.equal(inf.hasSynced(), false);
    const ac = new AbortController();
    const done = inf.start(ac.signal);
    assert.equal(await inf.waitForSync(ac.signal), true);
    assert.equal(inf.hasSynced(), true);
    assert.deepEqual(r.log, ['add pre (initial)']);
    assert.equal(r.events.synced.length, 1);
    assert.equal(r.events.synced[0]?.items, 1);

    await env.client.create(CM, inDefault, cm('a', { v: '1' }));
    await env.client.patch(CM, inDefault, 'a', { data: { v: '2' } });
    await env.client.patch(CM, inDefault, 'pre', { data: { v: '9' } });
    await env.client.delete(CM, inDefault, 'a');
    await env.client.create(CM, inDefault, cm('b'));
    await waitFor('five changes', () => r.log.length === 6);
    assert.deepEqual(r.log, ['add pre (initial)', 'add a', 'update a {"v":"1"}→{"v":"2"}', 'update pre {"v":"0"}→{"v":"9"}', 'delete a', 'add b']);
    assert.deepEqual(inf.store.keys().sort(), ['root/default/b', 'root/default/pre']);
    assert.deepEqual(inf.store.get('root/default/pre')?.data, { v: '9' });
    // Cached objects are shared and frozen.
    const cached = inf.store.get('root/default/pre') as KObject;
    assert.throws(() => {
      (cached.data as Record<string, string>).v = 'x';
    }, TypeError);
    assert.equal(inf.lastSyncResourceVersion(), String(await env.store.currentRevision()));
    ac.abort();
    await done;
    assert.deepEqual(r.events.error, []);
    const st = inf.stats();
    assert.equal(st.lists, 1);
    assert.equal(st.relists, 0);
    assert.equal(st.size, 2);
    for (const n of ['pre', 'b']) await env.client.delete(CM, inDefault, n);
  });

  it('relists after its resourceVersion is compacted away while the watch is down: the cache is replaced and handlers see the difference', async () => {
    const CM = env.resource('configmaps');
    for (const n of ['r-keep', 'r-change', 'r-gone']) await env.client.create(CM, inDefault, cm(n, { v: '1' }));
    const faulty = new FaultyClient(env.client);
    const inf = run({ rt: CM, client: faulty, labelSelector: '!skip' });
    const r = record(inf);
    assert.equal(await inf.waitForSync(AbortSignal.timeout(5000)), true);
    const rvBefore = inf.lastSyncResourceVersion();

    // The stream drops and reconnecting fails for a while; meanwhile the world changes and history is compacted.
    faulty.down = true;
    faulty.cut();
    await waitFor('a failed reconnect', () => r.events.error.length >= 1);
    await env.client.patch(CM, inDefault, 'r-change', { data: { v: '2' } });
    await env.client.delete(CM, inDefault, 'r-gone');
    await env.client.create(CM, inDefault, cm('r-new'));
    await env.store.compact(await env.store.currentRevision());
    const logBefore = r.log.length;
    faulty.down = false;

    await waitFor('a relist', () => r.events.relisted.length === 1);
    assert.deepEqual(r.log.slice(logBefore), ['delete r-gone', 'update r-change {"v":"1"}→{"v":"2"}', 'add r-new']);
    assert.deepEqual(inf.store.keys().sort(), ['root/default/r-change', 'root/default/r-keep', 'root/default/r-new']);
    const rel = r.events.relisted[0];
    assert.deepEqual({ added: rel?.added, updated: rel?.updated, deleted: rel?.deleted, items: rel?.items }, { added: 1, updated: 1, deleted: 1, items: 3 });
    assert.ok(Number(inf.lastSyncResourceVersion()) > Number(rvBefore));
    assert.equal(inf.stats().lists, 2);
    assert.ok(r.events.error.every((e) => e.phase === 'watch' && e.retryInMs <= 40), JSON.stringify(r.events.error.map((e) => e.retryInMs)));
    assert.equal(inf.hasSynced(), true);
    // And it goes on watching after the relist.
    await env.client.create(CM, inDefault, cm('r-after'));
    await waitFor('an add after the relist', () => r.log.at(-1) === 'add r-after');
    for (const n of ['r-keep', 'r-change', 'r-new', 'r-after']) await env.client.delete(CM, inDefault, n);
  });

  it('bookmarks keep a quiet informer fresh: after compaction a dropped watch resumes without a relist', async () => {
    const CM = env.resource('configmaps');
    const faulty = new FaultyClient(env.client);
    const inf = run({ rt: CM, client: faulty, namespace: 'kube-public' });
    const r = record(inf);
    assert.equal(await inf.waitForSync(AbortSignal.timeout(5000)), true);
    // Writes elsewhere move the store's revision; only bookmarks tell this informer about it.
    for (let i = 0; i < 5; i++) await env.client.create(CM, inDefault, cm(`elsewhere-${i}`));
    const head = await env.store.currentRevision();
    await waitFor('a bookmark at the head', () => Number(inf.lastSyncResourceVersion()) >= head);
    await env.store.compact(head);
    const watches = faulty.watchCalls;
    faulty.cut();
    await waitFor('a new watch', () => faulty.watchCalls > watches);
    await env.client.create(CM, { cluster: ROOT_CLUSTER, namespace: 'kube-public' }, cm('seen'));
    await waitFor('the add', () => r.log.includes('add seen'));
    assert.equal(inf.stats().relists, 0);
    assert.equal(inf.stats().lists, 1);
    assert.ok(inf.stats().bookmarks > 0);
    for (let i = 0; i < 5; i++) await env.client.delete(CM, inDefault, `elsewhere-${i}`);
  });

  it('a failing list is retried with exponential backoff (capped), reported as error events, then syncs', async () => {
    const faulty = new FaultyClient(env.client);
    faulty.failLists = 4;
    const inf = run({ rt: env.resource('secrets'), client: faulty });
    const r = record(inf);
    assert.equal(await inf.waitForSync(AbortSignal.timeout(5000)), true);
    assert.deepEqual(
      r.events.error.map((e) => [e.phase, e.failures, e.retryInMs]),
      [
        ['list', 1, 10],
        ['list', 2, 20],
        ['list', 3, 40],
        ['list', 4, 40],
      ],
    );
    assert.ok(r.events.error.every((e) => e.err instanceof KumoError && e.err.code === 'Unavailable'));
    assert.equal(r.events.synced.length, 1);
  });

  it('a watch silent past the idle timeout (not even a bookmark) is treated as dead and replaced, even if it ignores its abort', async () => {
    const faulty = new FaultyClient(env.client);
    faulty.deadWatches = true;
    const inf = run({ rt: env.resource('serviceaccounts'), client: faulty, idleTimeoutMs: 30 });
    const r = record(inf);
    assert.equal(await inf.waitForSync(AbortSignal.timeout(5000)), true);
    await waitFor('two dead watches noticed', () => r.events.error.length >= 2);
    assert.match(String((r.events.error[0]?.err as Error).message), /treated as dead/);
    assert.ok(faulty.watchCalls >= 2);
    // Once streams work again the informer is live.
    faulty.deadWatches = false;
    await env.client.create(env.resource('serviceaccounts'), inDefault, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa-live' } });
    await waitFor('the add', () => r.log.includes('add sa-live'), 10_000);
  });

  it('indexes by owner uid; a handler added late gets the cache replayed; a throwing handler harms no one', async () => {
    const CM = env.resource('configmaps');
    const owner = (uid: string): Record<string, unknown> => ({ ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: 'o', uid, controller: true }] });
    const inf = run({ rt: CM, namespace: 'kube-system', indexers: { [OWNER_UID_INDEX]: indexByOwnerUid } });
    inf.addEventHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    const r = record(inf);
    const ks = { cluster: ROOT_CLUSTER, namespace: 'kube-system' };
    await env.client.create(CM, ks, cm('o1', {}, owner('u1')));
    await env.client.create(CM, ks, cm('o2', {}, owner('u1')));
    await env.client.create(CM, ks, cm('o3', {}, owner('u2')));
    await waitFor('three adds', () => inf.store.size === 3);
    const names = (v: string): string[] => inf.store.byIndex(OWNER_UID_INDEX, v).map((o) => String(o.metadata?.name)).sort();
    assert.deepEqual(names('u1'), ['o1', 'o2']);
    await env.client.patch(CM, ks, 'o2', { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: 'o', uid: 'u2', controller: true }] } });
    await env.client.delete(CM, ks, 'o1');
    await waitFor('the changes', () => inf.store.size === 2 && names('u1').length === 0);
    assert.deepEqual(names('u2'), ['o2', 'o3']);
    assert.throws(() => inf.store.byIndex('nope', 'x'), /no index named/);
    const late: string[] = [];
    inf.addEventHandler({ onAdd: (o, initial) => late.push(`${String(o.metadata?.name)} ${initial}`) });
    assert.deepEqual(late.sort(), ['o2 true', 'o3 true']);
    assert.ok(r.log.includes('add o3'));
    for (const n of ['o2', 'o3']) await env.client.delete(CM, ks, n);
  });

  it('across namespaces of a cluster-scoped kind too (Namespace): keys are <cluster>/<name>', async () => {
    const inf = run({ rt: env.resource('namespaces') });
    assert.equal(await inf.waitForSync(AbortSignal.timeout(5000)), true);
    assert.ok(inf.store.keys().includes('root/default'));
    assert.ok(inf.store.get('root/kube-system'));
  });
});

describe('indexer', () => {
  it('replace swaps content and indexes at once; an index function that throws changes nothing', () => {
    let boom = false;
    const ix = new Indexer({ byLabel: (o) => (boom ? assert.fail('boom') : [String(o.metadata?.labels && (o.metadata.labels as Record<string, string>).l)]) });
    ix.upsert('k1', { metadata: { name: 'a', labels: { l: 'x' } } });
    ix.upsert('k2', { metadata: { name: 'b', labels: { l: 'y' } } });
    const old = ix.replace(new Map([['k3', { metadata: { name: 'c', labels: { l: 'x' } } }]]));
    assert.deepEqual([...old.keys()], ['k1', 'k2']);
    assert.deepEqual(ix.byIndex('byLabel', 'x').map((o) => o.metadata?.name), ['c']);
    assert.deepEqual(ix.byIndex('byLabel', 'y'), []);
    boom = true;
    assert.throws(() => ix.upsert('k4', { metadata: { name: 'd' } }));
    assert.equal(ix.get('k4'), undefined);
    assert.equal(ix.size, 1);
    boom = false;
    ix.addIndexers({ byName: (o) => [String(o.metadata?.name)] });
    assert.deepEqual(ix.byIndex('byName', 'c').length, 1);
    assert.deepEqual(ix.indexNames(), ['byLabel', 'byName']);
    assert.equal(ix.remove('k3')?.metadata?.name, 'c');
    assert.deepEqual(ix.byIndex('byName', 'c'), []);
  });
});
