// ClusterRole aggregation (pkg/controller/clusterroleaggregation): a ClusterRole with an
// `aggregationRule` gets as its rules the union of the rules of every other ClusterRole its selectors
// match — per selector, the matching roles in name order, each rule once. The decision is pure; the
// controller (controllers/rbac) only fetches, decides and writes.
import { KumoError } from '../../lib/errors.js';
import type { KObject } from '../../api/types.js';
import { isObject, jsonEqual, meta } from '../object.js';
import { labelSelectorFromObject, type LabelSelectorObject } from '../selectors.js';
import { policyRuleJSON, policyRulesFrom } from './rules.js';

/** The selectors of an aggregated ClusterRole, or undefined for a plain one. */
export function aggregationSelectors(role: KObject): LabelSelectorObject[] | undefined {
  const agg = role.aggregationRule;
  if (!isObject(agg)) return undefined;
  const sel = agg.clusterRoleSelectors;
  return Array.isArray(sel) ? sel.filter((s): s is LabelSelectorObject => isObject(s)) : [];
}

function labelsOf(o: KObject): Record<string, string> {
  const out: Record<string, string> = {};
  const l = meta(o).labels;
  if (isObject(l)) for (const [k, v] of Object.entries(l)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * The rules `role` should have (JSON, as stored), given every ClusterRole of its logical cluster.
 * Throws BadRequest for a selector that does not parse (the controller reports it and moves on).
 */
export function aggregatedRules(role: KObject, all: readonly KObject[]): Record<string, unknown>[] {
  const selectors = aggregationSelectors(role) ?? [];
  const name = meta(role).name;
  const sorted = [...all].sort((a, b) => {
    const an = String(meta(a).name);
    const bn = String(meta(b).name);
    return an < bn ? -1 : an > bn ? 1 : 0;
  });
  const out: Record<string, unknown>[] = [];
  for (const s of selectors) {
    const selector = labelSelectorFromObject(s);
    for (const other of sorted) {
      if (meta(other).name === name) continue;
      if (!selector.matches(labelsOf(other))) continue;
      for (const r of policyRulesFrom(other.rules)) {
        const json = policyRuleJSON(r);
        if (!out.some((x) => jsonEqual(x, json))) out.push(json);
      }
    }
  }
  return out;
}

/** The updated role when its rules differ from the aggregate, else null. */
export function reconcileAggregation(role: KObject, all: readonly KObject[]): KObject | null {
  if (aggregationSelectors(role) === undefined) return null;
  const rules = aggregatedRules(role, all);
  const current = Array.isArray(role.rules) ? role.rules.filter(isObject).map((r) => policyRuleJSON(policyRulesFrom([r])[0] ?? { verbs: [] })) : [];
  if (jsonEqual(current, rules)) return null;
  return { ...role, rules };
}

export function isAggregationSelectorError(err: unknown): boolean {
  return err instanceof KumoError && err.code === 'BadRequest';
}
