// The generic REST storage of one resource type over the Store: Kubernetes object semantics
// (uid, resourceVersion, generation, status subresource, finalizers and deletionTimestamp, dry-run,
// preconditions, snapshot pagination with selectors, watch with initial events and bookmarks).
// One instance per ResourceType serves every logical cluster; the request context names which.
import crypto from 'node:crypto';
import { KumoError, isKumoError, statusFor, type ErrorCause } from '../lib/errors.js';
import type { KObject, ResourceType } from '../api/types.js';
import { FieldManager } from '../api/patch/fieldmanager.js';
import { encodeContinue } from '../store/common.js';
import type { KeyValue, Store } from '../store/types.js';
import type { UserInfo } from './auth/types.js';
import { ALL_CLUSTERS, parseStorageKey, type LogicalCluster } from './keys.js';
import { generateName } from './names.js';
import type { ObjectCache } from './watchcache.js';
import { alreadyExists, badRequest, conflict, deepCopy, invalid, isObject, jsonEqual, meta, notFound, rfc3339, type Meta } from './object.js';

/** Where a request acts: the logical cluster and, for namespaced kinds, the namespace. */
export interface Scope {
  cluster: LogicalCluster;
  namespace?: string;
}

export interface WriteContext extends Scope {
  dryRun?: boolean;
  /** What to do with fields the schema does not know: error, warn, or drop silently. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Warnings for the client (`Warning: 299` headers). */
  warnings?: string[];
  signal?: AbortSignal;
  /** Who asks (the request's effective user); absent for the server's own writes (controllers, bootstrap). */
  user?: UserInfo;
  /**
   * Who writes (the `fieldManager` query parameter, else the User-Agent's prefix): the write's fields
   * are recorded in `metadata.managedFields` under this manager. Unset: managedFields stay as written.
   */
  fieldManager?: string;
}

/** The schema operations the engine needs (implemented by the api layer's schema machinery). */
export interface SchemaOps {
  /** Removes unknown fields in place and returns their paths (`spec.foo`); applies defaults. */
  normalize(rt: ResourceType, obj: KObject): string[];
  /** Schema and semantic validation; causes name fields. */
  validate(rt: ResourceType, obj: KObject, old: KObject | undefined): ErrorCause[];
}

/** How a resource's objects map to store keys (one function builds them: STYLE 11). */
export interface KeyScheme {
  key(cluster: LogicalCluster, namespace: string | undefined, name: string): string;
  /** Prefix of a list: the whole logical cluster, or one namespace of it. Ends with '/'. */
  prefix(cluster: LogicalCluster, namespace: string | undefined): string;
}

export interface ListOptions {
  labelMatch?: (labels: Record<string, string> | undefined) => boolean;
  fieldMatch?: (obj: KObject) => boolean;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  signal?: AbortSignal;
}

