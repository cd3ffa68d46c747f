// The quota controllers (kube-controller-manager's resourcequota controller, and its Kumo twin for
// tenants) on the controller runtime. Admission charges usage as objects are created; these recount
// it from the objects, so usage comes back down when objects go away and is repaired after a charge
// that was never given back (a server stopped between charge and write):
// - `resourcequota`: one ALL_CLUSTERS informer over ResourceQuotas; a quota is recounted when it
//   changes (status.hard follows spec.hard), when an object in its namespace is deleted, and every
//   `resyncMs` (kube: --resource-quota-sync-period, 5 minutes);
// - `tenant-quota`: one informer over Tenants and the shared one over Namespaces; a tenant is
//   recounted when it changes, when a namespace joins or leaves it (label kumo.dev/tenant), when a
//   Cluster or NodePool of its namespaces is created, changed or deleted, and every `resyncMs`.
// Object deletions and Cluster/NodePool changes come from one store watch over `/registry/` that looks
// at keys only (and, for NodePools, at replicas and flavor): no informer caches every kind.
// The recount itself (apiserver/quota) never lowers usage charged in the last seconds, so it cannot
// undo a charge whose object is still being written; it asks to look again instead.
import type { Logger } from 'pino';
import type { KObject, ResourceType } from '../../api/types.js';
import { parseStorageKey, type LogicalCluster } from '../../apiserver/keys.js';
import { TENANT_LABEL, flavorOf, isCluster, isNodePool, replicasOf } from '../../apiserver/quota/usage.js';
import type { Quotas } from '../../apiserver/quota/quota.js';
import { formatKey, keyOf, type ObjectKey } from '../../client/keys.js';
import { parseResourceList, resourceListJSON } from '../../api/builtin/quantity.js';
import { jsonEqual } from '../../apiserver/object.js';
import { sleep, type Runnable } from '../../lib/runnable.js';
import type { InformerCache } from '../../runtime/cache.js';
import { Controller, type Reconciler, type Result } from '../../runtime/controller.js';
import type { Informer } from '../../runtime/informer.js';
import type { KeyValue, Store } from '../../store/types.js';

export const DEFAULT_QUOTA_RESYNC_MS = 5 * 60_000;

export interface QuotaControllerOptions {
  quotas: Quotas;
  /** An ALL_CLUSTERS informer cache. */
  cache: InformerCache;
  store: Store;
  log: Logger;
  resourceQuotaRt: ResourceType;
  tenantRt: ResourceType;
  namespaceRt: ResourceType;
  /** Every quota and tenant is recounted this often. Default 5 minutes. */
  resyncMs?: number;
}

export interface QuotaControllers {
  resourceQuota: Controller;
  tenant: Controller;
  /** The store watch that enqueues recounts when objects go away (a runnable: start it with the controllers). */
  replenishment: Runnable;
}

