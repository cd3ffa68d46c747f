// An informer (kubernetes-client/javascript's ListWatch, client-go's reflector + indexer + handlers),
// built not to have their known failures (STYLE.md "avoid": informers that stall silently or storm on
// reconnect):
// - list, then watch from the list's resourceVersion: nothing missed, nothing twice;
// - every event and bookmark moves the resourceVersion on, so a resumed watch starts where the last
//   one stopped and a quiet watch does not fall behind compaction;
// - 410 Gone (the resourceVersion was compacted away) → relist at once; the cache is replaced in one
//   step and handlers see the difference (adds, updates, deletes) — never a half-replaced cache;
// - a watch that ends (server timeout) is resumed; one silent for `idleTimeoutMs` (not even a
//   bookmark) is treated as dead, ended and resumed;
// - failures back off exponentially from 1 s to 30 s with jitter, reset once a watch delivers again;
// - nothing is silent: `synced`, `relisted` and `error` events, structured logs, counters.
// The loop only ends when its signal aborts.
//
// Scope: one informer per ResourceType and logical cluster — or ALL_CLUSTERS, one informer over every
// logical cluster (the engine lists and watches the resource's whole key range and names each item's
// cluster); `clusterOf(obj)` tells a handler which cluster a cached object is from.
import type { Logger } from 'pino';
import { isKumoError } from '../lib/errors.js';
import { jittered, sleep, type Runnable } from '../lib/runnable.js';
import type { KObject } from '../api/types.js';
import { ALL_CLUSTERS, type LogicalCluster } from '../apiserver/keys.js';
import type { Client, ClientResource, Scope, WatchEvent } from '../client/client.js';
import { objectKey } from '../client/keys.js';
import { Indexer, type CacheReader, type IndexFunc } from './indexer.js';

export interface EventHandler {
  /** `isInInitialList`: the object came with the informer's first list (or a handler's replay of the cache). */
  onAdd?(obj: KObject, isInInitialList: boolean): void;
  onUpdate?(oldObj: KObject, newObj: KObject): void;
  /** The object's last known state. */
  onDelete?(obj: KObject): void;
}

export interface InformerEvents {
  /** The first list is in the cache and handlers have seen it. */
  synced: { resourceVersion: string; items: number };
  /** A later list replaced the cache (after 410 Gone, or after a failed list was retried). */
  relisted: { resourceVersion: string; items: number; added: number; updated: number; deleted: number };
  /** A list or watch failed; the informer retries after `retryInMs`. */
  error: { err: unknown; phase: 'list' | 'watch'; failures: number; retryInMs: number };
}

export interface BackoffOptions {
  /** First delay after a failure. Default 1000 ms. */
  initialMs?: number;
  /** Delays double up to this. Default 30 000 ms. */
  maxMs?: number;
  /** Each delay is spread over ±this fraction. Default 0.2. */
  jitter?: number;
}

export interface InformerOptions {
  client: Client;
  rt: ClientResource;
  cluster: LogicalCluster;
  /** Only this namespace (default: all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Secondary indexes of the cache, by name (e.g. `{ [OWNER_UID_INDEX]: indexByOwnerUid }`). */
  indexers?: Record<string, IndexFunc>;
  log: Logger;
  backoff?: BackoffOptions;
  /** A watch that yields nothing (not even a bookmark) for this long is ended and resumed. Default 60 s. */
  idleTimeoutMs?: number;
  /** The server ends each watch after [t, 2t) seconds, so connections are renewed. Default 300 (client-go's). */
  watchTimeoutSeconds?: number;
  /** Page size of lists (0: one page). Default 500. */
  listPageSize?: number;
  random?: () => number;
}

export interface InformerStats {
  lists: number;
  watches: number;
  events: number;
  bookmarks: number;
  errors: number;
  relists: number;
  /** Objects in the cache. */
  size: number;
  resourceVersion: string;
}

type Listener<E extends keyof InformerEvents> = (ev: InformerEvents[E]) => void;

/** A watch ended without an error: by the server's timeout (`ended`) or by our idle timeout (`idle`). */
interface WatchOutcome {
  delivered: boolean;
  idle: boolean;
}

export class Informer implements Runnable {
  readonly name: string;
  private readonly cache: Indexer;
  private readonly handlers = new Set<EventHandler>();
  private readonly listeners: { [E in keyof InformerEvents]: Set<Listener<E>> } = { synced: new Set(), relisted: new Set(), error: new Set() };
  private readonly syncWaiters = new Set<() => void>();
  private readonly log: Logger;
  private readonly random: () => number;
  private synced = false;
  private running = false;
  private rv = '';
  private counters = { lists: 0, watches: 0, events: 0, bookmarks: 0, errors: 0, relists: 0 };

  constructor(private readonly opts: InformerOptions) {
    const gr = opts.rt.group === '' ? opts.rt.plural : `${opts.rt.plural}.${opts.rt.group}`;
    this.name = `informer:${gr}:${opts.cluster}${opts.namespace ? `/${opts.namespace}` : ''}`;
    this.cache = new Indexer(opts.indexers ?? {});
    this.log = opts.log.child({ informer: gr, cluster: opts.cluster });
    this.random = opts.random ?? Math.random;
  }

