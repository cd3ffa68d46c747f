// Server-side apply and managedFields: kube-apiserver's field manager
// (k8s.io/apimachinery/pkg/util/managedfields) over the field sets of ./fieldpath.ts. Kumo's own code;
// the behaviour, the messages and the managedFields it writes follow upstream's.
//
// - Every write records which manager changed which fields. An update (create, PUT, any non-apply
//   PATCH) gives the fields it added or changed to the manager's `Update` entry and takes them from the
//   other managers; fields it removed leave every entry. Entries left empty are dropped; at most 10
//   `Update` entries are kept (older ones are merged into `ancient-changes`).
// - An apply merges the configuration into the live object by the schema (maps by key, map lists by
//   their keys, set lists by value, atomic values replaced), makes the manager's `Apply` entry exactly
//   the configuration's fields, and removes the fields the manager applied last time and no longer
//   applies when no other manager owns them. Changing a field another manager owns is a conflict
//   (409 with the managers and fields) unless `force` takes it.
// - apiVersion, kind and the server's metadata (name, namespace, uid, resourceVersion, generation,
//   creationTimestamp, managedFields …) are never owned.
// - Client-side apply upgrade: `kubectl` applying over an object with the
//   `kubectl.kubernetes.io/last-applied-configuration` annotation may take the fields that annotation
//   still describes without a conflict, and keeps the annotation up to date (lastappliedmanager /
//   lastappliedupdater upstream). kubectl ≥1.26 also moves the client-side manager's entry to its
//   apply entry itself with a JSON patch of managedFields, which an update accepts as given.
import { KumoError, type ErrorCause } from '../../lib/errors.js';
import type { JSONSchemaProps, KObject } from '../types.js';
import { compare, ensureNamedFieldsAreMembers, FieldSet, fieldOf, goJSON, jsonEqual, listItemElement, pathString, peString, removeItems, toFieldSet, typeOf, type Comparison, type Path, type Schema } from './fieldpath.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** kube's DefaultMaxUpdateManagers. */
export const MAX_UPDATE_MANAGERS = 10;
/** The entry older `Update` managers are merged into beyond the cap. */
export const ANCIENT_CHANGES_MANAGER = 'ancient-changes';
/** kube's validation.FieldManagerMaxLength. */
export const FIELD_MANAGER_MAX_LENGTH = 128;
/** kube's TotalAnnotationSizeLimitB: the last-applied annotation is dropped beyond it. */
const ANNOTATIONS_SIZE_LIMIT = 256 * 1024;

type JMap = Record<string, unknown>;
type Operation = 'Apply' | 'Update';

export interface ManagedFieldsEntry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JMap;
  subresource?: string;
}

interface Manager {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource: string;
  time?: string;
  set: FieldSet;
}

/** Managers by identifier (kube's manager identifier: the entry without time, fields and, for Apply, apiVersion). */
type Managers = Map<string, Manager>;

function isMap(v: unknown): v is JMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function managerId(manager: string, operation: Operation, apiVersion: string, subresource: string): string {
  // json.Marshal of the entry without time and fields: struct field order, empty fields omitted.
  const parts: string[] = [];
  if (manager !== '') parts.push(`"manager":${goJSON(manager)}`);
  parts.push(`"operation":${goJSON(operation)}`);
  if (operation === 'Update' && apiVersion !== '') parts.push(`"apiVersion":${goJSON(apiVersion)}`);
  if (subresource !== '') parts.push(`"subresource":${goJSON(subresource)}`);
  return `{${parts.join(',')}}`;
}

