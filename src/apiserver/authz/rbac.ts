// The RBAC authorizer (plugin/pkg/auth/authorizer/rbac): allows what a rule bound to the requester
// allows, and otherwise has no opinion (RBAC never denies). Reads the in-memory PolicyIndex, so a
// decision is a few map lookups; see policy.ts for the index and docs/adr/0004-authorization.md.
import type { LogicalCluster } from '../keys.js';
import type { Attributes, AuthorizationResult, Authorizer, NonResourceRule, ResourceRule, RulesResult, UserInfo } from '../auth/types.js';
import { aggregateErrors, type PolicyIndex } from './policy.js';
import { ruleAllows } from './rules.js';

export class RbacAuthorizer implements Authorizer {
  readonly name = 'RBAC';

  constructor(private readonly index: PolicyIndex) {}

  authorize(a: Attributes): AuthorizationResult {
    let reason = '';
    let errors: string[] | undefined;
    this.index.visitRulesFor(a.user, a.cluster, a.namespace, (rule, source, error) => {
      if (rule !== null && ruleAllows(a, rule)) {
        reason = `RBAC: allowed by ${source()}`;
        return false;
      }
      if (error !== undefined) (errors ??= []).push(error);
      return true;
    });
    if (reason !== '') return { decision: 'allow', reason };
    return { decision: 'noOpinion', reason: errors ? `RBAC: ${aggregateErrors(errors)}` : '' };
  }

  rulesFor(user: UserInfo, cluster: LogicalCluster, namespace: string): RulesResult {
    const { rules, errors } = this.index.rulesFor(user, cluster, namespace);
    const resourceRules: ResourceRule[] = [];
    const nonResourceRules: NonResourceRule[] = [];
    for (const r of rules) {
      if ((r.resources ?? []).length > 0) {
        const rr: ResourceRule = { verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [] };
        if ((r.resourceNames ?? []).length > 0) rr.resourceNames = r.resourceNames ?? [];
        resourceRules.push(rr);
      }
      if ((r.nonResourceURLs ?? []).length > 0) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs ?? [] });
    }
    const out: RulesResult = { resourceRules, nonResourceRules, incomplete: false };
    if (errors.length > 0) out.evaluationError = aggregateErrors(errors);
    return out;
  }
}
