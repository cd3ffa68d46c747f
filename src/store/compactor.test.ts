import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino, type Logger } from 'pino';
import { KumoError } from '../lib/errors.js';
import { startEtcd } from '../testing/etcd.js';
import { Compactor, type CompactorStats } from './compactor.js';
import { openStore } from './registry.js';
import type { Store } from './types.js';

async function tmpStore(t: { after: (fn: () => Promise<void>) => void }): Promise<Store> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-compactor-'));
  const store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`);
  t.after(async () => {
    await store.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/** A pino logger whose lines are kept, parsed. */
function captureLogger(): { log: Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** Resolves with the stats of tick `n` (1-based) as `onTick` reports them. */
function tickWaiter(): { onTick: (s: CompactorStats) => void; tick: (n: number) => Promise<CompactorStats> } {
  const seen: CompactorStats[] = [];
  const waiting = new Map<number, (s: CompactorStats) => void>();
  return {
    onTick: (s) => {
      seen.push(s);
      waiting.get(s.ticks)?.(s);
    },
    tick: (n) => {
      const s = seen[n - 1];
      if (s !== undefined) return Promise.resolve(s);
      return new Promise((resolve) => waiting.set(n, resolve));
    },
  };
}

/** `n` creates at once (one group commit on SQLite); resolves with the highest revision. */
async function writes(store: Store, n: number, tag: string): Promise<number> {
  const done = await Promise.all(Array.from({ length: n }, (_, i) => store.create(`/registry/things/${tag}-${i}`, Buffer.from(`v${i}`))));
  return Math.max(...done.map((r) => r.revision));
}

describe('store compactor', () => {
  it('compacts at the revision it saw one tick earlier, then records the current one', async (t) => {
    const store = await tmpStore(t);
    const { log } = captureLogger();
    const before = await writes(store, 10, 'a');
    const ticks = tickWaiter();
    const c = new Compactor(store, log, { intervalMs: 200, jitter: 0, onTick: ticks.onTick });
    const ac = new AbortController();
    const running = c.start(ac.signal);
    t.after(async () => {
      ac.abort();
      await running;
    });

    const t1 = await ticks.tick(1);
    assert.equal(t1.compactions, 0, 'the first tick only records');
    assert.equal(t1.nextCompactionRevision, before);
    assert.equal(await store.compactRevision(), 0);

    const after = await writes(store, 5, 'b');
    assert.ok(after > before);
    const t2 = await ticks.tick(2);
    assert.equal(await store.compactRevision(), t1.nextCompactionRevision, 'compacted at the revision seen one tick earlier');
    assert.deepEqual(
      { compactions: t2.compactions, lastCompactedRevision: t2.lastCompactedRevision, nextCompactionRevision: t2.nextCompactionRevision, failures: t2.failures },
      { compactions: 1, lastCompactedRevision: before, nextCompactionRevision: after, failures: 0 },
    );
    // One interval of history is kept: reads at the compacted revision work, older ones are Gone.
    assert.equal((await store.list('/registry/things/', { revision: before })).kvs.length, 10);
    await assert.rejects(store.get('/registry/things/a-0', { revision: before - 1 }), (err: unknown) => err instanceof KumoError && err.code === 'Gone');

    // No writes since: the next tick compacts at `after`, the one after that has nothing to do.
    const t3 = await ticks.tick(3);
    assert.equal(t3.lastCompactedRevision, after);
    assert.equal(await store.compactRevision(), after);
    const t4 = await ticks.tick(4);
    assert.equal(t4.compactions, 2, 'nothing new to compact');
    assert.equal(t4.failures, 0);
  });

  it('stops promptly when its signal aborts, while waiting or in the middle of a tick', async (t) => {
    const store = await tmpStore(t);
    const { log } = captureLogger();

    const idle = new Compactor(store, log, { intervalMs: 60_000 });
    const ac = new AbortController();
    const running = idle.start(ac.signal);
    await new Promise((r) => setTimeout(r, 20));
    const abortedAt = Date.now();
    ac.abort();
    await running;
    assert.ok(Date.now() - abortedAt < 100, `stopped after ${Date.now() - abortedAt} ms`);
    assert.equal(idle.stats().ticks, 0);

    // A store call in flight when the signal aborts: the call is given the signal and the loop ends.
    const hanging: Store = Object.assign(Object.create(store) as Store, {
      currentRevision: (opts?: { signal?: AbortSignal }): Promise<number> =>
        new Promise((_, reject) => opts?.signal?.addEventListener('abort', () => reject(new KumoError('Unavailable', 'aborted')), { once: true })),
    });
    const ticks = tickWaiter();
    const busy = new Compactor(hanging, log, { intervalMs: 10, jitter: 0, onTick: ticks.onTick });
    const ac2 = new AbortController();
    const running2 = busy.start(ac2.signal);
    await new Promise((r) => setTimeout(r, 100));
    const abortedAt2 = Date.now();
    ac2.abort();
    await running2;
    assert.ok(Date.now() - abortedAt2 < 100, `stopped after ${Date.now() - abortedAt2} ms`);
    assert.equal(busy.stats().failures, 0, 'an abort is not a failure');

    // Started again after a stop, it runs again; started twice at once, the second start is refused.
    const ac3 = new AbortController();
    const again = idle.start(ac3.signal);
    await assert.rejects(idle.start(ac3.signal), /already running/);
    ac3.abort();
    await again;
  });

  it('logs, counts and retries failures at the next tick, and never throws out of the loop', async (t) => {
    const store = await tmpStore(t);
    const { log, lines } = captureLogger();
    let failCurrent = 1;
    let failCompact = 2;
    const flaky: Store = Object.assign(Object.create(store) as Store, {
      currentRevision: (): Promise<number> => (failCurrent-- > 0 ? Promise.reject(new KumoError('Unavailable', 'store: etcd is unreachable')) : store.currentRevision()),
      compact: (rev: number): Promise<void> => (failCompact-- > 0 ? Promise.reject(new KumoError('Timeout', 'store: compact did not finish before its deadline')) : store.compact(rev)),
    });
    const rev = await writes(store, 5, 'a');
    const ticks = tickWaiter();
    const c = new Compactor(flaky, log, { intervalMs: 30, jitter: 0, onTick: ticks.onTick });
    const ac = new AbortController();
    const running = c.start(ac.signal);

    // tick 1: reading the revision fails; 2: records; 3 and 4: compacting fails; 5: compacts.
    assert.equal((await ticks.tick(1)).failures, 1);
    assert.equal((await ticks.tick(2)).nextCompactionRevision, rev);
    const t4 = await ticks.tick(4);
    assert.deepEqual({ failures: t4.failures, compactions: t4.compactions, next: t4.nextCompactionRevision }, { failures: 3, compactions: 0, next: rev }, 'the revision is kept for a retry');
    const t5 = await ticks.tick(5);
    assert.deepEqual({ failures: t5.failures, compactions: t5.compactions, last: t5.lastCompactedRevision }, { failures: 3, compactions: 1, last: rev });
    assert.equal(await store.compactRevision(), rev);

    // A store closed underneath: every tick fails, the loop goes on and still stops on abort.
    await store.close();
    const t7 = await ticks.tick(7);
    assert.equal(t7.failures, 5);
    ac.abort();
    await running;

    const errors = lines.filter((l) => l.msg === 'store compaction failed; retrying at the next tick');
    assert.equal(errors.length, 5);
    assert.deepEqual(
      errors.slice(0, 3).map((l) => [l.level, l.step, l.err]),
      [
        [50, 'read the current revision', 'store: etcd is unreachable'],
        [50, 'compact', 'store: compact did not finish before its deadline'],
        [50, 'compact', 'store: compact did not finish before its deadline'],
      ],
    );
  });

  it('rejects intervals setTimeout cannot wait', () => {
    const log = pino({ level: 'silent' });
    const store = {} as Store;
    assert.throws(() => new Compactor(store, log, { intervalMs: 0 }), RangeError);
    assert.throws(() => new Compactor(store, log, { intervalMs: 30 * 24 * 3600 * 1000 }), RangeError);
    assert.throws(() => new Compactor(store, log, { jitter: 1 }), RangeError);
    assert.equal(new Compactor(store, log).intervalMs, 5 * 60 * 1000);
  });

  it('on etcd: two replicas compact the same store side by side, and an outage is retried', async (t) => {
    const etcd = await startEtcd();
    t.after(() => etcd.destroy());
    const a = await openStore(etcd.url, { deadlineMs: 1000 });
    const b = await openStore(etcd.url, { deadlineMs: 1000 });
    t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
    const first = await writes(a, 10, 'a');
    const { log, lines } = captureLogger();
    const ticksA = tickWaiter();
    const ticksB = tickWaiter();
    const ca = new Compactor(a, log, { intervalMs: 150, onTick: ticksA.onTick });
    const cb = new Compactor(b, log, { intervalMs: 150, onTick: ticksB.onTick });
    const ac = new AbortController();
    const running = Promise.all([ca.start(ac.signal), cb.start(ac.signal)]);
    t.after(async () => {
      ac.abort();
      await running;
    });

    await Promise.all([ticksA.tick(1), ticksB.tick(1)]);
    await writes(b, 10, 'b');
    const [a3, b3] = await Promise.all([ticksA.tick(3), ticksB.tick(3)]);
    assert.equal(a3.failures + b3.failures, 0, JSON.stringify(lines));
    assert.ok(a3.lastCompactedRevision >= first && b3.lastCompactedRevision >= first);
    assert.ok((await a.compactRevision()) >= first);
    await assert.rejects(a.get('/registry/things/a-0', { revision: first - 1 }), (err: unknown) => err instanceof KumoError && err.code === 'Gone');

    // etcd down: ticks fail and are counted; back up: compaction goes on.
    await etcd.stop();
    const down = ca.stats().ticks;
    const failed = await ticksA.tick(down + 1);
    assert.ok(failed.failures >= 1, 'a tick during the outage failed');
    await etcd.restart();
    const latest = await writes(a, 3, 'c');
    const resumedFrom = ca.stats().ticks;
    for (let n = resumedFrom + 1; ; n++) {
      const s = await ticksA.tick(n);
      if (s.lastCompactedRevision >= latest) break;
      assert.ok(n < resumedFrom + 20, `no compaction at ${latest} after the outage: ${JSON.stringify(s)}`);
    }
    assert.ok((await a.compactRevision()) >= latest);
  });
});
