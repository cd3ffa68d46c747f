// The controllers of the management plane, composed on the controller runtime (STYLE.md practice 7:
// caches, wait for sync, then controllers):
// - one shared informer cache over every logical cluster (ALL_CLUSTERS), through the in-process client;
// - the CRD controller on every replica (each one must serve every CRD, as every kube-apiserver does);
// - the namespace controller, the garbage collector, the ClusterRole aggregation controller and the
//   quota controllers (ResourceQuota and Tenant usage recounts, when `quotas` is given) only on the
//   replica holding the `kube-system/kumo-controller-manager` Lease (kube-controller-manager's
//   leader election), so several servers sharing one etcd do not race each other's writes.
// Event TTL is not a controller: the store expires Events itself (etcd leases, as kube-apiserver's
// --event-ttl; the SQLite backend's TTL sweep).
import crypto from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { ApiEngine } from '../apiserver/engine.js';
import { ALL_CLUSTERS, ROOT_CLUSTER } from '../apiserver/keys.js';
import { LoopbackClient } from '../client/loopback.js';
import { crdController } from '../controllers/crd/controller.js';
import { GarbageCollector } from '../controllers/gc/controller.js';
import { namespaceController } from '../controllers/namespace/controller.js';
import { clusterRoleAggregationController } from '../controllers/rbac/aggregation.js';
import { quotaControllers } from '../controllers/quota/controller.js';
import type { Quotas } from '../apiserver/quota/quota.js';
import { launch, type Launched } from '../lib/runnable.js';
import { InformerCache } from '../runtime/cache.js';
import { LeaderElector } from '../runtime/leaderelection.js';
import type { Store } from '../store/types.js';

export const CONTROLLER_MANAGER_LEASE = { cluster: ROOT_CLUSTER, namespace: 'kube-system', name: 'kumo-controller-manager' };

export interface RunningControllers {
  /** Resolves once every CRD in the store is served (the CRD informer has synced), or after `timeoutMs`. */
  crdsServed(timeoutMs: number): Promise<boolean>;
  /** Who holds the controller-manager lease from this replica's view ('' before the first try). */
  leader(): string;
  /** Stops leader election (and with it the leader-only controllers), the CRD controller, the cache. */
  stop(graceMs: number): Promise<void>;
}

export interface ControllerOptions {
  /** Leader election timings (tests shorten them). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Quota admission's state: its recounts run in the quota controllers (absent: no quota controllers). */
  quotas?: Quotas;
  /** How often every quota is recounted regardless of changes (default 5 minutes). */
  quotaResyncMs?: number;
}

export function startControllers(engine: ApiEngine, store: Store, log: Logger, opts: ControllerOptions = {}): RunningControllers {
  const client = new LoopbackClient(engine);
  const cache = new InformerCache({ client, log, cluster: ALL_CLUSTERS });
  const crd = crdController({ engine, client, cache, log });
  const namespaces = namespaceController({ client, cache, log, namespaceRt: engine.namespaceResourceType, kindsIn: (c) => engine.resourceTypes(c) });
  const gc = new GarbageCollector(engine, store, log);
  const clusterRoleRt = engine.resourceTypes().find((rt) => rt.group === 'rbac.authorization.k8s.io' && rt.plural === 'clusterroles');
  if (!clusterRoleRt) throw new Error('the ClusterRole kind must be served');
  const aggregation = clusterRoleAggregationController({ client, cache, log, clusterRoleRt });
  const kind = (group: string, plural: string) => engine.resourceTypes().find((rt) => rt.group === group && rt.plural === plural);
  const quotaRt = kind('', 'resourcequotas');
  const tenantRt = kind('kumo.dev', 'tenants');
  const quota =
    opts.quotas && quotaRt && tenantRt
      ? quotaControllers({
          quotas: opts.quotas,
          cache,
          store,
          log,
          resourceQuotaRt: quotaRt,
          tenantRt,
          namespaceRt: engine.namespaceResourceType,
          ...(opts.quotaResyncMs !== undefined ? { resyncMs: opts.quotaResyncMs } : {}),
        })
      : undefined;
  const quotaRunnables = quota ? [quota.resourceQuota, quota.tenant, quota.replenishment] : [];
  const failed = (name: string) => (err: unknown) => log.error({ runnable: name, err: err instanceof Error ? err.message : String(err) }, 'runnable failed');

  const identity = `${os.hostname()}_${crypto.randomUUID()}`;
  let leader = '';
  const elector = new LeaderElector({
    client,
    lease: CONTROLLER_MANAGER_LEASE,
    identity,
    log,
    ...(opts.leaseDurationMs !== undefined ? { leaseDurationMs: opts.leaseDurationMs } : {}),
    ...(opts.renewDeadlineMs !== undefined ? { renewDeadlineMs: opts.renewDeadlineMs } : {}),
    ...(opts.retryPeriodMs !== undefined ? { retryPeriodMs: opts.retryPeriodMs } : {}),
    callbacks: {
      onStartedLeading: async (signal) => {
        // The quota controllers follow the lease through one listener of their own (their workers each listen).
        const quotaAbort = new AbortController();
        signal.addEventListener('abort', () => quotaAbort.abort(), { once: true });
        const quotaSignal = quotaAbort.signal;
        log.info({ identity }, 'leading: namespace controller, garbage collector and clusterrole aggregation started');
        await Promise.allSettled([
          namespaces.start(signal).catch(failed(namespaces.name)),
          gc.start(signal).catch(failed(gc.name)),
          aggregation.start(signal).catch(failed(aggregation.name)),
          ...quotaRunnables.map((r) => r.start(quotaSignal).catch(failed(r.name))),
        ]);
      },
      onStoppedLeading: () => log.info({ identity }, 'no longer leading: namespace controller, garbage collector and clusterrole aggregation stopped'),
      onNewLeader: (id) => {
        leader = id;
      },
    },
  });

  const launched: Launched[] = [launch(cache, failed(cache.name)), launch(crd.controller, failed(crd.controller.name)), launch(elector, failed(elector.name))];
  return {
    async crdsServed(timeoutMs) {
      return crd.informer.waitForSync(AbortSignal.timeout(timeoutMs));
    },
    leader: () => leader,
    async stop(graceMs) {
      for (const r of [...launched].reverse()) {
        if ((await r.stop(graceMs)) === 'timeout') log.warn({ runnable: r.name, graceMs }, 'runnable still running after the grace period; going on without it');
      }
    },
  };
}
