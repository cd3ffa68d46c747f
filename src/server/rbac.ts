// The composition of RBAC for `kumo server`: the policy cache (one list + watch per RBAC kind over every
// logical cluster), the RBAC authorizer that `--authorization-mode=RBAC` puts in the chain, the engine's
// write-path hooks (escalation prevention, read-your-writes), the authorization reviews, impersonation,
// and the bootstrap policy of a logical cluster.
import type { Logger } from 'pino';
import type { ApiEngine } from '../apiserver/engine.js';
import type { Authorizer } from '../apiserver/auth/types.js';
import { rbacAdmission, rbacWritten } from '../apiserver/authz/admission.js';
import { ensureBootstrapPolicy } from '../apiserver/authz/bootstrap.js';
import { PolicyCache } from '../apiserver/authz/cache.js';
import { impersonator } from '../apiserver/authz/impersonation.js';
import { RBAC_GROUP } from '../apiserver/authz/policy.js';
import { RbacAuthorizer } from '../apiserver/authz/rbac.js';
import { authorizationReviews } from '../apiserver/authz/reviews.js';
import type { CreateOnlyResource } from '../apiserver/createonly.js';
import type { LogicalCluster } from '../apiserver/keys.js';
import { launch, type Launched } from '../lib/runnable.js';
import type { Store } from '../store/types.js';

/** The server's authorizer chain as RBAC needs it: the chain, and its members in order. */
export interface ChainRef {
  authorize: Authorizer['authorize'];
  readonly authorizers: readonly Authorizer[];
}

export interface Rbac {
  readonly cache: PolicyCache;
  /** What `--authorization-mode=RBAC` adds to the chain. */
  readonly authorizer: RbacAuthorizer;
  /** The engine's `admit` and `written` options. */
  readonly admit: ReturnType<typeof rbacAdmission>;
  readonly written: ReturnType<typeof rbacWritten>;
  /** The four authorization.k8s.io reviews, answered by the chain `chain()` returns. */
  reviews(chain: () => ChainRef): CreateOnlyResource[];
  /** The pipeline's impersonation step, authorized by the chain. */
  impersonator(chain: () => ChainRef): ReturnType<typeof impersonator>;
  /** Ensures the bootstrap roles and bindings in `cluster` (kube's rbac/bootstrap-roles). */
  bootstrap(engine: ApiEngine, cluster: LogicalCluster): Promise<void>;
  /** Starts following the store; resolves true once every kind is loaded (false after `timeoutMs`). */
  start(timeoutMs: number): Promise<boolean>;
  stop(graceMs: number): Promise<void>;
}

export function setUpRbac(store: Store, log: Logger): Rbac {
  const cache = new PolicyCache(store, { onError: (err, kind) => log.warn({ kind, err: err instanceof Error ? err.message : String(err) }, 'rbac policy cache relisting') });
  const authorizer = new RbacAuthorizer(cache.index);
  let running: Launched | undefined;
  const lazy = (chain: () => ChainRef): Authorizer => ({ name: 'chain', authorize: (a) => chain().authorize(a) });
  return {
    cache,
    authorizer,
    admit: rbacAdmission(cache, () => authorizer),
    written: rbacWritten(cache, 2000, (kind, revision) => log.warn({ kind, revision }, 'rbac policy cache is behind a write; answering anyway')),
    reviews: (chain) => authorizationReviews({ authorizer: lazy(chain), ruleResolvers: () => chain().authorizers }),
    impersonator: (chain) => impersonator(lazy(chain)),
    async bootstrap(engine, cluster) {
      const rt = (plural: string) => {
        const found = engine.resourceTypes(cluster).find((r) => r.group === RBAC_GROUP && r.plural === plural);
        if (!found) throw new Error(`${plural}.${RBAC_GROUP} is not served`);
        return engine.storage(found);
      };
      const r = await ensureBootstrapPolicy({ clusterRoles: rt('clusterroles'), clusterRoleBindings: rt('clusterrolebindings') }, cluster);
      if (r.created.length + r.updated.length > 0) log.info({ cluster, created: r.created.length, updated: r.updated }, 'rbac bootstrap policy reconciled');
    },
    async start(timeoutMs) {
      running ??= launch({ name: 'rbac-policy-cache', start: (signal) => cache.run(signal) }, (err) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'rbac policy cache failed'));
      return cache.waitForSync(AbortSignal.timeout(timeoutMs));
    },
    async stop(graceMs) {
      if (running && (await running.stop(graceMs)) === 'timeout') log.warn({ graceMs }, 'rbac policy cache still running after the grace period');
    },
  };
}
