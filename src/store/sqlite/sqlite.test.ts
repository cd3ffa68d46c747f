import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isKumoError } from '../../lib/errors.js';
import { runStoreConformance } from '../conformance.js';
import { openStore } from '../registry.js';
import { SqliteStore } from './backend.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-sqlite-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshFile = (): string => path.join(root, `t${++n}.db`);

runStoreConformance('sqlite', () => {
  const store = new SqliteStore(freshFile(), { ttlSweepMs: 200 });
  return Promise.resolve({ store, cleanup: () => store.close() });
});

describe('sqlite backend specifics', () => {
  it('refuses a corrupt file with a clear error and leaves it untouched', async () => {
    const file = freshFile();
    const junk = Buffer.from('this is not a database '.repeat(300));
    fs.writeFileSync(file, junk);
    await assert.rejects(openStore(`sqlite:${file}`), (err: unknown) => isKumoError(err, 'Internal') && /corrupt or not a Kumo database/.test(err.message));
    assert.deepEqual(fs.readFileSync(file), junk, 'the file must not be reset');
  });

  it('refuses a database that is not a Kumo store', async () => {
    const file = freshFile();
    const db = new Database(file);
    db.exec('CREATE TABLE users (id INTEGER)');
    db.close();
    await assert.rejects(openStore(`sqlite:${file}`), /not a Kumo database/);
  });

  it('refuses a newer format version', async () => {
    const file = freshFile();
    const s = new SqliteStore(file);
    await s.create('/k', Buffer.from('v'));
    await s.close();
    const db = new Database(file);
    db.prepare(`UPDATE meta SET value = 99 WHERE name = 'format'`).run();
    db.close();
    await assert.rejects(openStore(`sqlite:${file}`), /format version 99, newer than this Kumo supports \(1\)/);
  });

  it('refuses a file whose tables are damaged instead of recreating them', async () => {
    const file = freshFile();
    const s = new SqliteStore(file);
    await s.create('/k', Buffer.from('v'));
    await s.close();
    const db = new Database(file);
    db.exec('DROP TABLE kv');
    db.close();
    await assert.rejects(openStore(`sqlite:${file}`), /table kv is missing/);
  });

  it('names a missing directory instead of calling the file corrupt', async () => {
    await assert.rejects(openStore(`sqlite:${path.join(root, 'no-such-dir', 'x.db')}`), /directory .*no-such-dir does not exist/);
  });

  it('is opened by one process (and one store) at a time', async () => {
    const file = freshFile();
    const s = new SqliteStore(file);
    try {
      await assert.rejects(openStore(`sqlite:${file}`), new RegExp(`is in use by pid ${process.pid}`));
    } finally {
      await s.close();
    }
    const again = new SqliteStore(file);
    await again.close();
  });

  it('a watch after a future revision gets only events after it', async () => {
    const s = new SqliteStore(freshFile());
    const ac = new AbortController();
    try {
      await s.create('/fw/a', Buffer.from('1'));
      const head = await s.currentRevision();
      const revs: number[] = [];
      const consumer = (async () => {
        for await (const m of s.watch('/fw/', head + 3, { signal: ac.signal })) {
          if (m.kind === 'events') revs.push(...m.events.map((e) => e.kv.modRevision));
          if (revs.length >= 2) break;
        }
      })();
      for (let i = 0; i < 5; i++) await s.create(`/fw/k${i}`, Buffer.from(String(i)));
      await consumer;
      assert.deepEqual(revs, [head + 4, head + 5]);
    } finally {
      ac.abort();
      await s.close();
    }
  });

  it('keeps revisions and data across reopen', async () => {
    const file = freshFile();
    const s = new SqliteStore(file);
    const a = await s.create('/k/a', Buffer.from('1'));
    await s.update('/k/a', Buffer.from('2'), a.revision);
    await s.compact(a.revision);
    await s.close();
    const s2 = new SqliteStore(file);
    try {
      assert.equal(await s2.currentRevision(), a.revision + 1);
      assert.equal(await s2.compactRevision(), a.revision);
      assert.equal((await s2.get('/k/a')).kv?.value.toString(), '2');
      const b = await s2.create('/k/b', Buffer.from('3'));
      assert.equal(b.revision, a.revision + 2, 'the revision continues, never restarts');
    } finally {
      await s2.close();
    }
  });

  it('batches concurrent writers into group commits', async () => {
    const s = new SqliteStore(freshFile());
    try {
      const before = s.stats();
      await Promise.all(Array.from({ length: 500 }, (_, i) => s.create(`/g/${i}`, Buffer.from(String(i)))));
      const after = s.stats();
      assert.equal(after.writes - before.writes, 500);
      assert.ok(after.commits - before.commits <= 5, `500 concurrent writes took ${after.commits - before.commits} commits`);
      // Failures inside a batch do not fail the others.
      const results = await Promise.allSettled([s.create('/g/1', Buffer.from('dup')), s.create('/g/new', Buffer.from('ok'))]);
      assert.equal(results[0]?.status, 'rejected');
      assert.equal(results[1]?.status, 'fulfilled');
    } finally {
      await s.close();
    }
  });

  it('compacts in slices while writers keep writing, and history below is Gone', async () => {
    const s = new SqliteStore(freshFile(), { chunkRows: 50 });
    try {
      let rev = (await s.create('/c/x', Buffer.from('0'))).revision;
      for (let i = 1; i < 1000; i++) rev = (await s.update('/c/x', Buffer.from(String(i)), rev)).revision;
      const writes = Promise.all(Array.from({ length: 200 }, (_, i) => s.create(`/c/y${i}`, Buffer.from('y'))));
      await Promise.all([s.compact(rev), writes]);
      assert.equal((await s.get('/c/x', { revision: rev })).kv?.value.toString(), '999');
      await assert.rejects(s.get('/c/x', { revision: rev - 1 }), (e: unknown) => isKumoError(e, 'Gone'));
      assert.equal((await s.count('/c/')).count, 201);
    } finally {
      await s.close();
    }
  });

  it('finishes an interrupted compaction on the next call instead of leaving history behind', async () => {
    const file = freshFile();
    const s = new SqliteStore(file, { chunkRows: 20 });
    try {
      let rev = (await s.create('/ic/x', Buffer.from('0'))).revision;
      for (let i = 1; i < 500; i++) rev = (await s.update('/ic/x', Buffer.from(String(i)), rev)).revision;
      const ac = new AbortController();
      setImmediate(() => ac.abort());
      await assert.rejects(s.compact(rev, { signal: ac.signal }));
      const logRows = (): number => {
        const db = new Database(file, { readonly: true });
        try {
          return (db.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      assert.ok(logRows() > 1, 'the first compaction was cut short');
      await s.compact(rev);
      assert.equal(logRows(), 1, 'only the latest row of the key is left');
      assert.equal((await s.get('/ic/x')).kv?.value.toString(), '499');
    } finally {
      await s.close();
    }
  });

  it('replays a long history to a watcher without losing live writes made meanwhile', async () => {
    const s = new SqliteStore(freshFile(), { chunkRows: 100 });
    const ac = new AbortController();
    try {
      for (let i = 0; i < 1000; i++) await s.create(`/w/${i}`, Buffer.from(String(i)));
      const revs: number[] = [];
      const consumer = (async () => {
        for await (const m of s.watch('/w/', 0, { signal: ac.signal })) {
          if (m.kind === 'events') for (const e of m.events) revs.push(e.kv.modRevision);
          if (revs.length >= 1500) break;
        }
      })();
      // Live writes race the replay.
      for (let i = 1000; i < 1500; i++) await s.create(`/w/${i}`, Buffer.from(String(i)));
      await consumer;
      assert.equal(revs.length, 1500);
      for (let i = 1; i < revs.length; i++) assert.equal(revs[i], (revs[i - 1] ?? 0) + 1, 'revisions contiguous, in order, no duplicates');
    } finally {
      ac.abort();
      await s.close();
    }
  });

  it('ends watchers with Unavailable when closed, and rejects calls after close', async () => {
    const s = new SqliteStore(freshFile());
    const it = s.watch('/z/', 0, { signal: new AbortController().signal });
    const p = (async () => {
      for await (const _ of it) {
        /* drain */
      }
    })();
    await s.close();
    await assert.rejects(p, (e: unknown) => isKumoError(e, 'Unavailable'));
    await assert.rejects(s.get('/z/a'), (e: unknown) => isKumoError(e, 'Unavailable'));
  });
});
