// The one place object keys are built and parsed (STYLE.md practice 11): an informer's cache key and
// a workqueue item are the same string, `<cluster>/<namespace>/<name>` for namespaced objects and
// `<cluster>/<name>` for cluster-scoped ones. No segment may contain '/', so the number of segments
// says which; a reconciler gets the parsed `ObjectKey`.
import { KumoError } from '../lib/errors.js';
import type { KObject } from '../api/types.js';
import { isLogicalClusterName, type LogicalCluster } from '../apiserver/keys.js';

/** What a reconciler is asked about: one object, by name. */
export interface ObjectKey {
  readonly cluster: LogicalCluster;
  /** Absent for cluster-scoped kinds. */
  readonly namespace?: string;
  readonly name: string;
}

export function formatKey(k: ObjectKey): string {
  return k.namespace === undefined || k.namespace === '' ? `${k.cluster}/${k.name}` : `${k.cluster}/${k.namespace}/${k.name}`;
}

/** The inverse of `formatKey`; Internal for a string it did not build. */
export function parseKey(key: string): ObjectKey {
  const parts = key.split('/');
  const ok = (parts.length === 2 || parts.length === 3) && parts.every((p) => p !== '') && isLogicalClusterName(parts[0] ?? '');
  if (!ok) throw new KumoError('Internal', `malformed object key ${JSON.stringify(key)}`);
  const cluster = parts[0] as LogicalCluster;
  return parts.length === 3 ? { cluster, namespace: parts[1] ?? '', name: parts[2] ?? '' } : { cluster, name: parts[1] ?? '' };
}

/** The key of an object read from `cluster`. */
export function keyOf(cluster: LogicalCluster, obj: KObject): ObjectKey {
  const md = obj.metadata ?? {};
  const name = typeof md.name === 'string' ? md.name : '';
  const namespace = typeof md.namespace === 'string' && md.namespace !== '' ? md.namespace : undefined;
  return namespace === undefined ? { cluster, name } : { cluster, namespace, name };
}

/** `formatKey(keyOf(cluster, obj))`. */
export function objectKey(cluster: LogicalCluster, obj: KObject): string {
  return formatKey(keyOf(cluster, obj));
}
