// Keeps the PolicyIndex current from the store: per RBAC kind, one list of every logical cluster's
// objects, then one watch from that list's revision (nothing missed, nothing twice), relisting after
// any failure (410 Gone after compaction included). Four store watches serve every logical cluster —
// the same shape as the engine's object caches, and like kube's RBAC authorizer (informers), decisions
// follow writes by the watch's latency. `waitFor` closes that gap for a writer: the engine waits, after
// an RBAC write, until the index has seen it, so the response to a RoleBinding create means the
// binding is in force on this server (docs/adr/0004-authorization.md).
import type { KObject } from '../../api/types.js';
import type { Store } from '../../store/types.js';
import { parseStorageKey, resourcePrefix } from '../keys.js';
import { PolicyIndex, RBAC_GROUP, RBAC_PLURALS, type RbacKind } from './policy.js';

const KINDS: RbacKind[] = ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'];

interface Waiter {
  revision: number;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

export interface PolicyCacheOptions {
  /** Failures of a list or watch (each is retried after `retryMs`). */
  onError?: (err: unknown, kind: RbacKind) => void;
  /** Called after each change applied to the index (tests, the aggregation loop). */
  onChange?: (kind: RbacKind) => void;
  retryMs?: number;
  /** How often a quiet watch reports progress (moves `revision` on). Default 1000 ms. */
  progressIntervalMs?: number;
}

export class PolicyCache {
  readonly index = new PolicyIndex();
  private readonly revisions = new Map<RbacKind, number>();
  private readonly waiters = new Map<RbacKind, Set<Waiter>>();
  private readonly syncedKinds = new Set<RbacKind>();
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly opts: PolicyCacheOptions = {},
  ) {
    for (const k of KINDS) this.waiters.set(k, new Set());
  }

  /** True once every kind has been listed. */
  get synced(): boolean {
    return this.syncedKinds.size === KINDS.length;
  }

  /** The store revision the index is current to for `kind` (0 before its first list). */
  revision(kind: RbacKind): number {
    return this.revisions.get(kind) ?? 0;
  }

  /** Lists and watches every kind until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(KINDS.map((k) => this.runKind(k, signal)));
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
  waitFor(kind: RbacKind, revision: number, timeoutMs = 5000): Promise<boolean> {
    if (this.revision(kind) >= revision) return Promise.resolve(true);
    const set = this.waiters.get(kind) as Set<Waiter>;
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

  private advance(kind: RbacKind, revision: number): void {
    if (revision <= this.revision(kind)) return;
    this.revisions.set(kind, revision);
    const set = this.waiters.get(kind) as Set<Waiter>;
    for (const w of set) if (w.revision <= revision) this.finish(set, w, true);
  }

  private apply(kind: RbacKind, key: string, value: Buffer | null): void {
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
    this.index.apply(kind, parts.cluster, parts.namespace ?? '', parts.name, obj);
  }

  private async runKind(kind: RbacKind, signal: AbortSignal): Promise<void> {
    const prefix = resourcePrefix({ group: RBAC_GROUP, plural: RBAC_PLURALS[kind] });
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
        // Replaced in one step: no decision sees a half-loaded index.
        this.index.clear(kind);
        for (const kv of kvs) this.apply(kind, kv.key, kv.value);
        this.opts.onChange?.(kind);
        this.advance(kind, rev);
        if (!this.syncedKinds.has(kind)) {
          this.syncedKinds.add(kind);
          if (this.synced) {
            const ws = this.syncWaiters;
            this.syncWaiters = [];
            for (const w of ws) w();
          }
        }
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
          this.opts.onChange?.(kind);
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
