// Quotas on the engine: the admission plugin (kube's LimitRanger and ResourceQuota admission, plus the
// per-tenant quota of Kumo kinds) and the recount the quota controller runs.
//
// Admission, for every write, after validation (the last plugin of the chain):
// - NodePools: the namespace's LimitRanges of type kumo.dev/NodePool bound each node's flavor
//   capacity (min/max per resource);
// - creates of namespaced kinds: each ResourceQuota of the namespace that limits the object's count
//   (`count/<resource>.<group>`, `configmaps` …) is charged one, with a CAS on its status.used;
// - Clusters and NodePools in a tenant's namespace (label kumo.dev/tenant): the Tenant's
//   spec.quota is charged what the write adds (a Cluster; a NodePool's nodes, CPU and memory, and on
//   update the growth), with a CAS on its status.usage.
// A write that does not fit is refused with 403 and kube's message (`exceeded quota: <name>,
// requested: …, used: …, limited: …`); one that fits returns the undo of its charges.
//
// Recount (the quota controller): usage counted from the objects replaces what admission charged —
// except that usage charged within the last `recountGraceMs` is never lowered (its object may still be
// on its way to the store), only raised; the controller looks again once that time has passed.
import { compareQuantities, formatQuantity, parseResourceList, prettyResourceList, ZERO, type ResourceList } from '../../api/builtin/quantity.js';
import { LIMIT_TYPE_NODEPOOL } from '../../api/builtin/quota.js';
import type { KObject, ResourceType } from '../../api/types.js';
import { isKumoError } from '../../lib/errors.js';
import type { AdmissionPlugin } from '../admission.js';
import type { ApiEngine } from '../engine.js';
import type { LogicalCluster } from '../keys.js';
import { forbidden, isObject, jsonEqual, meta } from '../object.js';
import type { AdmitUndo, ResourceStorage } from '../rest.js';
import { labelMatcher } from '../selectors.js';
import { exceededMessage, QuotaCharger, type ChargeTarget, type ChargerOptions } from './charge.js';
import { chargedAt, resourceQuotaAccessor, tenantAccessor, type QuotaAccessor } from './objects.js';
import {
  addLists,
  consumesTenantQuota,
  countedKind,
  flavorCapacity,
  flavorOf,
  isNodePool,
  listsEqual,
  objectCountNames,
  quantityOfCount,
  subtractNonNegative,
  TENANT_LABEL,
  TENANT_RESOURCES,
  tenantUsageOf,
} from './usage.js';

export interface QuotaOptions {
  /** The engine (reached lazily: the engine takes the admission plugin in its constructor). */
  engine: () => ApiEngine;
  now?: () => Date;
  /** How long after a charge a recount may not lower usage. Default 10 s (two store deadlines). */
  recountGraceMs?: number;
  /** Reports a give-back that failed (the recount repairs it). */
  onReleaseError?: ChargerOptions['onReleaseError'];
}

export interface RecountResult {
  /** Whether the quota object was written. */
  updated: boolean;
  /** Usage could not be lowered yet (recent charges): look again after this many ms. */
  requeueAfterMs?: number;
}

const ONE = quantityOfCount(1);
/** How long after admitting a ResourceQuota its namespace's quotas are read from the store. */
const RECENT_QUOTA_MS = 5000;

export class Quotas {
  readonly charger: QuotaCharger;
  private readonly graceMs: number;

  constructor(private readonly opts: QuotaOptions) {
    this.charger = new QuotaCharger({ ...(opts.now ? { now: opts.now } : {}), ...(opts.onReleaseError ? { onReleaseError: opts.onReleaseError } : {}) });
    this.graceMs = opts.recountGraceMs ?? 10_000;
  }

  private now(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }

  // ---- kinds -------------------------------------------------------------------------------------

  private kind(cluster: LogicalCluster, group: string, plural: string): ResourceType | undefined {
    return this.opts.engine().resourceTypes(cluster).find((rt) => rt.group === group && rt.plural === plural);
  }

  private storageOf(cluster: LogicalCluster, group: string, plural: string): ResourceStorage | undefined {
    const rt = this.kind(cluster, group, plural);
    return rt ? this.opts.engine().storageOf(rt) : undefined;
  }

  /** Objects of `rt` in `namespace` (every namespace when undefined), from the store (a consistent read). */
  private async listAll(rt: ResourceType, cluster: LogicalCluster, namespace?: string): Promise<KObject[]> {
    const storage = this.opts.engine().storageOf(rt);
    if (!storage) return [];
    return (await storage.list(namespace === undefined ? { cluster } : { cluster, namespace })).items;
  }

  /**
   * Namespaces (`<cluster>/<namespace>`) where this server admitted a ResourceQuota create lately, until
   * when: their quota lists read the store until the object cache has surely caught up.
   */
  private readonly recentQuotas = new Map<string, number>();

