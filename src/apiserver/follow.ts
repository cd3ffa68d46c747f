// Follows some resources of the store into an in-memory index, across every logical cluster: per
// kind, one list of its whole key range, then one watch from that list's revision (nothing missed,
// nothing twice), relisting after any failure (410 Gone after compaction included). A relist replaces
// a kind's objects in one synchronous step, so no reader sees a half-loaded index. `waitFor` gives a
// writer read-your-writes: wait until the index has seen a revision of a kind. What RBAC's policy
// cache and tenancy's index are built on (below the runtime's informers, so the API server's own
// authorizers are in sync before it listens).
import type { KObject } from '../api/types.js';
import type { Store } from '../store/types.js';
import { parseStorageKey, type StorageKeyParts } from './keys.js';

/** Where followed objects go. */
export interface FollowSink<K extends string> {
  /** Drops every object of `kind` (a relist follows at once, in the same synchronous step). */
  clear(kind: K): void;
  /** Adds or replaces (`obj`), or removes (`null`), the object at `key`. */
  apply(kind: K, key: StorageKeyParts, obj: KObject | null): void;
  /** After each batch of changes to `kind` (the index may recompute what depends on it). */
  changed?(kind: K): void;
}

export interface FollowOptions<K extends string> {
  /** Failures of a list or watch (each is retried after `retryMs`). */
  onError?: (err: unknown, kind: K) => void;
  retryMs?: number;
  /** How often a quiet watch reports progress (moves `revision` on). Default 1000 ms. */
  progressIntervalMs?: number;
}

interface Waiter {
  revision: number;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

export class StoreFollower<K extends string> {
  private readonly kinds: K[];
  private readonly revisions = new Map<K, number>();
  private readonly waiters = new Map<K, Set<Waiter>>();
  private readonly syncedKinds = new Set<K>();
  private syncWaiters: (() => void)[] = [];

  /** `prefixes`: each kind's key range (`/registry/<group>/<plural>/`, every logical cluster). */
  constructor(
    private readonly store: Store,
    private readonly prefixes: Record<K, string>,
    private readonly sink: FollowSink<K>,
    private readonly opts: FollowOptions<K> = {},
  ) {
    this.kinds = Object.keys(prefixes) as K[];
    for (const k of this.kinds) this.waiters.set(k, new Set());
  }

  /** True once every kind has been listed. */
  get synced(): boolean {
    return this.syncedKinds.size === this.kinds.length;
  }

  /** The store revision the index is current to for `kind` (0 before its first list). */
  revision(kind: K): number {
    return this.revisions.get(kind) ?? 0;
  }

  /** Lists and watches every kind until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(this.kinds.map((k) => this.runKind(k, signal)));
    for (const set of this.waiters.values()) for (const w of set) this.finish(set, w, false);
  }

  /** Resolves once every kind has been listed (false if `signal` aborts first). */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => resolve(true);
      this.syncWaiters.push(done);
      signal?.addEventListener(
        'abort',
        () => {
          this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
          resolve(false);
        },
        { once: true },
      );
    });
  }

  /** Resolves true once the index has seen every change of `kind` up to `revision`; false after `timeoutMs`. */
  waitFor(kind: K, revision: number, timeoutMs = 5000): Promise<boolean> {
    if (this.revision(kind) >= revision) return Promise.resolve(true);
    const set = this.waiters.get(kind);
    if (!set) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w: Waiter = { revision, resolve, timer: setTimeout(() => this.finish(set, w, false), timeoutMs) };
      set.add(w);
    });
  }

  private finish(set: Set<Waiter>, w: Waiter, ok: boolean): void {
    if (!set.delete(w)) return;
    clearTimeout(w.timer);
    w.resolve(ok);
  }

  private advance(kind: K, revision: number): void {
    if (revision <= this.revision(kind)) return;
    this.revisions.set(kind, revision);
    const set = this.waiters.get(kind);
    if (set) for (const w of set) if (w.revision <= revision) this.finish(set, w, true);
  }

  private apply(kind: K, key: string, value: Buffer | null): void {
    const parts = parseStorageKey(key);
    if (!parts) return;
    let obj: KObject | null = null;
    if (value !== null) {
      try {
        obj = JSON.parse(value.toString('utf8')) as KObject;
      } catch {
        return;
      }
    }
    this.sink.apply(kind, parts, obj);
  }

  private markSynced(kind: K): void {
    if (this.syncedKinds.has(kind)) return;
    this.syncedKinds.add(kind);
    if (!this.synced) return;
    const ws = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of ws) w();
  }

  private async runKind(kind: K, signal: AbortSignal): Promise<void> {
    const prefix = this.prefixes[kind];
    while (!signal.aborted) {
      try {
        const kvs: { key: string; value: Buffer }[] = [];
        let cont: string | undefined;
        let rev = 0;
        do {
          const page = await this.store.list(prefix, { limit: 1000, signal, ...(cont ? { continue: cont } : {}) });
          rev = page.revision;
          for (const kv of page.kvs) kvs.push({ key: kv.key, value: kv.value });
          cont = page.continue;
        } while (cont);
        // Replaced in one synchronous step: no reader sees a half-loaded index.
        this.sink.clear(kind);
        for (const kv of kvs) this.apply(kind, kv.key, kv.value);
        this.sink.changed?.(kind);
        this.advance(kind, rev);
        this.markSynced(kind);
        for await (const msg of this.store.watch(prefix, rev, { signal, progressIntervalMs: this.opts.progressIntervalMs ?? 1000 })) {
          if (msg.kind === 'progress') {
            this.advance(kind, msg.revision);
            continue;
          }
          let last = 0;
          for (const e of msg.events) {
            this.apply(kind, e.kv.key, e.type === 'delete' ? null : e.kv.value);
            last = Math.max(last, e.kv.modRevision);
          }
          this.sink.changed?.(kind);
          this.advance(kind, last);
        }
      } catch (err) {
        if (signal.aborted) return;
        this.opts.onError?.(err, kind);
        await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 500));
      }
    }
  }
}
