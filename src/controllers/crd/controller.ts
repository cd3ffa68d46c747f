// The CRD controller (apiextensions-apiserver's naming, establishing and finalizing controllers) on the
// controller runtime: one informer over the CustomResourceDefinitions of every logical cluster.
// - Serving follows the informer at once (a handler registers or unregisters the kinds in the engine),
//   so every CRD in the store is served by the time the informer has synced — before the server
//   listens — and on every replica (like kube, this controller is not leader-elected).
// - The reconciler writes what the server reports: the cleanup finalizer, acceptedNames and the
//   NamesAccepted/Established conditions; on deletion it deletes every object of the kind, waits for
//   those with finalizers of their own, stops serving the kind and removes its finalizer.
import type { Logger } from 'pino';
import type { KObject, ResourceType } from '../../api/types.js';
import { CRD_CLEANUP_FINALIZER, crdStatus } from '../../apiserver/crds.js';
import type { ApiEngine } from '../../apiserver/engine.js';
import type { LogicalCluster } from '../../apiserver/keys.js';
import { isKumoError } from '../../lib/errors.js';
import type { Client } from '../../client/client.js';
import { formatKey, type ObjectKey } from '../../client/keys.js';
import { deleteAll } from '../delete.js';
import type { InformerCache } from '../../runtime/cache.js';
import { ControllerBuilder, type Controller, type Reconciler, type Result } from '../../runtime/controller.js';
import type { Informer } from '../../runtime/informer.js';

export interface CrdControllerOptions {
  engine: ApiEngine;
  client: Client;
  /** An ALL_CLUSTERS informer cache. */
  cache: InformerCache;
  log: Logger;
  /** How soon to look again while objects of a deleted CRD wait for their own finalizers. Default 1000 ms. */
  recheckMs?: number;
  now?: () => Date;
}

/** Builds the CRD controller; run its informer cache and the returned controller. */
export function crdController(opts: CrdControllerOptions): { controller: Controller; informer: Informer } {
  const rt = opts.engine.crdResourceType;
  const informer = opts.cache.informer(rt);
  // Serving follows the cache directly: no wait for a worker between a CRD's arrival and its kinds.
  informer.addEventHandler({
    onAdd: (crd) => serve(opts.engine, informer.clusterOf(crd), crd),
    onUpdate: (_old, crd) => serve(opts.engine, informer.clusterOf(crd), crd),
    onDelete: (crd) => opts.engine.unregisterCrd(informer.clusterOf(crd), String(crd.metadata?.name)),
  });
  const controller = new ControllerBuilder('crd', { cache: opts.cache, log: opts.log.child({ controller: 'crd' }) })
    .for(rt)
    .withWorkers(2)
    .complete(new CrdReconciler(opts, informer));
  return { controller, informer };
}

function deleting(crd: KObject): boolean {
  return crd.metadata?.deletionTimestamp !== undefined;
}

function serve(engine: ApiEngine, cluster: LogicalCluster, crd: KObject): void {
  // A deleted CRD stays served until its objects are gone (the reconciler unregisters it).
  if (!deleting(crd)) engine.registerCrd(cluster, crd);
}

class CrdReconciler implements Reconciler {
  constructor(
    private readonly opts: CrdControllerOptions,
    private readonly informer: Informer,
  ) {}

  private now(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }

  async reconcile(key: ObjectKey, signal: AbortSignal): Promise<Result | void> {
    const cached = this.informer.store.get(formatKey(key));
    if (!cached) return;
    const crd = structuredClone(cached);
    if (deleting(crd)) return this.finalize(key, crd, signal);
    const conflict = this.opts.engine.registerCrd(key.cluster, crd);
    const rt = this.opts.engine.crdResourceType;
    const finalizers = (crd.metadata?.finalizers as string[] | undefined) ?? [];
    let current = crd;
    if (conflict === null && !finalizers.includes(CRD_CLEANUP_FINALIZER)) {
      current.metadata = { ...current.metadata, finalizers: [...finalizers, CRD_CLEANUP_FINALIZER] };
      current = await this.opts.client.update(rt, { cluster: key.cluster }, current, { signal });
    }
    const status = crdStatus(current, conflict, this.now());
    if (JSON.stringify(status) !== JSON.stringify(current.status ?? {})) {
      await this.opts.client.updateStatus(rt, { cluster: key.cluster }, { ...current, status }, { signal });
    }
  }

  /** Deletes every object of the CRD's kind; once none is left, stops serving it and lets the CRD go. */
  private async finalize(key: ObjectKey, crd: KObject, signal: AbortSignal): Promise<Result | void> {
    const { engine, client } = this.opts;
    const crdRt = engine.crdResourceType;
    const scope = { cluster: key.cluster };
    const finalizers = (crd.metadata?.finalizers as string[] | undefined) ?? [];
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) return;
    const status = crdStatus(crd, null, this.now());
    if (JSON.stringify(status) !== JSON.stringify(crd.status ?? {})) {
      crd = await client.updateStatus(crdRt, scope, { ...crd, status }, { signal });
    }
    // Every served version shares one storage: the first kind reaches all objects.
    const kind: ResourceType | undefined = engine.crdKinds(key.cluster, key.name)[0];
    if (kind) {
      const left = await deleteAll(client, kind, key.cluster, signal);
      if (left > 0) return { requeueAfter: this.opts.recheckMs ?? 1000 };
    }
    engine.unregisterCrd(key.cluster, key.name);
    const m = crd.metadata ?? {};
    const rest = ((m.finalizers as string[] | undefined) ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    const next: KObject = { ...crd, metadata: { ...m, finalizers: rest } };
    try {
      await client.update(crdRt, scope, next, { signal });
    } catch (err) {
      if (!isKumoError(err, 'NotFound')) throw err;
    }
  }
}
