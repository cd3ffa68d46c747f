// The etcd backend against a real etcd (Debian etcd-server) started by the harness: the shared
// conformance suite, then what only etcd has (outages and restarts, leases, compactions by others).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isKumoError } from '../../lib/errors.js';
import { startEtcd, type EtcdHandle } from '../../testing/etcd.js';
import { runStoreConformance } from '../conformance.js';
import { FanoutStore } from '../fanout.js';
import { openStore } from '../registry.js';
import type { Store, WatchEvent } from '../types.js';
import { EtcdStore } from './backend.js';
import { eventually as waitFor } from '../../testing/wait.js';

let etcd: EtcdHandle | undefined;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.destroy();
});

function shared(): EtcdHandle {
  assert.ok(etcd, 'etcd was started');
  return etcd;
}

// One etcd for the whole suite: every conformance test works under its own random prefix.
runStoreConformance('etcd', () => {
  const store = new EtcdStore([shared().endpoint]);
  return Promise.resolve({ store, cleanup: () => store.close() });
});

// What the server runs: openStore's in-process watch fan-out over the etcd backend, same etcd.
runStoreConformance('fanout over etcd', async () => {
  const store = await openStore(shared().url);
  assert.ok(store instanceof FanoutStore && store.inner instanceof EtcdStore, `openStore(etcd://…) should give FanoutStore over EtcdStore, got ${store.constructor.name}`);
  return { store, cleanup: () => store.close() };
});

/** Collects a watch's events (and progress revisions) in the background; `error` is set when it ends with one. */
function record(store: Store, prefix: string, after: number, signal: AbortSignal, progressIntervalMs?: number): { events: WatchEvent[]; progress: number[]; error: () => unknown; done: Promise<void> } {
  const events: WatchEvent[] = [];
  const progress: number[] = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const m of store.watch(prefix, after, { signal, ...(progressIntervalMs ? { progressIntervalMs } : {}) })) {
        if (m.kind === 'events') events.push(...m.events);
        else progress.push(m.revision);
      }
    } catch (err) {
      error = err;
    }
  })();
  return { events, progress, error: () => error, done };
}

const failsFast = (code: unknown): boolean => isKumoError(code, 'Timeout') || isKumoError(code, 'Unavailable');

