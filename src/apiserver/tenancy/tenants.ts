// The tenancy index: per logical cluster, each Tenant's members (users and groups with their role),
// the namespaces labelled `kumo.dev/tenant: <tenant>`, and the reverse maps (user → tenants, group →
// tenants) that answer "which tenants is this caller in" without a scan. Fed object by object from the
// store (cache.ts); every decision of the tenancy authorizer is a few map lookups here.
import type { KObject } from '../../api/types.js';
import type { UserInfo } from '../auth/types.js';
import type { LogicalCluster } from '../keys.js';
import { isObject } from '../object.js';
import { isTenantRole, strongerRole, TENANT_LABEL, type TenantRole } from './roles.js';

export interface TenantMember {
  kind: 'User' | 'Group';
  name: string;
  role: TenantRole;
}

/** The members of a Tenant object (entries that are not well formed are skipped). */
export function tenantMembers(obj: KObject): TenantMember[] {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const out: TenantMember[] = [];
  if (!Array.isArray(spec.members)) return out;
  for (const m of spec.members) {
    if (!isObject(m)) continue;
    const { kind, name, role } = m;
    if ((kind === 'User' || kind === 'Group') && typeof name === 'string' && name !== '' && isTenantRole(role)) out.push({ kind, name, role });
  }
  return out;
}

/** The strongest role `user` holds through `members` (directly or through one of its groups). */
export function roleFromMembers(user: UserInfo, members: readonly TenantMember[]): TenantRole | undefined {
  let best: TenantRole | undefined;
  for (const m of members) {
    if (m.kind === 'User' ? m.name === user.username : user.groups.includes(m.name)) best = strongerRole(best, m.role);
  }
  return best;
}

/** The tenant a Namespace object is labelled for ('' when none). */
export function namespaceTenant(obj: KObject): string {
  const md = isObject(obj.metadata) ? obj.metadata : {};
  const labels = isObject(md.labels) ? md.labels : {};
  const t = labels[TENANT_LABEL];
  return typeof t === 'string' ? t : '';
}

interface TenantEntry {
  users: Map<string, TenantRole>;
  groups: Map<string, TenantRole>;
}

function addTo(index: Map<string, Map<string, TenantRole>>, subject: string, tenant: string, role: TenantRole): void {
  let m = index.get(subject);
  if (!m) index.set(subject, (m = new Map<string, TenantRole>()));
  m.set(tenant, role);
}

function removeFrom(index: Map<string, Map<string, TenantRole>>, subject: string, tenant: string): void {
  const m = index.get(subject);
  if (!m) return;
  m.delete(tenant);
  if (m.size === 0) index.delete(subject);
}

/** One logical cluster's tenancy. */
export class ClusterTenancy {
  readonly tenants = new Map<string, TenantEntry>();
  /** namespace → tenant, for labelled namespaces. */
  readonly namespaceTenants = new Map<string, string>();
  /** tenant → its namespaces. */
  readonly tenantNamespaces = new Map<string, Set<string>>();
  private readonly byUser = new Map<string, Map<string, TenantRole>>();
  private readonly byGroup = new Map<string, Map<string, TenantRole>>();

  setTenant(name: string, members: readonly TenantMember[] | null): void {
    const old = this.tenants.get(name);
    if (old) {
      for (const u of old.users.keys()) removeFrom(this.byUser, u, name);
      for (const g of old.groups.keys()) removeFrom(this.byGroup, g, name);
      this.tenants.delete(name);
    }
    if (members === null) return;
    const e: TenantEntry = { users: new Map(), groups: new Map() };
    for (const m of members) {
      const map = m.kind === 'User' ? e.users : e.groups;
      map.set(m.name, strongerRole(map.get(m.name), m.role) as TenantRole);
    }
    for (const [u, r] of e.users) addTo(this.byUser, u, name, r);
    for (const [g, r] of e.groups) addTo(this.byGroup, g, name, r);
    this.tenants.set(name, e);
  }