export interface ListResult {
  items: KObject[];
  /** For a list of ALL_CLUSTERS: the logical cluster of each item (same order). */
  clusters?: LogicalCluster[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  dryRun?: boolean;
}

export interface WatchOptions extends Scope {
  labelMatch?: ListOptions['labelMatch'];
  fieldMatch?: ListOptions['fieldMatch'];
  /** '' or undefined: initial state then changes; '0': the same; 'N': changes after N. */
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  allowBookmarks?: boolean;
  signal: AbortSignal;
  /** Bookmark cadence (ms). */
  bookmarkIntervalMs?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface ApiWatchEvent {
  type: WatchEventType;
  object: KObject;
  /** Identity of the store event behind `object` (shared by every watcher): a key for serializing once. */
  raw?: KeyValue;
  /** For a watch of ALL_CLUSTERS: the logical cluster of `object`. */
  cluster?: LogicalCluster;
}

/** The logical cluster a store key belongs to (for lists and watches of ALL_CLUSTERS). */
function clusterOfKey(key: string): LogicalCluster {
  const parts = parseStorageKey(key);
  if (!parts) throw new KumoError('Internal', `unexpected storage key ${JSON.stringify(key)}`);
  return parts.cluster;
}

/** Finalizers the garbage collector owns (ownerReference propagation). */
export const FINALIZER_FOREGROUND = 'foregroundDeletion';
export const FINALIZER_ORPHAN = 'orphan';

const MAX_CONFLICT_RETRIES = 10;

/**
 * What admission reserved for a write (a quota charge), given back when the write is not stored
 * (refused later, lost a conflict, failed in the store). It handles its own failures.
 */
export type AdmitUndo = () => Promise<void>;

async function giveBack(undo: AdmitUndo | void): Promise<void> {
  if (!undo) return;
  try {
    await undo();
  } catch {
    // The undo logs its own failure; the quota controller recounts usage from the objects.
  }
}


export class ResourceStorage {
  constructor(
    readonly rt: ResourceType,
    private readonly store: Store,
    private readonly keys: KeyScheme,
    private readonly schema: SchemaOps,
    private readonly hooks: {
      /** Rejects writes into a missing or terminating namespace. */
      checkNamespace?: (scope: Scope, verb: 'create' | 'update') => Promise<void>;
      /**
       * Admission of a write about to be stored (after validation; `old` on update): throws to refuse it
       * (RBAC escalation prevention, tenancy, quota). What it returns is called when the write is then
       * not stored (a quota charge given back).
       */
      admit?: (ctx: WriteContext, obj: KObject, old: KObject | undefined) => Promise<AdmitUndo | void>;
      /** A client's write was stored at `revision` (RBAC: the authorizer catches up before the answer). */
      written?: (revision: number) => Promise<void>;
      now?: () => Date;
      /** Objects of this kind expire this many seconds after each write (Events: kube's --event-ttl). */
      ttlSeconds?: number;
      /** Where watches go (a fan-out sharing one store watch per resource); default the store. */
      watchStore?: Store;
      /** The resource's object cache, for lists at resourceVersion "0" (created on first use). */
      objectCache?: () => ObjectCache;
      /** Finalizers kept outside metadata (a Namespace's spec.finalizers): a deleted object stays while any is left. */
      kindFinalizers?: (obj: KObject) => unknown[];
    } = {},
  ) {}

  private writeOpts(signal: AbortSignal | undefined): { signal?: AbortSignal; ttl?: number } {
    const o: { signal?: AbortSignal; ttl?: number } = {};
    if (signal) o.signal = signal;
    if (this.hooks.ttlSeconds !== undefined) o.ttl = this.hooks.ttlSeconds;
    return o;
  }

  /** After a client's write is stored (the server's own writes, without a user, do not wait). */
  private async written(ctx: WriteContext, revision: number): Promise<void> {
    if (ctx.user !== undefined) await this.hooks.written?.(revision);
  }

  private now(): Date {
    return this.hooks.now ? this.hooks.now() : new Date();
  }

  private key(scope: Scope, name: string): string {
    return this.keys.key(scope.cluster, this.rt.namespaced ? scope.namespace : undefined, name);
  }

  /** Decodes a stored value and stamps its resourceVersion from the store. The result is the caller's. */
  /** Decoded objects per stored value, shared by every watcher of an event; freed with the event. */
  private readonly decodedCache = new WeakMap<KeyValue, KObject>();

  decode(kv: KeyValue): KObject {
    const obj = JSON.parse(kv.value.toString('utf8')) as KObject;
    meta(obj).resourceVersion = String(kv.modRevision);
    return this.toServedVersion(obj);
  }

  /** A CRD's object stored in another version reads as this one (conversion strategy None). */
  private toServedVersion(obj: KObject): KObject {
    if (this.rt.source === 'crd' && typeof obj.apiVersion === 'string') {
      const gv = `${this.rt.group}/${this.rt.version}`;
      if (obj.apiVersion !== gv && obj.apiVersion.startsWith(`${this.rt.group}/`)) obj.apiVersion = gv;
    }
    return obj;
  }

  /**
   * Like decode, but one shared object per stored value: every watcher of an event gets the same one
   * (decoded, and later serialized, once). Callers must not mutate it.
   */
  decodeShared(kv: KeyValue): KObject {
    let obj = this.decodedCache.get(kv);
    if (!obj) this.decodedCache.set(kv, (obj = this.decode(kv)));
    return obj;
  }

  private encode(obj: KObject): Buffer {
    const m = meta(obj);
    const rv = m.resourceVersion;
    // resourceVersion is the store's revision, never stored inside the value.
    delete m.resourceVersion;
    const apiVersion = obj.apiVersion;
    if (this.rt.storageVersion !== undefined) obj.apiVersion = `${this.rt.group}/${this.rt.storageVersion}`;
    const buf = Buffer.from(JSON.stringify(obj));
    obj.apiVersion = apiVersion;
    if (rv !== undefined) m.resourceVersion = rv;
    return buf;
  }

