// Where a quota object keeps its limits and its usage, read and written as flat resource lists:
// - a Tenant: limits in spec.quota (clusters, nodes, cpu, memory; absent = unlimited), usage in
//   status.usage (clusters and nodes as integers, cpu and memory as quantities);
// - a ResourceQuota: limits in spec.hard, usage in status.used, and status.hard mirrors spec.hard
//   (what `kubectl describe quota` shows).
// Also the charged-at stamp both carry (CHARGED_AT_ANNOTATION).
import { formatQuantity, parseQuantity, parseResourceList, quantityValue, resourceListJSON, type ResourceList } from '../../api/builtin/quantity.js';
import type { KObject } from '../../api/types.js';
import { isObject, meta } from '../object.js';
import { CHARGED_AT_ANNOTATION, TENANT_RESOURCES } from './usage.js';

export interface QuotaAccessor {
  /** The kind, for logs. */
  readonly kind: 'Tenant' | 'ResourceQuota';
  hard(obj: KObject): ResourceList;
  used(obj: KObject): ResourceList;
  /** Writes `used` into `obj` (a copy the caller owns); names not in `used` keep their value. */
  setUsed(obj: KObject, used: ResourceList): void;
}

function record(v: unknown): Record<string, unknown> {
  return isObject(v) ? v : {};
}

const COUNTS: ReadonlySet<string> = new Set(['clusters', 'nodes']);

export const tenantAccessor: QuotaAccessor = {
  kind: 'Tenant',
  hard(obj) {
    const quota = record(record(obj.spec).quota);
    const out: ResourceList = new Map();
    for (const k of TENANT_RESOURCES) {
      const q = parseQuantity(quota[k]);
      if (q) out.set(k, q);
    }
    return out;
  },
  used(obj) {
    const usage = record(record(obj.status).usage);
    const out: ResourceList = new Map();
    for (const k of TENANT_RESOURCES) {
      const q = parseQuantity(usage[k]);
      if (q) out.set(k, q);
    }
    return out;
  },
  setUsed(obj, used) {
    const status = record(obj.status);
    const usage = { ...record(status.usage) };
    for (const [k, q] of used) usage[k] = COUNTS.has(k) ? Math.max(0, quantityValue(q)) : formatQuantity(q);
    obj.status = { ...status, usage };
  },
};

export const resourceQuotaAccessor: QuotaAccessor = {
  kind: 'ResourceQuota',
  hard(obj) {
    return parseResourceList(record(obj.spec).hard);
  },
  used(obj) {
    return parseResourceList(record(obj.status).used);
  },
  setUsed(obj, used) {
    const status = record(obj.status);
    const merged = parseResourceList(status.used);
    for (const [k, q] of used) merged.set(k, q);
    // Usage is tracked for the limited names only; status.hard mirrors the spec.
    const hard = this.hard(obj);
    for (const k of [...merged.keys()]) if (!hard.has(k)) merged.delete(k);
    obj.status = { ...status, hard: resourceListJSON(hard), used: resourceListJSON(merged) };
  },
};

/** When usage of `obj` was last charged at admission (ms since the epoch), or undefined. */
export function chargedAt(obj: KObject): number | undefined {
  const v = meta(obj).annotations?.[CHARGED_AT_ANNOTATION];
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

export function stampChargedAt(obj: KObject, now: Date): void {
  const m = meta(obj);
  m.annotations = { ...(m.annotations ?? {}), [CHARGED_AT_ANNOTATION]: now.toISOString() };
}
