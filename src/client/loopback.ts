// The in-process client: calls the API engine's ResourceStorage directly (no HTTP, no serialization)
// with the same object semantics a remote client gets — resourceVersion preconditions, status
// subresource, finalizers, watch with bookmarks and 410 Gone. What it returns is the caller's own
// copy; watch events are copied out of the storage's shared, decoded-once objects.
//
// Differences from the HTTP path: merge patch is a read-merge-update loop here (same result, more round
// trips under contention). Create and delete go through the engine's verbs, so a Namespace gets its
// default ServiceAccount and its deletion is the same lifecycle as over HTTP.
import { KumoError, isKumoError } from '../lib/errors.js';
import type { KObject, ResourceType } from '../api/types.js';
import { mergePatch, type ApiEngine } from '../apiserver/engine.js';
import { ALL_CLUSTERS, ROOT_CLUSTER, type LogicalCluster } from '../apiserver/keys.js';
import { isObject, meta } from '../apiserver/object.js';
import type { ResourceStorage, WatchOptions as StorageWatchOptions, WriteContext } from '../apiserver/rest.js';
import { fieldMatcher, labelMatcher } from '../apiserver/selectors.js';
import type { CallOptions, Client, ClientResource, DeleteOptions, ListOptions, ObjectList, PatchOptions, Scope, WatchEvent, WatchOptions, WriteOptions } from './client.js';
import { errorFromStatus } from './status.js';

export interface LoopbackClientOptions {
  /** How often a quiet watch sends a bookmark (when asked for them). Default 10 s. */
  bookmarkIntervalMs?: number;
  /** Unknown fields in writes: Strict (default: a controller writing one has a bug), Warn or Ignore. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

const MAX_PATCH_ATTEMPTS = 10;
const NOT_FOUND = 'the server could not find the requested resource';

export class LoopbackClient implements Client {
  private byPath = new Map<string, ResourceType>();

  constructor(
    private readonly engine: ApiEngine,
    private readonly opts: LoopbackClientOptions = {},
  ) {}

  /**
   * The storage of `rt` as served in `cluster` (matched by group/version/plural, so any copy of a type
   * works). For ALL_CLUSTERS: the built-in kind, or the kind of that name served in any logical cluster
   * (every cluster's objects of one resource share its key range).
   */
  private storage(rt: ClientResource, cluster: LogicalCluster): ResourceStorage {
    const path = `${rt.group}/${rt.version}/${rt.plural}`;
    const id = `${cluster}|${path}`;
    const known = this.byPath.get(id);
    const storage = known && this.engine.storageOf(known);
    if (storage) return storage;
    // CRDs come and go (a re-created CRD is served by a new type): look again before answering NotFound.
    const clusters = cluster === ALL_CLUSTERS ? [ROOT_CLUSTER, ...new Set(this.engine.servedCrds().map((c) => c.cluster))] : [cluster];
    for (const c of clusters) {
      const served = this.engine.resourceTypes(c).find((t) => `${t.group}/${t.version}/${t.plural}` === path);
      if (served) {
        this.byPath.set(id, served);
        return this.engine.storage(served);
      }
    }
    throw new KumoError('NotFound', NOT_FOUND);
  }

  private scope(storage: ResourceStorage, scope: Scope): Scope {
    if (!storage.rt.namespaced || scope.namespace === undefined || scope.namespace === '') return { cluster: scope.cluster };
    return { cluster: scope.cluster, namespace: scope.namespace };
  }

  private writeContext(storage: ResourceStorage, scope: Scope, opts: WriteOptions | undefined): WriteContext {
    const ctx: WriteContext = { ...this.scope(storage, scope), fieldValidation: this.opts.fieldValidation ?? 'Strict' };
    if (opts?.dryRun) ctx.dryRun = true;
    if (opts?.signal) ctx.signal = opts.signal;
    return ctx;
  }

  get(rt: ClientResource, scope: Scope, name: string, opts: CallOptions = {}): Promise<KObject> {
    return call(async () => {
      const s = this.storage(rt, scope.cluster);
      return s.get(this.scope(s, scope), name, opts.signal);
    });
  }

  list(rt: ClientResource, scope: Scope, opts: ListOptions = {}): Promise<ObjectList> {
    return call(async () => {
      const s = this.storage(rt, scope.cluster);
      const lo: Parameters<ResourceStorage['list']>[1] & object = {};
      const lm = labelMatcher(opts.labelSelector);
      const fm = fieldMatcher(opts.fieldSelector, s.rt);
      if (lm) lo.labelMatch = lm;
      if (fm) lo.fieldMatch = fm;
      if (opts.limit !== undefined) lo.limit = opts.limit;
      if (opts.continue !== undefined) lo.continue = opts.continue;
      if (opts.resourceVersion !== undefined) lo.resourceVersion = opts.resourceVersion;
      if (opts.signal) lo.signal = opts.signal;
      const r = await s.list(this.scope(s, scope), lo);
      const out: ObjectList = { items: r.items, resourceVersion: r.resourceVersion };
      if (r.clusters) out.clusters = r.clusters;
      if (r.continue !== undefined) out.continue = r.continue;
      return out;
    });
  }

