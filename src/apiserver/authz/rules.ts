// RBAC's pure rule logic, as Kubernetes has it (pkg/apis/rbac/v1/evaluation_helpers.go,
// plugin/pkg/auth/authorizer/rbac RuleAllows, pkg/registry/rbac/validation policy_comparator.go and
// policy_compact.go): whether a rule allows a request, whether one set of rules covers another (the
// escalation check), and the compact strings kube's messages print.
import type { Attributes } from '../auth/types.js';

/** rbacv1.PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export const VERB_ALL = '*';
export const API_GROUP_ALL = '*';
export const RESOURCE_ALL = '*';
export const NON_RESOURCE_ALL = '*';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  for (const v of rule.verbs) if (v === VERB_ALL || v === verb) return true;
  return false;
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  for (const g of rule.apiGroups ?? []) if (g === API_GROUP_ALL || g === group) return true;
  return false;
}

/** `combined` is `resource` or `resource/subresource`; a rule's `*​/subresource` matches any resource's. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === RESOURCE_ALL || r === combined) return true;
    if (subresource !== '' && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return names.includes(name);
}

/** `*` matches everything; a trailing `*` matches by prefix (`/apis/*`). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === NON_RESOURCE_ALL || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

/** What of a request a rule is matched against (a subset of Attributes). */
export type RuleRequest = Pick<Attributes, 'verb' | 'isResourceRequest' | 'path' | 'apiGroup' | 'resource' | 'subresource' | 'name'>;

/** RuleAllows. */
export function ruleAllows(req: RuleRequest, rule: PolicyRule): boolean {
  if (req.isResourceRequest) {
    const combined = req.subresource !== '' ? `${req.resource}/${req.subresource}` : req.resource;
    return verbMatches(rule, req.verb) && apiGroupMatches(rule, req.apiGroup) && resourceMatches(rule, combined, req.subresource) && resourceNameMatches(rule, req.name);
  }
  return verbMatches(rule, req.verb) && nonResourceURLMatches(rule, req.path);
}

export function rulesAllow(req: RuleRequest, rules: readonly PolicyRule[]): boolean {
  for (const r of rules) if (ruleAllows(req, r)) return true;
  return false;
}

// ---- escalation: does the owner hold every permission it grants? ------------------------------------

/** Splits a rule into rules of one group, resource, verb and resource name (or one URL and verb). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length > 0) for (const n of names) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [n] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function hasAll(set: readonly string[], wanted: readonly string[]): boolean {
  for (const w of wanted) if (!set.includes(w)) return false;
  return true;
}

function nonResourceURLCovers(owner: string, sub: string): boolean {
  if (owner === sub) return true;
  return owner.endsWith('*') && sub.startsWith(owner.replace(/\*+$/, ''));
}

/** ruleCovers: the owner rule (any shape) covers a broken-down rule. */
export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = owner.verbs.includes(VERB_ALL) || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups ?? []).includes(API_GROUP_ALL) || hasAll(owner.apiGroups ?? [], sub.apiGroups ?? []);
  const resources = (owner.resources ?? []).includes(RESOURCE_ALL) || hasAll(owner.resources ?? [], sub.resources ?? []);
  const urls = (sub.nonResourceURLs ?? []).every((p) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, p)));
  const ownerNames = owner.resourceNames ?? [];
  const subNames = sub.resourceNames ?? [];
  const names = subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames);
  return verbs && groups && resources && names && urls;
}

/** Covers: whether `owner` rules cover `servant` rules, and the broken-down rules they do not. */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const rule of servant) {
    for (const sub of breakdownRule(rule)) {
      if (!owner.some((o) => ruleCovers(o, sub))) missing.push(sub);
    }
  }
  return { covered: missing.length === 0, missing };
}

/**
 * CompactRules: rules of exactly one group and one resource, and nothing else but verbs, are merged
 * per group/resource (their verbs joined); other rules stay as they are.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = (r.apiGroups ?? []).length === 1 && (r.resources ?? []).length === 1 && (r.resourceNames ?? []).length === 0 && (r.nonResourceURLs ?? []).length === 0;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const key = `${r.apiGroups?.[0] ?? ''}\u0000${r.resources?.[0] ?? ''}`;
    const existing = simple.get(key);
    if (existing) {
      for (const v of r.verbs) if (!existing.verbs.includes(v)) existing.verbs.push(v);
    } else {
      const copy: PolicyRule = { apiGroups: [...(r.apiGroups ?? [])], resources: [...(r.resources ?? [])], verbs: [...r.verbs] };
      simple.set(key, copy);
      out.push(copy);
    }
  }
  return out;
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** rbacv1helpers.CompactString: `{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if ((r.apiGroups ?? []).length > 0) parts.push(`APIGroups:${goQuoteList(r.apiGroups ?? [])}`);
  if ((r.resources ?? []).length > 0) parts.push(`Resources:${goQuoteList(r.resources ?? [])}`);
  if ((r.nonResourceURLs ?? []).length > 0) parts.push(`NonResourceURLs:${goQuoteList(r.nonResourceURLs ?? [])}`);
  if ((r.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${goQuoteList(r.resourceNames ?? [])}`);
  if (r.verbs.length > 0) parts.push(`Verbs:${goQuoteList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** A PolicyRule read from a stored object (tolerating missing or malformed fields). */
export function policyRuleFrom(v: unknown): PolicyRule | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
  const rule: PolicyRule = { verbs: strings(o.verbs) };
  const groups = strings(o.apiGroups);
  const resources = strings(o.resources);
  const names = strings(o.resourceNames);
  const urls = strings(o.nonResourceURLs);
  if (groups.length > 0) rule.apiGroups = groups;
  if (resources.length > 0) rule.resources = resources;
  if (names.length > 0) rule.resourceNames = names;
  if (urls.length > 0) rule.nonResourceURLs = urls;
  return rule;
}

export function policyRulesFrom(v: unknown): PolicyRule[] {
  if (!Array.isArray(v)) return [];
  const out: PolicyRule[] = [];
  for (const r of v) {
    const rule = policyRuleFrom(r);
    if (rule) out.push(rule);
  }
  return out;
}

/** The rule as JSON (the field order kube writes, empty lists left out). */
export function policyRuleJSON(r: PolicyRule): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if ((r.apiGroups ?? []).length > 0) o.apiGroups = r.apiGroups;
  if ((r.nonResourceURLs ?? []).length > 0) o.nonResourceURLs = r.nonResourceURLs;
  if ((r.resourceNames ?? []).length > 0) o.resourceNames = r.resourceNames;
  if ((r.resources ?? []).length > 0) o.resources = r.resources;
  o.verbs = r.verbs;
  return o;
}
