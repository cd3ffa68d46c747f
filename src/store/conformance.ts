// The one conformance suite every Store backend runs unchanged (hono's common.case.test.ts shape):
// a backend's test file calls `runStoreConformance(name, factory)`. Each test gets a fresh store from
// the factory and works under its own random key prefix, so backends may share one database (e.g. one
// etcd) between tests; revisions are therefore compared relative to each other, never as absolute
// numbers. Every test asserts values, so a backend that merely does not throw still fails.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isKumoError, type ErrorCode } from '../lib/errors.js';
import { StoreConflict } from './common.js';
import { StoreLimits, type KeyValue, type Store, type WatchEvent, type WatchMessage } from './types.js';

export type StoreFactory = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const b = (s: string): Buffer => Buffer.from(s);

/** A key prefix no other test (or earlier run against the same database) uses. */
function freshPrefix(): string {
  return `/conformance/${randomBytes(6).toString('hex')}/`;
}

async function rejectsWith(p: Promise<unknown>, codes: ErrorCode | ErrorCode[], re?: RegExp): Promise<void> {
  const want = Array.isArray(codes) ? codes : [codes];
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isKumoError(err), `expected a KumoError ${want.join('|')}, got ${String(err)}`);
    assert.ok(want.includes(err.code), `expected ${want.join('|')}, got ${err.code}: ${err.message}`);
    if (re) assert.match(err.message, re);
    return true;
  });
}

/** Byte order of UTF-8 keys: how every backend must sort (etcd compares bytes). */
function byteOrder(a: string, c: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(c));
}

/** Consumes a watch in the background and records what it yields. */
class Recorder {
  readonly messages: WatchMessage[] = [];
  readonly events: WatchEvent[] = [];
  error: unknown = undefined;
  ended = false;
  private readonly done: Promise<void>;

  constructor(iter: AsyncIterable<WatchMessage>) {
    this.done = (async () => {
      try {
        for await (const m of iter) {
          this.messages.push(m);
          if (m.kind === 'events') this.events.push(...m.events);
        }
      } catch (err) {
        this.error = err;
      } finally {
        this.ended = true;
      }
    })();
  }

  progress(): number[] {
    return this.messages.flatMap((m) => (m.kind === 'progress' ? [m.revision] : []));
  }