describe('etcd backend specifics', () => {
  it('opens from its registry URL', async () => {
    const store = await openStore(shared().url);
    try {
      assert.equal(store.name, shared().url);
      const w = await store.create('/specifics/url', Buffer.from('x'));
      assert.equal((await store.get('/specifics/url')).kv?.modRevision, w.revision);
    } finally {
      await store.close();
    }
  });

  it('etcd stopped: calls fail within the deadline; after a restart the same store works again', { timeout: 60_000 }, async () => {
    const e = await startEtcd();
    const store = new EtcdStore([e.endpoint], { deadlineMs: 1000 });
    const ac = new AbortController();
    try {
      const c = await store.create('/outage/k', Buffer.from('before'));
      const watch = record(store, '/outage/', c.revision, ac.signal);
      await e.stop();
      const calls: [string, () => Promise<unknown>][] = [
        ['get', () => store.get('/outage/k')],
        ['list', () => store.list('/outage/')],
        ['create', () => store.create('/outage/new', Buffer.from('x'))],
        ['update', () => store.update('/outage/k', Buffer.from('x'), c.revision)],
        ['delete', () => store.delete('/outage/k')],
        ['checkHealth', () => store.checkHealth()],
        ['currentRevision', () => store.currentRevision()],
      ];
      for (const [name, call] of calls) {
        const t0 = Date.now();
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(failsFast(err), `${name}: expected Timeout or Unavailable, got ${String(err)}`);
          return true;
        });
        const ms = Date.now() - t0;
        console.log(`etcd down: ${name} failed after ${ms} ms`);
        assert.ok(ms <= 2500, `${name} took ${ms} ms to fail with a 1000 ms deadline`);
      }
      // A watch does not hang silently either: it ends with Unavailable once etcd stays away past the deadline.
      await waitFor('the watch to end', () => watch.error() !== undefined, 5000);
      assert.ok(isKumoError(watch.error(), 'Unavailable'), `watch: expected Unavailable, got ${String(watch.error())}`);

      await e.restart();
      const t0 = Date.now();
      let got: string | undefined;
      while (got === undefined) {
        try {
          got = (await store.get('/outage/k')).kv?.value.toString();
        } catch (err) {
          assert.ok(failsFast(err), String(err));
          if (Date.now() - t0 > 5000) throw err;
          await sleep(50);
        }
      }
      console.log(`etcd restarted: first successful call after ${Date.now() - t0} ms`);
      assert.equal(got, 'before');
      const w = await store.create('/outage/after', Buffer.from('x'));
      assert.ok(w.revision > c.revision, 'revisions continue after the restart');
      await store.checkHealth();
    } finally {
      ac.abort();
      await store.close();
      await e.destroy();
    }
  });

  it('a watch resumes across an etcd crash and restart without losing or repeating events', { timeout: 60_000 }, async () => {
    const e = await startEtcd();
    const store = new EtcdStore([e.endpoint]);
    const ac = new AbortController();
    try {
      const start = await store.currentRevision();
      const watch = record(store, '/resume/', start, ac.signal);
      const revs: number[] = [];
      for (let i = 0; i < 20; i++) revs.push((await store.create(`/resume/a${i}`, Buffer.from(String(i)))).revision);
      await waitFor('the first events', () => watch.events.length === 20, 5000);
      await e.kill();
      await e.restart();
      for (let i = 0; i < 20; i++) revs.push((await store.create(`/resume/b${i}`, Buffer.from(String(i)))).revision);
      await waitFor('the events after the restart', () => watch.events.length >= 40 || watch.error() !== undefined, 8000);
      await sleep(300);
      assert.equal(watch.error(), undefined);
      assert.deepEqual(
        watch.events.map((ev) => ev.kv.modRevision),
        revs,
      );
    } finally {
      ac.abort();
      await store.close();
      await e.destroy();
    }
  });

  it('watch from a compacted revision ends with Gone (not a bare "Watcher canceled"), and close does not hang', async () => {
    const store = new EtcdStore([shared().endpoint]);
    try {
      const c = await store.create('/gone/k', Buffer.from('1'));
      let rev = c.revision;
      for (let i = 0; i < 3; i++) rev = (await store.update('/gone/k', Buffer.from(String(i)), rev)).revision;
      await store.compact(rev);
      const t0 = Date.now();
      const w = record(store, '/gone/', c.revision, AbortSignal.timeout(10_000));
      await w.done;
      assert.ok(isKumoError(w.error(), 'Gone'), `expected Gone, got ${String(w.error())}`);
      assert.match((w.error() as Error).message, new RegExp(`revision ${c.revision + 1} has been compacted \\(oldest available is ${rev}\\)`));
      assert.ok(Date.now() - t0 < 3000);
    } finally {
      const t0 = Date.now();
      await store.close();
      assert.ok(Date.now() - t0 < 1500, 'close waited for a watcher etcd had already cancelled');
    }
  });

  it('fanout over etcd: a watcher from a compacted revision gets Gone, fresh watchers of the prefix keep going', async () => {
    const store = await openStore(shared().url);
    const ac = new AbortController();
    try {
      const w: number[] = [];
      for (let i = 0; i < 4; i++) w.push((await store.create(`/fo-stale/${i}`, Buffer.from(String(i)))).revision);
      const [w0 = 0, , w2 = 0, w3 = 0] = w;
      await store.compact(w2);
      // The stale one first: it must not start the shared upstream watch at its compacted revision.
      const stale = record(store, '/fo-stale/', w0, ac.signal);
      const fresh = record(store, '/fo-stale/', w2, ac.signal);
      await stale.done;
      assert.ok(isKumoError(stale.error(), 'Gone'), `stale: expected Gone, got ${String(stale.error())}`);
      const w4 = (await store.create('/fo-stale/4', Buffer.from('4'))).revision;
      await waitFor('the fresh watcher to see the events after its start', () => fresh.events.length >= 2 || fresh.error() !== undefined, 5000);
      assert.equal(fresh.error(), undefined);
      assert.deepEqual(fresh.events.map((e) => e.kv.modRevision), [w3, w4]);
    } finally {
      ac.abort();
      await store.close();
    }
  });

  it('fanout over etcd: compacted under an idle shared watch that then reconnects, only watchers below the compaction get Gone', { timeout: 60_000 }, async () => {
    // etcd's default progress interval (10 min): an idle watch learns nothing of writes elsewhere, so
    // it resumes after an etcd restart from its last event, which the compaction has removed.
    const e = await startEtcd({ progressNotifyInterval: '10m' });
    const store = await openStore(e.url);
    const ac = new AbortController();
    try {
      const w1 = (await store.create('/fo-compact/a', Buffer.from('1'))).revision;
      const old = record(store, '/fo-compact/', w1 - 1, ac.signal);
      await waitFor('the first event', () => old.events.length === 1, 5000);
      let head = 0;
      for (let i = 0; i < 5; i++) head = (await store.create(`/fo-elsewhere/${i}`, Buffer.from('x'))).revision;
      const fresh = record(store, '/fo-compact/', head, ac.signal, 100);
      await waitFor('the fresh watcher on the shared feed', () => fresh.progress.some((r) => r >= head), 5000);
      assert.ok(store instanceof FanoutStore);
      assert.equal(store.sharedWatches(), 1);
      await store.compact(head);
      await e.kill();
      await e.restart();
      await waitFor('the old watcher to end', () => old.error() !== undefined, 10_000);
      assert.ok(isKumoError(old.error(), 'Gone'), `old: expected Gone, got ${String(old.error())}`);
      const w2 = (await store.create('/fo-compact/b', Buffer.from('2'))).revision;
      await waitFor('the fresh watcher to see the write after the restart', () => fresh.events.length >= 1 || fresh.error() !== undefined, 10_000);
      await sleep(200);
      assert.equal(fresh.error(), undefined, 'a watcher at the compacted revision keeps going');
      assert.deepEqual(fresh.events.map((ev) => ev.kv.modRevision), [w2]);
      assert.equal(store.upstreamStarts('/fo-compact/'), 2, 'the shared upstream was restarted once');
    } finally {
      ac.abort();
      await store.close();
      await e.destroy();
    }
  });

  it('compactRevision finds a compaction made by another client', async () => {
    const a = new EtcdStore([shared().endpoint]);
    const other = new EtcdStore([shared().endpoint]);
    try {
      assert.ok((await a.compactRevision()) >= 0);
      let rev = (await a.create('/other-compactor/k', Buffer.from('0'))).revision;
      for (let i = 1; i < 50; i++) rev = (await a.update('/other-compactor/k', Buffer.from(String(i)), rev)).revision;
      await other.compact(rev - 10);
      assert.equal(await a.compactRevision(), rev - 10);
      await assert.rejects(a.get('/other-compactor/k', { revision: rev - 11 }), (err: unknown) => isKumoError(err, 'Gone'));
    } finally {
      await a.close();
      await other.close();
    }
  });

  it('keys with the same TTL share a lease', async () => {
    const store = new EtcdStore([shared().endpoint]);
    try {
      const created = await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(`/lease/c${i}`, Buffer.from('x'), { ttl: 3600 })));
      for (let i = 0; i < 5; i++) created.push(await store.create(`/lease/s${i}`, Buffer.from('x'), { ttl: 3600 }));
      const leases = new Set(created.map((w) => w.kv.lease));
      assert.equal(leases.size, 1, `55 keys with a 1 h TTL used ${leases.size} leases`);
      assert.ok(!leases.has(0));
      const read = await store.list('/lease/');
      assert.equal(read.kvs.length, 55);
      assert.ok(read.kvs.every((kv) => kv.lease === created[0]?.kv.lease));
    } finally {
      await store.close();
    }
  });
});