  /**
   * The ResourceQuotas of a namespace, from the resource's object cache (one store watch; no store
   * read per write), as kube's quota admission reads an informer's lister. A quota this server has
   * just created is read from the store instead for a few seconds, so it applies to the very next
   * write; one created through another server applies once this server's cache has it (milliseconds).
   */
  private async quotasIn(rqRt: ResourceType, cluster: LogicalCluster, namespace: string): Promise<KObject[]> {
    const key = `${cluster}/${namespace}`;
    const until = this.recentQuotas.get(key);
    if (until !== undefined && Date.now() < until) return this.listAll(rqRt, cluster, namespace);
    if (until !== undefined) this.recentQuotas.delete(key);
    const storage = this.opts.engine().storageOf(rqRt);
    if (!storage) return [];
    return (await storage.list({ cluster, namespace }, { resourceVersion: '0' })).items;
  }

  // ---- admission ---------------------------------------------------------------------------------

  /** The engine's admission plugin (last in the chain). */
  readonly admit: AdmissionPlugin = async (rt, ctx, obj, old) => {
    const namespace = rt.namespaced ? ctx.namespace : undefined;
    if (namespace === undefined || namespace === '') return undefined;
    if (rt.group === '' && rt.plural === 'resourcequotas') {
      // The quota objects' own writes (charges, recounts, edits) are not charged.
      if (old !== undefined) return undefined;
      const now = Date.now();
      if (this.recentQuotas.size >= 1024) for (const [k, until] of this.recentQuotas) if (until <= now) this.recentQuotas.delete(k);
      this.recentQuotas.set(`${ctx.cluster}/${namespace}`, now + RECENT_QUOTA_MS);
    }
    const undos: AdmitUndo[] = [];
    const name = String(meta(obj).name ?? '');
    try {
      // A node's size changes only with the flavor (status writes and resizes skip the LimitRange list).
      if (isNodePool(rt) && (old === undefined || flavorOf(old) !== flavorOf(obj))) await this.checkLimitRanges(rt, ctx.cluster, namespace, obj);
      if (old === undefined) {
        const undo = await this.chargeNamespaceQuotas(rt, ctx.cluster, namespace, name, ctx.dryRun === true);
        undos.push(...undo);
      }
      if (consumesTenantQuota(rt)) {
        const undo = await this.chargeTenant(rt, ctx.cluster, namespace, obj, old, ctx.dryRun === true);
        if (undo) undos.push(undo);
      }
    } catch (err) {
      for (const u of undos.reverse()) await u();
      throw err;
    }
    if (undos.length === 0) return undefined;
    return async () => {
      for (const u of undos.reverse()) await u();
    };
  };

  /** LimitRanger for NodePools: each node's flavor capacity within the namespace's kumo.dev/NodePool limits. */
  private async checkLimitRanges(rt: ResourceType, cluster: LogicalCluster, namespace: string, pool: KObject): Promise<void> {
    const lrRt = this.kind(cluster, '', 'limitranges');
    if (!lrRt) return;
    const ranges = await this.listAll(lrRt, cluster, namespace);
    const name = String(meta(pool).name ?? '');
    const problems: string[] = [];
    const flavor = flavorOf(pool);
    const capacity = flavorCapacity(flavor);
    for (const lr of ranges) {
      const spec = isObject(lr.spec) ? lr.spec : {};
      const limits = Array.isArray(spec.limits) ? spec.limits : [];
      for (const item of limits) {
        if (!isObject(item) || item.type !== LIMIT_TYPE_NODEPOOL) continue;
        const min = parseResourceList(item.min);
        const max = parseResourceList(item.max);
        if (min.size + max.size === 0) continue;
        if (!capacity) {
          problems.push(`flavor "${flavor}" is not known, so its capacity cannot be checked against LimitRange ${String(meta(lr).name)}`);
          continue;
        }
        for (const k of [...new Set([...min.keys(), ...max.keys()])].sort()) {
          const has = capacity.get(k) ?? ZERO;
          const lo = min.get(k);
          const hi = max.get(k);
          if (lo && compareQuantities(has, lo) < 0) problems.push(`minimum ${k} usage per NodePool node is ${formatQuantity(lo)}, but flavor "${flavor}" has ${formatQuantity(has)}`);
          if (hi && compareQuantities(has, hi) > 0) problems.push(`maximum ${k} usage per NodePool node is ${formatQuantity(hi)}, but flavor "${flavor}" has ${formatQuantity(has)}`);
        }
      }
    }
    if (problems.length === 0) return;
    throw forbidden(rt, name, problems.length === 1 ? (problems[0] ?? '') : `[${problems.join(', ')}]`);
  }

