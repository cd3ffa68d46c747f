// Crash test: a child process writes under load and is killed with SIGKILL (for etcd, etcd too);
// after restart every acknowledged write must be present and no value torn.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkValue } from '../testing/crash-writer.js';
import { startEtcd, type EtcdHandle } from '../testing/etcd.js';
import { openStore } from './registry.js';
import { SqliteStore } from './sqlite/backend.js';

const writerJs = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'testing', 'crash-writer.js');

interface Ack {
  rev: number;
  seq: number;
}

/** Runs the writer until it has acknowledged `target` writes (or `maxMs` passed), then SIGKILLs it. */
async function runAndKill(url: string, dataDir: string, tag: string, target: number, killAlso?: () => Promise<void>): Promise<{ acks: Map<string, Ack>; writes: number }> {
  const child = spawn(process.execPath, [writerJs, url, dataDir, '20', tag], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const acks = new Map<string, Ack>();
  let lines = 0;
  let killed = false;
  const kill = async (): Promise<void> => {
    if (killed) return;
    killed = true;
    // The writer and (for etcd) the server die at the same instant, mid-write.
    child.kill('SIGKILL');
    if (killAlso) await killAlso();
  };
  const timer = setTimeout(() => void kill(), 20_000);
  try {
    const rl = readline.createInterface({ input: child.stdout });
    // Every line read was printed after its write was acknowledged; lines still in the pipe after
    // the kill are read too (they were acknowledged before the kill).
    for await (const line of rl) {
      const m = /^ack (\S+) (\d+) (\d+)$/.exec(line);
      if (!m) continue;
      const [, key = '', rev = '0', seq = '0'] = m;
      const prev = acks.get(key);
      if (!prev || Number(seq) > prev.seq) acks.set(key, { rev: Number(rev), seq: Number(seq) });
      if (++lines >= target) await kill();
    }
    await exited;
  } finally {
    clearTimeout(timer);
    if (!killed) await kill();
  }
  assert.ok(lines > 0, `writer acknowledged nothing (stderr: ${stderr.slice(0, 2000)})`);
  return { acks, writes: lines };
}

async function verify(url: string, dataDir: string, tag: string, acks: Map<string, Ack>): Promise<{ acked: number; stored: number }> {
  const store = await openStore(url, { dataDir });
  try {
    let missing = 0;
    for (const [key, ack] of acks) {
      const { kv } = await store.get(key);
      if (!kv) {
        missing++;
        continue;
      }
      const head = checkValue(kv.value);
      assert.equal(head.key, key);
      // A counter may have moved past the last acknowledged value (committed, ack not yet printed), never behind it.
      assert.ok(head.seq >= ack.seq, `${key}: stored seq ${head.seq} is behind acknowledged ${ack.seq}`);
      assert.ok(kv.modRevision >= ack.rev, `${key}: modRevision ${kv.modRevision} behind acknowledged ${ack.rev}`);
    }
    assert.equal(missing, 0, `${missing} acknowledged writes are missing`);
    // No torn value anywhere, acknowledged or not.
    let stored = 0;
    let cont: string | undefined;
    do {
      const page = await store.list(`/crash/${tag}/`, { limit: 500, ...(cont ? { continue: cont } : {}) });
      for (const kv of page.kvs) checkValue(kv.value);
      stored += page.kvs.length;
      cont = page.continue;
    } while (cont);
    return { acked: acks.size, stored };
  } finally {
    await store.close();
  }
}

describe('crash: SQLite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-crash-sqlite-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs with synchronous=FULL and WAL', async () => {
    const s = new SqliteStore(path.join(dir, 'pragma.db'));
    try {
      assert.deepEqual(s.pragmas(), { journalMode: 'wal', synchronous: 2 });
    } finally {
      await s.close();
    }
  });

  for (const round of [1, 2, 3]) {
    it(`keeps every acknowledged write after SIGKILL (round ${round})`, async () => {
      const { acks, writes } = await runAndKill('sqlite:', dir, `r${round}`, 3000 * round);
      const r = await verify('sqlite:', dir, `r${round}`, acks);
      console.log(`sqlite crash round ${round}: ${writes} acknowledged writes, all ${r.acked} keys present at or past their acknowledged value, ${r.stored} stored values intact`);
    });
  }
});

describe('crash: etcd', () => {
  let etcd: EtcdHandle | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-crash-etcd-'));
  after(async () => {
    await etcd?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const round of [1, 2]) {
    it(`keeps every acknowledged write after SIGKILL of writer and etcd (round ${round})`, async () => {
      etcd ??= await startEtcd();
      const e = etcd;
      const { acks, writes } = await runAndKill(e.url, dir, `r${round}`, 2000, () => e.kill());
      await e.restart();
      const r = await verify(e.url, dir, `r${round}`, acks);
      console.log(`etcd crash round ${round}: ${writes} acknowledged writes, all ${r.acked} keys present at or past their acknowledged value, ${r.stored} stored values intact`);
    });
  }
});