export function quotaControllers(opts: QuotaControllerOptions): QuotaControllers {
  const log = opts.log;
  const resync = opts.resyncMs ?? DEFAULT_QUOTA_RESYNC_MS;
  const quotaInformer = opts.cache.informer(opts.resourceQuotaRt);
  const namespaces = opts.cache.informer(opts.namespaceRt);
  const tenants = opts.cache.informer(opts.tenantRt);

  // The ResourceQuotas of each namespace (`<cluster>/<namespace>` → quota keys), kept from the informer.
  const quotasIn = new Map<string, Set<string>>();
  const track = (o: KObject, add: boolean): void => {
    const k = keyOf(quotaInformer.clusterOf(o), o);
    const ns = `${k.cluster}/${k.namespace ?? ''}`;
    let set = quotasIn.get(ns);
    if (add) {
      if (!set) quotasIn.set(ns, (set = new Set()));
      set.add(formatKey(k));
    } else if (set) {
      set.delete(formatKey(k));
      if (set.size === 0) quotasIn.delete(ns);
    }
  };
  quotaInformer.addEventHandler({ onAdd: (o) => track(o, true), onUpdate: (_o, n) => track(n, true), onDelete: (o) => track(o, false) });

  // Not ControllerBuilder.for(): a quota's own status writes (every charge) must not each start a
  // recount — only a new quota, a changed spec.hard, or a status.hard that does not follow it (kube's
  // resourcequota controller filters its updates the same way).
  const resourceQuota = new Controller({ name: 'resourcequota', reconciler: new ResourceQuotaReconciler(opts.quotas, quotaInformer, resync), log, informers: [quotaInformer], workers: 2 });
  const enqueueQuota = (o: KObject): void => resourceQuota.enqueue(keyOf(quotaInformer.clusterOf(o), o));
  quotaInformer.addEventHandler({
    onAdd: enqueueQuota,
    onUpdate: (o, n) => {
      const hard = (x: KObject): unknown => (x.spec as Record<string, unknown> | undefined)?.hard ?? {};
      const statusHard = (x: KObject): unknown => (x.status as Record<string, unknown> | undefined)?.hard ?? {};
      if (!jsonEqual(hard(o), hard(n)) || !jsonEqual(resourceListJSON(parseResourceList(hard(n))), statusHard(n))) enqueueQuota(n);
    },
  });

  const tenantOfNamespace = (cluster: LogicalCluster, namespace: string): string | undefined => {
    const ns = namespaces.store.get(formatKey({ cluster, name: namespace }));
    const t = ns?.metadata?.labels as Record<string, unknown> | undefined;
    const v = t?.[TENANT_LABEL];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  // Likewise: a Tenant is recounted when it appears, when its quota changes or it has no usage yet,
  // and when a namespace joins or leaves it — not on every charge.
  const tenant = new Controller({ name: 'tenant-quota', reconciler: new TenantReconciler(opts.quotas, tenants, resync), log, informers: [tenants, namespaces], workers: 2 });
  const enqueueTenant = (o: KObject): void => tenant.enqueue(keyOf(tenants.clusterOf(o), o));
  tenants.addEventHandler({
    onAdd: enqueueTenant,
    onUpdate: (o, n) => {
      const quota = (x: KObject): unknown => (x.spec as Record<string, unknown> | undefined)?.quota;
      const usage = (x: KObject): unknown => (x.status as Record<string, unknown> | undefined)?.usage;
      if (!jsonEqual(quota(o), quota(n)) || usage(n) === undefined) enqueueTenant(n);
    },
  });
  const labelOf = (ns: KObject): string | undefined => {
    const t = (ns.metadata?.labels as Record<string, unknown> | undefined)?.[TENANT_LABEL];
    return typeof t === 'string' && t !== '' ? t : undefined;
  };
  const enqueueTenantOf = (ns: KObject): void => {
    const t = labelOf(ns);
    if (t !== undefined) tenant.enqueue({ cluster: namespaces.clusterOf(ns), name: t });
  };
  namespaces.addEventHandler({
    onAdd: enqueueTenantOf,
    onUpdate: (o, n) => {
      if (labelOf(o) === labelOf(n)) return;
      enqueueTenantOf(o);
      enqueueTenantOf(n);
    },
    onDelete: enqueueTenantOf,
  });

  const replenishment = new Replenishment(opts.store, log.child({ runnable: 'quota-replenishment' }), {
    deleted: (cluster, namespace) => {
      for (const k of quotasIn.get(`${cluster}/${namespace}`) ?? []) resourceQuota.enqueue(k);
    },
    tenantObjectChanged: (cluster, namespace) => {
      const t = tenantOfNamespace(cluster, namespace);
      if (t !== undefined) tenant.enqueue({ cluster, name: t });
    },
    resyncAll: () => {
      for (const k of quotaInformer.store.keys()) resourceQuota.enqueue(k);
      for (const k of tenants.store.keys()) tenant.enqueue(k);
    },
  });
  return { resourceQuota, tenant, replenishment };
}

class ResourceQuotaReconciler implements Reconciler {
  constructor(
    private readonly quotas: Quotas,
    private readonly informer: Informer,
    private readonly resyncMs: number,
  ) {}

  async reconcile(key: ObjectKey): Promise<Result | void> {
    if (!this.informer.store.get(formatKey(key)) || key.namespace === undefined) return;
    const r = await this.quotas.recountQuota(key.cluster, key.namespace, key.name);
    return { requeueAfter: r.requeueAfterMs ?? this.resyncMs };
  }
}

class TenantReconciler implements Reconciler {
  constructor(
    private readonly quotas: Quotas,
    private readonly informer: Informer,
    private readonly resyncMs: number,
  ) {}

  async reconcile(key: ObjectKey): Promise<Result | void> {
    if (!this.informer.store.get(formatKey(key))) return;
    const r = await this.quotas.recountTenant(key.cluster, key.name);
    return { requeueAfter: r.requeueAfterMs ?? this.resyncMs };
  }
}

interface ReplenishmentHandlers {
  /** An object in `namespace` was deleted. */
  deleted(cluster: LogicalCluster, namespace: string): void;
  /** A Cluster or NodePool in `namespace` was created, deleted, or a NodePool resized. */
  tenantObjectChanged(cluster: LogicalCluster, namespace: string): void;
  /** After (re)starting the watch: anything may have been missed. */
  resyncAll(): void;
}

/** One store watch over every kind, keys only: deletions and Cluster/NodePool changes → recounts. */
class Replenishment implements Runnable {
  readonly name = 'quota-replenishment';

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly handlers: ReplenishmentHandlers,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    let first = true;
    while (!signal.aborted) {
      try {
        const from = await this.store.currentRevision();
        if (!first) this.handlers.resyncAll();
        first = false;
        for await (const msg of this.store.watch('/registry/', from, { signal })) {
          if (msg.kind !== 'events') continue;
          for (const e of msg.events) this.observe(e.type, e.kv, e.prev);
        }
      } catch (err) {
        if (signal.aborted) return;
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'quota replenishment watch failed; restarting');
      }
      await sleep(500, signal);
    }
  }

  private observe(type: 'create' | 'update' | 'delete', kv: KeyValue, prev: KeyValue | undefined): void {
    const parts = parseStorageKey(kv.key);
    if (parts?.namespace === undefined) return;
    if (type === 'delete') this.handlers.deleted(parts.cluster, parts.namespace);
    const rt = { group: parts.group, plural: parts.plural };
    if (isCluster(rt) && type !== 'update') this.handlers.tenantObjectChanged(parts.cluster, parts.namespace);
    if (isNodePool(rt) && (type !== 'update' || resized(kv, prev))) this.handlers.tenantObjectChanged(parts.cluster, parts.namespace);
  }
}

/** Whether a NodePool update changed what it consumes (replicas or flavor). */
function resized(kv: KeyValue, prev: KeyValue | undefined): boolean {
  if (!prev) return true;
  try {
    const a = JSON.parse(prev.value.toString('utf8')) as KObject;
    const b = JSON.parse(kv.value.toString('utf8')) as KObject;
    return replicasOf(a) !== replicasOf(b) || flavorOf(a) !== flavorOf(b);
  } catch {
    return true;
  }
}

