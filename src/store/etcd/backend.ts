// The etcd backend: a thin 1:1 mapping onto etcd's own revisions, transactions, watch, compaction and
// leases (no second revision counter on top). What this file adds is only what etcd does not give:
// input checks before any network call, deadlines and error mapping on every call, continue tokens,
// the compact revision (etcd does not expose it), lease reuse for TTLs, and safe watch progress.
import {
  ClientClosedError,
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
  type IEvent,
  type IKeyValue,
  type IOptions,
  type IRangeRequest,
  type IRangeResponse,
  type IWatchResponse,
  type KVClient,
  type Watcher,
} from 'etcd3';
import { setTimeout as sleep } from 'node:timers/promises';
import { KumoError, isKumoError } from '../../lib/errors.js';
import { WatchChannel } from '../channel.js';
import {
  StoreConflict,
  abortError,
  decodeContinue,
  encodeContinue,
  futureRevision,
  gone,
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

export interface EtcdStoreOptions {
  /** Deadline of every call, ms (default StoreLimits.defaultDeadlineMs). */
  deadlineMs?: number;
  /** Keys fetched per range request when a list reads many keys (keeps each message and decode small). */
  listChunk?: number;
  /** Events a watcher may have buffered before it is closed with Gone. */
  maxWatcherBacklog?: number;
}

const EMPTY = Buffer.alloc(0);
const ZERO = Buffer.from([0]);
/** A key outside every valid store key (they all start with '/'), read count-only to learn the revision. */
const PROBE_KEY = Buffer.from('kumo-probe');

/** gRPC call options (deadline), as etcd3's RPC methods take them. */
type GrpcCallOptions = NonNullable<Parameters<KVClient['range']>[1]>;
type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = ReturnType<NonNullable<FaultHandling['host']>>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;

/**
 * A policy that just runs the call. etcd3's defaults retry every "recoverable" error three times (also
 * writes whose outcome is unknown: a retried create could then report AlreadyExists for its own write)
 * and open a 5 s circuit breaker after three failures (calls then fail instantly and recovery lags a
 * restarted etcd). Retries are done here instead, only where safe, and always within the deadline.
 */
const passThrough = {
  execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> => fn({ signal: signal ?? new AbortController().signal }),
  onSuccess: () => ({ dispose: () => undefined }),
  onFailure: () => ({ dispose: () => undefined }),
} as unknown as Policy; // the interface also declares a type-only phantom member

/** Watch stream reconnect backoff: 100 ms doubling to 2 s, jittered (etcd3's default grows to 30 s). */
function watchBackoff(attempt = 0): Backoff {
  const base = Math.min(2000, 100 * 2 ** attempt);
  return { duration: base / 2 + Math.random() * (base / 2), next: () => watchBackoff(attempt + 1) };
}

/** etcd3 decodes int64 fields as strings; revisions stay far below 2^53. */
function num(s: string | number | undefined | null): number {
  return s === undefined || s === null ? 0 : Number(s);
}

/** etcd's range end for a prefix: the prefix with its last byte below 0xff incremented (byte order, like etcd). */
function prefixEndBytes(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const b = end[i] ?? 0;
    if (b < 0xff) {
      end[i] = b + 1;
      return end.subarray(0, i + 1);
    }
  }
  return ZERO; // all 0xff: to the end of the keyspace (cannot happen for valid keys)
}

function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value,
    createRevision: num(kv.create_revision),
    modRevision: num(kv.mod_revision),
    // Lease IDs are int64 and may lose precision as numbers; the contract keeps them opaque (0 = no TTL).
    lease: num(kv.lease),
  };
}