  /** ResourceQuota admission of a create: every quota of the namespace that counts the object. */
  private async chargeNamespaceQuotas(rt: ResourceType, cluster: LogicalCluster, namespace: string, name: string, dryRun: boolean): Promise<AdmitUndo[]> {
    const rqRt = this.kind(cluster, '', 'resourcequotas');
    const storage = rqRt ? this.opts.engine().storageOf(rqRt) : undefined;
    if (!rqRt || !storage) return [];
    const quotas = await this.quotasIn(rqRt, cluster, namespace);
    if (quotas.length === 0) return [];
    const delta: ResourceList = new Map(objectCountNames(rt).map((n) => [n, ONE]));
    const undos: AdmitUndo[] = [];
    try {
      for (const q of quotas.sort((a, b) => String(meta(a).name).localeCompare(String(meta(b).name)))) {
        if (hasScopes(q)) continue; // pod scopes: no served kind matches them
        const hard = resourceQuotaAccessor.hard(q);
        if (![...delta.keys()].some((k) => hard.has(k))) continue;
        const qName = String(meta(q).name);
        const target: ChargeTarget = {
          storage,
          scope: { cluster, namespace },
          name: qName,
          accessor: resourceQuotaAccessor,
          count: (names) => this.countNamespace(cluster, namespace, names),
        };
        const undo = await this.charger.charge(target, { delta, dryRun, refuse: (e) => forbidden(rt, name, exceededMessage(e, prettyResourceList)) });
        if (undo) undos.push(undo);
      }
    } catch (err) {
      for (const u of undos.reverse()) await u();
      throw err;
    }
    return undos;
  }

