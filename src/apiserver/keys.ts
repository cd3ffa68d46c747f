// Logical cluster identity and storage keys (STYLE.md practice 11, ARCHITECTURE.md "Storage keys and
// paths"). A logical cluster name is parsed once at the edge into the branded `LogicalCluster`; every
// store key is built here and nowhere else:
//
//   /registry/<group | core>/<resource>/<logical-cluster>/<namespace>/<name>   (namespaced)
//   /registry/<group | core>/<resource>/<logical-cluster>/<name>               (cluster-scoped)
//
// so one store watch on `/registry/<group>/<resource>/` serves every logical cluster, and a malformed
// cluster, namespace or name (one that could cut a key in the wrong place) is refused before storage.
import { KumoError } from '../lib/errors.js';
import type { ResourceType } from '../api/types.js';
import { isValidPathSegmentName } from './names.js';

declare const logicalClusterBrand: unique symbol;
/** A validated logical cluster name. Only `parseLogicalCluster` (and `ROOT_CLUSTER`) make one. */
export type LogicalCluster = string & { readonly [logicalClusterBrand]: true };

/** The logical cluster of requests without a `/clusters/<name>` prefix: the management plane. */
export const ROOT_CLUSTER = 'root' as LogicalCluster;
/**
 * Every logical cluster at once (kcp's wildcard): accepted only by list and watch, whose items then
 * report the cluster each came from. Never part of a key.
 */
export const ALL_CLUSTERS = '*' as LogicalCluster;

/** A DNS-1123 label: what a key segment and a `/clusters/<name>` path segment can safely hold. */
export const LOGICAL_CLUSTER_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
export const LOGICAL_CLUSTER_MAX_LENGTH = 63;
const logicalClusterRe = new RegExp(`^${LOGICAL_CLUSTER_FMT}$`);

export function isLogicalClusterName(s: string): boolean {
  return s.length <= LOGICAL_CLUSTER_MAX_LENGTH && logicalClusterRe.test(s);
}

/** The edge's parse: a valid name becomes a `LogicalCluster`, anything else is a 400 (kcp's wording). */
export function parseLogicalCluster(s: string): LogicalCluster {
  if (!isLogicalClusterName(s)) {
    throw new KumoError(
      'BadRequest',
      `invalid cluster: ${JSON.stringify(s)} does not match the regex '${LOGICAL_CLUSTER_FMT}' (at most ${LOGICAL_CLUSTER_MAX_LENGTH} characters)`,
    );
  }
  return s as LogicalCluster;
}

/** What a key needs of a resource type. */
export type KeyResource = Pick<ResourceType, 'group' | 'plural'> & Partial<Pick<ResourceType, 'namespaced'>>;

/** The group segment of a key: `core` for the legacy group. */
export function groupSegment(group: string): string {
  return group === '' ? 'core' : group;
}

/** `/registry/<group|core>/<plural>/` — the prefix one store watch per resource covers. */
export function resourcePrefix(rt: Pick<ResourceType, 'group' | 'plural'>): string {
  return `/registry/${groupSegment(rt.group)}/${rt.plural}/`;
}

function checkSegment(what: 'Name' | 'Namespace', value: string): void {
  if (value === '') throw new KumoError('BadRequest', `${what} parameter required.`);
  const msgs = isValidPathSegmentName(value);
  if (msgs.length > 0) throw new KumoError('BadRequest', `${what} parameter invalid: ${JSON.stringify(value)}: ${msgs.join(';')}`);
}

/**
 * The key of one object. `namespace` must be given for a namespaced type and absent for a
 * cluster-scoped one when `rt.namespaced` is known; a missing or malformed name or namespace is a
 * BadRequest with kube's registry wording (`Name parameter invalid: "a/b": may not contain '/'`).
 */
