// `npm run bench:store`: the store backends beside raw baselines measured in the same run.
//   node dist/bench/store.js [--only sqlite|etcd] [--n 2000]
// Prints one line per figure with the baseline, the ratio and the target.
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../store/registry.js';
import type { Store } from '../store/types.js';
import { percentile, Report, type Row } from './report.js';

const out = new Report(38);

function report(r: Row & { backend: string }): void {
  const { backend, ...row } = r;
  out.add(backend, row);
}

function value(i: number): Buffer {
  return Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default' }, data: { k: 'x'.repeat(200) } }));
}

async function timeOps(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

async function benchStore(backend: string, store: Store, n: number, raw: { seq: () => Promise<number>; conc: () => Promise<number>; gets: () => Promise<number>; list: () => Promise<number> }): Promise<void> {
  const seqRaw = await raw.seq();
  const seq = await timeOps(n, 1, (i) => store.create(`/bench/seq/${i}`, value(i)));
  report({ backend, figure: 'sequential durable writes/s', value: seq, unit: 'ops/s', baseline: seqRaw, target: '>=70% of raw', pass: seq >= 0.7 * seqRaw });

  const concRaw = await raw.conc();
  const conc = await timeOps(n * 5, 50, (i) => store.create(`/bench/conc/${i}`, value(i)));
  const concTarget = backend === 'sqlite' ? { target: '>=20000/s', pass: conc >= 20000 } : { target: '>=70% of raw', pass: conc >= 0.7 * concRaw };
  report({ backend, figure: 'writes/s at 50 concurrent writers', value: conc, unit: 'ops/s', baseline: concRaw, ...concTarget });

  const getsRaw = await raw.gets();
  const gets = await timeOps(n * 5, 50, (i) => store.get(`/bench/conc/${i % (n * 5)}`));
  report({ backend, figure: 'gets/s (50 concurrent)', value: gets, unit: 'ops/s', baseline: getsRaw });

  // 20k keys under one prefix.
  await timeOps(20_000, 50, (i) => store.create(`/bench/list/${String(i).padStart(6, '0')}`, value(i)));
  const listRaw = await raw.list();
  const h = monitorEventLoopDelay({ resolution: 1 });
  let maxGap = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  await sleep(20);
  maxGap = 0;
  h.enable();
  const t0 = performance.now();
  const res = await store.list('/bench/list/');
  const listMs = performance.now() - t0;
  await sleep(5);
  h.disable();
  clearInterval(ticker);
  if (res.kvs.length !== 20_000) throw new Error(`list returned ${res.kvs.length} keys, want 20000`);
  report({ backend, figure: 'list 20k keys', value: listMs, unit: 'ms', baseline: listRaw, target: '<=200 ms', pass: listMs <= 200 });
  const stall = Math.max(maxGap, h.max / 1e6);
  report({ backend, figure: 'longest event-loop stall during list', value: stall, unit: 'ms', target: '<=20 ms', pass: stall <= 20 });

  await benchWatch(backend, store);
}

/** 1,000 watchers on one prefix; each write stamps its time, each delivery measures its delay. */
async function benchWatch(backend: string, store: Store): Promise<void> {
  const watchers = 1000;
  const writes = 300;
  const ac = new AbortController();
  setMaxListeners(watchers + 10, ac.signal);
  const start = await store.currentRevision();
  const delays: number[] = [];
  let delivered = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const consumers = Array.from({ length: watchers }, async () => {
    let seen = 0;
    try {
      for await (const m of store.watch('/bench/watch/', start, { signal: ac.signal, progressIntervalMs: 60_000 })) {
        if (m.kind !== 'events') continue;
        const now = performance.now();
        for (const e of m.events) {
          const sent = Number(e.kv.value.toString());
          delays.push(now - sent);
          seen++;
          delivered++;
        }
        if (seen >= writes && delivered >= watchers * writes) resolveDone();
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  });
  await sleep(200); // let every watcher subscribe
  const t0 = performance.now();
  // 10 concurrent writers, as a busy management plane would produce.
  await timeOps(writes, 10, (i) => store.create(`/bench/watch/${i}`, Buffer.from(String(performance.now()))));
  await Promise.race([done, sleep(60_000)]);
  const secs = (performance.now() - t0) / 1000;
  ac.abort();
  await Promise.allSettled(consumers);
  delays.sort((a, b) => a - b);
  const rate = delivered / secs;
  report({ backend, figure: `watch fan-out ${watchers} watchers (deliveries/s)`, value: rate, unit: 'ev/s', target: '>=100000/s', pass: rate >= 100_000 && delivered === watchers * writes });
  const p99 = percentile(delays, 0.99);
  report({ backend, figure: 'watch delivery delay p99', value: p99, unit: 'ms', target: '<=100 ms', pass: p99 <= 100 });
}

async function benchSqlite(n: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-bench-sqlite-'));
  try {
    // Raw baseline: better-sqlite3, same pragmas, one row per transaction.
    const db = new Database(path.join(dir, 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)');
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const insert = db.transaction((k: string, v: Buffer) => ins.run(k, v));
    const sel = db.prepare('SELECT v FROM t WHERE k = ?');
    const raw = {
      seq: () => timeOps(n, 1, (i) => Promise.resolve(insert(`/seq/${i}`, value(i)))),
      // A synchronous driver has no concurrency of its own: 50 "writers" are serialized, one fsync each.
      conc: () => timeOps(n, 50, (i) => Promise.resolve(insert(`/conc/${i}`, value(i)))),
      gets: () => timeOps(n * 5, 50, (i) => Promise.resolve(sel.get(`/conc/${i % n}`))),
      list: () => {
        const tx = db.transaction(() => {
          for (let i = 0; i < 20_000; i++) ins.run(`/list/${String(i).padStart(6, '0')}`, value(i));
        });
        tx();
        const t0 = performance.now();
        const all = db.prepare(`SELECT k, v FROM t WHERE k >= '/list/' AND k < '/list0' ORDER BY k`).all();
        if (all.length !== 20_000) throw new Error('raw list short');
        return Promise.resolve(performance.now() - t0);
      },
    };
    const store = await openStore('sqlite:', { dataDir: dir });
    try {
      await benchStore('sqlite', store, n, raw);
    } finally {
      await store.close();
      db.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function benchEtcd(n: number): Promise<void> {
  const { startEtcd } = await import('../testing/etcd.js');
  const etcd = await startEtcd();
  // Like kube-apiserver, lift gRPC's 4 MiB receive cap: a 20k-key list is ~7 MB.
  const client = new Etcd3({ hosts: etcd.endpoint, grpcOptions: { 'grpc.max_receive_message_length': -1 } });
  try {
    const put = (k: string, v: Buffer): Promise<unknown> => client.put(k).value(v).exec();
    const raw = {
      seq: () => timeOps(n, 1, (i) => put(`/raw/seq/${i}`, value(i))),
      conc: () => timeOps(n * 5, 50, (i) => put(`/raw/conc/${i}`, value(i))),
      gets: () => timeOps(n * 5, 50, (i) => client.get(`/raw/conc/${i % (n * 5)}`).buffer()),
      list: async () => {
        await timeOps(20_000, 50, (i) => put(`/raw/list/${String(i).padStart(6, '0')}`, value(i)));
        const t0 = performance.now();
        const all = await client.getAll().prefix('/raw/list/').buffers();
        if (Object.keys(all).length !== 20_000) throw new Error('raw etcd list short');
        return performance.now() - t0;
      },
    };
    const store = await openStore(etcd.url);
    try {
      await benchStore('etcd', store, n, raw);
    } finally {
      await store.close();
    }
  } finally {
    client.close();
    await etcd.destroy();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const n = args.includes('--n') ? Number(args[args.indexOf('--n') + 1]) : 2000;
  console.log(`bench:store on ${os.cpus().length} cores, node ${process.version}, n=${n}`);
  if (only !== 'etcd') await benchSqlite(n);
  if (only !== 'sqlite') await benchEtcd(n);
  console.log(out.summary());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
