// The whole storage contract (kine-like). Every backend implements `Store`; everything above the
// store layer depends on this file only. Backends register by URL scheme in `./registry.ts`.
//
// Revisions: one global counter that only grows. Every successful write gets a new revision; a key's
// `modRevision` is the revision of its last write and `createRevision` that of its creation.
//
// Errors: every call rejects only with a `KumoError` whose code is one of
//   NotFound, AlreadyExists, Conflict, Invalid (bad key / value too large), Gone (compacted revision),
//   Timeout (deadline passed), Unavailable (backend unreachable or closed), Internal.

export interface KeyValue {
  readonly key: string;
  readonly value: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  /** Lease/TTL handle, 0 when the key has no TTL. Opaque to callers. */
  readonly lease: number;
}

export interface CallOptions {
  /** Aborts the call (rejects with Timeout if the signal's reason is a timeout, else Unavailable). */
  signal?: AbortSignal;
}

export interface GetOptions extends CallOptions {
  /** Read as of this revision (Gone if compacted, Invalid if in the future). Default: latest. */
  revision?: number;
}

export interface GetResult {
  /** The store revision the read was served at. */
  revision: number;
  kv: KeyValue | null;
}

export interface ListOptions extends CallOptions {
  /** At most this many items (0 or absent: no limit). */
  limit?: number;
  /** Token from a previous result's `continue`: resumes after its last key, at its revision. */
  continue?: string;
  /** Read as of this revision. Ignored when `continue` is given (the token carries it). */
  revision?: number;
}

export interface ListResult {
  /** The revision of the snapshot; pass it back (through `continue`) to read the next page of it. */
  revision: number;
  kvs: KeyValue[];
  /** Set when more keys match after the last one returned. */
  continue?: string;
  /**
   * Number of matching keys after this page. Only with `continue`, and only when the backend can count
   * it cheaply (SQLite: at the head revision; etcd: always); when present it is exact. Like Kubernetes'
   * remainingItemCount, clients must not depend on it.
   */
  remaining?: number;
}

export interface CountResult {
  revision: number;
  count: number;
}

export interface WriteOptions extends CallOptions {
  /** Time to live in seconds; the key is deleted (with a delete event) after it. */
  ttl?: number;
}

export interface WriteResult {
  revision: number;
  kv: KeyValue;
}

export interface DeleteResult {
  revision: number;
  /** The value that was deleted. */
  prev: KeyValue;
}

export type WatchEventType = 'create' | 'update' | 'delete';

export interface WatchEvent {
  type: WatchEventType;
  /** For deletes: the key, an empty value, modRevision = the delete's revision. */
  kv: KeyValue;
  /** The value before this event (absent on create). */
  prev?: KeyValue;
}

/** What a watch yields, in revision order: batches of events, or a progress notice. */
export type WatchMessage =
  | { kind: 'events'; events: WatchEvent[] }
  /** Every change up to and including `revision` under the prefix has been delivered. */
  | { kind: 'progress'; revision: number };

export interface WatchOptions {
  /** Ends the watch: the iterator returns. Required: no watch outlives its owner. */
  signal: AbortSignal;
  /** How often to send a progress notice when there are no events. Default 5000 ms. */
  progressIntervalMs?: number;
}

export interface Store {
  /** URL-ish name of the backend, e.g. `sqlite:/data/kumo.db` (no credentials). */
  readonly name: string;

  get(key: string, opts?: GetOptions): Promise<GetResult>;
  /** Keys starting with `prefix`, in key order, as one consistent snapshot across pages. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  count(prefix: string, opts?: CallOptions): Promise<CountResult>;
  /** AlreadyExists if the key exists. */
  create(key: string, value: Buffer, opts?: WriteOptions): Promise<WriteResult>;
  /** Conflict (carrying the current value in `StoreConflict.current`) unless the key's modRevision equals `expectedModRevision`; NotFound if absent. */
  update(key: string, value: Buffer, expectedModRevision: number, opts?: WriteOptions): Promise<WriteResult>;
  /** NotFound if absent; Conflict if `expectedModRevision` is given and differs. */
  delete(key: string, expectedModRevision?: number, opts?: CallOptions): Promise<DeleteResult>;
  /**
   * Every change under `prefix` with revision > `afterRevision`, in revision order, nothing missed and
   * nothing twice; then live changes. Throws Gone (from the iterator) when `afterRevision + 1` has been
   * compacted away, or when the watcher falls too far behind. Progress notices are sent periodically.
   */
  watch(prefix: string, afterRevision: number, opts: WatchOptions): AsyncIterable<WatchMessage>;
  /** Discards history at or below `revision` (reads at older revisions become Gone). */
  compact(revision: number, opts?: CallOptions): Promise<void>;
  /** The revision of the last write. */
  currentRevision(opts?: CallOptions): Promise<number>;
  /** The oldest revision still readable (0 if never compacted). */
  compactRevision(opts?: CallOptions): Promise<number>;
  /** Resolves when the backend answers within its deadline; rejects with Timeout/Unavailable otherwise. */
  checkHealth(opts?: CallOptions): Promise<void>;
  close(): Promise<void>;
}

/** Limits every backend enforces before storage (ARCHITECTURE.md "Limits"). */
export const StoreLimits = {
  /** etcd's default request limit. */
  maxValueBytes: 1.5 * 1024 * 1024,
  maxKeyBytes: 2048,
  /** Default deadline of every store call. */
  defaultDeadlineMs: 5000,
} as const;
