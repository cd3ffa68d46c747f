// The ClusterRole aggregation controller (kube-controller-manager's clusterrole-aggregation) on the
// controller runtime: one informer over the ClusterRoles of every logical cluster. A ClusterRole with
// an `aggregationRule` gets, as its rules, the union of the rules of the ClusterRoles its selectors
// match in the same logical cluster (apiserver/authz/aggregation.ts decides); any ClusterRole change
// requeues every aggregated role of its cluster, so `admin` follows `edit`, which follows `view`.
import type { Logger } from 'pino';
import type { KObject } from '../../api/types.js';
import { aggregationSelectors, reconcileAggregation } from '../../apiserver/authz/aggregation.js';
import type { LogicalCluster } from '../../apiserver/keys.js';
import { isKumoError } from '../../lib/errors.js';
import type { Client, ClientResource } from '../../client/client.js';
import { formatKey, keyOf, type ObjectKey } from '../../client/keys.js';
import type { InformerCache } from '../../runtime/cache.js';
import { ControllerBuilder, TerminalError, type Controller, type Reconciler, type Result } from '../../runtime/controller.js';
import type { Informer } from '../../runtime/informer.js';

const AGGREGATED_INDEX = 'aggregated';

export interface AggregationControllerOptions {
  client: Client;
  /** An ALL_CLUSTERS informer cache. */
  cache: InformerCache;
  log: Logger;
  /** The ClusterRole kind. */
  clusterRoleRt: ClientResource;
}

export function clusterRoleAggregationController(opts: AggregationControllerOptions): Controller {
  const informer = opts.cache.informer(opts.clusterRoleRt, { [AGGREGATED_INDEX]: (o) => (aggregationSelectors(o) !== undefined ? ['true'] : []) });
  const aggregatedIn = (cluster: LogicalCluster): ObjectKey[] =>
    informer.store
      .byIndex(AGGREGATED_INDEX, 'true')
      .filter((o) => informer.clusterOf(o) === cluster)
      .map((o) => keyOf(cluster, o));
  return new ControllerBuilder('clusterrole-aggregation', { cache: opts.cache, log: opts.log.child({ controller: 'clusterrole-aggregation' }) })
    .for(opts.clusterRoleRt)
    .watches(opts.clusterRoleRt, (_o, cluster) => aggregatedIn(cluster))
    .complete(new AggregationReconciler(opts, informer));
}

class AggregationReconciler implements Reconciler {
  constructor(
    private readonly opts: AggregationControllerOptions,
    private readonly informer: Informer,
  ) {}

  async reconcile(key: ObjectKey, signal: AbortSignal): Promise<Result | void> {
    const role = this.informer.store.get(formatKey(key));
    if (!role || aggregationSelectors(role) === undefined) return;
    const all: KObject[] = this.informer.store.list().filter((o) => this.informer.clusterOf(o) === key.cluster);
    let next: KObject | null;
    try {
      next = reconcileAggregation(structuredClone(role), all);
    } catch (err) {
      // A selector that does not parse cannot be fixed by retrying; the role keeps its rules.
      if (isKumoError(err, 'BadRequest')) throw new TerminalError(`clusterrole ${key.name}: ${err.message}`, { cause: err });
      throw err;
    }
    if (next === null) return;
    try {
      await this.opts.client.update(this.opts.clusterRoleRt, { cluster: key.cluster }, next, { signal });
    } catch (err) {
      if (isKumoError(err, 'NotFound')) return;
      throw err;
    }
  }
}