  setNamespace(name: string, tenant: string | null): void {
    const old = this.namespaceTenants.get(name);
    if (old !== undefined) {
      const set = this.tenantNamespaces.get(old);
      set?.delete(name);
      if (set?.size === 0) this.tenantNamespaces.delete(old);
      this.namespaceTenants.delete(name);
    }
    if (tenant === null || tenant === '') return;
    this.namespaceTenants.set(name, tenant);
    let set = this.tenantNamespaces.get(tenant);
    if (!set) this.tenantNamespaces.set(tenant, (set = new Set()));
    set.add(name);
  }

  /** The strongest role of `user` in `tenant` (undefined: none, or no such tenant). */
  roleIn(user: UserInfo, tenant: string): TenantRole | undefined {
    const e = this.tenants.get(tenant);
    if (!e) return undefined;
    let best = e.users.get(user.username);
    if (best === 'admin' || e.groups.size === 0) return best;
    for (const g of user.groups) {
      const r = e.groups.get(g);
      if (r !== undefined) {
        best = strongerRole(best, r);
        if (best === 'admin') return best;
      }
    }
    return best;
  }

  /** Every tenant `user` is in, with its strongest role there. */
  rolesOf(user: UserInfo): Map<string, TenantRole> {
    const out = new Map<string, TenantRole>();
    const merge = (m: Map<string, TenantRole> | undefined): void => {
      if (m) for (const [t, r] of m) out.set(t, strongerRole(out.get(t), r) as TenantRole);
    };
    merge(this.byUser.get(user.username));
    for (const g of user.groups) merge(this.byGroup.get(g));
    return out;
  }

  /** Whether `user` is in any tenant (the filtered lists are open to them). */
  inAnyTenant(user: UserInfo): boolean {
    if (this.byUser.has(user.username)) return true;
    for (const g of user.groups) if (this.byGroup.has(g)) return true;
    return false;
  }

  /** Whether `user` administers any tenant. */
  adminOfAny(user: UserInfo): boolean {
    const admin = (m: Map<string, TenantRole> | undefined): boolean => {
      if (m) for (const r of m.values()) if (r === 'admin') return true;
      return false;
    };
    if (admin(this.byUser.get(user.username))) return true;
    for (const g of user.groups) if (admin(this.byGroup.get(g))) return true;
    return false;
  }
}

export type TenancyKind = 'Tenant' | 'Namespace';

/** Every logical cluster's tenancy. */
export class TenancyIndex {
  private readonly clusters = new Map<LogicalCluster, ClusterTenancy>();

  cluster(c: LogicalCluster): ClusterTenancy | undefined {
    return this.clusters.get(c);
  }

  private ensure(c: LogicalCluster): ClusterTenancy {
    let t = this.clusters.get(c);
    if (!t) this.clusters.set(c, (t = new ClusterTenancy()));
    return t;
  }

  /** Applies one object (null: deleted) of `kind`. */
  apply(kind: TenancyKind, cluster: LogicalCluster, name: string, obj: KObject | null): void {
    if (obj === null && !this.clusters.has(cluster)) return;
    const t = this.ensure(cluster);
    if (kind === 'Tenant') t.setTenant(name, obj === null ? null : tenantMembers(obj));
    else t.setNamespace(name, obj === null ? null : namespaceTenant(obj));
  }

  /** Forgets every object of `kind` (before a relist). */
  clear(kind: TenancyKind): void {
    for (const t of this.clusters.values()) {
      if (kind === 'Tenant') for (const name of [...t.tenants.keys()]) t.setTenant(name, null);
      else for (const name of [...t.namespaceTenants.keys()]) t.setNamespace(name, null);
    }
  }

  /** The tenant `namespace` belongs to ('' when none). */
  tenantOf(cluster: LogicalCluster, namespace: string): string {
    return this.clusters.get(cluster)?.namespaceTenants.get(namespace) ?? '';
  }

  counts(): { tenants: number; namespaces: number } {
    let tenants = 0;
    let namespaces = 0;
    for (const t of this.clusters.values()) {
      tenants += t.tenants.size;
      namespaces += t.namespaceTenants.size;
    }
    return { tenants, namespaces };
  }
}