  // ---- reads --------------------------------------------------------------------------------------

  async get(scope: Scope, name: string, signal?: AbortSignal): Promise<KObject> {
    const { kv } = await this.store.get(this.key(scope, name), signal ? { signal } : {});
    if (!kv) throw notFound(this.rt, name);
    return this.decode(kv);
  }

  async list(scope: Scope, opts: ListOptions = {}): Promise<ListResult> {
    const prefix = this.keys.prefix(scope.cluster, this.rt.namespaced ? scope.namespace : undefined);
    const limit = opts.limit ?? 0;
    let revision: number | undefined;
    if (opts.continue) {
      if (opts.resourceVersion !== undefined && opts.resourceVersion !== '' && opts.resourceVersion !== '0') {
        throw badRequest('specifying resource version is not allowed when using continue');
      }
    } else if (opts.resourceVersion !== undefined && opts.resourceVersion !== '' && opts.resourceVersion !== '0') {
      const rv = parseResourceVersion(opts.resourceVersion);
      if (opts.resourceVersionMatch === 'Exact') revision = rv;
      else {
        const current = await this.store.currentRevision();
        if (rv > current) throw tooLargeResourceVersion(rv, current);
      }
    } else if (opts.resourceVersionMatch === 'Exact') {
      throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0" or ""');
    }
    const filter = (obj: KObject): boolean => (opts.labelMatch ? opts.labelMatch(meta(obj).labels) : true) && (opts.fieldMatch ? opts.fieldMatch(obj) : true);
    const items: KObject[] = [];
    const clusters: LogicalCluster[] | undefined = scope.cluster === ALL_CLUSTERS ? [] : undefined;
    const keep = (obj: KObject, key: string): void => {
      if (!filter(obj)) return;
      items.push(obj);
      clusters?.push(clusterOfKey(key));
    };
    const result = (r: Omit<ListResult, 'items'>): ListResult => (clusters ? { items, clusters, ...r } : { items, ...r });
    if (opts.resourceVersion === '0' && !opts.continue && this.hooks.objectCache) {
      // "Any version": served from memory, whole (kube's watch cache also ignores limit here).
      const cached = await this.hooks.objectCache().list(prefix, opts.signal);
      for (const c of cached.objects) {
        const obj = this.toServedVersion(JSON.parse(c.json) as KObject);
        meta(obj).resourceVersion = String(c.modRevision);
        keep(obj, c.key);
      }
      return result({ resourceVersion: String(cached.revision) });
    }
    const filtered = opts.labelMatch !== undefined || opts.fieldMatch !== undefined;
    let token = opts.continue;
    let snapshot: number | undefined = revision;
    const storeOpts = (pageLimit: number): { limit: number; continue?: string; revision?: number; signal?: AbortSignal } => {
      const o: { limit: number; continue?: string; revision?: number; signal?: AbortSignal } = { limit: pageLimit };
      if (token) o.continue = token;
      else if (snapshot !== undefined) o.revision = snapshot;
      if (opts.signal) o.signal = opts.signal;
      return o;
    };
    try {
      if (limit === 0) {
        const page = await this.store.list(prefix, storeOpts(0));
        for (const kv of page.kvs) keep(this.decode(kv), kv.key);
        return result({ resourceVersion: String(page.revision) });
      }
      // Fetch until `limit` items match or the range is exhausted; the continue token points after the
      // last key examined, at the first page's snapshot revision.
      for (;;) {
        const want = limit - items.length;
        const page = await this.store.list(prefix, storeOpts(filtered ? Math.max(want, 100) : want));
        snapshot = page.revision;
        let lastKey: string | undefined;
        for (const kv of page.kvs) {
          lastKey = kv.key;
          keep(this.decode(kv), kv.key);
          if (items.length === limit) break;
        }
        const moreInPage = lastKey !== undefined && lastKey !== page.kvs[page.kvs.length - 1]?.key;
        if (items.length === limit && (moreInPage || page.continue !== undefined)) {
          const next = encodeContinue(prefix, lastKey ?? '', page.revision);
          const r = result({ resourceVersion: String(page.revision), continue: next });
          if (!filtered && !moreInPage && page.remaining !== undefined) r.remainingItemCount = page.remaining;
          return r;
        }
        if (page.continue === undefined) return result({ resourceVersion: String(page.revision) });
        token = page.continue;
      }
    } catch (err) {
      if (isKumoError(err, 'Gone')) {
        throw new KumoError(
          'Gone',
          opts.continue
            ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'
            : `The resourceVersion for the provided list is too old.`,
        );
      }
      throw err;
    }
  }

