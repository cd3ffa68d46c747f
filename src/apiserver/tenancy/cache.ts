// Keeps the TenancyIndex current from the store (apiserver/follow.ts, as RBAC's PolicyCache):
// Tenants and Namespaces of every logical cluster, each one list and then one watch from that list's
// revision (nothing missed, nothing twice), relisting after any failure. `waitFor`
// gives a writer read-your-writes: the engine waits after a Tenant or Namespace write until the index
// has seen it, so alice may use a namespace as soon as its create returns.
import type { Store } from '../../store/types.js';
import { StoreFollower, type FollowOptions } from '../follow.js';
import { resourcePrefix } from '../keys.js';
import { KUMO_GROUP } from './roles.js';
import { TenancyIndex, type TenancyKind } from './tenants.js';

const PREFIX: Record<TenancyKind, string> = {
  Tenant: resourcePrefix({ group: KUMO_GROUP, plural: 'tenants' }),
  Namespace: resourcePrefix({ group: '', plural: 'namespaces' }),
};

/** The tenancy kind stored under a resource (undefined for any other). */
export function tenancyKindOf(rt: { group: string; plural: string }): TenancyKind | undefined {
  if (rt.group === KUMO_GROUP && rt.plural === 'tenants') return 'Tenant';
  if (rt.group === '' && rt.plural === 'namespaces') return 'Namespace';
  return undefined;
}

export type TenancyCacheOptions = FollowOptions<TenancyKind>;

export class TenancyCache extends StoreFollower<TenancyKind> {
  readonly index: TenancyIndex;

  constructor(store: Store, opts: TenancyCacheOptions = {}) {
    const index = new TenancyIndex();
    super(store, PREFIX, { clear: (kind) => index.clear(kind), apply: (kind, key, obj) => index.apply(kind, key.cluster, key.name, obj) }, opts);
    this.index = index;
  }
}
