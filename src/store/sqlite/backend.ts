// The embedded SQLite backend (the default). One writer connection owned by this process (the data
// dir lock guarantees a single process), writes batched into group commits, reads at the head from the
// `kv` table, reads at older revisions and watch replay from the `log` table. Watch is an in-process hub:
// a commit's events are published right after it becomes durable.
import type Database from 'better-sqlite3';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { KumoError, isKumoError } from '../../lib/errors.js';
import { acquirePidLock, PidLockHeldError, type PidLock } from '../../lib/pidlock.js';
import { WatchChannel } from '../channel.js';
import {
  StoreConflict,
  abortError,
  decodeContinue,
  deadlineSignal,
  encodeContinue,
  futureRevision,
  gone,
  prefixEnd,
  validateKey,
  validateLimit,
  validatePrefix,
  validateRevision,
  validateTtl,
  validateValue,
} from '../common.js';
import { StoreLimits } from '../types.js';
import type {
  CallOptions,
  CountResult,
  DeleteResult,
  GetOptions,
  GetResult,
  KeyValue,
  ListOptions,
  ListResult,
  Store,
  WatchEvent,
  WatchMessage,
  WatchOptions,
  WriteOptions,
  WriteResult,
} from '../types.js';
import { EventType, openReader, openWriter } from './schema.js';

export interface SqliteOptions {
  deadlineMs?: number;
  /** Rows read per synchronous slice of a list, replay or compaction (keeps event-loop stalls short). */
  chunkRows?: number;
  /** Max operations in one group commit. */
  maxBatch?: number;
  /** How often expired TTL keys are deleted, ms; 0 = never (a store opened only to be read, e.g. a migration source). */
  ttlSweepMs?: number;
  /** Events a watcher may have buffered before it is closed with Gone. */
  maxWatcherBacklog?: number;
}

type Op =
  | { kind: 'create'; key: string; value: Buffer; ttl: number }
  | { kind: 'update'; key: string; value: Buffer; ttl: number; expected: number }
  | { kind: 'delete'; key: string; expected: number | undefined };

interface Pending {
  op: Op;
  /** Date.now() past which the op is dropped with Timeout instead of applied. */
  deadline: number;
  signal: AbortSignal | undefined;
  resolve: (r: { revision: number; kv: KeyValue; prev?: KeyValue }) => void;
  reject: (e: unknown) => void;
}

interface KvRow {
  key: string;
  create_rev: number;
  mod_rev: number;
  ttl: number;
  value: Buffer;
}

interface LogRow {
  rev: number;
  key: string;
  type: number;
  create_rev: number;
  ttl: number;
  value: Buffer | null;
  p_rev: number | null;
  p_create_rev: number | null;
  p_ttl: number | null;
  p_value: Buffer | null;
}

interface Watcher {
  prefix: string;
  /** Events at or below this revision are not for this watcher (it may start after the head). */
  after: number;
  channel: WatchChannel;
  /** While replaying history, live events wait here. */
  held: WatchEvent[] | null;
  lastSent: number;
}

const EMPTY = Buffer.alloc(0);

// List pages, with named parameters @lo (lower bound), @end (prefix end), @at (revision), @n (limit).
// The head queries read the `kv` table; the past queries pick each key's latest log row at @at.
const livePast = `l.rev <= @at AND l.type != ${EventType.delete} AND NOT EXISTS (SELECT 1 FROM log l2 WHERE l2.key = l.key AND l2.rev > l.rev AND l2.rev <= @at)`;
const headQueries = {
  first: 'SELECT key, create_rev, mod_rev, ttl, value FROM kv WHERE key >= @lo AND key < @end ORDER BY key LIMIT @n',
  next: 'SELECT key, create_rev, mod_rev, ttl, value FROM kv WHERE key > @lo AND key < @end ORDER BY key LIMIT @n',
  remaining: 'SELECT COUNT(*) AS n FROM kv WHERE key > @lo AND key < @end',
};
const pastQueries = {
  first: `SELECT l.key, l.create_rev, l.rev AS mod_rev, l.ttl, l.value FROM log l WHERE l.key >= @lo AND l.key < @end AND ${livePast} ORDER BY l.key LIMIT @n`,
  next: `SELECT l.key, l.create_rev, l.rev AS mod_rev, l.ttl, l.value FROM log l WHERE l.key > @lo AND l.key < @end AND ${livePast} ORDER BY l.key LIMIT @n`,
  remaining: `SELECT COUNT(*) AS n FROM log l WHERE l.key > @lo AND l.key < @end AND ${livePast}`,
};

