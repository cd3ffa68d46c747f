// What each tenant role may do, as RBAC rules (the same PolicyRule shape and matching as the RBAC
// authorizer), so that a decision and what SelfSubjectRulesReview reports come from one table:
// - admin: everything in the tenant's namespaces; get/update/patch of its own Tenant (members — the
//   quota is the system admins', see admission.ts); create of namespaces labelled for the tenant.
// - member: reads everything in the tenant's namespaces, writes the kumo.dev kinds of its clusters and
//   the workload kinds; the Tenant is read-only.
// - viewer: get/list/watch in the tenant's namespaces, Secrets (and ImportTokens, which carry a join
//   token) excepted; the Tenant is read-only.
// System admins are the groups system:masters and kumo:system-admins (RBAC's cluster-admin bindings).
import type { UserInfo } from '../auth/types.js';
import { MASTERS_GROUP } from '../auth/types.js';
import { KUMO_SYSTEM_ADMINS_GROUP } from '../authz/bootstrap.js';
import type { PolicyRule } from '../authz/rules.js';

export const TENANT_LABEL = 'kumo.dev/tenant';
export const KUMO_GROUP = 'kumo.dev';
export const SYSTEM_ADMIN_GROUPS: readonly string[] = [MASTERS_GROUP, KUMO_SYSTEM_ADMINS_GROUP];

export type TenantRole = 'admin' | 'member' | 'viewer';
export const ROLE_RANK: Record<TenantRole, number> = { viewer: 1, member: 2, admin: 3 };

export function isTenantRole(v: unknown): v is TenantRole {
  return v === 'admin' || v === 'member' || v === 'viewer';
}

/** The stronger of two roles (undefined: none). */
export function strongerRole(a: TenantRole | undefined, b: TenantRole | undefined): TenantRole | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return ROLE_RANK[a] >= ROLE_RANK[b] ? a : b;
}

/** Members of system:masters or kumo:system-admins. */
export function isSystemAdmin(user: UserInfo): boolean {
  for (const g of user.groups) if (g === MASTERS_GROUP || g === KUMO_SYSTEM_ADMINS_GROUP) return true;
  return false;
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups, resources };
}

/** The kumo.dev kinds of a tenant's clusters that members manage. */
const KUMO_MEMBER_KINDS = ['addons', 'clusters', 'etcdrestores', 'etcdsnapshots', 'importtokens', 'machines', 'nodepools', 'nodepools/scale'];

const ADMIN_RULES: readonly PolicyRule[] = [rule(['*'], ['*'], ['*'])];

const MEMBER_RULES: readonly PolicyRule[] = [
  rule(READ, ['*'], ['*']),
  rule(WRITE, [KUMO_GROUP], KUMO_MEMBER_KINDS),
  rule(['create', 'delete', 'get', 'patch', 'update'], [KUMO_GROUP], ['clusters/proxy']),
  rule(WRITE, [''], ['configmaps', 'endpoints', 'events', 'persistentvolumeclaims', 'pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services']),
  rule(['create'], [''], ['pods/eviction', 'serviceaccounts/token']),
  rule(WRITE, ['events.k8s.io'], ['events']),
  rule(WRITE, ['coordination.k8s.io'], ['leases']),
  rule(WRITE, ['discovery.k8s.io'], ['endpointslices']),
  rule(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
  rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
  rule(WRITE, ['policy'], ['poddisruptionbudgets']),
  rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
];

const VIEWER_RULES: readonly PolicyRule[] = [
  rule(READ, [''], [
    'bindings', 'configmaps', 'endpoints', 'events', 'limitranges', 'namespaces', 'namespaces/status', 'persistentvolumeclaims', 'persistentvolumeclaims/status',
    'pods', 'pods/log', 'pods/status', 'replicationcontrollers', 'replicationcontrollers/scale', 'replicationcontrollers/status', 'resourcequotas',
    'resourcequotas/status', 'serviceaccounts', 'services', 'services/status',
  ]),
  rule(READ, ['events.k8s.io'], ['events']),
  rule(READ, ['coordination.k8s.io'], ['leases']),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
  rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
  rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
  rule(READ, [KUMO_GROUP], [
    'addons', 'addons/status', 'clusters', 'clusters/status', 'etcdrestores', 'etcdrestores/status', 'etcdsnapshots', 'etcdsnapshots/status',
    'machines', 'machines/status', 'nodepools', 'nodepools/scale', 'nodepools/status',
  ]),
];

/** What `role` may do inside one of the tenant's namespaces. */
export function namespaceRules(role: TenantRole): readonly PolicyRule[] {
  return role === 'admin' ? ADMIN_RULES : role === 'member' ? MEMBER_RULES : VIEWER_RULES;
}

/** The verbs of the filtered lists (Tenants and Namespaces), granted to anyone in at least one tenant. */
export const FILTERED_LIST_VERBS = ['list', 'watch'];

/**
 * The cluster-scoped rules of a user with `roles` (tenant → role; empty: none): read of its Tenants by
 * name, update/patch of those it administers, the filtered lists of Tenants and Namespaces, and create
 * of namespaces (admission checks the label) for tenant admins.
 */
export function clusterRules(roles: ReadonlyMap<string, TenantRole>): PolicyRule[] {
  if (roles.size === 0) return [];
  const all = [...roles.keys()].sort();
  const admin = all.filter((t) => roles.get(t) === 'admin');
  const out: PolicyRule[] = [
    { verbs: ['get', 'list', 'watch'], apiGroups: [KUMO_GROUP], resources: ['tenants'], resourceNames: all },
    rule(FILTERED_LIST_VERBS, [KUMO_GROUP], ['tenants']),
    rule(FILTERED_LIST_VERBS, [''], ['namespaces']),
  ];
  if (admin.length > 0) {
    out.push({ verbs: ['update', 'patch'], apiGroups: [KUMO_GROUP], resources: ['tenants'], resourceNames: admin });
    out.push(rule(['create'], [''], ['namespaces']));
  }
  return out;
}