  async until(what: string, pred: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (this.ended) assert.fail(`watch ended (${this.error instanceof Error ? this.error.message : 'no error'}) while waiting for ${what}; saw ${this.events.length} events`);
      if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}; saw ${this.events.length} events, progress ${JSON.stringify(this.progress().slice(-3))}`);
      await sleep(10);
    }
  }

  /** Resolves when the watch has ended (fails the test after `ms`). */
  async finished(ms = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`watch did not end within ${ms} ms`)), ms);
    });
    try {
      await Promise.race([this.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The ordering promise of a watch: events strictly increase in revision (a revision may repeat only
 * within one batch, for multi-key transactions), progress never decreases and never claims a
 * revision whose events come later.
 */
function assertOrdered(messages: WatchMessage[]): void {
  let lastEvent = 0;
  let lastProgress = 0;
  for (const m of messages) {
    if (m.kind === 'progress') {
      assert.ok(m.revision >= lastProgress, `progress went back from ${lastProgress} to ${m.revision}`);
      assert.ok(m.revision >= lastEvent, `progress ${m.revision} is below an already delivered event ${lastEvent}`);
      lastProgress = m.revision;
      continue;
    }
    let batchFirst = true;
    for (const e of m.events) {
      const r = e.kv.modRevision;
      assert.ok(r > lastProgress, `event at ${r} arrived after progress ${lastProgress} had claimed it`);
      assert.ok(batchFirst ? r > lastEvent : r >= lastEvent, `event revisions out of order: ${r} after ${lastEvent}`);
      lastEvent = r;
      batchFirst = false;
    }
  }
}

/**
 * `remaining` is optional (types.ts: only where the backend can count cheaply, like Kubernetes'
 * remainingItemCount), but exact whenever it is given.
 */
function assertRemaining(page: { remaining?: number }, expected: number): void {
  if (page.remaining !== undefined) assert.equal(page.remaining, expected, 'remaining, when given, is exact');
}

function plain(kv: KeyValue | null | undefined): { key: string; value: string; createRevision: number; modRevision: number } | null {
  return kv ? { key: kv.key, value: kv.value.toString(), createRevision: kv.createRevision, modRevision: kv.modRevision } : null;
}

export function runStoreConformance(name: string, factory: StoreFactory): void {
  /** Runs `fn` with a fresh store and prefix, always cleaning up. */
  const withStore = (fn: (store: Store, p: string) => Promise<void>) => async (): Promise<void> => {
    const { store, cleanup } = await factory();
    try {
      await fn(store, freshPrefix());
    } finally {
      await cleanup();
    }
  };
  const opts = { timeout: 30_000 };

  describe(`store conformance: ${name}`, () => {
    it('create, get, and AlreadyExists', opts, withStore(async (store, p) => {
      assert.ok(store.name.length > 0);
      await store.checkHealth();
      const before = await store.currentRevision();
      const w = await store.create(`${p}a`, b('v1'));
      assert.ok(w.revision > before, `create revision ${w.revision} must be above ${before}`);
      assert.deepEqual(plain(w.kv), { key: `${p}a`, value: 'v1', createRevision: w.revision, modRevision: w.revision });
      assert.equal(w.kv.lease, 0, 'no TTL, no lease');
      const g = await store.get(`${p}a`);
      assert.deepEqual(plain(g.kv), plain(w.kv));
      assert.equal(g.kv?.lease, 0);
      assert.ok(g.revision >= w.revision);
      const missing = await store.get(`${p}missing`);
      assert.equal(missing.kv, null);
      assert.ok(missing.revision >= w.revision);
      await rejectsWith(store.create(`${p}a`, b('v2')), 'AlreadyExists');
      assert.equal((await store.get(`${p}a`)).kv?.value.toString(), 'v1', 'a failed create changes nothing');
      // An empty value is a value, not an absent key.
      const e = await store.create(`${p}empty`, Buffer.alloc(0));
      const ge = await store.get(`${p}empty`);
      assert.ok(ge.kv, 'a key with an empty value exists');
      assert.equal(ge.kv.value.length, 0);
      assert.equal(ge.kv.modRevision, e.revision);
      assert.ok((await store.currentRevision()) >= e.revision);
    }));

    it('update needs the current modRevision; Conflict carries the current value; NotFound when absent', opts, withStore(async (store, p) => {
      const k = `${p}k`;
      const c = await store.create(k, b('1'));
      const u = await store.update(k, b('2'), c.revision);
      assert.ok(u.revision > c.revision);
      assert.deepEqual(plain(u.kv), { key: k, value: '2', createRevision: c.revision, modRevision: u.revision });
      assert.deepEqual(plain((await store.get(k)).kv), plain(u.kv));
      await assert.rejects(store.update(k, b('3'), c.revision), (err: unknown) => {
        assert.ok(err instanceof StoreConflict, `expected StoreConflict, got ${String(err)}`);
        assert.equal(err.code, 'Conflict');
        assert.deepEqual(plain(err.current), plain(u.kv), 'the conflict carries the current value');
        return true;
      });
      assert.equal((await store.get(k)).kv?.value.toString(), '2', 'a conflicting update changes nothing');
      await rejectsWith(store.update(`${p}absent`, b('x'), 1), 'NotFound');
      // Expected revision 0 must not turn an update into a create.
      await rejectsWith(store.update(`${p}absent`, b('x'), 0), 'NotFound');
      assert.equal((await store.get(`${p}absent`)).kv, null);
    }));

    it('delete with and without an expected revision; Conflict and NotFound', opts, withStore(async (store, p) => {
      const a = await store.create(`${p}a`, b('A'));
      const d = await store.delete(`${p}a`);
      assert.ok(d.revision > a.revision);
      assert.deepEqual(plain(d.prev), plain(a.kv), 'delete returns the deleted value');
      assert.equal((await store.get(`${p}a`)).kv, null);
      await rejectsWith(store.delete(`${p}a`), 'NotFound');
      await rejectsWith(store.delete(`${p}a`, a.revision), 'NotFound');

      const c = await store.create(`${p}b`, b('B'));
      const u = await store.update(`${p}b`, b('B2'), c.revision);
      await assert.rejects(store.delete(`${p}b`, c.revision), (err: unknown) => {
        assert.ok(err instanceof StoreConflict, `expected StoreConflict, got ${String(err)}`);
        assert.deepEqual(plain(err.current), plain(u.kv));
        return true;
      });
      assert.equal((await store.get(`${p}b`)).kv?.value.toString(), 'B2', 'a conflicting delete changes nothing');
      const d2 = await store.delete(`${p}b`, u.revision);
      assert.equal(d2.prev.value.toString(), 'B2');
      assert.equal(d2.prev.modRevision, u.revision);
      assert.ok(d2.revision > u.revision);
    }));

    it('revisions strictly increase; createRevision survives updates, not re-creation', opts, withStore(async (store, p) => {
      const x1 = await store.create(`${p}x`, b('1'));
      const y1 = await store.create(`${p}y`, b('1'));
      const x2 = await store.update(`${p}x`, b('2'), x1.revision);
      const y2 = await store.delete(`${p}y`);
      const y3 = await store.create(`${p}y`, b('again'));
      const revs = [x1.revision, y1.revision, x2.revision, y2.revision, y3.revision];
      for (let i = 1; i < revs.length; i++) assert.ok((revs[i] ?? 0) > (revs[i - 1] ?? 0), `revisions must strictly increase: ${revs.join(', ')}`);
      const x = (await store.get(`${p}x`)).kv;
      assert.equal(x?.createRevision, x1.revision);
      assert.equal(x?.modRevision, x2.revision);
      const y = (await store.get(`${p}y`)).kv;
      assert.equal(y?.createRevision, y3.revision, 'a re-created key gets a new createRevision');
      assert.ok((await store.currentRevision()) >= y3.revision);
    }));

    it('get and list at an older revision', opts, withStore(async (store, p) => {
      const k = `${p}k`;
      const c = await store.create(k, b('v1'));
      const u = await store.update(k, b('v2'), c.revision);
      const d = await store.delete(k);
      const at1 = await store.get(k, { revision: c.revision });
      assert.equal(at1.revision, c.revision);
      assert.deepEqual(plain(at1.kv), plain(c.kv));
      assert.deepEqual(plain((await store.get(k, { revision: u.revision })).kv), plain(u.kv));
      assert.equal((await store.get(k, { revision: d.revision })).kv, null);
      assert.equal((await store.get(k, { revision: c.revision - 1 })).kv, null, 'before its creation');
      const l = await store.list(p, { revision: u.revision });
      assert.equal(l.revision, u.revision);
      assert.deepEqual(l.kvs.map(plain), [plain(u.kv)]);
      assert.deepEqual((await store.list(p)).kvs, []);
    }));

    it('lists in byte order of keys, isolated by prefix', opts, withStore(async (store, p) => {
      const inside = ['1', '10', '2', 'b/c', 'é', '\uFF5E', '\u{1F600}', 'Z'].map((s) => `${p}a/${s}`);
      // '\uFF5E' sorts before '\u{1F600}' in UTF-8 bytes but after it in UTF-16 code units.
      const outside = [`${p}a`, `${p}ab/x`, `${p}a0`, `${p}a.x`, `${p}b/1`];
      for (const k of [...outside, ...inside]) await store.create(k, b(k));
      const l = await store.list(`${p}a/`);
      assert.deepEqual(
        l.kvs.map((kv) => kv.key),
        [...inside].sort(byteOrder),
      );
      for (const kv of l.kvs) assert.equal(kv.value.toString(), kv.key);
      const all = await store.list(p);
      assert.deepEqual(
        all.kvs.map((kv) => kv.key),
        [...inside, ...outside].sort(byteOrder),
      );
      // Paging walks the same order.
      const paged: string[] = [];
      let cont: string | undefined;
      do {
        const page = await store.list(`${p}a/`, { limit: 3, ...(cont ? { continue: cont } : {}) });
        paged.push(...page.kvs.map((kv) => kv.key));
        cont = page.continue;
      } while (cont);
      assert.deepEqual(paged, [...inside].sort(byteOrder));
      const none = await store.list(`${p}zzz/`);
      assert.deepEqual(none.kvs, []);
      assert.equal(none.continue, undefined);
    }));

    it('list with limit and continue reads one snapshot across concurrent writes', opts, withStore(async (store, p) => {
      const key = (i: number): string => `${p}k${String(i).padStart(2, '0')}`;
      const created = new Map<string, number>();
      for (let i = 0; i < 10; i++) created.set(key(i), (await store.create(key(i), b(`v${i}`))).revision);
      const p1 = await store.list(p, { limit: 4 });
      assert.deepEqual(p1.kvs.map((kv) => kv.key), [0, 1, 2, 3].map(key));
      assert.ok(p1.continue, 'more keys: a continue token');
      assertRemaining(p1, 6);
      // Writes between pages: none of them may show in the later pages of this list.
      await store.delete(key(5));
      await store.create(`${p}k045`, b('new'));
      await store.update(key(8), b('changed'), created.get(key(8)) ?? 0);
      await store.create(key(10), b('v10'));
      const p2 = await store.list(p, { limit: 4, continue: p1.continue });
      assert.equal(p2.revision, p1.revision, 'later pages are read at the first page revision');
      assert.deepEqual(p2.kvs.map((kv) => kv.key), [4, 5, 6, 7].map(key));
      assertRemaining(p2, 2);
      const p3 = await store.list(p, { limit: 4, continue: p2.continue });
      assert.equal(p3.revision, p1.revision);
      assert.deepEqual(p3.kvs.map((kv) => [kv.key, kv.value.toString()]), [[key(8), 'v8'], [key(9), 'v9']]);
      assert.equal(p3.continue, undefined, 'the last page has no continue token');
      assert.equal(p3.remaining, undefined);
      // A fresh list sees the writes.
      const head = await store.list(p);
      assert.ok(head.revision > p1.revision);
      assert.deepEqual(head.kvs.map((kv) => kv.key), [key(0), key(1), key(2), key(3), key(4), `${p}k045`, key(6), key(7), key(8), key(9), key(10)]);
      assert.equal(head.kvs.find((kv) => kv.key === key(8))?.value.toString(), 'changed');
      // A limit that covers everything, exactly or more, gives no continue token.
      assert.equal((await store.list(p, { limit: head.kvs.length })).continue, undefined);
      assert.equal((await store.list(p, { limit: 1000 })).continue, undefined);
    }));

    it('count', opts, withStore(async (store, p) => {
      for (let i = 0; i < 5; i++) await store.create(`${p}c/${i}`, b('x'));
      await store.create(`${p}cc/0`, b('x'));
      const last = await store.create(`${p}c`, b('x'));
      const c = await store.count(`${p}c/`);
      assert.equal(c.count, 5);
      assert.ok(c.revision >= last.revision);
      await store.delete(`${p}c/0`);
      assert.equal((await store.count(`${p}c/`)).count, 4);
      assert.equal((await store.count(`${p}none/`)).count, 0);
    }));

    it('watch replays history after a past revision with previous values, then goes live, nothing missed or twice', opts, withStore(async (store, p) => {
      const other = freshPrefix();
      const start = await store.currentRevision();
      const w1 = await store.create(`${p}a`, b('a1'));
      const w2 = await store.create(`${p}b`, b('b1'));
      const w3 = await store.update(`${p}a`, b('a2'), w1.revision);
      await store.create(`${other}x`, b('not mine'));
      const w4 = await store.delete(`${p}b`);
      const ac = new AbortController();
      const rec = new Recorder(store.watch(p, start, { signal: ac.signal }));
      const mid = new Recorder(store.watch(p, w2.revision, { signal: ac.signal }));
      try {
        await rec.until('the replayed history', () => rec.events.length >= 4);
        const w5 = await store.create(`${p}c`, b('c1'));
        const w6 = await store.update(`${p}c`, b('c2'), w5.revision);
        await store.update(`${other}x`, b('still not mine'), (await store.get(`${other}x`)).kv?.modRevision ?? 0);
        const w7 = await store.delete(`${p}a`, w3.revision);
        await rec.until('the live events', () => rec.events.length >= 7);
        await mid.until('the live events from the middle', () => mid.events.length >= 5);
        await sleep(300); // nothing more may arrive
        const writes = [w1, w2, w3, w4, w5, w6, w7].map((w) => w.revision);
        assert.deepEqual(rec.events.map((e) => e.kv.modRevision), writes, 'every write once, in order');
        assert.deepEqual(rec.events.map((e) => e.type), ['create', 'create', 'update', 'delete', 'create', 'update', 'delete']);
        assert.deepEqual(rec.events.map((e) => e.kv.key), ['a', 'b', 'a', 'b', 'c', 'c', 'a'].map((s) => p + s));
        assert.deepEqual(mid.events.map((e) => e.kv.modRevision), writes.slice(2), 'a watch from the middle starts right after it');
        const [e1, , e3, e4, e5, e6, e7] = rec.events;
        assert.equal(e1?.prev, undefined, 'a create has no previous value');
        assert.equal(e1?.kv.value.toString(), 'a1');
        assert.equal(e1?.kv.createRevision, w1.revision);
        assert.deepEqual(plain(e3?.prev), plain(w1.kv));
        assert.deepEqual(plain(e3?.kv), plain(w3.kv));
        assert.equal(e4?.kv.value.length, 0, 'a delete event has an empty value');
        assert.equal(e4?.kv.modRevision, w4.revision, "a delete event's modRevision is the delete's revision");
        assert.deepEqual(plain(e4?.prev), plain(w2.kv));
        assert.equal(e5?.prev, undefined);
        assert.equal(e6?.prev?.value.toString(), 'c1');
        assert.equal(e7?.prev?.value.toString(), 'a2');
        assertOrdered(rec.messages);
        assertOrdered(mid.messages);
        assert.equal(rec.error, undefined);
      } finally {
        ac.abort();
        await rec.finished();
        await mid.finished();
      }
    }));

    it('a watch ends when its signal aborts or its consumer stops', opts, withStore(async (store, p) => {
      const start = await store.currentRevision();
      const ac = new AbortController();
      const rec = new Recorder(store.watch(p, start, { signal: ac.signal }));
      await store.create(`${p}a`, b('1'));
      await rec.until('the first event', () => rec.events.length === 1);
      ac.abort();
      await rec.finished(2000);
      assert.equal(rec.error, undefined, 'an aborted watch ends without an error');
      await store.create(`${p}b`, b('2'));
      await sleep(100);
      assert.equal(rec.events.length, 1);
      // Already aborted: ends at once.
      const pre = new Recorder(store.watch(p, 0, { signal: AbortSignal.abort() }));
      await pre.finished(1000);
      assert.equal(pre.error, undefined);
      assert.equal(pre.events.length, 0);
      // Breaking out of the loop ends the watch too (the store must not keep it).
      const keep = new AbortController();
      let n = 0;
      for await (const m of store.watch(p, start, { signal: keep.signal })) {
        if (m.kind === 'events') n += m.events.length;
        if (n >= 2) break;
      }
      keep.abort();
      assert.equal(n, 2);
      // However a watch ends, it takes its listener off the caller's signal: a controller's or a
      // server's signal outlives thousands of watches, and a listener left behind would keep each
      // watch alive (and warn with MaxListenersExceededWarning past 10).
      const owner = new AbortController();
      try {
        for (let i = 0; i < 12; i++) {
          for await (const m of store.watch(p, start, { signal: owner.signal })) if (m.kind === 'events') break;
        }
        assert.equal(getEventListeners(owner.signal, 'abort').length, 0, '12 watches ended by break left listeners on the signal');
      } finally {
        owner.abort();
      }
    }));

    it('progress notices carry a revision at or past the last write, also writes outside the prefix', opts, withStore(async (store, p) => {
      const other = freshPrefix();
      const ac = new AbortController();
      const rec = new Recorder(store.watch(p, await store.currentRevision(), { signal: ac.signal, progressIntervalMs: 200 }));
      try {
        const mine = await store.create(`${p}x`, b('1'));
        await rec.until('the event', () => rec.events.length === 1);
        await rec.until('progress at or past my write', () => rec.progress().some((r) => r >= mine.revision));
        // Only progress tells a watcher that the store moved on without changes under its prefix.
        const out = await store.create(`${other}y`, b('elsewhere'));
        await rec.until(`progress at or past ${out.revision} (a write outside the prefix)`, () => rec.progress().some((r) => r >= out.revision));
        assertOrdered(rec.messages);
        assert.equal(rec.events.length, 1);
      } finally {
        ac.abort();
        await rec.finished();
      }
    }));

    it('progress never runs ahead of events under concurrent writes', opts, withStore(async (store, p) => {
      const other = freshPrefix();
      const ac = new AbortController();
      const rec = new Recorder(store.watch(p, await store.currentRevision(), { signal: ac.signal, progressIntervalMs: 50 }));
      const mine: number[] = [];
      try {
        const until = Date.now() + 1500;
        for (let burst = 0; Date.now() < until; burst++) {
          // Bursts under the prefix and outside it, concurrently, with idle gaps for progress.
          const [a, o] = await Promise.all([
            Promise.all(Array.from({ length: 5 }, (_, i) => store.create(`${p}${burst}-${i}`, b('m')))),
            Promise.all(Array.from({ length: 5 }, (_, i) => store.create(`${other}${burst}-${i}`, b('o')))),
          ]);
          mine.push(...a.map((w) => w.revision));
          assert.equal(o.length, 5);
          await sleep(burst % 3 === 0 ? 150 : 20);
        }
        await rec.until('every event', () => rec.events.length >= mine.length);
        await sleep(300);
        assertOrdered(rec.messages);
        assert.deepEqual(rec.events.map((e) => e.kv.modRevision), [...mine].sort((x, y) => x - y), 'every write once, in revision order');
        assert.ok(rec.progress().length > 0, 'progress notices arrived');
      } finally {
        ac.abort();
        await rec.finished();
      }
    }));

    it('compaction: reads and watches below the compacted revision are Gone', opts, withStore(async (store, p) => {
      const k = `${p}k`;
      const c1 = await store.create(k, b('v1'));
      await store.create(`${p}other`, b('o'));
      const u2 = await store.update(k, b('v2'), c1.revision);
      const token = await store.list(p, { limit: 1, revision: u2.revision });
      assert.ok(token.continue);
      const u3 = await store.update(k, b('v3'), u2.revision);
      const u4 = await store.update(k, b('v4'), u3.revision);
      await store.compact(u3.revision);
      assert.equal(await store.compactRevision(), u3.revision);
      await rejectsWith(store.get(k, { revision: u2.revision }), 'Gone');
      await rejectsWith(store.list(p, { revision: u2.revision }), 'Gone');
      await rejectsWith(store.list(p, { limit: 1, continue: token.continue }), 'Gone');
      assert.equal((await store.get(k, { revision: u3.revision })).kv?.value.toString(), 'v3', 'the compacted revision itself stays readable');
      assert.equal((await store.list(p, { revision: u3.revision })).kvs.length, 2);
      // Watching from before the compacted revision fails from the iterator; from it, works.
      const owner = new AbortController();
      try {
        for (const after of [c1.revision, u3.revision - 1]) {
          const gone = new Recorder(store.watch(p, after, { signal: owner.signal }));
          await gone.finished(5000);
          assert.ok(isKumoError(gone.error, 'Gone'), `watch after ${after} (compacted at ${u3.revision}): expected Gone, got ${String(gone.error)}`);
        }
        assert.equal(getEventListeners(owner.signal, 'abort').length, 0, 'a watch that ended with Gone left a listener on its signal');
      } finally {
        owner.abort();
      }
      const ac = new AbortController();
      const ok = new Recorder(store.watch(p, u3.revision, { signal: ac.signal }));
      try {
        await ok.until('the event after the compacted revision', () => ok.events.length >= 1);
        await sleep(200);
        assert.deepEqual(ok.events.map((e) => e.kv.modRevision), [u4.revision]);
        assert.equal(ok.error, undefined);
      } finally {
        ac.abort();
        await ok.finished();
      }
      // Compacting again, or at an older revision, is a no-op; the future is Invalid.
      await store.compact(u3.revision);
      await store.compact(u2.revision);
      assert.equal(await store.compactRevision(), u3.revision);
      await rejectsWith(store.compact((await store.currentRevision()) + 1000), 'Invalid');
    }));

    it(`values up to ${StoreLimits.maxValueBytes} bytes are stored; one byte more is Invalid naming the limit`, opts, withStore(async (store, p) => {
      const big = Buffer.alloc(StoreLimits.maxValueBytes, 'v');
      big.write('head', 0);
      big.write('tail', big.length - 4);
      const c = await store.create(`${p}big`, big);
      const g = await store.get(`${p}big`);
      assert.equal(g.kv?.value.length, StoreLimits.maxValueBytes);
      assert.ok(g.kv?.value.equals(big), 'the value reads back byte for byte');
      const l = await store.list(p);
      assert.ok(l.kvs[0]?.value.equals(big));
      const over = Buffer.alloc(StoreLimits.maxValueBytes + 1);
      const limit = new RegExp(String(StoreLimits.maxValueBytes));
      await rejectsWith(store.create(`${p}over`, over), 'Invalid', limit);
      await rejectsWith(store.update(`${p}big`, over, c.revision), 'Invalid', limit);
      assert.equal((await store.get(`${p}over`)).kv, null);
      assert.equal((await store.get(`${p}big`)).kv?.modRevision, c.revision);
    }));

    it('invalid keys, values, revisions and options are Invalid before touching storage', opts, withStore(async (store, p) => {
      const bad = ['', 'no-leading-slash', '/nul\0inside', '/lone\uD800surrogate', `/${'x'.repeat(StoreLimits.maxKeyBytes)}`];
      for (const k of bad) {
        await rejectsWith(store.get(k), 'Invalid');
        await rejectsWith(store.create(k, b('x')), 'Invalid');
        await rejectsWith(store.update(k, b('x'), 1), 'Invalid');
        await rejectsWith(store.delete(k), 'Invalid');
        await rejectsWith(store.list(k), 'Invalid');
        await rejectsWith(store.count(k), 'Invalid');
        // A watch may throw at once or from its iterator.
        await rejectsWith(
          (async () => {
            for await (const _ of store.watch(k, 0, { signal: AbortSignal.timeout(2000) })) break;
          })(),
          'Invalid',
        );
      }
      await rejectsWith(store.create(`${p}a`, 'not a buffer' as unknown as Buffer), 'Invalid');
      await rejectsWith(store.get(`${p}a`, { revision: -1 }), 'Invalid');
      await rejectsWith(store.list(p, { limit: 1.5 }), 'Invalid');
      await rejectsWith(store.update(`${p}a`, b('x'), -3), 'Invalid');
      for (const ttl of [0, -1, 1.5]) await rejectsWith(store.create(`${p}a`, b('x'), { ttl }), 'Invalid');
      assert.equal((await store.list(p)).kvs.length, 0, 'nothing was written');
    }));

    it('TTL: a key expires after its ttl with a delete event', opts, withStore(async (store, p) => {
      const ac = new AbortController();
      const rec = new Recorder(store.watch(p, await store.currentRevision(), { signal: ac.signal }));
      try {
        const t = await store.create(`${p}ttl`, b('short-lived'), { ttl: 1 });
        const t0 = Date.now();
        assert.notEqual(t.kv.lease, 0, 'a key with a TTL has a lease');
        assert.notEqual((await store.get(`${p}ttl`)).kv?.lease, 0);
        const keep = await store.create(`${p}keep`, b('stays'));
        await rec.until('the delete event of the expired key', () => rec.events.some((e) => e.type === 'delete' && e.kv.key === `${p}ttl`), 5000);
        const elapsed = Date.now() - t0;
        assert.ok(elapsed >= 900, `expired after ${elapsed} ms, before its 1 s TTL`);
        assert.ok(elapsed <= 4000, `expired only after ${elapsed} ms`);
        assert.equal((await store.get(`${p}ttl`)).kv, null);
        const del = rec.events.find((e) => e.type === 'delete');
        assert.equal(del?.prev?.value.toString(), 'short-lived');
        assert.equal(del?.prev?.modRevision, t.revision);
        assert.equal((await store.get(`${p}keep`)).kv?.modRevision, keep.revision, 'keys without TTL stay');
      } finally {
        ac.abort();
        await rec.finished();
      }
    }));

    it('10,000 keys: concurrent creates, count, paginated and whole lists', { timeout: 60_000 }, withStore(async (store, p) => {
      const N = 10_000;
      const key = (i: number): string => `${p}${String(i).padStart(5, '0')}`;
      for (let i = 0; i < N; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, j) => store.create(key(i + j), b(`value-${i + j}`))));
      }
      assert.equal((await store.count(p)).count, N);
      const seen: string[] = [];
      let cont: string | undefined;
      let rev = 0;
      for (let page = 0; ; page++) {
        const l = await store.list(p, { limit: 1000, ...(cont ? { continue: cont } : {}) });
        if (page === 0) rev = l.revision;
        assert.equal(l.revision, rev);
        assert.equal(l.kvs.length, 1000);
        for (const kv of l.kvs) assert.equal(kv.value.toString(), `value-${Number(kv.key.slice(p.length))}`);
        seen.push(...l.kvs.map((kv) => kv.key));
        cont = l.continue;
        if (!cont) break;
        assertRemaining(l, N - 1000 * (page + 1));
      }
      assert.deepEqual(seen, Array.from({ length: N }, (_, i) => key(i)));
      const whole = await store.list(p);
      assert.equal(whole.kvs.length, N);
      assert.equal(whole.kvs[N - 1]?.key, key(N - 1));
    }));

    it('an invalid continue token is BadRequest', opts, withStore(async (store, p) => {
      await store.create(`${p}a`, b('1'));
      await store.create(`${p}b`, b('2'));
      const other = freshPrefix();
      await store.create(`${other}a`, b('1'));
      await store.create(`${other}b`, b('2'));
      const foreign = (await store.list(other, { limit: 1 })).continue;
      assert.ok(foreign);
      for (const token of ['not-a-token', foreign, Buffer.from('{"k":1}').toString('base64url'), 'x'.repeat(9000)]) {
        await rejectsWith(store.list(p, { limit: 1, continue: token }), 'BadRequest');
      }
    }));

    it('a revision in the future is Invalid', opts, withStore(async (store, p) => {
      await store.create(`${p}a`, b('1'));
      const future = (await store.currentRevision()) + 1000;
      await rejectsWith(store.get(`${p}a`, { revision: future }), 'Invalid');
      await rejectsWith(store.list(p, { revision: future }), 'Invalid');
      await rejectsWith(store.compact(future), 'Invalid');
    }));

    it("a caller's aborted signal fails the call, and an aborted write is not applied", opts, withStore(async (store, p) => {
      await rejectsWith(store.get(`${p}a`, { signal: AbortSignal.abort() }), ['Unavailable', 'Timeout']);
      await rejectsWith(store.count(p, { signal: AbortSignal.abort() }), ['Unavailable', 'Timeout']);
      await rejectsWith(store.create(`${p}a`, b('1'), { signal: AbortSignal.abort() }), ['Unavailable', 'Timeout']);
      assert.equal((await store.get(`${p}a`)).kv, null);
    }));

    it('close ends watches with Unavailable and later calls fail with Unavailable', opts, async () => {
      const { store, cleanup } = await factory();
      const p = freshPrefix();
      const owner = new AbortController();
      try {
        const rec = new Recorder(store.watch(p, await store.currentRevision(), { signal: owner.signal }));
        await store.create(`${p}a`, b('1'));
        await rec.until('the event', () => rec.events.length === 1);
        await store.close();
        await rec.finished(3000);
        assert.ok(isKumoError(rec.error, 'Unavailable'), `expected Unavailable, got ${String(rec.error)}`);
        assert.equal(getEventListeners(owner.signal, 'abort').length, 0, 'a watch ended by close left a listener on its signal');
        await rejectsWith(store.get(`${p}a`), 'Unavailable');
        await rejectsWith(store.create(`${p}b`, b('1')), 'Unavailable');
        await store.close(); // idempotent
      } finally {
        owner.abort();
        await cleanup();
      }
    });
  });
}