function toEvent(e: IEvent): WatchEvent {
  const prev = e.prev_kv ? toKv(e.prev_kv) : undefined;
  if (e.type === 'Delete') {
    // etcd's delete event carries only the key and the delete's revision.
    const kv: KeyValue = { key: e.kv.key.toString('utf8'), value: EMPTY, createRevision: prev?.createRevision ?? 0, modRevision: num(e.kv.mod_revision), lease: 0 };
    return prev ? { type: 'delete', kv, prev } : { type: 'delete', kv };
  }
  const kv = toKv(e.kv);
  if (kv.createRevision === kv.modRevision) return { type: 'create', kv };
  return prev ? { type: 'update', kv, prev } : { type: 'update', kv };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const isCompacted = (err: unknown): boolean => /required revision has been compacted/.test(message(err));
const isFuture = (err: unknown): boolean => /required revision is a future revision/.test(message(err));

/** The request certainly never reached etcd (no connection, or etcd refused it before proposing): safe to resend a write. */
function isUnsent(err: unknown): boolean {
  const m = message(err);
  return (err instanceof GRPCUnavailableError && /No connection established|ECONNREFUSED/.test(m)) || /etcdserver: no leader/.test(m);
}

/** Transient: a read (or an idempotent write) may be retried within its deadline. */
function isTransient(err: unknown): boolean {
  return err instanceof GRPCUnavailableError || /etcdserver: (no leader|leader changed|too many requests|request timed out)/.test(message(err));
}

/** How a call may be retried: reads always on transient errors, writes only when unsent. */
type CallKind = 'read' | 'write';

/**
 * Keeps lease use low, like kube-apiserver's LeaseManager: a lease granted for TTL t lives t + r seconds
 * (r = 5% of t, at most 60 s) and is reused by every key asking for TTL t during its first r seconds, so
 * a key lives between t and t + r seconds. Short TTLs (r = 0) share a lease only with concurrent writes.
 */
class LeaseCache {
  private readonly current = new Map<number, { id: string; expiresAt: number }>();
  private readonly pending = new Map<number, Promise<string>>();

  constructor(private readonly grant: (ttl: number) => Promise<string>) {}

  get(ttl: number): Promise<string> {
    const now = Date.now();
    const reuse = Math.min(60, Math.floor(ttl * 0.05));
    const cur = this.current.get(ttl);
    if (cur && now + ttl * 1000 <= cur.expiresAt && cur.expiresAt <= now + (ttl + reuse) * 1000) return Promise.resolve(cur.id);
    const inFlight = this.pending.get(ttl);
    if (inFlight) return inFlight;
    const p = this.grant(ttl + reuse)
      .then((id) => {
        // Measured from before the request: never later than etcd's own expiry.
        this.current.set(ttl, { id, expiresAt: now + (ttl + reuse) * 1000 });
        if (this.current.size > 64) for (const [t, l] of this.current) if (l.expiresAt < Date.now()) this.current.delete(t);
        return id;
      })
      .finally(() => this.pending.delete(ttl));
    this.pending.set(ttl, p);
    return p;
  }

  /** The lease was revoked or expired under us (e.g. etcd restored): grant a new one next time. */
  forget(ttl: number, id: string): void {
    if (this.current.get(ttl)?.id === id) this.current.delete(ttl);
  }
}

export class EtcdStore implements Store {
  readonly name: string;
  private readonly client: Etcd3;
  private readonly deadlineMs: number;
  private readonly listChunk: number;
  private readonly maxBacklog: number;
  private closed = false;
  /** A lower bound of etcd's compact revision (exact after compactRevision()). */
  private knownCompact = 0;
  private readonly leases: LeaseCache;
  private readonly watches = new Set<EtcdWatch>();

  constructor(
    readonly endpoints: string[],
    opts: EtcdStoreOptions = {},
  ) {
    if (endpoints.length === 0) throw new KumoError('Invalid', 'store: etcd needs at least one endpoint');
    this.name = `etcd://${endpoints.join(',')}`;
    this.deadlineMs = opts.deadlineMs ?? StoreLimits.defaultDeadlineMs;
    this.listChunk = opts.listChunk ?? 1000;
    this.maxBacklog = opts.maxWatcherBacklog ?? 100_000;
    this.client = new Etcd3({
      hosts: endpoints,
      grpcOptions: {
        // Lists and watch batches of 1.5 MiB values exceed gRPC's 4 MiB default receive limit.
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
        // Reconnect quickly once etcd is back (gRPC's default backoff grows to 120 s).
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        // Notice a dead peer on an idle watch stream (etcd's default --grpc-keepalive-min-time is 5 s).
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5000,
      },
      faultHandling: { host: () => passThrough, global: passThrough, watchBackoff: watchBackoff() },
    });
    this.leases = new LeaseCache(async (ttl) => {
      const res = await this.call('lease grant', 'read', undefined, Date.now() + this.deadlineMs, (o) => this.client.leaseClient.leaseGrant({ TTL: ttl }, o));
      return res.ID;
    });
  }

  // ---- plumbing -----------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): KumoError {
    return new KumoError('Unavailable', `store: ${this.name} is closed`);
  }

  /**
   * Runs one etcd RPC with a deadline (gRPC deadline + the caller's signal), retrying transient
   * failures while the deadline allows: reads on any unavailability, writes only when etcd certainly
   * never saw them. Rejects only with KumoError.
   */
  private async call<T>(what: string, kind: CallKind, signal: AbortSignal | undefined, deadline: number, fn: (o: GrpcCallOptions) => Promise<T>): Promise<T> {
    let backoff = 25;
    for (;;) {
      if (this.closed) throw this.closedError();
      if (signal?.aborted) throw abortError(signal, what);
      let err: unknown;
      try {
        const p = fn({ deadline });
        return await (signal ? raceAbort(p, signal, what) : p);
      } catch (e) {
        err = e;
      }
      if (isKumoError(err)) throw err;
      const retry = kind === 'read' ? isTransient(err) : isUnsent(err);
      if (!retry || Date.now() + backoff >= deadline) throw this.mapError(err, what, retry);
      await sleep(backoff);
      backoff = Math.min(500, backoff * 2);
    }
  }

  private mapError(err: unknown, what: string, wasRetrying = false): KumoError {
    if (isKumoError(err)) return err;
    const m = message(err);
    if (this.closed || err instanceof ClientClosedError) return this.closedError();
    if (err instanceof GRPCDeadlineExceededError || /etcdserver: request timed out/.test(m)) {
      return new KumoError('Timeout', `store: ${what} did not finish before its deadline of ${this.deadlineMs} ms`, {}, { cause: err });
    }
    if (isCompacted(err)) return new KumoError('Gone', `store: ${what}: the revision has been compacted`, {}, { cause: err });
    if (isFuture(err)) return new KumoError('Invalid', `store: ${what}: the revision is in the future`, {}, { cause: err });
    if (/request is too large|larger than max/.test(m)) {
      return new KumoError('Invalid', `store: ${what}: request too large for etcd (values are limited to ${StoreLimits.maxValueBytes} bytes; etcd must run with --max-request-bytes above that)`, {}, { cause: err });
    }
    if (err instanceof GRPCUnavailableError || isTransient(err) || /database space exceeded/.test(m)) {
      const how = wasRetrying ? ` (retried until the deadline of ${this.deadlineMs} ms)` : '';
      return new KumoError('Unavailable', `store: etcd ${this.endpoints.join(',')} unavailable during ${what}${how}: ${m}`, {}, { cause: err });
    }
    return new KumoError('Internal', `store: ${what} failed: ${m}`, {}, { cause: err });
  }

  private deadline(): number {
    return Date.now() + this.deadlineMs;
  }

  /** A read at `revision` (0 = latest), with Gone / Invalid errors that name the revisions involved. */
  private async range(what: string, req: IRangeRequest, signal: AbortSignal | undefined, deadline = this.deadline()): Promise<IRangeResponse> {
    try {
      return await this.call(what, 'read', signal, deadline, (o) => this.client.kv.range(req, o));
    } catch (err) {
      throw await this.revisionError(err, num(req.revision));
    }
  }

  /** Turns "compacted" / "future revision" into the shared errors, looking up the revisions (best effort). */
  private async revisionError(err: unknown, revision: number): Promise<unknown> {
    if (!isKumoError(err) || !(err.cause instanceof Error)) return err;
    if (isCompacted(err.cause)) {
      this.knownCompact = Math.max(this.knownCompact, revision + 1);
      const compacted = await this.compactRevision().catch(() => this.knownCompact);
      return gone(revision, compacted);
    }
    if (isFuture(err.cause)) {
      const current = await this.currentRevision().catch(() => NaN);
      return futureRevision(revision, current);
    }
    return err;
  }

  // ---- reads -------------------------------------------------------------------------------------

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    this.checkOpen();
    validateKey(key);
    if (opts.revision !== undefined) validateRevision(opts.revision, 'revision');
    const at = opts.revision ?? 0;
    const res = await this.range('get', { key: Buffer.from(key), revision: at }, opts.signal);
    const kv = res.kvs[0];
    return { revision: at > 0 ? at : num(res.header.revision), kv: kv ? toKv(kv) : null };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    validatePrefix(prefix);
    validateLimit(opts.limit);
    let from = Buffer.from(prefix);
    let at = 0;
    if (opts.continue !== undefined && opts.continue !== '') {
      const c = decodeContinue(prefix, opts.continue);
      from = Buffer.concat([Buffer.from(c.after), ZERO]); // strictly after the last key returned
      at = c.revision;
    } else if (opts.revision !== undefined && opts.revision !== 0) {
      validateRevision(opts.revision, 'revision');
      at = opts.revision;
    }
    const end = prefixEndBytes(Buffer.from(prefix));
    const limit = opts.limit ?? 0;
    const deadline = this.deadline();
    const kvs: KeyValue[] = [];
    // Read in chunks, all at one revision: the first chunk fixes it (etcd's current revision when
    // none was asked for), so the whole list and its continue token describe one snapshot.
    for (;;) {
      const n = limit > 0 ? Math.min(this.listChunk, limit - kvs.length) : this.listChunk;
      const res = await this.range('list', { key: from, range_end: end, revision: at, limit: n }, opts.signal, deadline);
      if (at === 0) at = num(res.header.revision);
      for (const kv of res.kvs) kvs.push(toKv(kv));
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) return { revision: at, kvs };
      if (limit > 0 && kvs.length >= limit) {
        // etcd's count is every key in [from, end) at the revision, not just this chunk.
        return { revision: at, kvs, continue: encodeContinue(prefix, last.key.toString('utf8'), at), remaining: num(res.count) - res.kvs.length };
      }
      from = Buffer.concat([last.key, ZERO]);
    }
  }

  async count(prefix: string, opts: CallOptions = {}): Promise<CountResult> {
    this.checkOpen();
    validatePrefix(prefix);
    const p = Buffer.from(prefix);
    const res = await this.range('count', { key: p, range_end: prefixEndBytes(p), count_only: true }, opts.signal);
    return { revision: num(res.header.revision), count: num(res.count) };
  }

  async currentRevision(opts: CallOptions = {}): Promise<number> {
    this.checkOpen();
    // A linearizable count-only read: its header carries etcd's current revision.
    const res = await this.range('current revision', { key: PROBE_KEY, count_only: true }, opts.signal);
    return num(res.header.revision);
  }

  /** Whether reads at `rev` still work (false: compacted). */
  private async readableAt(rev: number, signal: AbortSignal | undefined, deadline: number): Promise<boolean> {
    try {
      await this.call('compact revision', 'read', signal, deadline, (o) => this.client.kv.range({ key: PROBE_KEY, revision: rev, count_only: true }, o));
      return true;
    } catch (err) {
      if (isKumoError(err) && err.cause instanceof Error && isCompacted(err.cause)) return false;
      throw err;
    }
  }

  async compactRevision(opts: CallOptions = {}): Promise<number> {
    this.checkOpen();
    // etcd has no API for its compact revision: reads below it fail with "compacted", so find the
    // oldest readable revision by bisection. It starts at the last known value, so when nobody else
    // compacted since, one probe confirms it.
    const deadline = this.deadline();
    const readable = (rev: number): Promise<boolean> => this.readableAt(rev, opts.signal, deadline);
    let lo = Math.max(1, this.knownCompact);
    if (!(await readable(lo))) {
      // Invariant: lo unreadable, hi readable (the current revision always is).
      let hi = await this.currentRevision(opts);
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (await readable(mid)) hi = mid;
        else lo = mid;
      }
      lo = hi;
    }
    this.knownCompact = Math.max(this.knownCompact, lo);
    // Everything from revision 1 readable means never compacted.
    return lo <= 1 ? 0 : lo;
  }

  async checkHealth(opts: CallOptions = {}): Promise<void> {
    this.checkOpen();
    await this.range('health check', { key: PROBE_KEY, count_only: true }, opts.signal);
  }

  // ---- writes ------------------------------------------------------------------------------------

  /** Runs a write that needs a lease for `ttl` (if any); a lease revoked under us is replaced once. */
  private async withLease<T>(ttl: number | undefined, signal: AbortSignal | undefined, fn: (lease: string) => Promise<T>): Promise<T> {
    if (ttl === undefined) return fn('0');
    for (let attempt = 0; ; attempt++) {
      const granted = this.leases.get(ttl);
      const lease = await (signal ? raceAbort(granted, signal, 'lease grant') : granted);
      try {
        return await fn(lease);
      } catch (err) {
        const cause = isKumoError(err) ? err.cause : err;
        if (attempt > 0 || !(cause instanceof EtcdLeaseInvalidError || /requested lease not found/.test(message(cause)))) throw err;
        this.leases.forget(ttl, lease);
      }
    }
  }

  async create(key: string, value: Buffer, opts: WriteOptions = {}): Promise<WriteResult> {
    this.checkOpen();
    validateKey(key);
    validateValue(value);
    validateTtl(opts.ttl);
    const k = Buffer.from(key);
    const deadline = this.deadline();
    return this.withLease(opts.ttl, opts.signal, async (lease) => {
      // Put only if the key has never been created (or was deleted): create_revision == 0.
      const res = await this.call('create', 'write', opts.signal, deadline, (o) =>
        this.client.kv.txn({ compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }], success: [{ request_put: { key: k, value, lease } }], failure: [] }, o),
      );
      if (!res.succeeded) throw new KumoError('AlreadyExists', `store: key ${key} already exists`);
      const rev = num(res.header.revision);
      return { revision: rev, kv: { key, value, createRevision: rev, modRevision: rev, lease: num(lease) } };
    });
  }

  async update(key: string, value: Buffer, expectedModRevision: number, opts: WriteOptions = {}): Promise<WriteResult> {
    this.checkOpen();
    validateKey(key);
    validateValue(value);
    validateRevision(expectedModRevision, 'expectedModRevision');
    validateTtl(opts.ttl);
    const k = Buffer.from(key);
    const deadline = this.deadline();
    return this.withLease(opts.ttl, opts.signal, async (lease) => {
      const res = await this.call('update', 'write', opts.signal, deadline, (o) =>
        this.client.kv.txn(
          {
            // "Exists" as well as "mod == expected": with expected 0 the second alone would create the key.
            compare: [
              { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
              { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
            ],
            // The keys-only read after the put returns the create revision without sending the old value back.
            success: [{ request_put: { key: k, value, lease } }, { request_range: { key: k, keys_only: true } }],
            failure: [{ request_range: { key: k } }],
          },
          o,
        ),
      );
      if (!res.succeeded) {
        const cur = res.responses[0]?.response_range.kvs[0];
        if (!cur) throw new KumoError('NotFound', `store: key ${key} not found`);
        throw new StoreConflict(key, toKv(cur), expectedModRevision);
      }
      const rev = num(res.header.revision);
      const createRevision = num(res.responses[1]?.response_range.kvs[0]?.create_revision);
      return { revision: rev, kv: { key, value, createRevision, modRevision: rev, lease: num(lease) } };
    });
  }

  async delete(key: string, expectedModRevision?: number, opts: CallOptions = {}): Promise<DeleteResult> {
    this.checkOpen();
    validateKey(key);
    if (expectedModRevision !== undefined) validateRevision(expectedModRevision, 'expectedModRevision');
    const k = Buffer.from(key);
    const deadline = this.deadline();
    if (expectedModRevision === undefined) {
      const res = await this.call('delete', 'write', opts.signal, deadline, (o) => this.client.kv.deleteRange({ key: k, prev_kv: true }, o));
      const prev = res.prev_kvs[0];
      if (!prev) throw new KumoError('NotFound', `store: key ${key} not found`);
      return { revision: num(res.header.revision), prev: toKv(prev) };
    }
    const res = await this.call('delete', 'write', opts.signal, deadline, (o) =>
      this.client.kv.txn(
        {
          compare: [
            { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
            { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
          ],
          success: [{ request_delete_range: { key: k, prev_kv: true } }],
          failure: [{ request_range: { key: k } }],
        },
        o,
      ),
    );
    if (!res.succeeded) {
      const cur = res.responses[0]?.response_range.kvs[0];
      if (!cur) throw new KumoError('NotFound', `store: key ${key} not found`);
      throw new StoreConflict(key, toKv(cur), expectedModRevision);
    }
    const prev = res.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw new KumoError('Internal', `store: delete of ${key} succeeded without a previous value`);
    return { revision: num(res.header.revision), prev: toKv(prev) };
  }

  // ---- compaction ---------------------------------------------------------------------------------

  async compact(revision: number, opts: CallOptions = {}): Promise<void> {
    this.checkOpen();
    validateRevision(revision, 'revision');
    if (revision === 0 || revision <= this.knownCompact) return;
    try {
      // physical: resolve only once etcd has applied it to its backend, so back-to-back compactions
      // cannot pile up. Compaction is idempotent: safe to retry like a read.
      await this.call('compact', 'read', opts.signal, this.deadline(), (o) => this.client.kv.compact({ revision, physical: true }, o));
    } catch (err) {
      const cause = isKumoError(err) ? err.cause : err;
      // Already compacted at or past `revision` (by us or another client): nothing to do.
      if (isCompacted(cause)) return;
      throw await this.revisionError(err, revision);
    }
    this.knownCompact = Math.max(this.knownCompact, revision);
  }

  // ---- watch -------------------------------------------------------------------------------------

  watch(prefix: string, afterRevision: number, opts: WatchOptions): AsyncIterable<WatchMessage> {
    validatePrefix(prefix);
    validateRevision(afterRevision, 'afterRevision');
    const w = new EtcdWatch(this.client, prefix, afterRevision, opts, {
      maxBacklog: this.maxBacklog,
      deadlineMs: this.deadlineMs,
      onClose: (x) => this.watches.delete(x),
      compactRevision: () => this.compactRevision(),
      readableAt: (rev) => this.readableAt(rev, undefined, this.deadline()),
    });
    if (this.closed) w.channel.fail(this.closedError());
    else if (!w.channel.closed) {
      this.watches.add(w);
      w.start();
    }
    return w.channel;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const cancels = [...this.watches].map((w) => {
      w.channel.fail(this.closedError());
      return w.cancelled;
    });
    // Let etcd confirm the cancellations so the watch manager does not try to reconnect them; bounded,
    // since a watcher whose stream is down may never be confirmed.
    await Promise.race([Promise.allSettled(cancels), sleep(500)]);
    this.client.close();
  }
}

/** Rejects with the abort error when `signal` aborts first (the RPC itself still ends at its deadline). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

interface WatchDeps {
  maxBacklog: number;
  deadlineMs: number;
  onClose: (w: EtcdWatch) => void;
  compactRevision: () => Promise<number>;
  /** False if reads at `rev` fail as compacted. */
  readableAt: (rev: number) => Promise<boolean>;
}

/**
 * One store watch = one etcd watcher (prefix range, start_revision = afterRevision + 1, prev_kv) feeding
 * a WatchChannel. etcd delivers a watcher's events in revision order; on top of that this keeps:
 * - `safeRev`: every event up to it has been pushed. It advances with each event batch and with etcd's
 *   own progress notifications, which etcd sends only to watchers that have caught up (synced), so
 *   they never run ahead of events. Progress notices to the consumer always carry `safeRev`.
 * - resumption: etcd3 resumes a dropped stream from the last response *header* revision + 1, which can
 *   skip events (a catching-up batch's header is etcd's current revision, not the batch's last event);
 *   so on every disconnect the resume point is reset to safeRev + 1, and anything at or below safeRev
 *   is dropped if etcd sends it again.
 * - a deadline while disconnected: if etcd stays unreachable longer than the call deadline, the watch
 *   ends with Unavailable instead of hanging silently; the consumer re-watches from its revision.
 */
class EtcdWatch {
  readonly channel: WatchChannel;
  /** Resolves once the etcd watcher is gone (cancel confirmed, or cancelled by etcd). */
  cancelled: Promise<void> = Promise.resolve();
  private watcher: Watcher | null = null;
  private safeRev: number;
  private lastPushAt = Date.now();
  private connected = false;
  /** Set once etcd cancelled the watcher itself: it is detached already, and cancel() would never resolve. */
  private cancelledByEtcd = false;
  private stopped = false;
  private progressTimer: NodeJS.Timeout | undefined;
  private downTimer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    afterRevision: number,
    opts: WatchOptions,
    private readonly deps: WatchDeps,
  ) {
    this.safeRev = afterRevision;
    this.intervalMs = opts.progressIntervalMs ?? 5000;
    this.channel = new WatchChannel(deps.maxBacklog, opts.signal, () => this.stop());
  }

  start(): void {
    const p = Buffer.from(this.prefix);
    const watcher = this.client
      .watch()
      .inRange({ start: p, end: prefixEndBytes(p) })
      .withPreviousKV()
      .startRevision(String(this.safeRev + 1))
      .watcher();
    this.watcher = watcher;
    // The revision this (re)connection resumes after; etcd3 emits 'connecting' right before it sends
    // the create request.
    let after = this.safeRev;
    watcher.on('connecting', () => {
      after = this.safeRev;
    });
    watcher.on('connected', () => {
      this.connected = true;
      clearTimeout(this.downTimer);
      this.downTimer = undefined;
      this.checkNotCompacted(after);
    });
    watcher.on('disconnected', () => {
      this.connected = false;
      watcher.request.start_revision = String(this.safeRev + 1);
      this.armDownTimer();
    });
    watcher.on('data', (res: IWatchResponse) => {
      // etcd3 rethrows listener errors outside any handler: never let one escape.
      try {
        this.onData(res);
      } catch (err) {
        this.channel.fail(new KumoError('Internal', `store: watch on ${this.prefix} failed: ${message(err)}`, {}, { cause: err }));
      }
    });
    // A watcher etcd cancelled itself ("Watcher canceled: <reason>", reason empty on compaction).
    watcher.on('error', (err: Error) => {
      this.cancelledByEtcd = true;
      this.connected = false;
      this.onCancelled(err).then(
        (e) => this.channel.fail(e),
        (e: unknown) => this.channel.fail(isKumoError(e) ? e : new KumoError('Unavailable', `store: watch on ${this.prefix} was cancelled by etcd: ${message(err)}`)),
      );
    });
    this.armDownTimer();
    this.progressTimer = setInterval(() => this.tick(), Math.max(10, Math.min(this.intervalMs, 1000)) / 2);
    this.progressTimer.unref();
  }

  private onData(res: IWatchResponse): void {
    if (this.stopped) return;
    if (res.events.length === 0) {
      // A progress notification: etcd sends it only to a synced watcher, after all its events.
      this.safeRev = Math.max(this.safeRev, num(res.header.revision));
      return;
    }
    const floor = this.safeRev;
    const events: WatchEvent[] = [];
    for (const e of res.events) {
      const ev = toEvent(e);
      if (ev.kv.modRevision > floor) events.push(ev);
    }
    const last = events[events.length - 1];
    if (!last) return;
    this.safeRev = last.kv.modRevision;
    this.lastPushAt = Date.now();
    this.channel.push({ kind: 'events', events });
  }

  private tick(): void {
    if (this.stopped || !this.connected) return;
    if (Date.now() - this.lastPushAt < this.intervalMs) return;
    this.lastPushAt = Date.now();
    this.channel.push({ kind: 'progress', revision: this.safeRev });
  }

  private armDownTimer(): void {
    if (this.downTimer !== undefined || this.stopped) return;
    this.downTimer = setTimeout(() => {
      this.downTimer = undefined;
      if (!this.connected) {
        this.channel.fail(new KumoError('Unavailable', `store: watch on ${this.prefix}: etcd unreachable for ${this.deps.deadlineMs} ms; watch again from revision ${this.safeRev}`));
      }
    }, this.deps.deadlineMs);
    this.downTimer.unref();
  }

  /**
   * etcd cancels a watcher only when its start revision is below the compact revision C, and accepts
   * start = C although a delete at exactly C may already be gone from its history. The contract (and
   * the SQLite backend) say Gone whenever `after` itself is compacted, i.e. after < C: a read at
   * `after` tells exactly that. Runs alongside the first events; Gone makes the consumer re-list anyway.
   */
  private checkNotCompacted(after: number): void {
    if (after < 1) return; // from revision 1: etcd itself cancels if anything was compacted
    this.deps.readableAt(after).then(
      (ok) => {
        if (!ok) void this.deps.compactRevision().then((c) => this.channel.fail(gone(after + 1, c)), () => this.channel.fail(gone(after + 1, after + 1)));
      },
      () => undefined, // etcd unreachable: the disconnect handling reports it
    );
  }

  /** Why etcd cancelled the watcher: compaction (checked explicitly, etcd3 drops the compact revision) or something else. */
  private async onCancelled(err: Error): Promise<KumoError> {
    const compacted = await this.deps.compactRevision();
    if (this.safeRev < compacted) return gone(this.safeRev + 1, compacted);
    return new KumoError('Unavailable', `store: watch on ${this.prefix} was cancelled by etcd: ${err.message}`, {}, { cause: err });
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.progressTimer);
    clearTimeout(this.downTimer);
    this.deps.onClose(this);
    const w = this.watcher;
    if (w && !this.cancelledByEtcd) {
      // Not awaited by the consumer; close() waits for it (bounded).
      this.cancelled = w.cancel().catch(() => undefined);
    }
  }
}

export function openEtcdStore(endpoints: string[], opts: EtcdStoreOptions = {}): Promise<Store> {
  try {
    return Promise.resolve(new EtcdStore(endpoints, opts));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
