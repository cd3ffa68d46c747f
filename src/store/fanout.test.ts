import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runStoreConformance } from './conformance.js';
import { FanoutStore } from './fanout.js';
import { SqliteStore } from './sqlite/backend.js';
import type { WatchEvent } from './types.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-fanout-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (ringSize?: number): FanoutStore => new FanoutStore(new SqliteStore(path.join(root, `f${++n}.db`), { ttlSweepMs: 200 }), ringSize ? { ringSize } : {});

// The decorator must keep every promise of the contract.
runStoreConformance('fanout over sqlite', () => {
  const store = fresh();
  return Promise.resolve({ store, cleanup: () => store.close() });
});

async function collect(store: FanoutStore, after: number, count: number, signal: AbortSignal): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for await (const m of store.watch('/f/', after, { signal })) {
    if (m.kind === 'events') out.push(...m.events);
    if (out.length >= count) break;
  }
  return out;
}

describe('fanout', () => {
  it('shares one upstream watch among 100 watchers, each seeing every event once in order', async () => {
    const s = fresh();
    const ac = new AbortController();
    try {
      const start = await s.currentRevision();
      const watchers = Array.from({ length: 100 }, () => collect(s, start, 50, ac.signal));
      assert.equal(s.sharedWatches(), 1);
      for (let i = 0; i < 50; i++) await s.create(`/f/${i}`, Buffer.from(String(i)));
      const results = await Promise.all(watchers);
      for (const evs of results) {
        assert.deepEqual(evs.map((e) => e.kv.key), Array.from({ length: 50 }, (_, i) => `/f/${i}`));
      }
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
});
