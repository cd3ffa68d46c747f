// Deleting everything of a kind in a scope, for controllers that empty something before letting it go
// (the namespace controller, the CRD controller's finalizer).
import type { ResourceType } from '../api/types.js';
import type { LogicalCluster } from '../apiserver/keys.js';
import { isKumoError } from '../lib/errors.js';
import type { Client } from '../client/client.js';

/**
 * Deletes every object of `rt` in `cluster` (all namespaces); returns how many were still there (objects
 * with finalizers of their own stay until their controllers remove them).
 */
export async function deleteAll(client: Client, rt: ResourceType, cluster: LogicalCluster, signal: AbortSignal, namespace?: string): Promise<number> {
  const list = await client.list(rt, namespace === undefined ? { cluster } : { cluster, namespace }, { signal });
  for (const obj of list.items) {
    const m = obj.metadata ?? {};
    const ns = typeof m.namespace === 'string' && m.namespace !== '' ? m.namespace : undefined;
    if (m.deletionTimestamp !== undefined) continue;
    try {
      await client.delete(rt, ns === undefined ? { cluster } : { cluster, namespace: ns }, String(m.name), { propagationPolicy: 'Background', signal });
    } catch (err) {
      if (!isKumoError(err, 'NotFound')) throw err;
    }
  }
  return list.items.length;
}
