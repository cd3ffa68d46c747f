// Keeps the PolicyIndex current from the store (apiserver/follow.ts): per RBAC kind, one list of every
// logical cluster's objects, then one watch from that list's revision, relisting after any failure.
// Four store watches serve every logical cluster — the same shape as the engine's object caches, and
// like kube's RBAC authorizer (informers), decisions follow writes by the watch's latency. `waitFor`
// closes that gap for a writer: the engine waits, after an RBAC write, until the index has seen it, so
// the response to a RoleBinding create means the binding is in force on this server
// (docs/adr/0004-authorization.md).
import type { Store } from '../../store/types.js';
import { StoreFollower, type FollowOptions } from '../follow.js';
import { resourcePrefix } from '../keys.js';
import { PolicyIndex, RBAC_GROUP, RBAC_PLURALS, type RbacKind } from './policy.js';

export interface PolicyCacheOptions extends FollowOptions<RbacKind> {
  /** Called after each batch of changes applied to the index (tests). */
  onChange?: (kind: RbacKind) => void;
}

const prefix = (kind: RbacKind): string => resourcePrefix({ group: RBAC_GROUP, plural: RBAC_PLURALS[kind] });

export class PolicyCache extends StoreFollower<RbacKind> {
  readonly index: PolicyIndex;

  constructor(store: Store, opts: PolicyCacheOptions = {}) {
    const index = new PolicyIndex();
    const prefixes: Record<RbacKind, string> = { ClusterRole: prefix('ClusterRole'), Role: prefix('Role'), ClusterRoleBinding: prefix('ClusterRoleBinding'), RoleBinding: prefix('RoleBinding') };
    super(
      store,
      prefixes,
      {
        clear: (kind) => index.clear(kind),
        apply: (kind, key, obj) => index.apply(kind, key.cluster, key.namespace ?? '', key.name, obj),
        ...(opts.onChange ? { changed: opts.onChange } : {}),
      },
      opts,
    );
    this.index = index;
  }
}
