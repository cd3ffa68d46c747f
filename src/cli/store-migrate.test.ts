import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { openStore } from '../store/registry.js';
import type { Store } from '../store/types.js';
import { startEtcd } from '../testing/etcd.js';
import { migrateStore } from './store-migrate.js';

const KUMO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kumo.js');

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-migrate-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(t: { after: (fn: () => Promise<void>) => void }, file: string): Promise<Store> {
  const s = await openStore(`sqlite:${file}`);
  let closed = false;
  t.after(async () => {
    if (!closed) await s.close();
  });
  const close = s.close.bind(s);
  s.close = async () => {
    closed = true;
    await close();
  };
  return s;
}

async function dump(s: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let page = await s.list('/', { limit: 1000 });
  for (;;) {
    for (const kv of page.kvs) out.set(kv.key, kv.value.toString());
    if (page.continue === undefined) return out;
    page = await s.list('/', { limit: 1000, continue: page.continue });
  }
}

describe('store migrate', () => {
  it('copies one snapshot of every key, with fresh revisions, even while the source changes', async (t) => {
    const dir = tmpDir(t);
    const from = await open(t, path.join(dir, 'a.db'));
    const to = await open(t, path.join(dir, 'b.db'));
    await Promise.all(Array.from({ length: 1234 }, (_, i) => from.create(`/registry/things/k${String(i).padStart(5, '0')}`, Buffer.from(`v${i}`))));
    const updated = await from.get('/registry/things/k00007');
    await from.update('/registry/things/k00007', Buffer.from('v7-updated'), updated.kv?.modRevision ?? 0);
    await from.delete('/registry/things/k00008');
    await from.create('/registry/events/e1', Buffer.from('an event'), { ttl: 60 });
    const expected = await dump(from);
    const sourceRev = await from.currentRevision();

    let wroteDuring = 0;
    const r = await migrateStore(from, to, {
      pageSize: 100,
      onProgress: () => {
        // Writes after the snapshot must not leak into the copy.
        void from.create(`/registry/late/k${wroteDuring++}`, Buffer.from('late')).catch(() => undefined);
      },
    });
    assert.equal(r.keys, 1234);
    assert.equal(r.withTtl, 1);
    assert.equal(r.sourceRevision, sourceRev);
    assert.ok(wroteDuring > 1);
    const copied = await dump(to);
    assert.deepEqual(copied, expected);
    assert.equal(copied.get('/registry/things/k00007'), 'v7-updated');
    assert.equal(copied.has('/registry/things/k00008'), false);
    // Revisions only grow: the target was advanced past the source and compacted there, then one
    // revision per copied key; every old resourceVersion now reads as compacted.
    assert.equal(r.targetRevisionBefore, 0);
    assert.ok(r.targetCompactedAt > sourceRev, `compacted at ${r.targetCompactedAt}, source was at ${sourceRev}`);
    assert.equal(r.targetRevisionAfter, r.targetCompactedAt + 1234);
    assert.equal(await to.compactRevision(), r.targetCompactedAt);
    for (const kv of (await to.list('/')).kvs) assert.ok(kv.modRevision > sourceRev);
    await assert.rejects(to.get('/registry/things/k00007', { revision: sourceRev }), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'Gone');
    assert.equal((await to.count('/kumo/migrate/')).count, 0, 'the throwaway keys are gone');
    const ev = await to.get('/registry/events/e1');
    assert.notEqual(ev.kv?.lease, 0, 'a key with a TTL keeps one');

    await assert.rejects(migrateStore(from, to), /already holds 1234 keys under "\/"; migrate only into an empty store/);
  });

  it('runs as `kumo store migrate` and prints the counts', async (t) => {
    const dir = tmpDir(t);
    const from = await open(t, path.join(dir, 'src.db'));
    for (let i = 0; i < 25; i++) await from.create(`/registry/x/${i}`, Buffer.from(String(i)));
    await from.close();

    const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(process.execPath, [KUMO, 'store', 'migrate', ...args], { encoding: 'utf8', timeout: 60_000 });

    const ok = run('--from', `sqlite:${path.join(dir, 'src.db')}`, '--to', `sqlite:${path.join(dir, 'dst.db')}`, '--page-size', '10');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^copied 25 keys from sqlite:.*src\.db \(snapshot at revision 25\) to sqlite:.*dst\.db in /m);
    assert.match(ok.stdout, /compacted at \d+ \(past the source's 25\): old resourceVersions read as Gone/);

    const again = run('--from', `sqlite:${path.join(dir, 'src.db')}`, '--to', `sqlite:${path.join(dir, 'dst.db')}`);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds 25 keys/);

    const missing = run('--from', `sqlite:${path.join(dir, 'nope.db')}`, '--to', `sqlite:${path.join(dir, 'x.db')}`);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope\.db does not exist/);
    assert.equal(fs.existsSync(path.join(dir, 'nope.db')), false, 'a missing source is not created');

    const usage = run('--from', 'sqlite:a.db');
    assert.equal(usage.status, 1);
    assert.match(usage.stderr, /required option '--to <url>' not specified/);

    const bad = run('--from', 'mysql://x', '--to', 'sqlite:b.db');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /unknown store "mysql:\/\/x"/);

    // A data dir held by a live server is refused (this test process plays the server).
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'kumo.lock'), `${process.pid}\n`);
    fs.copyFileSync(path.join(dir, 'src.db'), path.join(dataDir, 'kumo.db'));
    const busy = run('--from', `sqlite:${path.join(dataDir, 'kumo.db')}`, '--to', `sqlite:${path.join(dir, 'y.db')}`);
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, new RegExp(`in use by kumo server pid ${process.pid}; stop the server first`));
  });

  it('copies a SQLite store into a real etcd', async (t) => {
    const etcd = await startEtcd();
    t.after(() => etcd.destroy());
    const dir = tmpDir(t);
    const from = await open(t, path.join(dir, 'src.db'));
    await Promise.all(Array.from({ length: 300 }, (_, i) => from.create(`/registry/x/${i}`, Buffer.from(`value ${i}`))));
    await from.create('/registry/events/e', Buffer.from('event'), { ttl: 60 });
    const expected = await dump(from);
    await from.close();

    const r = spawnSync(process.execPath, [KUMO, 'store', 'migrate', '--from', `sqlite:${path.join(dir, 'src.db')}`, '--to', etcd.url, '--page-size', '50'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^copied 301 keys from sqlite:.* \(snapshot at revision 301\) to etcd:\/\/127\.0\.0\.1:\d+ in /m);
    assert.match(r.stdout, /^1 key had a TTL and was given a fresh TTL of 3600 s$/m);

    const to = await openStore(etcd.url);
    t.after(() => to.close());
    assert.deepEqual(await dump(to), expected);
    assert.notEqual((await to.get('/registry/events/e')).kv?.lease, 0, 'the event keeps a TTL (an etcd lease)');
  });
});