function toKv(r: KvRow): KeyValue {
  return { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.mod_rev, lease: r.ttl };
}

export class SqliteStore implements Store {
  readonly name: string;
  private readonly db: Database.Database;
  private rev: number;
  private compactRev: number;
  /** History rows are physically removed up to here (<= compactRev; less after an interrupted compaction). */
  private compactDone: number;
  private closed = false;
  private readonly deadlineMs: number;
  private readonly chunkRows: number;
  private readonly maxBatch: number;
  private readonly maxBacklog: number;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private readonly watchers = new Set<Watcher>();
  private readonly readers: Database.Database[] = [];
  private readonly idleReaders: Database.Database[] = [];
  private readerWaiters: ((db: Database.Database) => void)[] = [];
  private readonly ttlTimer: NodeJS.Timeout | null;
  private compacting: Promise<void> = Promise.resolve();
  /** Group commits made (one fsync each); with `writes`, shows how well writes are batched. */
  private commits = 0;
  private writes = 0;
  private readonly stmts;
  private readonly lock: PidLock;

  constructor(
    readonly file: string,
    opts: SqliteOptions = {},
  ) {
    this.name = `sqlite:${file}`;
    // One process per file: the in-memory revision and watch hub assume they see every write.
    this.lock = lockStoreFile(file);
    let opened: ReturnType<typeof openWriter>;
    try {
      opened = openWriter(file);
    } catch (err) {
      this.lock.release();
      throw err;
    }
    const { db, meta } = opened;
    this.db = db;
    this.rev = meta.rev;
    this.compactRev = meta.compactRev;
    this.compactDone = meta.compactDone;
    this.deadlineMs = opts.deadlineMs ?? StoreLimits.defaultDeadlineMs;
    this.chunkRows = opts.chunkRows ?? 1000;
    this.maxBatch = opts.maxBatch ?? 1000;
    this.maxBacklog = opts.maxWatcherBacklog ?? 100_000;
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.stmts = {
      getKv: p('SELECT key, create_rev, mod_rev, ttl, value FROM kv WHERE key = ?'),
      insertKv: p('INSERT INTO kv(key, create_rev, mod_rev, ttl, expires_at, value) VALUES (?, ?, ?, ?, ?, ?)'),
      updateKv: p('UPDATE kv SET mod_rev = ?, ttl = ?, expires_at = ?, value = ? WHERE key = ?'),
      deleteKv: p('DELETE FROM kv WHERE key = ?'),
      insertLog: p('INSERT INTO log(rev, key, type, create_rev, prev_rev, ttl, value) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      setMeta: p('UPDATE meta SET value = ? WHERE name = ?'),
      getRev: p(`SELECT value FROM meta WHERE name = 'rev'`),
      getAt: p('SELECT rev AS mod_rev, key, type, create_rev, ttl, value FROM log WHERE key = ? AND rev <= ? ORDER BY rev DESC LIMIT 1'),
      headFirst: p('SELECT key, create_rev, mod_rev, ttl, value FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
      headNext: p('SELECT key, create_rev, mod_rev, ttl, value FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?'),
      headRemaining: p('SELECT COUNT(*) AS n FROM kv WHERE key > ? AND key < ?'),
      countKv: p('SELECT COUNT(*) AS n FROM kv WHERE key >= ? AND key < ?'),
      expired: p('SELECT key, mod_rev FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT 500'),
      replay: p(
        `SELECT l.rev, l.key, l.type, l.create_rev, l.ttl, l.value, p.rev AS p_rev, p.create_rev AS p_create_rev, p.ttl AS p_ttl, p.value AS p_value
         FROM log l LEFT JOIN log p ON p.rev = l.prev_rev
         WHERE l.rev > ? AND l.rev <= ? AND l.key >= ? AND l.key < ? ORDER BY l.rev LIMIT ?`,
      ),
      compactRows: p('SELECT rev, type, prev_rev FROM log WHERE rev > ? AND rev <= ? ORDER BY rev LIMIT ?'),
      deleteLog: p('DELETE FROM log WHERE rev = ?'),
    };
    const sweepMs = opts.ttlSweepMs ?? 1000;
    this.ttlTimer = sweepMs > 0 ? setInterval(() => this.sweepExpired(), sweepMs) : null;
    this.ttlTimer?.unref();
  }

  // ---- reads -------------------------------------------------------------------------------------

  get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    try {
      this.checkOpen();
      validateKey(key);
      if (opts.signal?.aborted) throw abortError(opts.signal, 'get');
      if (opts.revision === undefined || opts.revision === 0 || opts.revision === this.rev) {
        const row = this.stmts.getKv.get(key) as KvRow | undefined;
        return Promise.resolve({ revision: this.rev, kv: row ? toKv(row) : null });
      }
      const at = opts.revision;
      this.checkReadable(at);
      const row = this.stmts.getAt.get(key, at) as (KvRow & { type: number; value: Buffer | null }) | undefined;
      const kv = row && row.type !== EventType.delete && row.value ? toKv(row) : null;
      return Promise.resolve({ revision: at, kv });
    } catch (err) {
      return Promise.reject(this.mapError(err, 'get'));
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    validatePrefix(prefix);
    validateLimit(opts.limit);
    let after: string | null = null;
    let at = this.rev;
    if (opts.continue !== undefined && opts.continue !== '') {
      const c = decodeContinue(prefix, opts.continue);
      after = c.after;
      at = c.revision;
    } else if (opts.revision !== undefined && opts.revision !== 0) {
      validateRevision(opts.revision, 'revision');
      at = opts.revision;
    }
    this.checkReadable(at);
    const limit = opts.limit ?? 0;
    const end = prefixEnd(prefix);
    const signal = deadlineSignal(this.deadlineMs, opts.signal);
    const head = at === this.rev;
    // A page that fits one slice is read synchronously on the writer connection: trivially consistent.
    if (head && limit > 0 && limit <= this.chunkRows) {
      const page = ((after === null ? this.stmts.headFirst : this.stmts.headNext).all(after ?? prefix, end, limit + 1) as KvRow[]).map(toKv);
      return this.pageResult(prefix, at, page, limit, (last) => (this.stmts.headRemaining.get(last, end) as { n: number }).n);
    }
    // Otherwise read in slices inside one read transaction on a reader connection: a fixed snapshot
    // however many writes land in between, and no slice blocks the event loop for long.
    const reader = await this.acquireReader(signal);
    try {
      reader.exec('BEGIN');
      try {
        const meta = prepared(reader, `SELECT name, value FROM meta WHERE name IN ('rev', 'compact_rev')`).all() as { name: string; value: number }[];
        const snapRev = meta.find((m) => m.name === 'rev')?.value ?? 0;
        const snapCompact = meta.find((m) => m.name === 'compact_rev')?.value ?? 0;
        if (at < snapCompact) throw gone(at, snapCompact);
        if (at > snapRev) throw futureRevision(at, snapRev);
        const q = at === snapRev ? headQueries : pastQueries;
        const first = prepared(reader, q.first);
        const next = prepared(reader, q.next);
        const want = limit > 0 ? limit + 1 : Infinity;
        const out: KeyValue[] = [];
        let cursor = after;
        while (out.length < want) {
          if (signal.aborted) throw abortError(signal, 'list');
          const n = Math.min(this.chunkRows, want - out.length);
          const chunk = (cursor === null ? first.all({ lo: prefix, end, at, n }) : next.all({ lo: cursor, end, at, n })) as KvRow[];
          for (const r of chunk) out.push(toKv(r));
          const last = chunk[chunk.length - 1];
          if (chunk.length < n || !last) break;
          cursor = last.key;
          await yieldToLoop();
        }
        // The remaining count is cheap at the head (an index range); at a past revision it is a scan
        // of the rest of the range, so it is left out there (it is optional, as in Kubernetes).
        const remaining = q === headQueries ? (last: string): number => (prepared(reader, q.remaining).get({ lo: last, end, at }) as { n: number }).n : undefined;
        return this.pageResult(prefix, at, out, limit, remaining);
      } finally {
        reader.exec('COMMIT');
      }
    } catch (err) {
      throw this.mapError(err, 'list');
    } finally {
      this.releaseReader(reader);
    }
  }

  private pageResult(prefix: string, at: number, kvs: KeyValue[], limit: number, remainingAfter?: (lastKey: string) => number): ListResult {
    if (limit > 0 && kvs.length > limit) {
      kvs.length = limit;
      const last = kvs[limit - 1];
      if (last) {
        const page: ListResult = { revision: at, kvs, continue: encodeContinue(prefix, last.key, at) };
        if (remainingAfter) page.remaining = remainingAfter(last.key);
        return page;
      }
    }
    return { revision: at, kvs };
  }

  count(prefix: string, opts: CallOptions = {}): Promise<CountResult> {
    try {
      this.checkOpen();
      validatePrefix(prefix);
      if (opts.signal?.aborted) throw abortError(opts.signal, 'count');
      const { n } = this.stmts.countKv.get(prefix, prefixEnd(prefix)) as { n: number };
      return Promise.resolve({ revision: this.rev, count: n });
    } catch (err) {
      return Promise.reject(this.mapError(err, 'count'));
    }
  }

  currentRevision(): Promise<number> {
    return this.closed ? Promise.reject(this.closedError()) : Promise.resolve(this.rev);
  }

  compactRevision(): Promise<number> {
    return this.closed ? Promise.reject(this.closedError()) : Promise.resolve(this.compactRev);
  }

  checkHealth(): Promise<void> {
    try {
      this.checkOpen();
      this.db.prepare('SELECT 1').get();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(this.mapError(err, 'health check'));
    }
  }

  // ---- writes: queued, applied in group commits ---------------------------------------------------

  create(key: string, value: Buffer, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.submit(() => {
      validateKey(key);
      validateValue(value);
      validateTtl(opts.ttl);
      return { kind: 'create', key, value, ttl: opts.ttl ?? 0 };
    }, opts.signal);
  }

  update(key: string, value: Buffer, expectedModRevision: number, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.submit(() => {
      validateKey(key);
      validateValue(value);
      validateTtl(opts.ttl);
      validateRevision(expectedModRevision, 'expectedModRevision');
      return { kind: 'update', key, value, ttl: opts.ttl ?? 0, expected: expectedModRevision };
    }, opts.signal);
  }

  async delete(key: string, expectedModRevision?: number, opts: CallOptions = {}): Promise<DeleteResult> {
    const r = await this.submit(() => {
      validateKey(key);
      if (expectedModRevision !== undefined) validateRevision(expectedModRevision, 'expectedModRevision');
      return { kind: 'delete', key, expected: expectedModRevision };
    }, opts.signal);
    if (!r.prev) throw new KumoError('Internal', 'store: delete lost its previous value');
    return { revision: r.revision, prev: r.prev };
  }

  private submit(build: () => Op, callerSignal?: AbortSignal): Promise<{ revision: number; kv: KeyValue; prev?: KeyValue }> {
    let op: Op;
    try {
      this.checkOpen();
      op = build();
    } catch (err) {
      return Promise.reject(this.mapError(err, 'write'));
    }
    return this.enqueue(op, callerSignal);
  }

  private enqueue(op: Op, callerSignal?: AbortSignal): Promise<{ revision: number; kv: KeyValue; prev?: KeyValue }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, deadline: Date.now() + this.deadlineMs, signal: callerSignal, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate: every write issued in this turn of the event loop joins the same commit.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    if (this.queue.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    if (this.closed) {
      for (const p of batch) p.reject(this.closedError());
      return;
    }
    const now = Date.now();
    const results: ({ revision: number; kv: KeyValue; prev?: KeyValue } | Error)[] = [];
    const events: WatchEvent[] = [];
    let rev = this.rev;
    const apply = (): void => {
      const stored = (this.stmts.getRev.get() as { value: number } | undefined)?.value;
      if (stored !== this.rev) {
        throw new KumoError('Internal', `store: ${this.file} was written by another process (revision ${String(stored)}, expected ${this.rev}); restart this server`);
      }
      for (const p of batch) {
        if (p.signal?.aborted) {
          results.push(abortError(p.signal, p.op.kind));
          continue;
        }
        if (now > p.deadline) {
          results.push(new KumoError('Timeout', `store: ${p.op.kind} of ${p.op.key} waited past its deadline of ${this.deadlineMs} ms`));
          continue;
        }
        const r = this.applyOp(p.op, rev + 1, now);
        if (r instanceof Error) {
          results.push(r);
          continue;
        }
        rev += 1;
        results.push(r);
        events.push(r.event);
      }
      if (rev !== this.rev) this.stmts.setMeta.run(rev, 'rev');
    };
    try {
      this.db.transaction(apply).immediate();
    } catch (err) {
      // Nothing of the batch was committed: fail every op, publish nothing.
      const e = this.mapError(err, 'commit');
      for (const p of batch) p.reject(e);
      return;
    }
    this.rev = rev;
    this.commits += 1;
    this.writes += events.length;
    batch.forEach((p, i) => {
      const r = results[i];
      if (r instanceof Error) p.reject(r);
      else if (r) p.resolve(r);
    });
    if (events.length > 0) this.publish(events);
  }

  /** Applies one op inside the open transaction; returns an Error (not thrown) for per-op failures. */
  private applyOp(op: Op, rev: number, now: number): ({ revision: number; kv: KeyValue; prev?: KeyValue; event: WatchEvent }) | Error {
    const row = this.stmts.getKv.get(op.key) as KvRow | undefined;
    const prev = row ? toKv(row) : undefined;
    if (op.kind === 'create') {
      if (prev) return new KumoError('AlreadyExists', `store: key ${op.key} already exists`);
      const expires = op.ttl > 0 ? now + op.ttl * 1000 : null;
      this.stmts.insertKv.run(op.key, rev, rev, op.ttl, expires, op.value);
      this.stmts.insertLog.run(rev, op.key, EventType.create, rev, 0, op.ttl, op.value);
      const kv: KeyValue = { key: op.key, value: op.value, createRevision: rev, modRevision: rev, lease: op.ttl };
      return { revision: rev, kv, event: { type: 'create', kv } };
    }
    if (!prev) return new KumoError('NotFound', `store: key ${op.key} not found`);
    if (op.kind === 'update') {
      if (prev.modRevision !== op.expected) return new StoreConflict(op.key, prev, op.expected);
      const expires = op.ttl > 0 ? now + op.ttl * 1000 : null;
      this.stmts.updateKv.run(rev, op.ttl, expires, op.value, op.key);
      this.stmts.insertLog.run(rev, op.key, EventType.update, prev.createRevision, prev.modRevision, op.ttl, op.value);
      const kv: KeyValue = { key: op.key, value: op.value, createRevision: prev.createRevision, modRevision: rev, lease: op.ttl };
      return { revision: rev, kv, prev, event: { type: 'update', kv, prev } };
    }
    if (op.expected !== undefined && prev.modRevision !== op.expected) return new StoreConflict(op.key, prev, op.expected);
    this.stmts.deleteKv.run(op.key);
    this.stmts.insertLog.run(rev, op.key, EventType.delete, prev.createRevision, prev.modRevision, 0, null);
    const kv: KeyValue = { key: op.key, value: EMPTY, createRevision: prev.createRevision, modRevision: rev, lease: 0 };
    return { revision: rev, kv, prev, event: { type: 'delete', kv, prev } };
  }

  private sweepExpired(): void {
    if (this.closed) return;
    let rows: { key: string; mod_rev: number }[];
    try {
      rows = this.stmts.expired.all(Date.now()) as { key: string; mod_rev: number }[];
    } catch {
      return; // the next sweep retries; a broken database shows in checkHealth.
    }
    for (const r of rows) {
      // Expected revision: a key rewritten since the read keeps its new TTL. Failures are expected races.
      this.enqueue({ kind: 'delete', key: r.key, expected: r.mod_rev }).catch(() => undefined);
    }
  }

  // ---- watch ---------------------------------------------------------------------------------------

  watch(prefix: string, afterRevision: number, opts: WatchOptions): AsyncIterable<WatchMessage> {
    validatePrefix(prefix);
    validateRevision(afterRevision, 'afterRevision');
    // eslint-disable-next-line prefer-const -- assigned after the channel that clears it is built
    let timer: NodeJS.Timeout | undefined;
    const w: Watcher = {
      prefix,
      after: afterRevision,
      channel: new WatchChannel(this.maxBacklog, opts.signal, () => {
        this.watchers.delete(w);
        clearInterval(timer);
      }),
      held: [],
      lastSent: Date.now(),
    };
    if (w.channel.closed) return w.channel; // the signal was already aborted
    if (this.closed) {
      w.channel.fail(this.closedError());
      return w.channel;
    }
    if (afterRevision < this.compactRev) {
      w.channel.fail(gone(afterRevision + 1, this.compactRev));
      return w.channel;
    }
    // Subscribe first, then replay (afterRevision, headAtSubscribe]; live events (> head) wait in `held`.
    this.watchers.add(w);
    const head = this.rev;
    const interval = opts.progressIntervalMs ?? 5000;
    timer = setInterval(() => {
      if (w.held === null && Date.now() - w.lastSent >= interval) {
        w.lastSent = Date.now();
        w.channel.push({ kind: 'progress', revision: Math.max(this.rev, w.after) });
      }
    }, Math.max(10, Math.min(interval, 1000)));
    timer.unref();
    this.replay(w, afterRevision, head)
      .then(() => {
        const held = w.held ?? [];
        w.held = null;
        if (held.length > 0) w.channel.push({ kind: 'events', events: held });
      })
      .catch((err: unknown) => {
        w.channel.fail(this.mapError(err, 'watch'));
      });
    return w.channel;
  }

  private async replay(w: Watcher, after: number, head: number): Promise<void> {
    const end = prefixEnd(w.prefix);
    // The log is scanned by revision across all prefixes, so each slice covers a bounded window of
    // revisions as well as a bounded number of rows: a narrow prefix over a long history never scans
    // more than `window` log rows in one synchronous slice.
    const window = this.chunkRows * 4;
    let cursor = after;
    while (cursor < head && !w.channel.closed) {
      if (cursor < this.compactRev) throw gone(cursor + 1, this.compactRev);
      const upTo = Math.min(head, cursor + window);
      const rows = this.stmts.replay.all(cursor, upTo, w.prefix, end, this.chunkRows) as LogRow[];
      if (rows.length > 0) {
        w.lastSent = Date.now();
        w.channel.push({ kind: 'events', events: rows.map((r) => this.logEvent(r)) });
      }
      // A full slice may stop inside the window; otherwise the whole window is done.
      cursor = rows.length === this.chunkRows ? (rows[rows.length - 1]?.rev ?? upTo) : upTo;
      if (cursor < head) await yieldToLoop();
    }
  }

  private logEvent(r: LogRow): WatchEvent {
    const prev: KeyValue | undefined =
      r.p_rev !== null && r.p_value !== null ? { key: r.key, value: r.p_value, createRevision: r.p_create_rev ?? 0, modRevision: r.p_rev, lease: r.p_ttl ?? 0 } : undefined;
    if (r.type === EventType.delete) {
      const kv: KeyValue = { key: r.key, value: EMPTY, createRevision: r.create_rev, modRevision: r.rev, lease: 0 };
      return prev ? { type: 'delete', kv, prev } : { type: 'delete', kv };
    }
    const kv: KeyValue = { key: r.key, value: r.value ?? EMPTY, createRevision: r.create_rev, modRevision: r.rev, lease: r.ttl };
    if (r.type === EventType.create) return { type: 'create', kv };
    return prev ? { type: 'update', kv, prev } : { type: 'update', kv };
  }

  private publish(events: WatchEvent[]): void {
    for (const w of this.watchers) {
      let mine: WatchEvent[] | null = null;
      for (const e of events) {
        if (e.kv.key.startsWith(w.prefix) && e.kv.modRevision > w.after) (mine ??= []).push(e);
      }
      if (mine === null) continue;
      if (w.held !== null) {
        w.held.push(...mine);
        if (w.held.length > this.maxBacklog) w.channel.fail(new KumoError('Gone', 'store: watcher fell too far behind while replaying; re-list and watch again'));
        continue;
      }
      w.lastSent = Date.now();
      w.channel.push({ kind: 'events', events: mine });
    }
  }

  // ---- compaction ---------------------------------------------------------------------------------

  compact(revision: number, opts: CallOptions = {}): Promise<void> {
    try {
      this.checkOpen();
      validateRevision(revision, 'revision');
      if (revision > this.rev) throw futureRevision(revision, this.rev);
    } catch (err) {
      return Promise.reject(this.mapError(err, 'compact'));
    }
    const run = async (): Promise<void> => {
      // An earlier compaction cut short (abort, crash) is finished first: `compactDone` is how far rows
      // were physically removed, recorded with each slice.
      if (revision <= this.compactRev && this.compactDone >= this.compactRev) return;
      if (revision > this.compactRev) {
        // Readers and watchers see Gone below `revision` from now on, before any row disappears.
        this.db.transaction(() => this.stmts.setMeta.run(revision, 'compact_rev')).immediate();
        this.compactRev = revision;
      }
      const target = this.compactRev;
      let cursor = this.compactDone;
      // Delete, in short transactions, every row superseded at or below `revision` and every delete
      // row at or below it. Each slice is one small transaction between group commits: writers never wait long.
      for (;;) {
        if (this.closed) return;
        if (opts.signal?.aborted) throw abortError(opts.signal, 'compact');
        const done = this.db
          .transaction(() => {
            const rows = this.stmts.compactRows.all(cursor, target, this.chunkRows) as { rev: number; type: number; prev_rev: number }[];
            for (const r of rows) {
              if (r.prev_rev > 0) this.stmts.deleteLog.run(r.prev_rev);
              if (r.type === EventType.delete) this.stmts.deleteLog.run(r.rev);
            }
            const last = rows[rows.length - 1];
            const finished = rows.length < this.chunkRows;
            cursor = finished ? target : (last?.rev ?? target);
            this.stmts.setMeta.run(cursor, 'compact_done');
            return finished;
          })
          .immediate();
        this.compactDone = cursor;
        if (done) break;
        await yieldToLoop();
      }
      // Keep the WAL from growing: a passive checkpoint never waits for readers.
      this.db.pragma('wal_checkpoint(PASSIVE)');
    };
    // One compaction at a time, in order.
    const p = this.compacting.then(run, run);
    this.compacting = p.catch(() => undefined);
    return p.catch((err: unknown) => {
      throw this.mapError(err, 'compact');
    });
  }

  // ---- plumbing -----------------------------------------------------------------------------------

  /** Size facts for metrics and benchmarks. */
  /** The pragmas the writer connection really runs with (tests assert durability settings). */
  pragmas(): { journalMode: string; synchronous: number } {
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
    };
  }

  stats(): { revision: number; compactRevision: number; watchers: number; walBytes: number; queued: number; commits: number; writes: number } {
    let walBytes = 0;
    try {
      const r = this.db.pragma('wal_checkpoint(PASSIVE)', { simple: false }) as { log: number }[];
      walBytes = (r[0]?.log ?? 0) * (this.db.pragma('page_size', { simple: true }) as number);
    } catch {
      walBytes = -1;
    }
    return { revision: this.rev, compactRevision: this.compactRev, watchers: this.watchers.size, walBytes, queued: this.queue.length, commits: this.commits, writes: this.writes };
  }

  private checkReadable(at: number): void {
    validateRevision(at, 'revision');
    if (at > this.rev) throw futureRevision(at, this.rev);
    if (at < this.compactRev) throw gone(at, this.compactRev);
  }

  private async acquireReader(signal: AbortSignal): Promise<Database.Database> {
    const idle = this.idleReaders.pop();
    if (idle) return idle;
    if (this.readers.length < 4) {
      const r = openReader(this.file);
      this.readers.push(r);
      return r;
    }
    return new Promise((resolve, reject) => {
      const waiter = (db: Database.Database): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(db);
      };
      const onAbort = (): void => {
        this.readerWaiters = this.readerWaiters.filter((w) => w !== waiter);
        reject(abortError(signal, 'list'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.readerWaiters.push(waiter);
    });
  }

  private releaseReader(db: Database.Database): void {
    if (this.closed) {
      db.close();
      return;
    }
    const next = this.readerWaiters.shift();
    if (next) next(db);
    else this.idleReaders.push(db);
  }

  private checkOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): KumoError {
    return new KumoError('Unavailable', `store: ${this.name} is closed`);
  }

  private mapError(err: unknown, what: string): KumoError {
    if (isKumoError(err)) return err;
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new KumoError('Unavailable', `store: ${what}: database busy`, {}, { cause: err });
    if (code === 'SQLITE_FULL') return new KumoError('Unavailable', `store: ${what}: disk full`, {}, { cause: err });
    // The driver's own text stays in `cause` (for the log), not in a message a client may see.
    return new KumoError('Internal', `store: ${what} failed (internal database error${typeof code === 'string' ? ` ${code}` : ''})`, {}, { cause: err });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Let queued writes commit first: they may already have been promised to callers.
    while (this.queue.length > 0) this.flush();
    await this.compacting;
    this.closed = true;
    if (this.ttlTimer) clearInterval(this.ttlTimer);
    for (const w of [...this.watchers]) w.channel.fail(this.closedError());
    for (const r of this.idleReaders) r.close();
    this.idleReaders.length = 0;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    } finally {
      this.lock.release();
    }
  }
}

/** Statements prepared once per reader connection (preparing costs more than a small list). */
const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();
function prepared(db: Database.Database, sql: string): Database.Statement {
  let m = statementCache.get(db);
  if (!m) statementCache.set(db, (m = new Map<string, Database.Statement>()));
  let st = m.get(sql);
  if (!st) m.set(sql, (st = db.prepare(sql)));
  return st;
}

function lockStoreFile(file: string): PidLock {
  try {
    return acquirePidLock(`${file}.lock`);
  } catch (err) {
    if (err instanceof PidLockHeldError) {
      throw new KumoError('Unavailable', `sqlite store ${file} is in use by pid ${err.pid} (lock file ${file}.lock); one process may open it at a time`);
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KumoError('Invalid', `sqlite store ${file}: directory ${path.dirname(file)} does not exist`);
    }
    throw err;
  }
}

export function openSqliteStore(file: string, opts: SqliteOptions = {}): Promise<Store> {
  try {
    return Promise.resolve(new SqliteStore(file, opts));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
