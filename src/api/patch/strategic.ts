// Strategic merge patch (`application/strategic-merge-patch+json`): the server's half of
// k8s.io/apimachinery's strategicpatch, driven by a kind's schema instead of Go struct tags. Kumo's own
// code; the behaviour follows upstream's, including its ordering rules and its error messages.
//
// The rules, as kube-apiserver applies them:
// - Maps merge key by key; `null` deletes a key. A map field whose `x-kubernetes-patch-strategy` is
//   `replace` is replaced whole.
// - Lists replace, unless the strategy is `merge`: lists of objects then merge by the merge key
//   (`x-kubernetes-patch-merge-key`, else the first `x-kubernetes-list-map-keys` entry), lists of
//   primitives become the union.
// - Order of a merged list: without `$setElementOrder/<list>`, the patch's items keep the patch's
//   order and the server's other items keep theirs, interleaved by the server's order (so a new item
//   goes first); with it, the directive's order wins.
// - Directives: `$patch: replace | delete` on a map; `$patch: delete` (by merge key) and
//   `$patch: replace` as list items; `$retainKeys` (the keys a map keeps); `$setElementOrder/<list>`;
//   `$deleteFromPrimitiveList/<list>`. A value new to the object is taken without its directives and
//   nulls.
// - Bad patches answer as kube-apiserver words them. Where kube answers 500 (a Go error that is not an
//   API status: a missing merge key, an unknown `$patch` value, items of mixed types) Kumo answers 400
//   BadRequest with the same message; kube's own 400s and 422s are kept.
//
// Schemas without structure (`x-kubernetes-preserve-unknown-fields`, unknown fields) merge maps and
// replace lists, as a field without patch tags does upstream.
import { KumoError } from '../../lib/errors.js';
import type { JSONSchemaProps } from '../types.js';

type JMap = Record<string, unknown>;
type Schema = JSONSchemaProps | undefined;

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder';
const DELETE_PRIMITIVES = '$deleteFromPrimitiveList';

/** Deepest nesting of a patch document Kumo merges (kube objects stay far below it). */
export const MAX_PATCH_DEPTH = 1000;

/**
 * Applies a strategic merge patch to `original` (not modified) under `schema` (the kind's whole-object
 * schema) and returns the patched object. Throws a KumoError (BadRequest or Invalid) for a bad patch.
 */
