// Keeps the TenancyIndex current from the store: Tenants and Namespaces of every logical cluster, each
// one list and then one watch from that list's revision (nothing missed, nothing twice), relisting
// after any failure (410 Gone after compaction included) — the shape of RBAC's PolicyCache. `waitFor`
// gives a writer read-your-writes: the engine waits after a Tenant or Namespace write until the index
// has seen it, so alice may use a namespace as soon as its create returns.
import type { KObject } from '../../api/types.js';
import type { Store } from '../../store/types.js';
import { parseStorageKey, resourcePrefix } from '../keys.js';
import { KUMO_GROUP } from './roles.js';
import { TenancyIndex, type TenancyKind } from './tenants.js';

const KINDS: TenancyKind[] = ['Tenant', 'Namespace'];
const PREFIX: Record<TenancyKind, string> = {
  Tenant: resourcePrefix({ group: KUMO_GROUP, plural: 'tenants' }),
  Namespace: resourcePrefix({ group: '', plural: 'namespaces' }),
};

/** The tenancy kind stored under a resource (undefined for any other). */
export function tenancyKindOf(rt: { group: string; plural: string }): TenancyKind | undefined {
  if (rt.group === KUMO_GROUP && rt.plural === 'tenants') return 'Tenant';
  if (rt.group === '' && rt.plural === 'namespaces') return 'Namespace';
  return undefined;
}

interface Waiter {
  revision: number;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

export interface TenancyCacheOptions {
  onError?: (err: unknown, kind: TenancyKind) => void;
  retryMs?: number;
  /** How often a quiet watch reports progress (moves `revision` on). Default 1000 ms. */
  progressIntervalMs?: number;
}

export class TenancyCache {
  readonly index = new TenancyIndex();
  private readonly revisions = new Map<TenancyKind, number>();
  private readonly waiters = new Map<TenancyKind, Set<Waiter>>(KINDS.map((k) => [k, new Set<Waiter>()]));
  private readonly syncedKinds = new Set<TenancyKind>();
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly opts: TenancyCacheOptions = {},
  ) {}

  get synced(): boolean {
    return this.syncedKinds.size === KINDS.length;
  }

  revision(kind: TenancyKind): number {
    return this.revisions.get(kind) ?? 0;
  }

  /** Lists and watches both kinds until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(KINDS.map((k) => this.runKind(k, signal)));
    for (const set of this.waiters.values()) for (const w of set) this.finish(set, w, false);
  }

  /** Resolves once both kinds have been listed (false if `signal` aborts first). */
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
  waitFor(kind: TenancyKind, revision: number, timeoutMs = 5000): Promise<boolean> {
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

  private advance(kind: TenancyKind, revision: number): void {
    if (revision <= this.revision(kind)) return;
    this.revisions.set(kind, revision);
    const set = this.waiters.get(kind) as Set<Waiter>;
    for (const w of set) if (w.revision <= revision) this.finish(set, w, true);
  }

  private apply(kind: TenancyKind, key: string, value: Buffer | null): void {
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
    this.index.apply(kind, parts.cluster, parts.name, obj);
  }

  private markSynced(kind: TenancyKind): void {
    if (this.syncedKinds.has(kind)) return;
    this.syncedKinds.add(kind);
    if (!this.synced) return;
    const ws = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of ws) w();
  }

  private async runKind(kind: TenancyKind, signal: AbortSignal): Promise<void> {
    const prefix = PREFIX[kind];
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
        // Replaced in one synchronous step: no decision sees a half-loaded index.
        this.index.clear(kind);
        for (const kv of kvs) this.apply(kind, kv.key, kv.value);
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