  // ---- writes -------------------------------------------------------------------------------------

  async create(ctx: WriteContext, body: KObject): Promise<KObject> {
    const obj = deepCopy(body);
    this.checkTypeMeta(obj);
    const m = meta(obj);
    this.checkNamespaceField(ctx, m);
    if ((m.name === undefined || m.name === '') && typeof m.generateName === 'string' && m.generateName !== '') {
      m.name = generateName(m.generateName);
    }
    const name = typeof m.name === 'string' ? m.name : '';
    if (name === '') {
      throw invalid(this.rt, '', [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }]);
    }
    this.handleUnknownFields(ctx, obj, name);
    if (ctx.fieldManager !== undefined) this.fieldManager().update(undefined, obj, ctx.fieldManager);
    // System fields are the server's.
    m.uid = crypto.randomUUID();
    m.creationTimestamp = rfc3339(this.now());
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    if (this.managesGeneration()) m.generation = 1;
    else delete m.generation;
    // Create cannot set status when status is a subresource.
    if (this.rt.subresources.status) delete obj.status;
    this.rt.strategy?.prepareForCreate?.(obj);
    this.validateOrThrow(obj, undefined, name);
    const undo = await this.hooks.admit?.(ctx, obj, undefined);
    let stored = false;
    try {
      await this.hooks.checkNamespace?.(ctx, 'create');
      if (ctx.dryRun) {
        const existing = await this.store.get(this.key(ctx, name));
        if (existing.kv) throw alreadyExists(this.rt, name);
        return obj;
      }
    } catch (err) {
      await giveBack(undo);
      throw err;
    }
    try {
      const r = await this.store.create(this.key(ctx, name), this.encode(obj), this.writeOpts(ctx.signal));
      stored = true;
      m.resourceVersion = String(r.revision);
      await this.written(ctx, r.revision);
      return obj;
    } catch (err) {
      if (!stored) await giveBack(undo);
      if (isKumoError(err, 'AlreadyExists')) throw alreadyExists(this.rt, name);
      throw err;
    }
  }

