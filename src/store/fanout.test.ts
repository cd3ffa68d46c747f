import assert from 'node:assert/strict';
import { getEventListeners, setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KumoError, isKumoError } from '../lib/errors.js';
import { runStoreConformance } from './conformance.js';
import { FanoutStore } from './fanout.js';
import { SqliteStore } from './sqlite/backend.js';
import type { Store, WatchEvent, WatchMessage, WatchOptions } from './types.js';
import { eventually as waitFor } from '../testing/wait.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-fanout-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshFile = (): string => path.join(root, `f${++n}.db`);
const fresh = (ringSize?: number): FanoutStore => new FanoutStore(new SqliteStore(freshFile(), { ttlSweepMs: 200 }), ringSize ? { ringSize } : {});

// The decorator must keep every promise of the contract.
runStoreConformance('fanout over sqlite', () => {
  const store = fresh();
  return Promise.resolve({ store, cleanup: () => store.close() });
});

/**
 * SQLite that records the upstream watches the decorator starts, and can end them all with Gone: what
 * etcd does to a watcher that reconnects below the compacted revision, or a backend to a watcher that
 * fell too far behind. Events the upstream had buffered but not yet handed over are dropped with it.
 */
class BreakableSqlite extends SqliteStore {
  /** afterRevision of every watch started, in order. */
  readonly starts: number[] = [];
  private readonly cuts = new Set<AbortController>();

  breakWatches(): void {
    for (const cut of [...this.cuts]) cut.abort();
  }

  override watch(prefix: string, afterRevision: number, opts: WatchOptions): AsyncIterable<WatchMessage> {
    const cut = new AbortController();
    const upstream = super.watch(prefix, afterRevision, { ...opts, signal: AbortSignal.any([opts.signal, cut.signal]) });
    this.starts.push(afterRevision);
    const cuts = this.cuts;
    cuts.add(cut);
    return (async function* () {
      try {
        yield* upstream;
      } finally {
        cuts.delete(cut);
      }
      if (cut.signal.aborted && !opts.signal.aborted) throw new KumoError('Gone', `test: watch of ${prefix} broken on purpose`);
    })();
  }
}

async function collect(store: Store, after: number, count: number, signal: AbortSignal): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for await (const m of store.watch('/f/', after, { signal })) {
    if (m.kind === 'events') out.push(...m.events);
    if (out.length >= count) break;
  }
  return out;
}

/** Consumes a watch in the background. */
function record(store: Store, prefix: string, after: number, signal: AbortSignal, progressIntervalMs?: number): { events: WatchEvent[]; progress: number[]; error: () => unknown; ended: () => boolean; done: Promise<void> } {
  const events: WatchEvent[] = [];
  const progress: number[] = [];
  let error: unknown;
  let ended = false;
  const done = (async () => {
    try {
      for await (const m of store.watch(prefix, after, { signal, ...(progressIntervalMs ? { progressIntervalMs } : {}) })) {
        if (m.kind === 'events') events.push(...m.events);
        else progress.push(m.revision);
      }
    } catch (err) {
      error = err;
    } finally {
      ended = true;
    }
  })();
  return { events, progress, error: () => error, ended: () => ended, done };
}

const revs = (events: WatchEvent[]): number[] => events.map((e) => e.kv.modRevision);