/** Reads `metadata.managedFields`; throws for an entry kube would not decode. */
export function decodeManagedFields(entries: unknown): Managers {
  const out: Managers = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((e: unknown, i) => {
    if (!isMap(e)) throw new Error(`managed fields entry ${i} must be an object`);
    const operation = e.operation;
    if (operation !== 'Apply' && operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion === '') throw new Error('apiVersion must not be empty');
    if (e.fieldsType === undefined || e.fieldsType === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    const manager = typeof e.manager === 'string' ? e.manager : '';
    const subresource = typeof e.subresource === 'string' ? e.subresource : '';
    const m: Manager = { manager, operation, apiVersion: e.apiVersion, subresource, set: FieldSet.fromJSON(e.fieldsV1 ?? {}) };
    if (typeof e.time === 'string') m.time = e.time;
    out.set(managerId(manager, operation, e.apiVersion, subresource), m);
  });
  return out;
}

function seconds(time: string | undefined): number {
  if (time === undefined) return 0;
  const t = Date.parse(time);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** Writes managers as kube does: sorted by operation, time, manager, apiVersion, subresource. */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const list = [...managers.values()].filter((m) => !m.set.isEmpty());
  list.sort(
    (p, q) =>
      cmp(p.operation, q.operation) || seconds(p.time) - seconds(q.time) || cmp(p.manager, q.manager) || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource, q.subresource),
  );
  // Field order as kube writes an entry.
  return list.map((m) => ({
    manager: m.manager,
    operation: m.operation,
    apiVersion: m.apiVersion,
    ...(m.time !== undefined ? { time: m.time } : {}),
    fieldsType: 'FieldsV1' as const,
    fieldsV1: m.set.toJSON(),
    ...(m.subresource !== '' ? { subresource: m.subresource } : {}),
  }));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Decoded managers, or none for managedFields kube would not decode (it starts over then). */
function decodeOrEmpty(entries: unknown): Managers {
  try {
    return decodeManagedFields(entries);
  } catch {
    return new Map();
  }
}

function liveManagers(live: KObject | undefined): Managers {
  return decodeOrEmpty(live && isMap(live.metadata) ? live.metadata.managedFields : undefined);
}

/** `managedFields: [{}]`: an explicit request to clear managedFields. */
function isReset(v: unknown): boolean {
  return Array.isArray(v) && v.length === 1 && isMap(v[0]) && Object.keys(v[0]).length === 0;
}

/** The fields no manager owns (kube's stripMetaManager). */
const STRIP = FieldSet.of(
  [{ field: 'apiVersion' }],
  [{ field: 'kind' }],
  [{ field: 'metadata' }],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f): Path => [{ field: 'metadata' }, { field: f }]),
);

function withoutManagedFields(obj: KObject | undefined): JMap {
  if (!obj) return {};
  const copy = structuredClone(obj) as JMap;
  if (isMap(copy.metadata)) delete copy.metadata.managedFields;
  return copy;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** kube's printManager: `"kubectl"`, `"ctl" using v1`, `"ctl" with subresource "status" using v1`. */
function printManager(m: Manager): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource !== '') s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

