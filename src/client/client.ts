// The client contract (STYLE.md practice 1): what controllers, informers and leader election need of
// the Kubernetes API, and nothing more. Objects are plain JSON (`KObject`) owned by the caller; every
// failure is a `KumoError` from the closed set (NotFound, AlreadyExists, Conflict, Invalid, Gone, …).
//
// Addressing is a ResourceType (group, version, plural, namespaced) plus a Scope (logical cluster and,
// for namespaced kinds, the namespace): exactly what a URL needs, so an HTTP implementation (agents
// talking to the management plane) fits behind the same interface as the in-process `LoopbackClient`.
//
// Selectors are the query-string forms (`app=x,tier!=db`, `metadata.name=foo`), parsed by the server.
import type { KObject, ResourceType } from '../api/types.js';
import type { LogicalCluster } from '../apiserver/keys.js';

/**
 * Where a call acts: a logical cluster and, for namespaced kinds, a namespace (absent: all
 * namespaces, for list/watch). List and watch also take ALL_CLUSTERS (without a namespace): every
 * logical cluster at once, each item reporting its own.
 */
export interface Scope {
  cluster: LogicalCluster;
  namespace?: string;
}

/** What a client needs of a kind: enough to build a URL. */
export type ClientResource = Pick<ResourceType, 'group' | 'version' | 'kind' | 'plural' | 'namespaced'>;

export interface CallOptions {
  signal?: AbortSignal;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  /** '' (default): the latest, consistent; '0': any; 'N': not older than N. */
  resourceVersion?: string;
}

export interface ObjectList {
  items: KObject[];
  /** For a list of ALL_CLUSTERS: the logical cluster of each item (same order). */
  clusters?: LogicalCluster[];
  /** Pass to `watch` to get every change after this list, nothing missed and nothing twice. */
  resourceVersion: string;
  continue?: string;
}

export interface WatchOptions {
  /** Ends the watch (the iterator returns). Required: no watch outlives its owner. */
  signal: AbortSignal;
  labelSelector?: string;
  fieldSelector?: string;
  /** Changes after this version. '' or '0': the current state as ADDED events first, then changes. */
  resourceVersion?: string;
  /** Ask for BOOKMARK events (only metadata.resourceVersion is meaningful) so a quiet watch stays fresh. */
  allowWatchBookmarks?: boolean;
  /** The server ends the watch (the iterator returns normally) after this long. */
  timeoutSeconds?: number;
}

/**
 * One change. An ERROR event is never yielded: it becomes the iterator's error (410 → `Gone`, so the
 * caller relists). BOOKMARK carries only `metadata.resourceVersion`.
 */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: KObject;
  /** For a watch of ALL_CLUSTERS: the logical cluster of `object` (absent on bookmarks). */
  cluster?: LogicalCluster;
}

export interface WriteOptions extends CallOptions {
  dryRun?: boolean;
}

export interface DeleteOptions extends CallOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface PatchOptions extends WriteOptions {
  /** Patch the status subresource instead of the main resource. */
  subresource?: 'status';
}

export interface Client {
  get(rt: ClientResource, scope: Scope, name: string, opts?: CallOptions): Promise<KObject>;
  list(rt: ClientResource, scope: Scope, opts?: ListOptions): Promise<ObjectList>;
  /** Iterating starts the watch; leaving the loop (break/throw) or aborting the signal ends it. */
  watch(rt: ClientResource, scope: Scope, opts: WatchOptions): AsyncIterable<WatchEvent>;
  create(rt: ClientResource, scope: Scope, obj: KObject, opts?: WriteOptions): Promise<KObject>;
  /** PUT. `metadata.resourceVersion`, when set, is a precondition (Conflict when stale). */
  update(rt: ClientResource, scope: Scope, obj: KObject, opts?: WriteOptions): Promise<KObject>;
  /** PUT on the status subresource: only `status` changes. */
  updateStatus(rt: ClientResource, scope: Scope, obj: KObject, opts?: WriteOptions): Promise<KObject>;
  /** JSON merge patch (RFC 7386). `metadata.resourceVersion` in the patch is a precondition. */
  patch(rt: ClientResource, scope: Scope, name: string, patch: Record<string, unknown>, opts?: PatchOptions): Promise<KObject>;
  /** Resolves once the delete is accepted: the object is gone, or has a deletionTimestamp and waits on finalizers. */
  delete(rt: ClientResource, scope: Scope, name: string, opts?: DeleteOptions): Promise<void>;
}