describe('fanout', () => {
  it('serves narrower prefixes from one shared feed (feedPrefix), each watcher seeing only its own keys', async () => {
    const inner = new SqliteStore(path.join(root, `np${++n}.db`));
    const s = new FanoutStore(inner, { feedPrefix: (p) => `/${p.split('/')[1] ?? ''}/` });
    const ac = new AbortController();
    try {
      const start = await s.currentRevision();
      const seen = (prefix: string, count: number): Promise<string[]> =>
        (async () => {
          const keys: string[] = [];
          for await (const m of s.watch(prefix, start, { signal: ac.signal })) {
            if (m.kind === 'events') keys.push(...m.events.map((e) => e.kv.key));
            if (keys.length >= count) break;
          }
          return keys;
        })();
      const a = seen('/r/a/', 2);
      const b = seen('/r/b/', 1);
      const all = seen('/r/', 3);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(s.sharedWatches(), 1, 'one upstream watch for the three prefixes');
      await s.create('/r/a/1', Buffer.from('1'));
      await s.create('/r/b/1', Buffer.from('2'));
      await s.create('/r/a/2', Buffer.from('3'));
      assert.deepEqual(await a, ['/r/a/1', '/r/a/2']);
      assert.deepEqual(await b, ['/r/b/1']);
      assert.deepEqual(await all, ['/r/a/1', '/r/b/1', '/r/a/2']);
    } finally {
      ac.abort();
      await s.close();
    }
  });

  it('shares one upstream watch among 100 watchers, each seeing every event once in order', async () => {
    const inner = new BreakableSqlite(freshFile(), { ttlSweepMs: 200 });
    const s = new FanoutStore(inner);
    const ac = new AbortController();
    setMaxListeners(100, ac.signal); // 100 live watches on one signal at once: not a leak
    try {
      const start = await s.currentRevision();
      const watchers = Array.from({ length: 100 }, () => collect(s, start, 50, ac.signal));
      // A watch joins its feed once its start has been checked against the compacted revision.
      await waitFor('the shared feed', () => s.sharedWatches() === 1);
      await sleep(20);
      for (let i = 0; i < 50; i++) await s.create(`/f/${i}`, Buffer.from(String(i)));
      const results = await Promise.all(watchers);
      for (const evs of results) {
        assert.deepEqual(evs.map((e) => e.kv.key), Array.from({ length: 50 }, (_, i) => `/f/${i}`));
      }
      assert.deepEqual(inner.starts, [start], 'one upstream watch for all 100');
      assert.equal(s.sharedWatches(), 0, 'the feed ends with its last watcher');
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'no watcher left a listener on the shared signal');
    } finally {
      ac.abort();
      await s.close();
    }
  });

  it('serves a late watcher from the ring, and one older than the ring from its own watch', async () => {
    const s = fresh(5);
    const ac = new AbortController();
    try {
      const start = await s.currentRevision();
      const first = collect(s, start, 20, ac.signal); // keeps the shared feed alive
      await waitFor('the shared feed', () => s.sharedWatches() === 1);
      const revs: number[] = [];
      for (let i = 0; i < 20; i++) revs.push((await s.create(`/f/${i}`, Buffer.from(String(i)))).revision);
      await first;
      // Inside the ring (last 5 events): starts after revs[16] → events 17..19.
      const late = await collect(s, revs[16] ?? 0, 3, ac.signal);
      assert.deepEqual(late.map((e) => e.kv.key), ['/f/17', '/f/18', '/f/19']);
      // Older than the ring: served by a direct upstream watch, still complete.
      const old = await collect(s, revs[2] ?? 0, 17, ac.signal);
      assert.deepEqual(old.map((e) => e.kv.key), Array.from({ length: 17 }, (_, i) => `/f/${i + 3}`));
    } finally {
      ac.abort();
      await s.close();
    }
  });

  it('a watcher from a compacted revision gets Gone without breaking the fresh watchers of its prefix', async () => {
    const inner = new BreakableSqlite(freshFile(), { ttlSweepMs: 200 });
    const s = new FanoutStore(inner);
    const ac = new AbortController();
    try {
      const w: number[] = [];
      for (let i = 0; i < 5; i++) w.push((await s.create(`/f/${i}`, Buffer.from(String(i)))).revision);
      const [w0 = 0, , , w3 = 0, w4 = 0] = w;
      await s.compact(w3);
      // The stale watcher comes first: it must not become the one that starts the shared upstream.
      const stale = record(s, '/f/', w0, ac.signal);
      const atCompacted = record(s, '/f/', w3, ac.signal);
      const latest = record(s, '/f/', w4, ac.signal);
      await stale.done;
      assert.ok(isKumoError(stale.error(), 'Gone'), `the stale watcher: expected Gone, got ${String(stale.error())}`);
      const more = [(await s.create('/f/5', Buffer.from('5'))).revision, (await s.create('/f/6', Buffer.from('6'))).revision];
      await waitFor('the fresh watchers to see the new events', () => atCompacted.events.length >= 3 && latest.events.length >= 2);
      await sleep(100);
      assert.equal(atCompacted.error(), undefined);
      assert.equal(latest.error(), undefined);
      assert.deepEqual(revs(atCompacted.events), [w4, ...more]);
      assert.deepEqual(revs(latest.events), more);
      assert.equal(s.sharedWatches(), 1);
      // One direct watch for the stale start (it reported Gone), one shared upstream from the compacted revision.
      assert.deepEqual([...inner.starts].sort((a, b) => a - b), [w0, w3]);
      // A stale watcher arriving while the feed runs is sent away the same way.
      const late = record(s, '/f/', w0, ac.signal);
      await late.done;
      assert.ok(isKumoError(late.error(), 'Gone'), `a late stale watcher: expected Gone, got ${String(late.error())}`);
      const last = (await s.create('/f/7', Buffer.from('7'))).revision;
      await waitFor('the event after the late stale watcher', () => latest.events.length >= 3);
      assert.deepEqual(revs(latest.events), [...more, last]);
      assert.equal(latest.error(), undefined);
    } finally {
      ac.abort();
      await s.close();
    }
  });

  it('an upstream Gone while a feed runs: watchers below the compacted revision get Gone, the others continue, nothing missed or twice', async () => {
    const inner = new BreakableSqlite(freshFile(), { ttlSweepMs: 200 });
    const s = new FanoutStore(inner, { upstreamProgressMs: 50 });
    const ac = new AbortController();
    const writes: number[] = [];
    let keys = 0;
    const write = async (): Promise<number> => {
      const r = (await s.create(`/f/${keys++}`, Buffer.from('x'))).revision;
      writes.push(r);
      writes.sort((x, y) => x - y);
      return r;
    };
    try {
      const start = await s.currentRevision();
      const a = record(s, '/f/', start, ac.signal);
      await waitFor('the shared feed', () => s.sharedWatches() === 1);
      for (let i = 0; i < 5; i++) await write();
      const [, w2 = 0, w3 = 0] = writes;
      const b = record(s, '/f/', w2, ac.signal);
      const c = record(s, '/f/', w3, ac.signal);
      await waitFor('the first events', () => a.events.length === 5 && b.events.length === 3 && c.events.length === 2);
      assert.equal(s.upstreamStarts('/f/'), 1);

      // 1. Gone without a compaction under anyone (e.g. the upstream fell behind): everyone continues.
      const pending = [write(), write()]; // may still sit in the upstream's buffer when it is cut
      await Promise.all(pending);
      inner.breakWatches();
      await write();
      await waitFor('the events after the first restart', () => a.events.length === 8 && b.events.length === 6 && c.events.length === 5);
      assert.equal(s.upstreamStarts('/f/'), 2);
      for (const r of [a, b, c]) assert.equal(r.error(), undefined);

      // 2. Compacted at w3, then Gone: a (after start) and b (after w2) needed history below w3.
      await s.compact(w3);
      await write();
      inner.breakWatches();
      await Promise.all([write(), write()]);
      await a.done;
      await b.done;
      for (const [name, r] of [['a', a], ['b', b]] as const) {
        assert.ok(isKumoError(r.error(), 'Gone'), `${name}: expected Gone, got ${String(r.error())}`);
        assert.match((r.error() as Error).message, new RegExp(`oldest available is ${w3}`));
      }
      await waitFor('c to see every write', () => c.events.length === writes.length - 3);
      await sleep(200); // nothing more may arrive
      assert.equal(c.error(), undefined, 'a watcher at the compacted revision keeps going');
      assert.deepEqual(revs(c.events), writes.slice(3), 'every write after its start, once, in order');
      assert.equal(s.upstreamStarts('/f/'), 3, 'the same feed, restarted');
      assert.equal(s.sharedWatches(), 1);

      // The feed still serves new watchers, from its ring.
      const d = record(s, '/f/', writes[5] ?? 0, ac.signal);
      const last = await write();
      await waitFor('d and c to see the last write', () => d.events.length === writes.length - 6 && c.events.length === writes.length - 3);
      assert.deepEqual(revs(d.events), writes.slice(6));
      assert.equal(revs(c.events).at(-1), last);
      assert.equal(s.upstreamStarts('/f/'), 3);
    } finally {
      ac.abort();
      await s.close();
    }
  });

  it('after an upstream Gone, resumes at the compacted revision when that is past everything the feed received', async () => {
    const inner = new BreakableSqlite(freshFile(), { ttlSweepMs: 200 });
    // No upstream progress: the feed knows only the revisions of its own events.
    const s = new FanoutStore(inner, { upstreamProgressMs: 600_000 });
    const ac = new AbortController();
    try {
      const start = await s.currentRevision();
      const a = record(s, '/f/', start, ac.signal);
      const w1 = (await s.create('/f/1', Buffer.from('1'))).revision;
      await waitFor('the first event', () => a.events.length === 1);
      // Writes elsewhere move the store on; the feed hears nothing of them.
      let head = 0;
      for (let i = 0; i < 3; i++) head = (await s.create(`/elsewhere/${i}`, Buffer.from('x'))).revision;
      const b = record(s, '/f/', head, ac.signal, 20);
      await waitFor('b on the shared feed', () => b.progress.some((r) => r >= head));
      assert.equal(inner.starts.length, 1, 'b joined the feed');
      await s.compact(head);
      inner.breakWatches();
      await a.done;
      assert.ok(isKumoError(a.error(), 'Gone'), `a: expected Gone, got ${String(a.error())}`);
      const w2 = (await s.create('/f/2', Buffer.from('2'))).revision;
      await waitFor('b to see the write after the compaction', () => b.events.length === 1);
      assert.deepEqual(revs(a.events), [w1]);
      assert.deepEqual(revs(b.events), [w2]);
      assert.equal(b.error(), undefined);
      assert.deepEqual(inner.starts, [start, head], 'restarted at the compacted revision, not at the last event it saw');
      assertProgressMonotonic(b.progress, head);
    } finally {
      ac.abort();
      await s.close();
    }
  });

  it('a watch aborted before its start was checked ends quietly and starts nothing', async () => {
    const inner = new BreakableSqlite(freshFile(), { ttlSweepMs: 200 });
    const s = new FanoutStore(inner);
    try {
      const ac = new AbortController();
      const r = record(s, '/f/', 0, ac.signal);
      ac.abort();
      await r.done;
      assert.equal(r.error(), undefined);
      assert.deepEqual(inner.starts, []);
      assert.equal(s.sharedWatches(), 0);
    } finally {
      await s.close();
    }
  });
});

/** Progress never goes back and never reports less than the watcher's own start. */
function assertProgressMonotonic(progress: number[], from: number): void {
  let last = from;
  for (const p of progress) {
    assert.ok(p >= last, `progress went back from ${last} to ${p}`);
    last = p;
  }
}