/** The 409 kube answers for conflicts (NewApplyConflict): causes `FieldManagerConflict` per field. */
export function conflictError(conflicts: { manager: Manager; id: string; paths: Path[] }[]): KumoError {
  const sorted = [...conflicts].sort((a, b) => cmp(a.id, b.id));
  const flat = sorted.flatMap((c) => c.paths.map((p) => ({ manager: c.manager, path: pathString(p) })));
  const causes: ErrorCause[] = flat.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: c.path }));
  let message: string;
  if (flat.length === 1) {
    const only = flat[0] as { manager: Manager; path: string };
    message = `Apply failed with 1 conflict: conflict with ${printManager(only.manager)}: ${only.path}`;
  } else {
    const lines: string[] = [];
    for (const c of sorted) {
      lines.push(`conflicts with ${printManager(c.manager)}:`);
      for (const p of c.paths) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${flat.length} conflicts: ${lines.join('\n')}`;
  }
  return new KumoError('Conflict', message, { causes });
}

export interface FieldManagerOptions {
  /** The kind's whole-object schema (`ResourceType.schema`). */
  schema: JSONSchemaProps;
  group: string;
  version: string;
  kind: string;
  /** The kind has a status subresource: the main resource does not own `status`, `/status` owns only it. */
  statusSubresource: boolean;
  now?: () => Date;
}

/** What one request may own: the fields its subresource writes (kube's reset fields, inverted). */
type Filter = (s: FieldSet) => FieldSet;

/**
 * The field manager of one kind. `update` and `apply` return the new object with its
 * `metadata.managedFields`; they do not validate or store anything.
 */
export class FieldManager {
  private readonly apiVersion: string;
  private readonly schema: Schema;

  constructor(private readonly opts: FieldManagerOptions) {
    this.apiVersion = opts.group === '' ? opts.version : `${opts.group}/${opts.version}`;
    this.schema = opts.schema;
  }

  private now(): string {
    return rfc3339(this.opts.now ? this.opts.now() : new Date());
  }

  private filterFor(subresource: string): Filter {
    const status = { field: 'status' };
    if (subresource === 'status') return (s) => s.only(status);
    if (this.opts.statusSubresource) return (s) => s.recursiveDifference(FieldSet.of([status]));
    return (s) => s;
  }

  private filterComparison(c: Comparison, f: Filter): Comparison {
    return { added: f(c.added), modified: f(c.modified), removed: f(c.removed) };
  }

  /**
   * Records a non-apply write (create: `live` undefined). Managed fields given in `next` are taken as
   * they are (an empty list keeps the live ones; `[{}]` clears them) except through a subresource.
   * A write whose fields cannot be typed clears managedFields, as kube's UpdateNoErrors does.
   */
  update(live: KObject | undefined, next: KObject, manager: string, subresource = ''): KObject {
    const nm = isMap(next.metadata) ? next.metadata : (next.metadata = {});
    const given = nm.managedFields;
    let managers: Managers;
    if (subresource !== '') managers = liveManagers(live);
    else if (isReset(given)) managers = new Map();
    else {
      managers = decodeOrEmpty(given);
      if (managers.size === 0) managers = liveManagers(live);
    }
    try {
      const filter = this.filterFor(subresource);
      const c = this.filterComparison(compare(withoutManagedFields(live), withoutManagedFields(next), this.schema), filter);
      const changed = c.modified.union(c.added);
      for (const [id, m] of managers) {
        m.set = m.set.difference(changed).difference(c.removed);
        if (m.set.isEmpty()) managers.delete(id);
      }
      const took = changed.difference(STRIP);
      if (!took.isEmpty()) {
        const id = managerId(manager, 'Update', this.apiVersion, subresource);
        const prev = managers.get(id);
        managers.set(id, { manager, operation: 'Update', apiVersion: this.apiVersion, subresource, time: this.now(), set: prev ? prev.set.union(took) : took });
      }
      capUpdateManagers(managers);
      setManagedFields(next, managers);
    } catch {
      delete nm.managedFields;
    }
    return next;
  }

  /**
   * Server-side apply of `config` by `manager` onto `live` (undefined: the object is created). Throws
   * KumoError BadRequest for a configuration that cannot be applied and Conflict for fields other
   * managers own (unless `force`).
   */
  apply(live: KObject | undefined, config: KObject, manager: string, force: boolean, subresource = ''): KObject {
    try {
      return this.applyUnguarded(live, config, manager, force, subresource);
    } catch (err) {
      // The walks recurse once per level: a document nested past the stack is a bad request, not a crash.
      if (err instanceof RangeError) throw new KumoError('BadRequest', 'the apply configuration or the object is nested too deeply');
      throw err;
    }
  }

  private applyUnguarded(live: KObject | undefined, config: KObject, manager: string, force: boolean, subresource: string): KObject {
    const gvk = `${this.opts.group}/${this.opts.version}, Kind=${this.opts.kind}`;
    const cfgVersion = typeof config.apiVersion === 'string' ? config.apiVersion : '';
    const cfgKind = typeof config.kind === 'string' ? config.kind : '';
    if (cfgVersion !== this.apiVersion || cfgKind !== this.opts.kind) {
      const slash = cfgVersion.indexOf('/');
      const [g, v] = slash === -1 ? ['', cfgVersion] : [cfgVersion.slice(0, slash), cfgVersion.slice(slash + 1)];
      throw new KumoError('BadRequest', `invalid object type: ${g}/${v}, Kind=${cfgKind}`);
    }
    const cm = isMap(config.metadata) ? config.metadata : {};
    if (cm.managedFields !== undefined && cm.managedFields !== null) throw new KumoError('BadRequest', 'metadata.managedFields must be nil');
    let configSet: FieldSet;
    try {
      configSet = toFieldSet(config, this.schema, { strict: true });
    } catch (err) {
      const ns = typeof cm.namespace === 'string' ? cm.namespace : '';
      const name = typeof cm.name === 'string' ? cm.name : '';
      throw new KumoError('BadRequest', `failed to create typed patch object (${ns}/${name}; ${gvk}): ${(err as Error).message}`);
    }
    const managers = liveManagers(live);
    const liveObj = withoutManagedFields(live);
    const filter = this.filterFor(subresource);
    const id = managerId(manager, 'Apply', '', subresource);
    const last = managers.get(id);
    const applier: Manager = { manager, operation: 'Apply', apiVersion: this.apiVersion, subresource, set: filter(configSet) };
    if (last?.time !== undefined) applier.time = last.time;
    managers.set(id, applier);
    let result = mergeValues(liveObj, config, this.schema) as JMap;
    if (last && !last.set.isEmpty()) result = this.prune(result, managers, last.set);
    const c = this.filterComparison(compare(liveObj, result, this.schema), filter);
    const changed = c.modified.union(c.added);
    const conflicts = new Map<string, FieldSet>();
    for (const [mid, m] of managers) {
      const set = mid === id ? undefined : m.set.intersection(changed);
      if (set && !set.isEmpty()) conflicts.set(mid, set);
    }
    if (conflicts.size > 0 && !force) {
      // kubectl taking over from client-side apply: the fields its last-applied annotation still
      // describes are its own.
      const allowed = manager === 'kubectl' ? this.allowedFromLastApplied(liveObj) : undefined;
      const remaining = [...conflicts].map(([mid, set]) => ({ id: mid, manager: managers.get(mid) as Manager, paths: (allowed ? set.difference(allowed) : set).paths() }));
      if (remaining.some((r) => r.paths.length > 0)) throw conflictError(remaining.filter((r) => r.paths.length > 0));
    }
    // Forced (or allowed): the other managers lose what this apply changed; everyone loses what it removed.
    for (const [mid, m] of managers) {
      if (mid === id) continue;
      const taken = conflicts.get(mid);
      m.set = (taken ? m.set.difference(taken) : m.set).difference(c.removed);
      if (m.set.isEmpty()) managers.delete(mid);
    }
    applier.set = applier.set.difference(STRIP);
    if (applier.set.isEmpty()) managers.delete(id);
    else if (!jsonEqual(liveObj, result) || applier.time === undefined) applier.time = this.now();
    capUpdateManagers(managers);
    if (manager === 'kubectl') syncLastApplied(result, config);
    setManagedFields(result, managers);
    return result;
  }

  /**
   * Removes what the applier applied last time (`last`) and applies no more, unless some manager (the
   * applier's new configuration included) owns it. Declared struct fields count as owned with anything
   * below them (upstream's prune / addBackOwnedItems / addBackDanglingItems).
   */
  private prune(merged: JMap, managers: Managers, last: FieldSet): JMap {
    let mergedSet: FieldSet;
    try {
      mergedSet = toFieldSet(merged, this.schema);
    } catch {
      return merged;
    }
    let owned = new FieldSet();
    for (const m of managers.values()) owned = owned.union(m.set);
    const ensure = (s: FieldSet): FieldSet => ensureNamedFieldsAreMembers(s, this.schema);
    const toRemove = ensure(last).intersection(ensure(mergedSet)).difference(ensure(owned));
    if (toRemove.isEmpty()) return merged;
    return (removeItems(merged, toRemove, this.schema) ?? {}) as JMap;
  }

  /** The fields of the last-applied annotation that still match the live object (lastappliedmanager). */
  private allowedFromLastApplied(live: JMap): FieldSet | undefined {
    const annotations = isMap(live.metadata) && isMap(live.metadata.annotations) ? live.metadata.annotations : {};
    const text = annotations[LAST_APPLIED_ANNOTATION];
    if (typeof text !== 'string' || text === '') return undefined;
    let lastApplied: unknown;
    try {
      lastApplied = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isMap(lastApplied) || lastApplied.apiVersion !== this.apiVersion) return undefined;
    try {
      const set = toFieldSet(lastApplied, this.schema, { strict: true });
      const c = compare(lastApplied, live, this.schema);
      return set.difference(c.modified).difference(c.added).difference(c.removed);
    } catch {
      return undefined;
    }
  }
}

function setManagedFields(obj: KObject, managers: Managers): void {
  const m = isMap(obj.metadata) ? obj.metadata : (obj.metadata = {});
  const entries = encodeManagedFields(managers);
  if (entries.length > 0) m.managedFields = entries;
  else delete m.managedFields;
}

/** At most MAX_UPDATE_MANAGERS `Update` entries: the oldest are merged into `ancient-changes` (kube's capManagersManager). */
function capUpdateManagers(managers: Managers): void {
  const updaters = (): [string, Manager][] => [...managers].filter(([, m]) => m.operation === 'Update');
  const list = updaters().sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || cmp(ia, ib));
  for (const [id, m] of list) {
    if (updaters().length <= MAX_UPDATE_MANAGERS) return;
    const bucketId = managerId(ANCIENT_CHANGES_MANAGER, 'Update', m.apiVersion, '');
    if (id === bucketId) continue;
    const bucket = managers.get(bucketId);
    if (bucket) {
      bucket.set = bucket.set.union(m.set);
      if (m.time !== undefined && seconds(bucket.time) < seconds(m.time)) bucket.time = m.time;
    } else {
      const b: Manager = { manager: ANCIENT_CHANGES_MANAGER, operation: 'Update', apiVersion: m.apiVersion, subresource: '', set: m.set };
      if (m.time !== undefined) b.time = m.time;
      managers.set(bucketId, b);
    }
    managers.delete(id);
  }
}

/** kubectl's annotation, kept in step with what kubectl server-side applies (lastappliedupdater). */
function syncLastApplied(result: KObject, config: KObject): void {
  const rm = isMap(result.metadata) ? result.metadata : undefined;
  const annotations = rm && isMap(rm.annotations) ? rm.annotations : undefined;
  if (!annotations || typeof annotations[LAST_APPLIED_ANNOTATION] !== 'string' || annotations[LAST_APPLIED_ANNOTATION] === '') return;
  const copy = structuredClone(config) as JMap;
  if (isMap(copy.metadata) && isMap(copy.metadata.annotations)) delete copy.metadata.annotations[LAST_APPLIED_ANNOTATION];
  annotations[LAST_APPLIED_ANNOTATION] = `${goJSON(copy)}\n`;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : '');
  if (size > ANNOTATIONS_SIZE_LIMIT) delete annotations[LAST_APPLIED_ANNOTATION];
}

// ---- the structured merge ----------------------------------------------------------------------

/**
 * Merges an apply configuration (`rhs`) into the live object (`lhs`) by the schema
 * (structured-merge-diff's Merge): scalars and atomic values are replaced; maps merge key by key;
 * map and set lists merge item by item, the configuration's items in its order with the live object's
 * other items kept where they were.
 */
export function mergeValues(lhs: unknown, rhs: unknown, schema: Schema): unknown {
  if (rhs === undefined) return lhs === undefined ? undefined : structuredClone(lhs);
  if (lhs === undefined) return structuredClone(rhs);
  const t = typeOf(schema, rhs !== null ? rhs : lhs);
  if (t.kind === 'scalar' || t.atomic) return structuredClone(rhs);
  if (t.kind === 'map') {
    const l = lhs === null ? {} : lhs;
    const r = rhs === null ? {} : rhs;
    if (!isMap(l) || !isMap(r)) return structuredClone(rhs);
    if (Object.keys(l).length === 0 && Object.keys(r).length === 0) return structuredClone(rhs);
    const out: JMap = {};
    for (const [k, v] of Object.entries(l)) out[k] = mergeValues(v, Object.hasOwn(r, k) ? r[k] : undefined, fieldOf(t, k).schema);
    for (const [k, v] of Object.entries(r)) if (!Object.hasOwn(l, k)) out[k] = structuredClone(v);
    return out;
  }
  const l = lhs === null ? [] : lhs;
  const r = rhs === null ? [] : rhs;
  if (!Array.isArray(l) || !Array.isArray(r)) return structuredClone(rhs);
  if (l.length === 0 && r.length === 0) return structuredClone(rhs);
  return mergeList(l, r, t, (a, b) => mergeValues(a, b, t.items));
}

/** Upstream's list merge order: shared items follow the configuration's order, live-only items stay in place. */
function mergeList(lhs: unknown[], rhs: unknown[], t: ReturnType<typeof typeOf> & { kind: 'list' }, merge: (l: unknown, r: unknown) => unknown): unknown[] {
  const index = (list: unknown[]): { pes: string[]; items: unknown[]; first: Map<string, unknown> } => {
    const pes: string[] = [];
    const items: unknown[] = [];
    const first = new Map<string, unknown>();
    list.forEach((item, i) => {
      let k: string;
      try {
        k = peString(listItemElement(t, item));
      } catch {
        // An item without a key (only in a live object): kept where it is, merged with nothing.
        k = `\u0000${i}`;
      }
      pes.push(k);
      items.push(item);
      if (!first.has(k)) first.set(k, item);
    });
    return { pes, items, first };
  };
  const L = index(lhs);
  const R = index(rhs);
  const out: unknown[] = [];
  const shared = R.pes.filter((k) => L.first.has(k));
  let nextShared = shared.shift();
  const mergedRHS = new Set<string>();
  let li = 0;
  let ri = 0;
  while (li < L.pes.length || ri < R.pes.length) {
    if (li < L.pes.length && ri < R.pes.length) {
      const pe = L.pes[li] as string;
      if (pe === R.pes[ri] && !mergedRHS.has(pe)) {
        mergedRHS.add(pe);
        out.push(merge(L.first.get(pe), R.first.get(pe)));
        li++;
        ri++;
        nextShared = shared.shift();
        continue;
      }
      if (R.first.has(pe) && nextShared !== undefined && nextShared !== pe) {
        li++;
        continue;
      }
    }
    if (li < L.pes.length) {
      const pe = L.pes[li] as string;
      if (!R.first.has(pe)) {
        out.push(merge(L.items[li], undefined));
        li++;
        continue;
      }
      if (mergedRHS.has(pe)) {
        li++;
        continue;
      }
    }
    if (ri < R.pes.length) {
      const pe = R.pes[ri] as string;
      ri++;
      if (mergedRHS.has(pe)) continue;
      mergedRHS.add(pe);
      out.push(merge(L.first.get(pe), R.first.get(pe)));
      if (nextShared === pe) nextShared = shared.shift();
    }
  }
  return out;
}