  /** The cache: objects by key `<cluster>/<namespace>/<name>` (frozen; copy before changing). */
  get store(): CacheReader {
    return this.cache;
  }

  get cluster(): LogicalCluster {
    return this.opts.cluster;
  }

  /** The logical cluster of an object this informer handed out (its own cluster unless ALL_CLUSTERS). */
  clusterOf(obj: KObject): LogicalCluster {
    if (this.opts.cluster !== ALL_CLUSTERS) return this.opts.cluster;
    const c = this.clusters.get(obj);
    if (c === undefined) throw new Error(`${this.name}: an object this informer did not hand out`);
    return c;
  }

  /** Cluster of each object handed out by an ALL_CLUSTERS informer (objects are frozen and shared). */
  private readonly clusters = new WeakMap<KObject, LogicalCluster>();

  private clusterFor(obj: KObject, cluster: LogicalCluster | undefined): LogicalCluster {
    if (this.opts.cluster !== ALL_CLUSTERS) return this.opts.cluster;
    if (cluster === undefined) throw new Error(`${this.name}: an item of an all-clusters list or watch without its cluster`);
    this.clusters.set(obj, cluster);
    return cluster;
  }

  get resource(): ClientResource {
    return this.opts.rt;
  }

  /** Adds cache indexes (also after start: what is cached is indexed at once). */
  addIndexers(indexers: Record<string, IndexFunc>): void {
    this.cache.addIndexers(indexers);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, false if `signal` aborts first. */
  waitForSync(signal: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.syncWaiters.delete(done);
        resolve(false);
      };
      const done = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      this.syncWaiters.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Adds a handler; if the informer has synced, the handler first gets the whole cache as adds (as
   * client-go does), so it never misses what came before it. Returns a function that removes it.
   */
  addEventHandler(h: EventHandler): () => void {
    this.handlers.add(h);
    if (this.synced) for (const o of this.cache.list()) this.call(h, 'onAdd', () => h.onAdd?.(o, true));
    return () => this.handlers.delete(h);
  }

  on<E extends keyof InformerEvents>(event: E, fn: Listener<E>): () => void {
    const set = this.listeners[event] as Set<Listener<E>>;
    set.add(fn);
    return () => set.delete(fn);
  }

  /** The resourceVersion the cache is at (opaque; '' before the first list). */
  lastSyncResourceVersion(): string {
    return this.rv;
  }

  stats(): InformerStats {
    return { ...this.counters, size: this.cache.size, resourceVersion: this.rv };
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.running = true;
    let needList = true;
    let failures = 0;
    try {
      while (!signal.aborted) {
        let phase: 'list' | 'watch' = 'list';
        try {
          if (needList) {
            await this.listAndReplace(signal);
            needList = false;
          }
          phase = 'watch';
          const started = Date.now();
          const out = await this.watch(signal);
          if (signal.aborted) break;
          if (out.delivered) failures = 0;
          if (out.idle) {
            const err = new Error(`no watch event or bookmark for ${this.idleTimeoutMs()} ms: the watch is treated as dead`);
            failures++;
            await this.failed(err, phase, failures, signal);
          } else if (!out.delivered && Date.now() - started < 1000) {
            // Ended at once without a word: back off rather than reconnect in a tight loop.
            failures++;
            await this.failed(new Error('the watch ended immediately'), phase, failures, signal);
          } else {
            this.log.debug({ resourceVersion: this.rv }, 'watch ended; resuming');
          }
        } catch (err) {
          if (signal.aborted) break;
          if (isKumoError(err, 'Gone')) {
            // Compacted away: relist now; only a second Gone without progress in between waits.
            needList = true;
            this.log.info({ resourceVersion: this.rv, phase }, 'resourceVersion too old; relisting');
            if (failures > 0) await this.failed(err, phase, failures + 1, signal);
            failures++;
            continue;
          }
          failures++;
          await this.failed(err, phase, failures, signal);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private idleTimeoutMs(): number {
    return this.opts.idleTimeoutMs ?? 60_000;
  }

  private backoffMs(failures: number): number {
    const b = this.opts.backoff ?? {};
    const initial = b.initialMs ?? 1000;
    const max = b.maxMs ?? 30_000;
    const ms = Math.min(max, initial * 2 ** Math.min(Math.max(0, failures - 1), 30));
    return Math.min(max, jittered(ms, b.jitter ?? 0.2, this.random));
  }

  private async failed(err: unknown, phase: 'list' | 'watch', failures: number, signal: AbortSignal): Promise<void> {
    const retryInMs = this.backoffMs(failures);
    this.counters.errors++;
    this.log.warn({ phase, failures, retryInMs, err: err instanceof Error ? err.message : String(err) }, 'informer list/watch failed; retrying');
    this.emit('error', { err, phase, failures, retryInMs });
    await sleep(retryInMs, signal);
  }

  private scope(): Scope {
    return this.opts.namespace === undefined ? { cluster: this.opts.cluster } : { cluster: this.opts.cluster, namespace: this.opts.namespace };
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const { client, rt } = this.opts;
    const pageSize = this.opts.listPageSize ?? 500;
    const next = new Map<string, KObject>();
    let rv = '';
    let cont: string | undefined;
    do {
      const page = await client.list(rt, this.scope(), {
        signal,
        ...(pageSize > 0 ? { limit: pageSize } : {}),
        ...(cont !== undefined ? { continue: cont } : {}),
        ...(this.opts.labelSelector !== undefined ? { labelSelector: this.opts.labelSelector } : {}),
        ...(this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {}),
      });
      page.items.forEach((o, i) => next.set(objectKey(this.clusterFor(o, page.clusters?.[i]), o), o));
      rv = page.resourceVersion;
      cont = page.continue;
    } while (cont !== undefined && cont !== '');
    if (signal.aborted) return;
    this.counters.lists++;
    const first = !this.synced;
    const old = this.cache.replace(next);
    this.rv = rv;
    // Handlers see the difference between the old and the new content, deletes first.
    let added = 0;
    let updated = 0;
    let deleted = 0;
    for (const [k, o] of old) {
      if (next.has(k)) continue;
      deleted++;
      this.dispatch('onDelete', (h) => h.onDelete?.(o));
    }
    for (const [k, o] of next) {
      const prev = old.get(k);
      if (!prev) {
        added++;
        this.dispatch('onAdd', (h) => h.onAdd?.(o, first));
      } else if (resourceVersionOf(prev) !== resourceVersionOf(o)) {
        updated++;
        this.dispatch('onUpdate', (h) => h.onUpdate?.(prev, o));
      }
    }
    if (first) {
      this.synced = true;
      for (const w of [...this.syncWaiters]) w();
      this.syncWaiters.clear();
      this.log.info({ resourceVersion: rv, items: next.size }, 'informer synced');
      this.emit('synced', { resourceVersion: rv, items: next.size });
    } else {
      this.counters.relists++;
      this.log.info({ resourceVersion: rv, items: next.size, added, updated, deleted }, 'informer relisted');
      this.emit('relisted', { resourceVersion: rv, items: next.size, added, updated, deleted });
    }
  }

  /** One watch from `this.rv`, until it ends, fails (throws), goes idle, or `signal` aborts. */
  private async watch(signal: AbortSignal): Promise<WatchOutcome> {
    this.counters.watches++;
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let idle = false;
    let delivered = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        ac.abort();
      }, this.idleTimeoutMs());
    };
    const aborted = new Promise<'aborted'>((resolve) => ac.signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
    const min = this.opts.watchTimeoutSeconds ?? 300;
    try {
      const it = this.opts.client
        .watch(this.opts.rt, this.scope(), {
          signal: ac.signal,
          resourceVersion: this.rv,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.max(1, Math.floor(min * (1 + this.random()))),
          ...(this.opts.labelSelector !== undefined ? { labelSelector: this.opts.labelSelector } : {}),
          ...(this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {}),
        })
        [Symbol.asyncIterator]();
      arm();
      for (;;) {
        const next = it.next();
        // A stream that ignores its abort must not hold the informer: stop waiting on it.
        next.catch(() => undefined);
        const r = await Promise.race([next, aborted]);
        if (r === 'aborted') {
          it.return?.().catch(() => undefined);
          break;
        }
        if (r.done) break;
        arm();
        delivered = true;
        this.apply(r.value);
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      ac.abort();
    }
    return { delivered, idle: idle && !signal.aborted };
  }

  private apply(ev: WatchEvent): void {
    const rv = resourceVersionOf(ev.object);
    if (ev.type === 'BOOKMARK') {
      this.counters.bookmarks++;
      if (rv !== '') this.rv = rv;
      return;
    }
    this.counters.events++;
    const key = objectKey(this.clusterFor(ev.object, ev.cluster), ev.object);
    if (ev.type === 'DELETED') {
      const old = this.cache.remove(key);
      if (old) this.dispatch('onDelete', (h) => h.onDelete?.(ev.object));
    } else {
      const old = this.cache.upsert(key, ev.object);
      if (old) this.dispatch('onUpdate', (h) => h.onUpdate?.(old, ev.object));
      else this.dispatch('onAdd', (h) => h.onAdd?.(ev.object, false));
    }
    if (rv !== '') this.rv = rv;
  }

  private dispatch(what: keyof EventHandler, fn: (h: EventHandler) => void): void {
    for (const h of this.handlers) this.call(h, what, () => fn(h));
  }

  /** A handler that throws is logged; the informer and the other handlers go on. */
  private call(_h: EventHandler, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ handler: what, err: err instanceof Error ? err.message : String(err) }, 'informer event handler failed');
    }
  }

  private emit<E extends keyof InformerEvents>(event: E, ev: InformerEvents[E]): void {
    for (const fn of this.listeners[event] as Set<Listener<E>>) {
      try {
        fn(ev);
      } catch (err) {
        this.log.error({ event, err: err instanceof Error ? err.message : String(err) }, 'informer listener failed');
      }
    }
  }
}

function resourceVersionOf(obj: KObject): string {
  const rv = obj.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : '';
}