  /**
   * PUT: replaces the object (or only its status with `subresource: 'status'`). A resourceVersion in the
   * body is a precondition; without one the update is unconditional for built-in kinds and Invalid
   * for custom resources, as in Kubernetes.
   */
  async update(ctx: WriteContext, name: string, body: KObject, opts: { subresource?: 'status' } = {}): Promise<KObject> {
    const input = deepCopy(body);
    this.checkTypeMeta(input);
    const im = meta(input);
    this.checkNamespaceField(ctx, im);
    if (im.name !== undefined && im.name !== name) {
      throw badRequest(`the name of the object (${String(im.name)}) does not match the name on the URL (${name})`);
    }
    im.name = name;
    const precondition = im.resourceVersion;
    if ((precondition === undefined || precondition === '') && this.rt.source === 'crd') {
      throw invalid(this.rt, name, [{ field: 'metadata.resourceVersion', reason: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    this.handleUnknownFields(ctx, input, name);
    return this.guaranteedUpdate(ctx, name, (old) => {
      if (precondition !== undefined && precondition !== '' && precondition !== meta(old).resourceVersion) throw conflict(this.rt, name);
      return this.trackedUpdate(ctx, old, deepCopy(input), opts.subresource);
    });
  }

  /**
   * PATCH: `apply` turns the current object into the wanted one (a merge patch, later the other patch
   * types); the result then goes through the same rules as an update (system fields, status,
   * generation) — or, for `/status`, only its status is taken. Unknown fields are refused (Strict)
   * before anything is written.
   */
  async patch(ctx: WriteContext, name: string, apply: (current: KObject) => KObject, opts: { subresource?: 'status'; appliedManagedFields?: boolean } = {}): Promise<KObject> {
    let warnings: string[] = [];
    const result = await this.guaranteedUpdate(ctx, name, (old) => {
      const input = apply(deepCopy(old));
      this.checkTypeMeta(input);
      const im = meta(input);
      if (im.name !== name) throw badRequest(`the name of the object (${String(im.name)}) does not match the name on the URL (${name})`);
      // A resourceVersion the patch sets is a precondition (kubectl's managedFields upgrade sends one).
      if (typeof im.resourceVersion === 'string' && im.resourceVersion !== '' && im.resourceVersion !== meta(old).resourceVersion) throw conflict(this.rt, name);
      // Warnings of this attempt only: a conflict retries the whole function.
      warnings = [];
      this.handleUnknownFields({ ...ctx, warnings }, input, name);
      if (!opts.appliedManagedFields) return this.trackedUpdate(ctx, old, input, opts.subresource);
      // Server-side apply computed managedFields already; a status apply keeps them with the status.
      if (opts.subresource !== 'status') return this.mainUpdate(old, input);
      const next = this.statusUpdate(old, input);
      if (im.managedFields === undefined) delete meta(next).managedFields;
      else meta(next).managedFields = im.managedFields;
      return next;
    });
    ctx.warnings?.push(...warnings);
    return result;
  }

  /**
   * Server-side apply (`application/apply-patch+yaml`) of `config` by `ctx.fieldManager`: merged into
   * the live object by the schema with field ownership and conflicts (api/patch/fieldmanager), then
   * the same rules as any patch. An object that does not exist is created (not through `/status`).
   */
  async apply(ctx: WriteContext, name: string, config: KObject, opts: { force?: boolean; subresource?: 'status' } = {}): Promise<{ object: KObject; created: boolean }> {
    const manager = ctx.fieldManager ?? '';
    const force = opts.force === true;
    const cm = isObject(config.metadata) ? config.metadata : {};
    if (cm.name !== undefined && cm.name !== name) throw badRequest(`the name of the object (${typeof cm.name === 'string' ? cm.name : JSON.stringify(cm.name)}) does not match the name on the URL (${name})`);
    if (this.rt.namespaced && cm.namespace !== undefined && cm.namespace !== '' && cm.namespace !== ctx.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const patchOpts = { appliedManagedFields: true, ...(opts.subresource ? { subresource: opts.subresource } : {}) };
    for (let attempt = 0; ; attempt++) {
      try {
        const object = await this.patch(ctx, name, (current) => this.fieldManager().apply(current, config, manager, force, opts.subresource ?? ''), patchOpts);
        return { object, created: false };
      } catch (err) {
        if (!isKumoError(err, 'NotFound') || opts.subresource || attempt > 0) throw err;
      }
      const obj = this.fieldManager().apply(undefined, config, manager, force);
      const om = meta(obj);
      om.name = name;
      try {
        const { fieldManager: _tracked, ...createCtx } = ctx;
        return { object: await this.create(createCtx, obj), created: true };
      } catch (err) {
        // Created by someone else meanwhile: apply to it.
        if (!isKumoError(err, 'AlreadyExists') || ctx.dryRun) throw err;
      }
    }
  }

  private fields?: FieldManager;

  /** The kind's field manager (managedFields and server-side apply), built on first use. */
  private fieldManager(): FieldManager {
    this.fields ??= new FieldManager({
      schema: this.rt.schema,
      group: this.rt.group,
      version: this.rt.version,
      kind: this.rt.kind,
      statusSubresource: this.rt.subresources.status === true,
      ...(this.hooks.now ? { now: this.hooks.now } : {}),
    });
    return this.fields;
  }

  /**
   * An update's new object with its managedFields recorded (when the write has a manager): the main
   * resource before the update rules (kube's field manager sees the request's object), `/status` after
   * (it sees only the status change).
   */
  private trackedUpdate(ctx: WriteContext, old: KObject, input: KObject, subresource: 'status' | undefined): KObject {
    const manager = ctx.fieldManager;
    if (subresource === 'status') {
      const next = this.statusUpdate(old, input);
      return manager === undefined ? next : this.fieldManager().update(old, next, manager, 'status');
    }
    return this.mainUpdate(old, manager === undefined ? input : this.fieldManager().update(old, input, manager));
  }

  /** The read-modify-write loop every write to an existing object goes through (patch, status, GC). */
  async guaranteedUpdate(ctx: WriteContext, name: string, mutate: (old: KObject) => KObject | null): Promise<KObject> {
    const key = this.key(ctx, name);
    for (let attempt = 0; ; attempt++) {
      const { kv } = await this.store.get(key);
      if (!kv) throw notFound(this.rt, name);
      const old = this.decode(kv);
      const next = mutate(deepCopy(old));
      if (next === null || jsonEqual(next, old)) return old; // no-op: no new revision (kube does the same)
      const nm = meta(next);
      this.validateOrThrow(next, old, name);
      const undo = await this.hooks.admit?.(ctx, next, old);
      try {
        await this.hooks.checkNamespace?.(ctx, 'update');
      } catch (err) {
        await giveBack(undo);
        throw err;
      }
      // An object being deleted whose last finalizer was just removed goes away now.
      const deleting = typeof nm.deletionTimestamp === 'string' && (nm.finalizers ?? []).length === 0 && (this.hooks.kindFinalizers?.(next) ?? []).length === 0;
      if (ctx.dryRun) return next;
      let stored = false;
      try {
        if (deleting) {
          const d = await this.store.delete(key, kv.modRevision);
          stored = true;
          await this.written(ctx, d.revision);
          return next;
        }
        const r = await this.store.update(key, this.encode(next), kv.modRevision, this.writeOpts(ctx.signal));
        stored = true;
        nm.resourceVersion = String(r.revision);
        await this.written(ctx, r.revision);
        return next;
      } catch (err) {
        // Not stored (a conflict retries with a fresh admission): what admission reserved goes back.
        if (!stored) await giveBack(undo);
        if ((isKumoError(err, 'Conflict') || isKumoError(err, 'NotFound')) && attempt < MAX_CONFLICT_RETRIES) continue;
        if (isKumoError(err, 'Conflict')) throw conflict(this.rt, name);
        if (isKumoError(err, 'NotFound')) throw notFound(this.rt, name);
        throw err;
      }
    }
  }

  private mainUpdate(old: KObject, input: KObject): KObject {
    const om = meta(old);
    const next = input;
    const nm = meta(next);
    // Immutable and system-owned metadata.
    nm.uid = om.uid;
    nm.creationTimestamp = om.creationTimestamp;
    nm.resourceVersion = om.resourceVersion;
    if (om.deletionTimestamp !== undefined) {
      nm.deletionTimestamp = om.deletionTimestamp;
      if (om.deletionGracePeriodSeconds !== undefined) nm.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
    } else {
      delete nm.deletionTimestamp;
      delete nm.deletionGracePeriodSeconds;
    }
    if (this.rt.subresources.status) {
      if (old.status !== undefined) next.status = old.status;
      else delete next.status;
    }
    if (this.managesGeneration()) {
      const gen = typeof om.generation === 'number' ? om.generation : 1;
      nm.generation = this.specChanged(old, next) ? gen + 1 : gen;
    } else {
      delete nm.generation;
    }
    this.rt.strategy?.prepareForUpdate?.(next, old);
    return next;
  }

  private statusUpdate(old: KObject, input: KObject): KObject {
    const next = deepCopy(old);
    if (input.status === undefined) delete next.status;
    else next.status = input.status;
    return next;
  }

  /** Generation moves when anything but metadata and status changes. */
  private specChanged(old: KObject, next: KObject): boolean {
    const fields = this.rt.strategy?.generationFields;
    const keys = new Set([...Object.keys(old), ...Object.keys(next)].filter((k) => k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind'));
    for (const k of fields ?? keys) if (!jsonEqual(old[k], next[k])) return true;
    return false;
  }

  private managesGeneration(): boolean {
    return this.rt.subresources.status === true || this.rt.source === 'crd';
  }

  /**
   * DELETE. With finalizers (or a Foreground/Orphan policy, which add the garbage collector's
   * finalizer) the object only gets a deletionTimestamp and stays until its finalizers are removed.
   */
  async delete(ctx: WriteContext, name: string, opts: DeleteOptions = {}): Promise<{ object: KObject; deleted: boolean }> {
    const key = this.key(ctx, name);
    for (let attempt = 0; ; attempt++) {
      const { kv } = await this.store.get(key);
      if (!kv) throw notFound(this.rt, name);
      const cur = this.decode(kv);
      const m = meta(cur);
      const pre = opts.preconditions;
      if (pre?.uid !== undefined && pre.uid !== m.uid) {
        throw conflict(this.rt, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(m.uid)}`);
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== m.resourceVersion) {
        throw conflict(this.rt, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(m.resourceVersion)}`);
      }
      const finalizers = [...(m.finalizers ?? [])];
      const policy = opts.propagationPolicy;
      if (m.deletionTimestamp === undefined) {
        if (policy === 'Foreground' && !finalizers.includes(FINALIZER_FOREGROUND)) finalizers.push(FINALIZER_FOREGROUND);
        if (policy === 'Orphan' && !finalizers.includes(FINALIZER_ORPHAN)) finalizers.push(FINALIZER_ORPHAN);
      }
      try {
        if (finalizers.length > 0) {
          if (m.deletionTimestamp !== undefined && jsonEqual(finalizers, m.finalizers ?? [])) return { object: cur, deleted: false };
          const next = deepCopy(cur);
          const nm = meta(next);
          nm.finalizers = finalizers;
          if (nm.deletionTimestamp === undefined) {
            nm.deletionTimestamp = rfc3339(this.now());
            nm.deletionGracePeriodSeconds = 0;
          }
          if (ctx.dryRun || opts.dryRun) return { object: next, deleted: false };
          const r = await this.store.update(key, this.encode(next), kv.modRevision);
          nm.resourceVersion = String(r.revision);
          await this.written(ctx, r.revision);
          return { object: next, deleted: false };
        }
        if (ctx.dryRun || opts.dryRun) return { object: cur, deleted: true };
        const d = await this.store.delete(key, kv.modRevision);
        await this.written(ctx, d.revision);
        return { object: cur, deleted: true };
      } catch (err) {
        if ((isKumoError(err, 'Conflict') || isKumoError(err, 'NotFound')) && attempt < MAX_CONFLICT_RETRIES) continue;
        if (isKumoError(err, 'NotFound')) throw notFound(this.rt, name);
        if (isKumoError(err, 'Conflict')) throw conflict(this.rt, name);
        throw err;
      }
    }
  }

  // ---- watch --------------------------------------------------------------------------------------

  /** Kubernetes watch semantics over the store's watch; errors end the stream as an ERROR event. */
  async *watch(opts: WatchOptions): AsyncGenerator<ApiWatchEvent> {
    const prefix = this.keys.prefix(opts.cluster, this.rt.namespaced ? opts.namespace : undefined);
    const match = (obj: KObject): boolean => (opts.labelMatch ? opts.labelMatch(meta(obj).labels) : true) && (opts.fieldMatch ? opts.fieldMatch(obj) : true);
    const rvText = opts.resourceVersion ?? '';
    let after: number;
    let initial = rvText === '' || rvText === '0' || opts.sendInitialEvents === true;
    if (rvText === '' || rvText === '0') {
      after = 0;
    } else {
      after = parseResourceVersion(rvText);
    }
    try {
      if (initial) {
        // Initial state: synthetic ADDED events for what exists at one revision, then changes after it.
        const snapshot = await this.list(opts, { ...(opts.labelMatch ? { labelMatch: opts.labelMatch } : {}), ...(opts.fieldMatch ? { fieldMatch: opts.fieldMatch } : {}), signal: opts.signal });
        for (let i = 0; i < snapshot.items.length; i++) {
          const cluster = snapshot.clusters?.[i];
          yield cluster ? { type: 'ADDED', object: snapshot.items[i] as KObject, cluster } : { type: 'ADDED', object: snapshot.items[i] as KObject };
        }
        after = Number(snapshot.resourceVersion);
        if (opts.sendInitialEvents && opts.allowBookmarks) {
          yield { type: 'BOOKMARK', object: this.bookmark(after, true) };
        }
        initial = false;
      }
      const messages = (this.hooks.watchStore ?? this.store).watch(prefix, after, { signal: opts.signal, progressIntervalMs: opts.bookmarkIntervalMs ?? 10_000 });
      for await (const msg of messages) {
        if (msg.kind === 'progress') {
          if (opts.allowBookmarks) yield { type: 'BOOKMARK', object: this.bookmark(msg.revision, false) };
          continue;
        }
        for (const e of msg.events) {
          const ev = this.toApiEvent(e.type, e.kv, e.prev, match);
          if (!ev) continue;
          yield opts.cluster === ALL_CLUSTERS ? { ...ev, cluster: clusterOfKey(e.kv.key) } : ev;
        }
      }
    } catch (err) {
      if (opts.signal.aborted) return;
      yield { type: 'ERROR', object: watchErrorStatus(err, after) };
    }
  }

  private toApiEvent(type: 'create' | 'update' | 'delete', kv: KeyValue, prev: KeyValue | undefined, match: (o: KObject) => boolean): ApiWatchEvent | null {
    if (type === 'delete') {
      if (!prev) return null;
      // A deleted object is reported with its last state at the revision of its deletion; shared per
      // event through the delete's own KeyValue.
      let obj = this.decodedCache.get(kv);
      if (!obj) {
        obj = this.decode(prev);
        meta(obj).resourceVersion = String(kv.modRevision);
        this.decodedCache.set(kv, obj);
      }
      return match(obj) ? { type: 'DELETED', object: obj, raw: kv } : null;
    }
    const obj = this.decodeShared(kv);
    const now = match(obj);
    if (type === 'create') return now ? { type: 'ADDED', object: obj, raw: kv } : null;
    const before = prev ? match(this.decodeShared(prev)) : false;
    if (now && before) return { type: 'MODIFIED', object: obj, raw: kv };
    if (now) return { type: 'ADDED', object: obj, raw: kv };
    if (before) return { type: 'DELETED', object: obj, raw: kv };
    return null;
  }

  private bookmark(revision: number, initialEventsEnd: boolean): KObject {
    const md: Record<string, unknown> = { resourceVersion: String(revision) };
    if (initialEventsEnd) md.annotations = { 'k8s.io/initial-events-end': 'true' };
    return { apiVersion: this.rt.group === '' ? this.rt.version : `${this.rt.group}/${this.rt.version}`, kind: this.rt.kind, metadata: md };
  }

  // ---- checks -------------------------------------------------------------------------------------

  private checkTypeMeta(obj: KObject): void {
    const gv = this.rt.group === '' ? this.rt.version : `${this.rt.group}/${this.rt.version}`;
    if (obj.kind !== undefined && obj.kind !== this.rt.kind) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`);
    }
    obj.apiVersion = gv;
    obj.kind = this.rt.kind;
    if (obj.metadata !== undefined && !isObject(obj.metadata)) {
      throw badRequest('metadata must be an object');
    }
  }

  private checkNamespaceField(ctx: Scope, m: Meta): void {
    if (!this.rt.namespaced) {
      delete m.namespace;
      return;
    }
    if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== ctx.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (ctx.namespace === undefined || ctx.namespace === '') throw badRequest('a namespace is required for namespaced resources');
    m.namespace = ctx.namespace;
  }

  private handleUnknownFields(ctx: WriteContext, obj: KObject, name: string): void {
    const unknown = this.schema.normalize(this.rt, obj);
    if (unknown.length === 0) return;
    const mode = ctx.fieldValidation ?? 'Warn';
    if (mode === 'Strict') {
      throw new KumoError('BadRequest', `${this.rt.kind} in version "${this.rt.version}" cannot be handled as a ${this.rt.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`, {
        name,
        group: this.rt.group,
        kind: this.rt.kind,
      });
    }
    if (mode === 'Warn') for (const f of unknown) ctx.warnings?.push(`unknown field "${f}"`);
  }

  private validateOrThrow(obj: KObject, old: KObject | undefined, name: string): void {
    const causes = this.schema.validate(this.rt, obj, old);
    if (causes.length > 0) throw invalid(this.rt, name, causes);
  }
}

export function parseResourceVersion(rv: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(rv)) {
    throw new KumoError('BadRequest', `resourceVersion: Invalid value: "${rv.slice(0, 64)}": must be a valid resourceVersion`, {
      causes: [{ field: 'resourceVersion', reason: 'FieldValueInvalid', message: 'must be a valid resourceVersion' }],
    });
  }
  return Number(rv);
}

export function tooLargeResourceVersion(rv: number, current: number): KumoError {
  return new KumoError('Timeout', `Too large resource version: ${rv}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

function watchErrorStatus(err: unknown, after: number): KObject {
  if (isKumoError(err, 'Gone')) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${after}`, reason: 'Expired', code: 410 };
  }
  // Any other failure as the Status of its code (a store outage is 503 ServiceUnavailable, …).
  const e = isKumoError(err) ? err : new KumoError('Internal', 'an error on the server has prevented the watch from continuing');
  return statusFor(e) as unknown as KObject;
}