  async *watch(rt: ClientResource, scope: Scope, opts: WatchOptions): AsyncGenerator<WatchEvent> {
    if (opts.signal.aborted) return;
    const s = this.storage(rt, scope.cluster);
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutSeconds !== undefined && opts.timeoutSeconds > 0 ? setTimeout(() => ac.abort(), opts.timeoutSeconds * 1000) : undefined;
    // An open watch keeps the process alive, as its socket would over HTTP (the store's own timers don't).
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    try {
      const wo: StorageWatchOptions = { ...this.scope(s, scope), signal: ac.signal, bookmarkIntervalMs: this.opts.bookmarkIntervalMs ?? 10_000 };
      const lm = labelMatcher(opts.labelSelector);
      const fm = fieldMatcher(opts.fieldSelector, s.rt);
      if (lm) wo.labelMatch = lm;
      if (fm) wo.fieldMatch = fm;
      if (opts.resourceVersion !== undefined) wo.resourceVersion = opts.resourceVersion;
      if (opts.allowWatchBookmarks) wo.allowBookmarks = true;
      for await (const ev of s.watch(wo)) {
        if (ev.type === 'ERROR') throw errorFromStatus(ev.object);
        // The storage's objects are shared by every watcher of the event: hand out a copy.
        yield ev.cluster ? { type: ev.type, object: structuredClone(ev.object), cluster: ev.cluster } : { type: ev.type, object: structuredClone(ev.object) };
      }
    } finally {
      clearTimeout(timer);
      clearInterval(keepAlive);
      opts.signal.removeEventListener('abort', onAbort);
      ac.abort();
    }
  }

  create(rt: ClientResource, scope: Scope, obj: KObject, opts?: WriteOptions): Promise<KObject> {
    return call(async () => {
      const s = this.storage(rt, scope.cluster);
      return this.engine.createObject(s.rt, this.writeContext(s, scope, opts), obj);
    });
  }

  update(rt: ClientResource, scope: Scope, obj: KObject, opts?: WriteOptions): Promise<KObject> {
    return call(async () => {
      const s = this.storage(rt, scope.cluster);
      return s.update(this.writeContext(s, scope, opts), nameOf(obj), obj);
    });
  }

  updateStatus(rt: ClientResource, scope: Scope, obj: KObject, opts?: WriteOptions): Promise<KObject> {
    return call(async () => {
      const s = this.storage(rt, scope.cluster);
      if (!s.rt.subresources.status) throw new KumoError('NotFound', NOT_FOUND);
      return s.update(this.writeContext(s, scope, opts), nameOf(obj), obj, { subresource: 'status' });
    });
  }

  /**
   * Merge patch as read → merge → update with the read's resourceVersion, retried on Conflict unless
   * the patch itself names a resourceVersion (then a stale one is the caller's Conflict).
   */
  patch(rt: ClientResource, scope: Scope, name: string, patch: Record<string, unknown>, opts: PatchOptions = {}): Promise<KObject> {
    return call(async () => {
      const s = this.storage(rt, scope.cluster);
      if (opts.subresource === 'status' && !s.rt.subresources.status) throw new KumoError('NotFound', NOT_FOUND);
      const ctx = this.writeContext(s, scope, opts);
      const pm = isObject(patch.metadata) ? patch.metadata : {};
      const precondition = typeof pm.resourceVersion === 'string' ? pm.resourceVersion : undefined;
      for (let attempt = 1; ; attempt++) {
        const old = await s.get(ctx, name, opts.signal);
        const rv = meta(old).resourceVersion;
        if (precondition !== undefined && precondition !== rv) {
          throw new KumoError('Conflict', `Operation cannot be fulfilled on ${s.rt.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
            name,
            group: s.rt.group,
            kind: s.rt.plural,
          });
        }
        const merged = mergePatch(structuredClone(old), patch) as KObject;
        const m = meta(merged);
        m.name = name;
        if (rv !== undefined) m.resourceVersion = rv;
        try {
          return await s.update(ctx, name, merged, opts.subresource === 'status' ? { subresource: 'status' } : {});
        } catch (err) {
          if (isKumoError(err, 'Conflict') && precondition === undefined && attempt < MAX_PATCH_ATTEMPTS) continue;
          throw err;
        }
      }
    });
  }

  delete(rt: ClientResource, scope: Scope, name: string, opts: DeleteOptions = {}): Promise<void> {
    return call(async () => {
      const s = this.storage(rt, scope.cluster);
      const dopts: Parameters<ResourceStorage['delete']>[2] & object = {};
      if (opts.propagationPolicy) dopts.propagationPolicy = opts.propagationPolicy;
      if (opts.preconditions) dopts.preconditions = opts.preconditions;
      await this.engine.deleteObject(s.rt, this.writeContext(s, scope, opts), name, dopts);
    });
  }
}

/** Runs `fn`, turning anything that is not a KumoError into Internal (the contract's closed set). */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isKumoError(err)) throw err;
    throw new KumoError('Internal', err instanceof Error ? err.message : String(err), {}, { cause: err });
  }
}

function nameOf(obj: KObject): string {
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') throw new KumoError('BadRequest', 'metadata.name is required for an update');
  return name;
}
