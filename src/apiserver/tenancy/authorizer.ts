// The tenancy authorizer: permissions computed from Tenant objects and the namespaces labelled for
// them, never stored as RoleBindings (docs/adr/0006-tenancy.md). It allows or has no opinion — it never
// denies — and sits after RBAC in the chain. A namespaced request is decided by the caller's role in
// the namespace's tenant (roles.ts's rules, matched as RBAC matches them); a cluster-scoped one on
// tenants or namespaces by the caller's tenants. `rulesFor` reports the same rules, so `kubectl auth
// can-i --list` and SelfSubjectRulesReview show them.
import type { Attributes, AuthorizationResult, Authorizer, RulesResult, UserInfo } from '../auth/types.js';
import type { LogicalCluster } from '../keys.js';
import { rulesAllow, type PolicyRule } from '../authz/rules.js';
import { clusterRules, KUMO_GROUP, namespaceRules } from './roles.js';
import type { TenancyIndex } from './tenants.js';

const NO_OPINION: AuthorizationResult = { decision: 'noOpinion', reason: '' };

export const FILTERED_LIST_REASON = 'tenancy: the list is narrowed to the caller\'s tenants';

function isTenants(a: Attributes): boolean {
  return a.apiGroup === KUMO_GROUP && a.resource === 'tenants';
}

function isNamespaces(a: Attributes): boolean {
  return a.apiGroup === '' && a.resource === 'namespaces';
}

export class TenancyAuthorizer implements Authorizer {
  readonly name = 'Tenancy';

  constructor(private readonly index: TenancyIndex) {}

  authorize(a: Attributes): AuthorizationResult {
    if (!a.isResourceRequest) return NO_OPINION;
    const t = this.index.cluster(a.cluster);
    if (!t) return NO_OPINION;
    // In a tenant's namespace: the caller's role there (a RoleBinding's scope).
    if (a.namespace !== '') {
      const tenant = t.namespaceTenants.get(a.namespace);
      const role = tenant === undefined ? undefined : t.roleIn(a.user, tenant);
      if (role !== undefined && rulesAllow(a, namespaceRules(role))) return { decision: 'allow', reason: `tenancy: ${role} of tenant ${JSON.stringify(tenant)}` };
    }
    // The cluster-wide rules (roles.ts clusterRules), whatever the request's namespace, as a
    // ClusterRoleBinding's (kubectl auth can-i asks about cluster-scoped kinds in its namespace).
    if (a.subresource !== '') return NO_OPINION;
    const listing = a.verb === 'list' || a.verb === 'watch';
    if (isTenants(a)) {
      if (a.name !== '') {
        const role = t.roleIn(a.user, a.name);
        if (role !== undefined && (a.verb === 'get' || listing || (role === 'admin' && (a.verb === 'update' || a.verb === 'patch')))) {
          return { decision: 'allow', reason: `tenancy: ${role} of tenant ${JSON.stringify(a.name)}` };
        }
      }
      // The filtered list (the engine narrows it to the caller's tenants).
      if (listing && t.inAnyTenant(a.user)) return { decision: 'allow', reason: FILTERED_LIST_REASON };
      return NO_OPINION;
    }
    if (isNamespaces(a)) {
      if (listing && t.inAnyTenant(a.user)) return { decision: 'allow', reason: FILTERED_LIST_REASON };
      if (a.verb === 'create' && t.adminOfAny(a.user)) return { decision: 'allow', reason: 'tenancy: tenant admin (the namespace must be labelled for a tenant it administers)' };
    }
    return NO_OPINION;
  }

  rulesFor(user: UserInfo, cluster: LogicalCluster, namespace: string): RulesResult {
    const t = this.index.cluster(cluster);
    const resourceRules: PolicyRule[] = [];
    if (t) {
      const tenant = namespace !== '' ? t.namespaceTenants.get(namespace) : undefined;
      const role = tenant !== undefined ? t.roleIn(user, tenant) : undefined;
      if (role !== undefined) resourceRules.push(...namespaceRules(role));
      resourceRules.push(...clusterRules(t.rolesOf(user)));
    }
    return {
      resourceRules: resourceRules.map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) })),
      nonResourceRules: [],
      incomplete: false,
    };
  }
}
