// What an object consumes, as quota resource names and quantities (kube's quota evaluators), pure:
// - a namespace's ResourceQuota counts objects: `count/<resource>.<group>` (`count/<resource>` in the
//   core group) for every served namespaced kind, and kube's short names for the core kinds Kumo
//   serves (`configmaps`, `secrets`, `resourcequotas`);
// - a Tenant's quota (Tenant.spec.quota) counts Clusters (`clusters`) and, for NodePools, nodes
//   (`nodes`: spec.replicas) and their CPU and memory (replicas × the flavor's capacity).
// Volumes per storage class and load-balancer ports are in the Tenant schema but no served kind
// carries volumes or load-balancer ports yet, so nothing consumes them.
import { flavors } from '../../api/kumo/flavors.js';
import { addQuantities, compareQuantities, parseQuantity, scaleQuantity, subtractQuantities, ZERO, type Quantity, type ResourceList } from '../../api/builtin/quantity.js';
import type { KObject, ResourceType } from '../../api/types.js';
import { isObject } from '../object.js';

/** The namespace label naming the tenant a namespace belongs to (tenancy's). */
export { TENANT_LABEL } from '../tenancy/roles.js';
/** When usage was last charged at admission (RFC 3339 with milliseconds); the recount waits after it. */
export const CHARGED_AT_ANNOTATION = 'quota.kumo.dev/charged-at';

export const KUMO_GROUP = 'kumo.dev';

/** kube's short quota names of core kinds (`configmaps` = `count/configmaps`). */
const LEGACY_COUNT_NAMES: ReadonlySet<string> = new Set(['configmaps', 'secrets', 'resourcequotas', 'services', 'pods', 'persistentvolumeclaims', 'replicationcontrollers']);

/** `count/<resource>.<group>`, or `count/<resource>` for the core group. */
export function objectCountName(rt: Pick<ResourceType, 'group' | 'plural'>): string {
  return rt.group === '' ? `count/${rt.plural}` : `count/${rt.plural}.${rt.group}`;
}

/** The quota names one object of `rt` counts under. */
export function objectCountNames(rt: Pick<ResourceType, 'group' | 'plural'>): string[] {
  const names = [objectCountName(rt)];
  if (rt.group === '' && LEGACY_COUNT_NAMES.has(rt.plural)) names.push(rt.plural);
  return names;
}

/** The served kind a quota resource name counts, or undefined (a compute resource, or not served). */
export function countedKind(name: string, served: readonly ResourceType[]): ResourceType | undefined {
  let plural: string;
  let group = '';
  if (name.startsWith('count/')) {
    const rest = name.slice('count/'.length);
    const dot = rest.indexOf('.');
    plural = dot < 0 ? rest : rest.slice(0, dot);
    group = dot < 0 ? '' : rest.slice(dot + 1);
  } else if (LEGACY_COUNT_NAMES.has(name)) {
    plural = name;
  } else {
    return undefined;
  }
  return served.find((rt) => rt.namespaced && rt.group === group && rt.plural === plural);
}

// ---- Tenant quota --------------------------------------------------------------------------------

export const TENANT_RESOURCES = ['clusters', 'nodes', 'cpu', 'memory'] as const;
export type TenantResource = (typeof TENANT_RESOURCES)[number];

export function isCluster(rt: Pick<ResourceType, 'group' | 'plural'>): boolean {
  return rt.group === KUMO_GROUP && rt.plural === 'clusters';
}

export function isNodePool(rt: Pick<ResourceType, 'group' | 'plural'>): boolean {
  return rt.group === KUMO_GROUP && rt.plural === 'nodepools';
}

/** Whether writes of `rt` consume a tenant's quota. */
export function consumesTenantQuota(rt: Pick<ResourceType, 'group' | 'plural'>): boolean {
  return isCluster(rt) || isNodePool(rt);
}

function specOf(obj: KObject): Record<string, unknown> {
  return isObject(obj.spec) ? obj.spec : {};
}

/** A NodePool's flavor name (the schema's default when unset). */
export function flavorOf(pool: KObject): string {
  const template = specOf(pool).template;
  const f = isObject(template) ? template.flavor : undefined;
  return typeof f === 'string' && f !== '' ? f : 'small';
}

export function replicasOf(pool: KObject): number {
  const r = specOf(pool).replicas;
  return typeof r === 'number' && Number.isInteger(r) && r >= 0 ? r : 1;
}

/** The capacity of one node of `flavor`, or undefined for a flavor Kumo does not know. */
export function flavorCapacity(flavor: string): ResourceList | undefined {
  const f = Object.hasOwn(flavors, flavor) ? flavors[flavor] : undefined;
  if (!f) return undefined;
  const out: ResourceList = new Map();
  for (const [k, v] of Object.entries(f.capacity)) {
    const q = parseQuantity(v);
    if (q) out.set(k, q);
  }
  return out;
}

export interface TenantUsage {
  usage: ResourceList;
  /** A NodePool whose flavor is not known: its CPU and memory cannot be counted. */
  unknownFlavor?: string;
}

/** What one object of `rt` consumes of a tenant's quota. */
export function tenantUsageOf(rt: Pick<ResourceType, 'group' | 'plural'>, obj: KObject): TenantUsage {
  const usage: ResourceList = new Map();
  if (isCluster(rt)) {
    usage.set('clusters', quantityOfCount(1));
    return { usage };
  }
  if (!isNodePool(rt)) return { usage };
  const replicas = replicasOf(obj);
  usage.set('nodes', quantityOfCount(replicas));
  const flavor = flavorOf(obj);
  const capacity = flavorCapacity(flavor);
  if (!capacity) return { usage, unknownFlavor: flavor };
  for (const k of ['cpu', 'memory'] as const) usage.set(k, scaleQuantity(capacity.get(k) ?? ZERO, replicas));
  return { usage };
}

export function quantityOfCount(n: number): Quantity {
  return { nano: BigInt(n) * 1_000_000_000n, format: 'DecimalSI' };
}

// ---- ResourceList arithmetic ------------------------------------------------------------------

export function addLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) out.set(k, addQuantities(out.get(k) ?? ZERO, v));
  return out;
}

/** a − b per name, never below zero (kube's SubtractWithNonNegativeResult). */
export function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of a) {
    const d = subtractQuantities(v, b.get(k) ?? ZERO);
    out.set(k, d.nano < 0n ? { nano: 0n, format: d.format } : d);
  }
  return out;
}

/** Only the names in `names`. */
export function maskList(list: ResourceList, names: Iterable<string>): ResourceList {
  const keep = new Set(names);
  const out: ResourceList = new Map();
  for (const [k, v] of list) if (keep.has(k)) out.set(k, v);
  return out;
}

/** Without zero entries (kube's RemoveZeros). */
export function withoutZeros(list: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of list) if (v.nano !== 0n) out.set(k, v);
  return out;
}

/** The names whose value in `a` exceeds the one in `limits` (names absent from `limits` never do). */
export function exceededNames(a: ResourceList, limits: ResourceList): string[] {
  const out: string[] = [];
  for (const [k, v] of a) {
    const h = limits.get(k);
    if (h !== undefined && compareQuantities(v, h) > 0) out.push(k);
  }
  return out.sort();
}

export function listsEqual(a: ResourceList, b: ResourceList): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || compareQuantities(v, w) !== 0) return false;
  }
  return true;
}