export function applyStrategicPatch(original: JMap, patch: unknown, schema: JSONSchemaProps | undefined): JMap {
  if (patch === null) return structuredClone(original);
  if (!isMap(patch)) throw badRequest(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`);
  checkDepth(patch);
  try {
    return mergeMap(structuredClone(original), structuredClone(patch), schema);
  } catch (err) {
    if (err instanceof RangeError) throw badRequest('the patch is nested too deeply');
    throw err;
  }
}

// ---- errors, worded as upstream's mergepatch errors --------------------------------------------

function badRequest(message: string): KumoError {
  return new KumoError('BadRequest', message);
}

const errNoMergeKey = (m: JMap, key: string): KumoError => badRequest(`map: ${goString(m)} does not contain declared merge key: ${key}`);
const errBadArgType = (expected: 'map' | 'list', actual: unknown): KumoError =>
  badRequest(`expected a ${expected === 'map' ? 'map[string]interface {}' : '[]interface {}'}, but received a ${goType(actual)}`);
const errBadPatchType = (directive: unknown, m: JMap): KumoError => badRequest(`unknown patch type: ${goString(directive)} in map: ${goString(m)}`);
const ERR_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_SET_ORDER = 'invalid patch format of setElementOrder list';
const ERR_PRIMITIVE_LIST = 'invalid patch format of primitive list';

/** Go's `%v` of a decoded JSON value: `map[a:1 b:[x y]]`, keys sorted. */
export function goString(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${keys.map((k) => `${k}:${goString(v[k])}`).join(' ')}]`;
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The Go type name a decoded JSON value has (upstream decodes integers as int64). */
function goType(v: unknown): string {
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (Array.isArray(v)) return '[]interface {}';
  if (isMap(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function checkDepth(patch: unknown): void {
  const stack: [unknown, number][] = [[patch, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (depth > MAX_PATCH_DEPTH) throw badRequest(`the patch is nested too deeply (more than ${MAX_PATCH_DEPTH} levels)`);
    const children = Array.isArray(v) ? v : isMap(v) ? Object.values(v) : [];
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, depth + 1]);
  }
}

// ---- the schema's patch metadata ---------------------------------------------------------------

/** Sets an own property, also for a key like `__proto__` (which plain assignment would not store). */
function put(target: JMap, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function isMap(v: unknown): v is JMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The schema of field `key` of an object schema (properties, then allOf/anyOf/oneOf, then additionalProperties). */
function fieldSchema(s: Schema, key: string): Schema {
  if (!s) return undefined;
  const own = s.properties && Object.hasOwn(s.properties, key) ? s.properties[key] : undefined;
  if (own) return own;
  for (const sub of [...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) {
    const found = fieldSchema(sub, key);
    if (found) return found;
  }
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** The patch strategy without `retainKeys` (which only tells clients to send `$retainKeys`). */
function strategyOf(s: Schema): string {
  const parts = (s?.['x-kubernetes-patch-strategy'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '' && p !== 'retainKeys');
  return parts.length === 1 ? (parts[0] ?? '') : '';
}

function mergeKeyOf(s: Schema, strategy: string): string {
  const key = s?.['x-kubernetes-patch-merge-key'];
  if (key) return key;
  return strategy === 'merge' ? (s?.['x-kubernetes-list-map-keys']?.[0] ?? '') : '';
}

// ---- values taken as they are ------------------------------------------------------------------

function isDirectiveKey(k: string): boolean {
  return k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVES);
}

/**
 * A patch value with no counterpart in the object: its nulls dropped, its maps carrying `$patch`
 * dropped, other directive keys removed. `keep` is false when the value itself is such a map.
 */
function clean(v: unknown): { keep: boolean; value: unknown } {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const c = clean(x);
      if (c.keep) out.push(c.value);
    }
    return { keep: true, value: out };
  }
  if (!isMap(v)) return { keep: true, value: v };
  if (Object.hasOwn(v, DIRECTIVE)) return { keep: false, value: undefined };
  const out: JMap = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || isDirectiveKey(k)) continue;
    const c = clean(x);
    if (c.keep) put(out, k, c.value);
  }
  return { keep: true, value: out };
}

function setClean(target: JMap, key: string, v: unknown): void {
  const c = clean(v);
  if (c.keep) put(target, key, c.value);
  else delete target[key];
}

// ---- maps --------------------------------------------------------------------------------------

function mergeMap(original: JMap, patch: JMap, schema: Schema): JMap {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return clean(patch).value as JMap;
    }
    if (directive === 'delete') return {};
    throw errBadPatchType(directive, patch);
  }
  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, schema);
  const deletions: [string, unknown][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_PRIMITIVES)) deletions.push([directiveTarget(key, DELETE_PRIMITIVES, ERR_PRIMITIVE_LIST), value]);
    else mergeField(original, key, value, schema, false);
  }
  // Deletions from primitive lists after the additions (upstream's order is a map's: random).
  for (const [key, value] of deletions) mergeField(original, key, value, schema, true);
  return original;
}

/** `$prefix/field` → field. */
function directiveTarget(key: string, prefix: string, error: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw badRequest(error);
  return key.slice(slash + 1);
}

function mergeField(original: JMap, key: string, patchV: unknown, schema: Schema, isDeleteList: boolean): void {
  if (patchV === null) {
    delete original[key];
    return;
  }
  const cur = original[key];
  if (!Object.hasOwn(original, key) || valueKind(cur) !== valueKind(patchV)) {
    if (!isDeleteList) setClean(original, key, patchV);
    return;
  }
  const fs = fieldSchema(schema, key);
  if (isMap(cur)) {
    put(original, key, strategyOf(fs) === 'replace' ? clean(patchV).value : mergeMap(cur, patchV as JMap, fs));
  } else if (Array.isArray(cur)) {
    put(original, key, mergeList(cur, patchV as unknown[], fs, isDeleteList).list);
  } else {
    put(original, key, patchV);
  }
}

function valueKind(v: unknown): string {
  if (Array.isArray(v)) return 'list';
  if (isMap(v)) return 'map';
  return typeof v;
}

