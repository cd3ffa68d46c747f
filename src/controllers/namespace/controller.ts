// The namespace controller (kube-controller-manager's namespace deletion) on the controller runtime:
// one informer over the Namespaces of every logical cluster. A Namespace being deleted (Terminating:
// the engine refuses new content in it) is emptied — every object of every namespaced kind served in
// its logical cluster is deleted — then its `kubernetes` finalizer is removed and it is deleted for
// good. Objects with finalizers of their own keep it Terminating until their controllers let them go.
import type { Logger } from 'pino';
import { NAMESPACE_FINALIZER } from '../../api/builtin/core.js';
import type { KObject, ResourceType } from '../../api/types.js';
import type { LogicalCluster } from '../../apiserver/keys.js';
import { isKumoError } from '../../lib/errors.js';
import type { Client } from '../../client/client.js';
import { formatKey, type ObjectKey } from '../../client/keys.js';
import type { InformerCache } from '../../runtime/cache.js';
import { ControllerBuilder, type Controller, type Reconciler, type Result } from '../../runtime/controller.js';
import type { Informer } from '../../runtime/informer.js';
import { deleteAll } from '../delete.js';

export interface NamespaceControllerOptions {
  client: Client;
  /** An ALL_CLUSTERS informer cache. */
  cache: InformerCache;
  log: Logger;
  namespaceRt: ResourceType;
  /** The kinds served in a logical cluster (built-in and CRDs); the namespaced ones are emptied. */
  kindsIn(cluster: LogicalCluster): ResourceType[];
  /** How soon to look again while objects with finalizers remain. Default 1000 ms. */
  recheckMs?: number;
}

export function namespaceController(opts: NamespaceControllerOptions): Controller {
  const informer = opts.cache.informer(opts.namespaceRt);
  return new ControllerBuilder('namespace', { cache: opts.cache, log: opts.log.child({ controller: 'namespace' }) })
    .for(opts.namespaceRt)
    .withWorkers(2)
    .complete(new NamespaceReconciler(opts, informer));
}

function specFinalizers(ns: KObject): string[] {
  const spec = ns.spec as { finalizers?: unknown } | undefined;
  return Array.isArray(spec?.finalizers) ? spec.finalizers.filter((f): f is string => typeof f === 'string') : [];
}

class NamespaceReconciler implements Reconciler {
  constructor(
    private readonly opts: NamespaceControllerOptions,
    private readonly informer: Informer,
  ) {}

  async reconcile(key: ObjectKey, signal: AbortSignal): Promise<Result | void> {
    const ns = this.informer.store.get(formatKey(key));
    if (!ns || ns.metadata?.deletionTimestamp === undefined) return;
    const { client, namespaceRt } = this.opts;
    const scope = { cluster: key.cluster };
    if (specFinalizers(ns).includes(NAMESPACE_FINALIZER)) {
      let left = 0;
      for (const rt of this.opts.kindsIn(key.cluster)) {
        if (!rt.namespaced || !rt.verbs.includes('delete')) continue;
        left += await deleteAll(client, rt, key.cluster, signal, key.name);
      }
      if (left > 0) return { requeueAfter: this.opts.recheckMs ?? 1000 };
      // Empty: give up our finalizer (kube's /finalize).
      const next = structuredClone(ns);
      next.spec = { ...(next.spec as object), finalizers: specFinalizers(ns).filter((f) => f !== NAMESPACE_FINALIZER) };
      try {
        await client.update(namespaceRt, scope, next, { signal });
      } catch (err) {
        if (isKumoError(err, 'NotFound')) return;
        throw err;
      }
    }
    if (specFinalizers(ns).some((f) => f !== NAMESPACE_FINALIZER)) return; // another finalizer's turn
    // Deleting a Terminating namespace without spec finalizers removes it (once metadata finalizers are gone too).
    try {
      await client.delete(namespaceRt, scope, key.name, { preconditions: { uid: String(ns.metadata.uid) }, signal });
    } catch (err) {
      if (!isKumoError(err, 'NotFound') && !isKumoError(err, 'Conflict')) throw err;
    }
  }
}
