// The in-process client: calls the API engine's ResourceStorage directly (no HTTP, no serialization)
// with the same object semantics a remote client gets — resourceVersion preconditions, status
// subresource, finalizers, watch with bookmarks and 410 Gone. What it returns is the caller's own
// copy; watch events are copied out of the storage's shared, decoded-once objects.
//
// Differences from the HTTP path, until the engine offers its verbs without a request: merge patch is
// a read-merge-update loop here (same result, more round trips under contention), a new Namespace is
// prepared here as the engine does, and deleting a Namespace is refused (the engine's namespace
// lifecycle is reachable only through HTTP; refusing beats deleting it without emptying it).
import { KumoError, isKumoError } from '../lib/errors.js';
import type { KObject, ResourceType } from '../api/types.js';
import { mergePatch, type ApiEngine } from '../apiserver/engine.js';
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

  /** The served ResourceType for `rt` (matched by group/version/plural, so any copy of a type works). */
  private storage(rt: ClientResource): ResourceStorage {
    const path = `${rt.group}/${rt.version}/${rt.plural}`;
    let served = this.byPath.get(path);
    if (!served) {
      // CRDs come and go: look again before answering NotFound.
      this.byPath = new Map(this.engine.resourceTypes().map((t) => [`${t.group}/${t.version}/${t.plural}`, t]));
      served = this.byPath.get(path);
    }
    if (!served) throw new KumoError('NotFound', NOT_FOUND);
    return this.engine.storage(served);
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
      const s = this.storage(rt);
      return s.get(this.scope(s, scope), name, opts.signal);
    });
  }

  list(rt: ClientResource, scope: Scope, opts: ListOptions = {}): Promise<ObjectList> {
    return call(async () => {
      const s = this.storage(rt);
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
      if (r.continue !== undefined) out.continue = r.continue;
      return out;
    });
  }

  async *watch(rt: ClientResource, scope: Scope, opts: WatchOptions): AsyncGenerator<WatchEvent> {
    if (opts.signal.aborted) return;
    const s = this.storage(rt);
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
        yield { type: ev.type, object: structuredClone(ev.object) };
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
      const s = this.storage(rt);
      return s.create(this.writeContext(s, scope, opts), obj);
    });
  }

  update(rt: ClientResource, scope: Scope, obj: KObject, opts?: WriteOptions): Promise<KObject> {
    return call(async () => {
      const s = this.storage(rt);
      return s.update(this.writeContext(s, scope, opts), nameOf(obj), obj);
    });
  }

  updateStatus(rt: ClientResource, scope: Scope, obj: KObject, opts?: WriteOptions): Promise<KObject> {
    return call(async () => {
      const s = this.storage(rt);
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
      const s = this.storage(rt);
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
      const s = this.storage(rt);
      if (s.rt.group === '' && s.rt.plural === 'namespaces') {
        throw new KumoError('MethodNotAllowed', 'deleting a namespace in process is not supported yet: the namespace lifecycle runs in the API engine\'s HTTP path');
      }
      const dopts: Parameters<ResourceStorage['delete']>[2] & object = {};
      if (opts.propagationPolicy) dopts.propagationPolicy = opts.propagationPolicy;
      if (opts.preconditions) dopts.preconditions = opts.preconditions;
      await s.delete(this.writeContext(s, scope, opts), name, dopts);
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

/** What the engine does to every new Namespace: the `kubernetes` finalizer and phase Active. */