export function storageKey(rt: KeyResource, cluster: LogicalCluster, namespace: string | undefined, name: string): string {
  checkCluster(cluster);
  checkNamespaceScope(rt, namespace);
  if (namespace !== undefined) checkSegment('Namespace', namespace);
  checkSegment('Name', name);
  return namespace === undefined ? `${resourcePrefix(rt)}${cluster}/${name}` : `${resourcePrefix(rt)}${cluster}/${namespace}/${name}`;
}

/**
 * The prefix of a list, always ending in `/`: every object of the resource (no cluster), of one
 * logical cluster, or of one namespace in it.
 */
export function storagePrefix(rt: KeyResource, cluster?: LogicalCluster, namespace?: string): string {
  if (cluster === undefined || cluster === ALL_CLUSTERS) {
    if (namespace !== undefined) throw new KumoError('Internal', 'a storage prefix with a namespace needs a logical cluster');
    return resourcePrefix(rt);
  }
  checkCluster(cluster);
  if (namespace === undefined) return `${resourcePrefix(rt)}${cluster}/`;
  if (rt.namespaced === false) throw new KumoError('Internal', `${rt.plural} is cluster-scoped: no namespace in its keys`);
  checkSegment('Namespace', namespace);
  return `${resourcePrefix(rt)}${cluster}/${namespace}/`;
}

/** The brand is a compile-time promise; a cast around it is a bug, caught here before it reaches a key. */
function checkCluster(cluster: string): void {
  if (!isLogicalClusterName(cluster)) throw new KumoError('Internal', `malformed logical cluster ${JSON.stringify(cluster)} reached the storage layer`);
}

function checkNamespaceScope(rt: KeyResource, namespace: string | undefined): void {
  if (rt.namespaced === true && namespace === undefined) throw new KumoError('BadRequest', 'Namespace parameter required.');
  if (rt.namespaced === false && namespace !== undefined) throw new KumoError('Internal', `${rt.plural} is cluster-scoped: no namespace in its keys`);
}

/** A key taken apart (for watch events read from one store watch across logical clusters). */
export interface StorageKeyParts {
  /** '' for the core group. */
  group: string;
  plural: string;
  cluster: LogicalCluster;
  /** Absent for a cluster-scoped object. */
  namespace?: string;
  name: string;
}

/**
 * The inverse of `storageKey`; `undefined` for a key this module did not build (wrong shape, bad
 * segment). Namespaced or not follows from the number of segments, which is unambiguous because no
 * segment may contain `/`.
 */
export function parseStorageKey(key: string): StorageKeyParts | undefined {
  if (!key.startsWith('/registry/')) return undefined;
  const parts = key.slice('/registry/'.length).split('/');
  if (parts.length !== 4 && parts.length !== 5) return undefined;
  if (parts.some((p) => p === '')) return undefined;
  const [group = '', plural = '', cluster = ''] = parts;
  if (!isLogicalClusterName(cluster)) return undefined;
  const namespace = parts.length === 5 ? parts[3] : undefined;
  const name = parts[parts.length - 1] ?? '';
  if (isValidPathSegmentName(name).length > 0) return undefined;
  if (namespace !== undefined && isValidPathSegmentName(namespace).length > 0) return undefined;
  const out: StorageKeyParts = { group: group === 'core' ? '' : group, plural, cluster: cluster as LogicalCluster, name };
  if (namespace !== undefined) out.namespace = namespace;
  return out;
}

/** The `KeyScheme` shape the REST engine takes: keys of one resource type. */
export interface ResourceKeys {
  key(cluster: LogicalCluster, namespace: string | undefined, name: string): string;
  prefix(cluster: LogicalCluster, namespace: string | undefined): string;
  /** `/registry/<group>/<plural>/` across logical clusters. */
  readonly resourcePrefix: string;
}

export function resourceKeys(rt: KeyResource): ResourceKeys {
  const all = resourcePrefix(rt);
  return {
    key: (cluster, namespace, name) => storageKey(rt, cluster, namespace, name),
    prefix: (cluster, namespace) => storagePrefix(rt, cluster, namespace),
    resourcePrefix: all,
  };
}