/** `$retainKeys`: the map keeps only the listed keys; the patch may only set listed keys. */
function applyRetainKeys(original: JMap, patch: JMap): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw badRequest(ERR_RETAIN_KEYS);
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PRIMITIVES) || k.startsWith(SET_ORDER)) continue;
    if (!keep.has(k)) throw badRequest(ERR_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$setElementOrder/<list>`: merges that list now and orders it as the directive says. */
function mergeOrderedLists(original: JMap, patch: JMap, schema: Schema): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw errBadArgType('list', order);
    const field = directiveTarget(key, SET_ORDER, ERR_SET_ORDER);
    const hasOriginal = Object.hasOwn(original, field);
    const hasPatch = Object.hasOwn(patch, field);
    const originalList = hasOriginal ? original[field] : undefined;
    const patchList = hasPatch ? patch[field] : undefined;
    if (hasOriginal && !Array.isArray(originalList)) throw errBadArgType('list', originalList);
    if (hasPatch && !Array.isArray(patchList)) throw errBadArgType('list', patchList);
    const origItems = (originalList ?? []) as unknown[];
    const patchItems = (patchList ?? []) as unknown[];
    const fs = fieldSchema(schema, field);
    const mergeKey = mergeKeyOf(fs, strategyOf(fs));
    validateOrder(patchItems, order, mergeKey);

    let merged: unknown[];
    let serverOrder = origItems;
    if (hasOriginal && hasPatch) ({ list: merged, serverView: serverOrder } = mergeList(origItems, patchItems, fs, false));
    else if (hasPatch) merged = clean(patchItems).value as unknown[];
    else if (hasOriginal) merged = origItems;
    else continue;

    const kind = elementKind([origItems, patchItems], true);
    if (kind === undefined) {
      // Upstream fails here ("no elements in any of the given slices"); there is nothing to order.
      put(original, field, merged);
    } else {
      const [inOrder, serverOnly] = mergeKey ? partitionMaps(merged, order, mergeKey) : partitionPrimitives(merged, order);
      put(original, field, normalizeElementOrder(inOrder, serverOnly, order, serverOrder, mergeKey, kind));
    }
    delete patch[field];
  }
}

/** The patch's list items must appear in `$setElementOrder` in the same relative order. */
function validateOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  let items = patchList;
  if (mergeKey) {
    items = [];
    for (const item of patchList) {
      if (!isMap(item)) throw errBadArgType('map', item);
      if (item[DIRECTIVE] !== 'delete') items.push(item);
    }
  }
  let pi = 0;
  let oi = 0;
  while (pi < items.length && oi < order.length) {
    const item = items[pi];
    if (isMap(item) && Object.hasOwn(item, DIRECTIVE)) {
      pi++;
      continue;
    }
    if (mergeKeyEqual(item, order[oi], mergeKey)) pi++;
    oi++;
  }
  if (pi < items.length && oi >= order.length) {
    throw badRequest(`the order in patch list:\n${goString(patchList)}\n doesn't match ${SET_ORDER} list:\n${goString(order)}`);
  }
}

function mergeKeyEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return primitiveEqual(left, right);
  if (!isMap(left)) throw errBadArgType('map', left);
  if (!isMap(right)) throw errBadArgType('map', right);
  if (!Object.hasOwn(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return primitiveEqual(left[mergeKey], right[mergeKey]);
}

/** Go's `==` on decoded JSON scalars (maps and lists never compare equal here). */
function primitiveEqual(a: unknown, b: unknown): boolean {
  return a === b && (a === null || typeof a !== 'object');
}

// ---- lists -------------------------------------------------------------------------------------

/** A merged list, and the server's list as upstream's merge leaves it for `$setElementOrder` (see mergeSlice). */
interface Merged {
  list: unknown[];
  serverView: unknown[];
}

function mergeList(original: unknown[], patch: unknown[], fs: Schema, isDeleteList: boolean): Merged {
  const strategy = strategyOf(fs);
  // A `$deleteFromPrimitiveList` deletes whatever the list's strategy.
  if (strategy !== 'merge' && !isDeleteList) return { list: clean(patch).value as unknown[], serverView: original };
  return mergeSlice(original, patch, fs?.items, mergeKeyOf(fs, strategy), isDeleteList);
}

type ElementKind = 'map' | 'string' | 'number' | 'boolean' | 'null';

/** The one kind of element the lists hold; mixed kinds and lists of lists are refused. */
function elementKind(lists: unknown[][], allowEmpty: boolean): ElementKind | undefined {
  let kind: ElementKind | undefined;
  for (const list of lists) {
    for (const v of list) {
      if (Array.isArray(v)) throw new KumoError('Invalid', 'lists of lists are not supported', { causes: [{ message: 'lists of lists are not supported' }] });
      const k: ElementKind = v === null ? 'null' : isMap(v) ? 'map' : (typeof v as 'string' | 'number' | 'boolean');
      if (kind === undefined) kind = k;
      else if (kind !== k) throw badRequest(`list element types are not identical: ${goString(lists)}`);
    }
  }
  if (kind === undefined && !allowEmpty) throw badRequest('no elements in any of the given slices');
  return kind;
}

/**
 * Merges a list with strategy `merge`. `serverView` reproduces a detail of upstream that decides the
 * order `$setElementOrder` gives: upstream deletes and appends in place in the server's list (a Go
 * slice of exactly its length), so the order it later consults is that list with deleted items
 * shifted out and new items written into the freed places.
 */
function mergeSlice(original: unknown[], patch: unknown[], itemSchema: Schema, mergeKey: string, isDeleteList: boolean): Merged {
  if (original.length === 0 && patch.length === 0) return { list: original, serverView: original };
  const kind = elementKind([original, patch], false) as ElementKind;
  if (kind !== 'map') {
    if (isDeleteList) return { list: deleteFromList(original, patch), serverView: original };
    const merged = dedupe([...original, ...patch]);
    const [inPatch, serverOnly] = mergeKey ? partitionMaps(merged, patch, mergeKey) : partitionPrimitives(merged, patch);
    return { list: normalizeElementOrder(inPatch, serverOnly, patch, original, mergeKey, kind), serverView: original };
  }
  if (!mergeKey) throw badRequest(`cannot merge lists without merge key for type ${itemSchema?.additionalProperties !== undefined ? 'map' : 'struct'}`);

  const keyOf = (x: unknown): unknown => (isMap(x) && Object.hasOwn(x, mergeKey) ? x[mergeKey] : undefined);
  const scalar = (k: unknown): boolean => k !== undefined && (k === null || typeof k !== 'object');

  // `$patch: delete` items remove every item with their key; `$patch: replace` makes the rest the list.
  // Upstream removes each match in place (shifting the rest left), so once `n` items remain, place p
  // (p >= n) of the server's list still holds what was last in use when the length fell to p.
  const size = original.length;
  const byKey = new Map<unknown, number[]>();
  original.forEach((x, i) => {
    const k = keyOf(x);
    if (scalar(k)) byKey.set(k, [...(byKey.get(k) ?? []), i]);
  });
  const removed = new Array<boolean>(size).fill(false);
  const stale = new Array<unknown>(size);
  let n = size;
  let last = size - 1;
  const rest: JMap[] = [];
  let replace = false;
  for (const v of patch) {
    const m = v as JMap;
    if (!Object.hasOwn(m, DIRECTIVE)) {
      rest.push(m);
      continue;
    }
    const directive = m[DIRECTIVE];
    if (directive === 'delete') {
      if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
      const k = m[mergeKey];
      for (const j of scalar(k) ? (byKey.get(k) ?? []) : []) {
        if (removed[j]) continue;
        stale[n - 1] = original[last];
        removed[j] = true;
        n--;
        while (last >= 0 && removed[last]) last--;
      }
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw badRequest('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, m);
    }
  }
  const kept = original.filter((_, i) => !removed[i]);
  // The server's list as upstream's merge leaves it: kept items, then stale places new items may fill.
  const backing = [...kept, ...stale.slice(n)];

  let serverOrder: unknown[];
  let patchOrder: unknown[];
  let merged: unknown[];
  if (replace) {
    serverOrder = clean(rest).value as unknown[];
    patchOrder = [];
    merged = [...serverOrder];
  } else {
    serverOrder = kept;
    patchOrder = rest;
    merged = [...kept];
    const at = new Map<unknown, number>();
    merged.forEach((x, i) => {
      const k = keyOf(x);
      if (scalar(k) && !at.has(k)) at.set(k, i);
    });
    for (const m of rest) {
      if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
      const k = m[mergeKey];
      const i = scalar(k) ? at.get(k) : undefined;
      if (i !== undefined) {
        merged[i] = mergeMap(merged[i] as JMap, m, itemSchema);
        continue;
      }
      const item = clean(m).value;
      if (scalar(k)) at.set(k, merged.length);
      merged.push(item);
      // Appended in place while the server's list has room (a Go slice of exactly its length).
      if (n < size && merged.length === n + 1) backing[n++] = item;
    }
  }
  const [inPatch, serverOnly] = partitionMaps(merged, patchOrder, mergeKey);
  return { list: normalizeElementOrder(inPatch, serverOnly, patchOrder, serverOrder, mergeKey, kind), serverView: backing };
}

function dedupe(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<unknown>();
  for (const v of list) {
    if (v !== null && typeof v === 'object') out.push(v);
    else if (!seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  }
  return out;
}

function deleteFromList(current: unknown[], toDelete: unknown[]): unknown[] {
  const gone = new Set(toDelete.filter((v) => v === null || typeof v !== 'object'));
  return current.filter((v) => !gone.has(v));
}

/** Splits `list` into the items found in `by` (by merge key) and the others, keeping order. */
function partitionMaps(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const keys = new Set<unknown>();
  by.forEach((x, i) => {
    if (!isMap(x)) throw badRequest(`value for key ${i} is not a map.`);
    if (Object.hasOwn(x, mergeKey)) keys.add(x[mergeKey]);
  });
  const found: unknown[] = [];
  const rest: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw errBadArgType('map', v);
    if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    const k = v[mergeKey];
    (k !== null && typeof k === 'object' ? rest : keys.has(k) ? found : rest).push(v);
  }
  return [found, rest];
}

function partitionPrimitives(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const keys = new Set(by.filter((v) => v === null || typeof v !== 'object'));
  const found: unknown[] = [];
  const rest: unknown[] = [];
  for (const v of list) (keys.has(v) && (v === null || typeof v !== 'object') ? found : rest).push(v);
  return [found, rest];
}

/**
 * Orders the patch's items by `patchOrder` and the server-only items by `serverOrder`, then
 * interleaves them: a server item goes before a patch item when the server's order says so, and the
 * patch item goes first otherwise (so new items lead).
 */
function normalizeElementOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  const right = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const left = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  const at = indexer(serverOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = at(left[i]);
      const ri = at(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  let items = toSort;
  const deleted: unknown[] = [];
  if (kind === 'map') {
    for (const list of [toSort, order]) {
      for (const item of list) {
        if (!isMap(item)) throw errBadArgType('map', item);
        if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      }
    }
    items = [];
    for (const item of toSort) ((item as JMap)[DIRECTIVE] === 'delete' ? deleted : items).push(item);
  }
  const at = indexer(order, mergeKey, kind);
  // Every item is found in `order` (the callers partition by it); one that is not would keep its place after them.
  const ranked = items.map((item, pos) => {
    const rank = at(item);
    return { item, pos, rank: rank < 0 ? Number.MAX_SAFE_INTEGER : rank };
  });
  ranked.sort((a, b) => a.rank - b.rank || a.pos - b.pos);
  return [...ranked.map((r) => r.item), ...deleted];
}

/** Position of an item in `list` (by merge key for maps), -1 when absent. */
function indexer(list: unknown[], mergeKey: string, kind: ElementKind): (item: unknown) => number {
  const keyOf = (v: unknown): unknown => (kind === 'map' ? (isMap(v) ? v[mergeKey] : undefined) : v);
  const positions = new Map<unknown, number>();
  list.forEach((v, i) => {
    const k = keyOf(v);
    if ((k === null || typeof k !== 'object') && !positions.has(k)) positions.set(k, i);
  });
  return (item) => {
    const k = keyOf(item);
    return k !== null && typeof k === 'object' ? -1 : (positions.get(k) ?? -1);
  };
}
