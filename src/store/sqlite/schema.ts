// The SQLite file layout and its checks on open. See docs/adr/0001-store.md.
//
//   meta(name, value)  format version, last revision, compacted revision
//   kv                 the latest value of every live key (fast get/list/count at the head revision)
//   log                one row per revision (create/update/delete) with its value; reads at older
//                      revisions and watch replay come from here. prev_rev links a row to the one it
//                      superseded, so compaction removes exactly the rows nobody can read any more.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KumoError } from '../../lib/errors.js';

export const FORMAT_VERSION = 1;

export const EventType = { create: 0, update: 1, delete: 2 } as const;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kv (
  key TEXT NOT NULL UNIQUE,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL,
  ttl INTEGER NOT NULL,
  expires_at INTEGER,
  value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_expires ON kv(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS log (
  rev INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  type INTEGER NOT NULL,
  create_rev INTEGER NOT NULL,
  prev_rev INTEGER NOT NULL,
  ttl INTEGER NOT NULL,
  value BLOB
);
CREATE INDEX IF NOT EXISTS log_key_rev ON log(key, rev);
`;

export interface Meta {
  rev: number;
  compactRev: number;
  compactDone: number;
}

function corrupt(file: string, err: unknown): KumoError {
  const why = err instanceof Error ? err.message : String(err);
  return new KumoError('Internal', `sqlite store ${file} is corrupt or not a Kumo database (${why}); refusing to start. Restore it from a backup or move it aside.`, {}, { cause: err });
}

/** Opens the writer connection: WAL, synchronous=FULL, schema created or checked. Never resets data. */
export function openWriter(file: string, opts: { readonly?: boolean } = {}): { db: Database.Database; meta: Meta } {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new KumoError('Invalid', `sqlite store ${file}: directory ${dir} does not exist`);
  }
  const isNew = !fs.existsSync(file) || fs.statSync(file).size === 0;
  if (opts.readonly && isNew) throw new KumoError('NotFound', `sqlite store ${file} does not exist`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_CANTOPEN' || code === 'EACCES') {
      throw new KumoError('Unavailable', `sqlite store ${file} cannot be opened (${err instanceof Error ? err.message : String(err)}); check the path and its permissions`, {}, { cause: err });
    }
    throw corrupt(file, err);
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (!isNew) {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
    }
    const listTables = (): Set<string> => new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type='table'`).all() as { name: string }[]).map((r) => r.name));
    let tables = listTables();
    if (tables.size === 0) {
      // A brand-new (or empty) file: create the layout and stamp it.
      if (opts.readonly) throw new Error('the file has no tables');
      db.exec(DDL);
      db.prepare(`INSERT INTO meta(name, value) VALUES ('format', ?), ('rev', 0), ('compact_rev', 0), ('compact_done', 0)`).run(FORMAT_VERSION);
      tables = listTables();
    } else if (!tables.has('meta')) {
      throw new Error('the file holds no Kumo metadata table');
    }
    // The format stamp first: a newer file is never touched.
    const rows = db.prepare('SELECT name, value FROM meta').all() as { name: string; value: number }[];
    const m = new Map(rows.map((r) => [r.name, r.value]));
    const format = m.get('format');
    if (format === undefined) throw new Error('the format stamp is missing');
    if (format > FORMAT_VERSION) {
      db.close();
      throw new KumoError(
        'Internal',
        `sqlite store ${file} has format version ${format}, newer than this Kumo supports (${FORMAT_VERSION}); upgrade Kumo or restore a backup`,
      );
    }
    if (m.get('rev') === undefined || m.get('compact_rev') === undefined) throw new Error('metadata rows are missing');
    for (const t of ['kv', 'log']) if (!tables.has(t)) throw new Error(`table ${t} is missing`);
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      // Every acknowledged commit is fsynced (the WAL is synced on each commit in FULL mode).
      db.pragma('synchronous = FULL');
      // Keep the WAL file from staying large after a burst; checkpoints happen on commit.
      db.pragma('journal_size_limit = 67108864');
    }
    db.pragma(`cache_size = ${WRITER_CACHE_KIB}`);
    let compactDone = m.get('compact_done');
    if (compactDone === undefined) {
      // Files from before this row existed were always compacted completely.
      compactDone = m.get('compact_rev') ?? 0;
      if (!opts.readonly) db.prepare(`INSERT INTO meta(name, value) VALUES ('compact_done', ?)`).run(compactDone);
    }
    return { db, meta: { rev: m.get('rev') ?? 0, compactRev: m.get('compact_rev') ?? 0, compactDone } };
  } catch (err) {
    if (db.open) db.close();
    if (err instanceof KumoError) throw err;
    throw corrupt(file, err);
  }
}

/**
 * Page caches, in KiB (negative: SQLite's unit for KiB). better-sqlite3 builds SQLite with 16 MiB per
 * connection; with a writer and up to four snapshot readers that is up to 80 MiB of memory that only
 * duplicates the kernel's page cache. Reads of recent pages and the B-tree interior stay cached.
 */
const WRITER_CACHE_KIB = -4096;
const READER_CACHE_KIB = -2048;

/** A read-only connection to the same file for long snapshot reads (WAL readers never block the writer). */
export function openReader(file: string): Database.Database {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = ${READER_CACHE_KIB}`);
  return db;
}