  /** The tenant a namespace belongs to (its kumo.dev/tenant label), or undefined. */
  async tenantOf(cluster: LogicalCluster, namespace: string): Promise<string | undefined> {
    const engine = this.opts.engine();
    try {
      const ns = await engine.storage(engine.namespaceResourceType).get({ cluster }, namespace);
      const t = meta(ns).labels?.[TENANT_LABEL];
      return typeof t === 'string' && t !== '' ? t : undefined;
    } catch (err) {
      if (isKumoError(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  /** Tenant quota of a Cluster or NodePool write. */
  private async chargeTenant(rt: ResourceType, cluster: LogicalCluster, namespace: string, obj: KObject, old: KObject | undefined, dryRun: boolean): Promise<AdmitUndo | undefined> {
    const now = tenantUsageOf(rt, obj);
    // What the write adds: all of a new object, the growth of an updated one.
    const delta = old === undefined ? now.usage : subtractNonNegative(now.usage, tenantUsageOf(rt, old).usage);
    const grows = [...delta.values()].some((v) => v.nano > 0n);
    if (!grows && now.unknownFlavor === undefined) return undefined;
    const tenantName = await this.tenantOf(cluster, namespace);
    if (tenantName === undefined) return undefined;
    const storage = this.storageOf(cluster, 'kumo.dev', 'tenants');
    if (!storage) return undefined;
    let tenant: KObject;
    try {
      tenant = await storage.get({ cluster }, tenantName);
    } catch (err) {
      if (isKumoError(err, 'NotFound')) return undefined;
      throw err;
    }
    const hard = tenantAccessor.hard(tenant);
    if (hard.size === 0) return undefined;
    const name = String(meta(obj).name ?? '');
    if (now.unknownFlavor !== undefined && (hard.has('cpu') || hard.has('memory')) && (old === undefined || grows || now.unknownFlavor !== flavorOf(old))) {
      throw forbidden(rt, name, `failed quota: ${tenantName}: flavor "${now.unknownFlavor}" is not known, so its CPU and memory cannot be counted`);
    }
    if (!grows) return undefined;
    const target: ChargeTarget = {
      storage,
      scope: { cluster },
      name: tenantName,
      accessor: tenantAccessor,
      count: async () => this.countTenant(cluster, tenantName),
    };
    return this.charger.charge(target, { delta, dryRun, refuse: (e) => forbidden(rt, name, exceededMessage(e, prettyResourceList)) });
  }

  // ---- counting ----------------------------------------------------------------------------------

  /** Usage of quota names in a namespace, counted from the objects (names nothing consumes: 0). */
  async countNamespace(cluster: LogicalCluster, namespace: string, names: string[]): Promise<ResourceList> {
    const served = this.opts.engine().resourceTypes(cluster);
    const out: ResourceList = new Map();
    const counts = new Map<ResourceType, number>();
    for (const n of names) {
      const rt = countedKind(n, served);
      if (!rt) {
        out.set(n, ZERO);
        continue;
      }
      let c = counts.get(rt);
      if (c === undefined) counts.set(rt, (c = (await this.listAll(rt, cluster, namespace)).length));
      out.set(n, quantityOfCount(c));
    }
    return out;
  }

  /** The namespaces of a tenant (labelled kumo.dev/tenant=<tenant>) in `cluster`. */
  async tenantNamespaces(cluster: LogicalCluster, tenant: string): Promise<Set<string>> {
    const engine = this.opts.engine();
    const match = labelMatcher(`${TENANT_LABEL}=${tenant}`);
    const r = await engine.storage(engine.namespaceResourceType).list({ cluster }, match ? { labelMatch: match } : {});
    return new Set(r.items.map((ns) => String(meta(ns).name)));
  }

  /** A tenant's usage counted from the Clusters and NodePools in its namespaces. */
  async countTenant(cluster: LogicalCluster, tenant: string): Promise<ResourceList> {
    const namespaces = await this.tenantNamespaces(cluster, tenant);
    let usage: ResourceList = new Map(TENANT_RESOURCES.map((k) => [k, ZERO]));
    if (namespaces.size === 0) return usage;
    for (const plural of ['clusters', 'nodepools']) {
      const rt = this.kind(cluster, 'kumo.dev', plural);
      if (!rt) continue;
      for (const o of await this.listAll(rt, cluster)) {
        if (!namespaces.has(String(meta(o).namespace))) continue;
        usage = addLists(usage, tenantUsageOf(rt, o).usage);
      }
    }
    return usage;
  }

  // ---- recount (the quota controller) --------------------------------------------------------------

  /** Recomputes a ResourceQuota's status (hard from spec, used from the objects). */
  async recountQuota(cluster: LogicalCluster, namespace: string, name: string): Promise<RecountResult> {
    const storage = this.storageOf(cluster, '', 'resourcequotas');
    if (!storage) return { updated: false };
    let quota: KObject;
    try {
      quota = await storage.get({ cluster, namespace }, name);
    } catch (err) {
      if (isKumoError(err, 'NotFound')) return { updated: false };
      throw err;
    }
    const names = [...resourceQuotaAccessor.hard(quota).keys()];
    const counted = hasScopes(quota) ? new Map(names.map((n) => [n, ZERO])) : await this.countNamespace(cluster, namespace, names);
    return this.writeRecount(storage, { cluster, namespace }, name, resourceQuotaAccessor, (obj) => {
      // Every limited name is tracked; the recount replaces usage of the names it counted.
      const hard = resourceQuotaAccessor.hard(obj);
      const out: ResourceList = new Map();
      for (const k of hard.keys()) out.set(k, counted.get(k) ?? ZERO);
      return out;
    });
  }

  /** Recomputes a Tenant's status.usage from its namespaces' Clusters and NodePools. */
  async recountTenant(cluster: LogicalCluster, name: string): Promise<RecountResult> {
    const storage = this.storageOf(cluster, 'kumo.dev', 'tenants');
    if (!storage) return { updated: false };
    const counted = await this.countTenant(cluster, name);
    return this.writeRecount(storage, { cluster }, name, tenantAccessor, () => new Map(counted));
  }

  private async writeRecount(
    storage: ResourceStorage,
    scope: { cluster: LogicalCluster; namespace?: string },
    name: string,
    acc: QuotaAccessor,
    wanted: (obj: KObject) => ResourceList,
  ): Promise<RecountResult> {
    let result: RecountResult = { updated: false };
    try {
      await storage.guaranteedUpdate(scope, name, (old) => {
        result = { updated: false };
        const used = acc.used(old);
        const next = wanted(old);
        const at = chargedAt(old);
        const elapsed = at === undefined ? Infinity : this.now().getTime() - at;
        if (elapsed < this.graceMs) {
          // A charge this recent may be for an object not stored yet: never lower usage now.
          for (const [k, v] of next) {
            const u = used.get(k);
            if (u && compareQuantities(u, v) > 0) {
              next.set(k, u);
              result.requeueAfterMs = Math.max(1, this.graceMs - elapsed + 50);
            }
          }
        }
        const probe = structuredClone(old);
        acc.setUsed(probe, next);
        if (listsEqual(used, acc.used(probe)) && jsonEqual(probe.status, old.status)) return null;
        result.updated = true;
        return probe;
      });
    } catch (err) {
      if (isKumoError(err, 'NotFound')) return { updated: false };
      throw err;
    }
    return result;
  }
}

/** A quota with pod scopes (or a scope selector) matches no object Kumo serves. */
function hasScopes(q: KObject): boolean {
  const spec = isObject(q.spec) ? q.spec : {};
  const scopes = Array.isArray(spec.scopes) ? spec.scopes : [];
  const sel = isObject(spec.scopeSelector) && Array.isArray(spec.scopeSelector.matchExpressions) ? spec.scopeSelector.matchExpressions : [];
  return scopes.length > 0 || sel.length > 0;
}
