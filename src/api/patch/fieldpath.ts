// Field sets for server-side apply: which fields of an object a manager owns, the FieldsV1 JSON that
// kube writes into `metadata.managedFields[].fieldsV1`, and the walks over an object that the field
// manager needs, each driven by the kind's schema the way sigs.k8s.io/structured-merge-diff reads
// OpenAPI. Kumo's own code; the behaviour and the encoding follow upstream's.
//
// - Path elements: `f:<field>` (a map key or struct field), `k:{"name":"x"}` (an item of a list of
//   type map, by its key fields, sorted), `v:"value"` (an item of a list of type set), `i:0` (an
//   index). They order as upstream's: fields < keys < values < indexes, each by its content.
// - A set is a tree: `members` are paths in the set, `children` the subtrees below a path element.
//   FieldsV1 writes a member as `{}`, a subtree as its contents, and a path that is both with `".": {}`
//   first.
// - Schema types: `x-kubernetes-list-type: map|set|atomic` (map needs `x-kubernetes-list-map-keys`);
//   a list with `x-kubernetes-patch-strategy: merge` and a merge key and no list type is a map list;
//   any other list is atomic. Objects are granular unless `x-kubernetes-map-type: atomic`. Values the
//   schema does not describe (`x-kubernetes-preserve-unknown-fields`, `additionalProperties: true`)
//   are "deduced": maps granular, lists atomic.
import type { JSONSchemaProps } from '../types.js';

type JMap = Record<string, unknown>;
/** A schema, or undefined for a value the schema does not describe (a deduced type). */
export type Schema = JSONSchemaProps | undefined;

export type PathElement = { readonly field: string } | { readonly key: readonly (readonly [string, unknown])[] } | { readonly value: unknown } | { readonly index: number };
export type Path = readonly PathElement[];

function isMap(v: unknown): v is JMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** Go's encoding/json of a decoded JSON value: map keys sorted, `<`, `>`, `&`, U+2028/9 escaped. */
export function goJSON(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(goJSON).join(',')}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).sort(compareStrings);
    return `{${keys.map((k) => `${goJSON(k)}:${goJSON(v[k])}`).join(',')}}`;
  }
  if (typeof v === 'string') return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return JSON.stringify(v);
}

/** Byte order of UTF-8 strings (Go's strings.Compare) — code point order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

// ---- path elements -------------------------------------------------------------------------------

/** The FieldsV1 key of a path element: `f:name`, `k:{"name":"x"}`, `v:"x"`, `i:0`. */
export function peString(pe: PathElement): string {
  if ('field' in pe) return `f:${pe.field}`;
  if ('key' in pe) return `k:{${pe.key.map(([n, v]) => `${goJSON(n)}:${goJSON(v)}`).join(',')}}`;
  if ('value' in pe) return `v:${goJSON(pe.value)}`;
  return `i:${pe.index}`;
}

function peRank(pe: PathElement): number {
  return 'field' in pe ? 0 : 'key' in pe ? 1 : 'value' in pe ? 2 : 3;
}

/** Upstream's order of path elements (fields, keys, values, indexes; each by its content). */
export function peCompare(a: PathElement, b: PathElement): number {
  const ra = peRank(a);
  const rb = peRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if ('field' in a && 'field' in b) return compareStrings(a.field, b.field);
  if ('key' in a && 'key' in b) return compareFieldLists(a.key, b.key);
  if ('value' in a && 'value' in b) return compareValues(a.value, b.value);
  if ('index' in a && 'index' in b) return a.index < b.index ? -1 : a.index > b.index ? 1 : 0;
  return 0;
}

function compareFieldLists(a: readonly (readonly [string, unknown])[], b: readonly (readonly [string, unknown])[]): number {
  for (let i = 0; ; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined && y === undefined) return 0;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = compareStrings(x[0], y[0]) || compareValues(x[1], y[1]);
    if (c !== 0) return c;
  }
}

function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isMap(v)) return 4;
  return 5; // null
}

/** Upstream's total order of values: numbers, strings, booleans, lists, maps, null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; ; i++) {
      if (i >= a.length && i >= b.length) return 0;
      if (i >= a.length) return -1;
      if (i >= b.length) return 1;
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
  }
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a).sort(compareStrings);
    const kb = Object.keys(b).sort(compareStrings);
    return compareFieldLists(
      ka.map((k) => [k, a[k]] as const),
      kb.map((k) => [k, b[k]] as const),
    );
  }
  return 0;
}

/** Go's `%v`-style rendering of a key value in a path (`"x"`, `80`, `true`). */
function valueString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  if (isMap(v)) return Object.keys(v).map((k) => `${k}=${valueString(v[k])}`).join('');
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : goJSON(v);
}

/** A path element as upstream prints it in messages: `.name`, `[name="x"]`, `[="x"]`, `[0]`. */
export function peDisplay(pe: PathElement): string {
  if ('field' in pe) return `.${pe.field}`;
  if ('key' in pe) return `[${pe.key.map(([n, v]) => `${n}=${valueString(v)}`).join(',')}]`;
  if ('value' in pe) return `[=${valueString(pe.value)}]`;
  return `[${pe.index}]`;
}

/** A path as upstream prints it: `.spec.containers[name="app"].image`. */
export function pathString(path: Path): string {
  return path.map(peDisplay).join('');
}

/** Parses a FieldsV1 key; undefined for a key of an unknown type (upstream skips those). */
export function parsePathElement(s: string): PathElement | undefined {
  if (s.length < 2) throw new Error(`key must be 2 characters long: ${s}`);
  if (s[1] !== ':') throw new Error(`missing colon: ${s}`);
  const body = s.slice(2);
  switch (s[0]) {
    case 'f':
      return { field: body };
    case 'v':
      return { value: JSON.parse(body) as unknown };
    case 'k': {
      const m: unknown = JSON.parse(body);
      if (!isMap(m)) throw new Error(`key path element is not an object: ${s}`);
      return { key: Object.keys(m).sort(compareStrings).map((k) => [k, m[k]] as const) };
    }
    case 'i': {
      if (!/^[+-]?[0-9]+$/.test(body)) throw new Error(`invalid index: ${s}`);
      return { index: Number(body) };
    }
    default:
      return undefined;
  }
}

// ---- sets ----------------------------------------------------------------------------------------

interface Child {
  pe: PathElement;
  set: FieldSet;
}

/** A set of field paths, as structured-merge-diff's fieldpath.Set. Operations return new sets. */
export class FieldSet {
  /** Paths ending here, keyed by their FieldsV1 key. */
  readonly members = new Map<string, PathElement>();
  /** Subtrees below a path element (never empty). */
  readonly children = new Map<string, Child>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path (the empty path is not a member of any set, as upstream). */
  insert(path: Path): void {
    if (path.length === 0) return;
    const s = path.slice(0, -1).reduce<FieldSet>((set, pe) => set.descend(pe), this);
    const last = path[path.length - 1] as PathElement;
    s.members.set(peString(last), last);
  }

  private descend(pe: PathElement): FieldSet {
    const k = peString(pe);
    let c = this.children.get(k);
    if (!c) this.children.set(k, (c = { pe, set: new FieldSet() }));
    return c.set;
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    const s = path.slice(0, -1).reduce<FieldSet | undefined>((set, pe) => set?.child(pe), this);
    return s !== undefined && s.members.has(peString(path[path.length - 1] as PathElement));
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(peString(pe));
  }

  /** The subtree below `pe` (upstream's WithPrefix), or undefined. */
  child(pe: PathElement): FieldSet | undefined {
    return this.children.get(peString(pe))?.set;
  }

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.set.isEmpty()) return false;
    return true;
  }

  /** Number of paths in the set. */
  size(): number {
    let n = this.members.size;
    for (const c of this.children.values()) n += c.set.size();
    return n;
  }

  private withChild(k: string, pe: PathElement, set: FieldSet): void {
    if (!set.isEmpty()) this.children.set(k, { pe, set });
  }

  union(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, pe] of o.members) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      out.withChild(k, c.pe, oc ? c.set.union(oc.set) : c.set.clone());
    }
    for (const [k, c] of o.children) if (!this.children.has(k)) out.withChild(k, c.pe, c.set.clone());
    return out;
  }

  intersection(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (o.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      if (oc) out.withChild(k, c.pe, c.set.intersection(oc.set));
    }
    return out;
  }

  /** Paths of this set that are not in `o` (a member of `o` does not remove the paths below it). */
  difference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!o.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      out.withChild(k, c.pe, oc ? c.set.difference(oc.set) : c.set.clone());
    }
    return out;
  }

  /** Like difference, but a member of `o` also removes every path below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!o.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      if (o.members.has(k)) continue;
      const oc = o.children.get(k);
      out.withChild(k, c.pe, oc ? c.set.recursiveDifference(oc.set) : c.set.clone());
    }
    return out;
  }

  /** Only the paths below `pe` (and `pe` itself). */
  only(pe: PathElement): FieldSet {
    const out = new FieldSet();
    const k = peString(pe);
    const m = this.members.get(k);
    if (m) out.members.set(k, m);
    const c = this.children.get(k);
    if (c) out.withChild(k, c.pe, c.set.clone());
    return out;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, c] of this.children) out.withChild(k, c.pe, c.set.clone());
    return out;
  }

  equals(o: FieldSet): boolean {
    return JSON.stringify(this.toJSON()) === JSON.stringify(o.toJSON());
  }

  private sortedMembers(): PathElement[] {
    return [...this.members.values()].sort(peCompare);
  }

  private sortedChildren(): Child[] {
    return [...this.children.values()].filter((c) => !c.set.isEmpty()).sort((a, b) => peCompare(a.pe, b.pe));
  }

  /** Every path, in upstream's iteration order: this level's members, then each subtree in order. */
  paths(prefix: Path = []): PathElement[][] {
    const out: PathElement[][] = this.sortedMembers().map((pe) => [...prefix, pe]);
    for (const c of this.sortedChildren()) out.push(...c.set.paths([...prefix, c.pe]));
    return out;
  }

  /** The FieldsV1 JSON of the set, keys in upstream's order. */
  toJSON(): JMap {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JMap {
    const out: JMap = {};
    const members = this.sortedMembers();
    const children = this.sortedChildren();
    if (includeSelf && (members.length > 0 || children.length > 0)) out['.'] = {};
    let mi = 0;
    let ci = 0;
    while (mi < members.length || ci < children.length) {
      const m = members[mi];
      const c = children[ci];
      const cmp = m === undefined ? 1 : c === undefined ? -1 : peCompare(m, c.pe);
      if (cmp < 0 && m) {
        out[peString(m)] = {};
        mi++;
      } else if (cmp > 0 && c) {
        out[peString(c.pe)] = c.set.emit(false);
        ci++;
      } else if (c) {
        out[peString(c.pe)] = c.set.emit(true);
        mi++;
        ci++;
      }
    }
    return out;
  }

  /** Reads FieldsV1 JSON (an object). Keys of unknown path element types are skipped, as upstream. */
  static fromJSON(v: unknown): FieldSet {
    if (v === undefined || v === null) return new FieldSet();
    if (!isMap(v)) throw new Error('FieldsV1 must be a JSON object');
    return readSet(v).set;
  }
}

function readSet(v: JMap): { set: FieldSet; member: boolean } {
  const set = new FieldSet();
  let member = false;
  for (const [key, sub] of Object.entries(v)) {
    if (key === '.') {
      member = true;
      continue;
    }
    const pe = parsePathElement(key);
    if (pe === undefined) continue;
    if (!isMap(sub)) throw new Error(`expected an object for ${key}`);
    const inner = readSet(sub);
    const k = peString(pe);
    if (inner.member) set.members.set(k, pe);
    if (!inner.set.isEmpty()) set.children.set(k, { pe, set: inner.set });
  }
  // `{}`: a member of the parent without children.
  if (set.members.size === 0 && set.children.size === 0) member = true;
  return { set, member };
}

// ---- schema types --------------------------------------------------------------------------------

export type TypeNode =
  | { kind: 'scalar' }
  | {
      kind: 'map';
      atomic: boolean;
      /** Declared fields (`properties`). */
      fields: Record<string, JSONSchemaProps>;
      /** Other keys: not allowed, deduced (no schema), or of this schema. */
      extra: 'none' | 'deduced' | JSONSchemaProps;
    }
  | {
      kind: 'list';
      atomic: boolean;
      /** Key fields of a map list; undefined for a set. */
      keys: string[] | undefined;
      items: Schema;
    };

const SCALAR: TypeNode = { kind: 'scalar' };
const EMBEDDED_FIELDS: Record<string, JSONSchemaProps> = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
};

function listNode(s: JSONSchemaProps): TypeNode {
  const listType = s['x-kubernetes-list-type'];
  const items = s.items;
  if (listType === 'map') return { kind: 'list', atomic: false, keys: s['x-kubernetes-list-map-keys'] ?? [], items };
  if (listType === 'set') return { kind: 'list', atomic: false, keys: undefined, items };
  if (listType === 'atomic') return { kind: 'list', atomic: true, keys: undefined, items };
  const strategy = s['x-kubernetes-patch-strategy'] ?? '';
  const mergeKey = s['x-kubernetes-patch-merge-key'];
  if (strategy.split(',').includes('merge') && mergeKey) return { kind: 'list', atomic: false, keys: [mergeKey], items };
  return { kind: 'list', atomic: true, keys: undefined, items };
}

/**
 * The type of a value under a schema, as structured-merge-diff resolves it (`v` only matters where the
 * schema leaves the shape open: no schema, or preserve-unknown-fields without a type).
 */
export function typeOf(s: Schema, v: unknown): TypeNode {
  if (s === undefined) {
    if (Array.isArray(v)) return { kind: 'list', atomic: true, keys: undefined, items: undefined };
    if (isMap(v)) return { kind: 'map', atomic: false, fields: {}, extra: 'deduced' };
    return SCALAR;
  }
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  if (s.type === 'array' || (s.type === undefined && s.items !== undefined)) return listNode(s);
  const objectish = s.type === 'object' || (s.type === undefined && (s.properties !== undefined || s.additionalProperties !== undefined));
  if (objectish || (s.type === undefined && preserve && isMap(v))) {
    const ap = s.additionalProperties;
    const extra: 'none' | 'deduced' | JSONSchemaProps = ap === true ? 'deduced' : typeof ap === 'object' ? ap : preserve ? 'deduced' : 'none';
    const fields = s['x-kubernetes-embedded-resource'] === true ? { ...EMBEDDED_FIELDS, ...(s.properties ?? {}) } : (s.properties ?? {});
    return { kind: 'map', atomic: s['x-kubernetes-map-type'] === 'atomic', fields, extra };
  }
  if (s.type === undefined && preserve && Array.isArray(v)) return { kind: 'list', atomic: true, keys: undefined, items: undefined };
  return SCALAR;
}

/** The schema of a map's key `k`, whether it is declared, and whether it may be there at all. */
export function fieldOf(t: TypeNode & { kind: 'map' }, k: string): { schema: Schema; declared: boolean; allowed: boolean } {
  const f = Object.hasOwn(t.fields, k) ? t.fields[k] : undefined;
  if (f) return { schema: f, declared: true, allowed: true };
  if (t.extra === 'none') return { schema: undefined, declared: false, allowed: false };
  return { schema: t.extra === 'deduced' ? undefined : t.extra, declared: false, allowed: true };
}

/** An error of a typed walk, worded as structured-merge-diff's (`.spec.foo: field not declared in schema`). */
export class TypedError extends Error {
  override readonly name = 'TypedError';
}

function typedErrors(errs: string[]): TypedError {
  return new TypedError(errs.length === 1 ? (errs[0] ?? '') : ['errors:', ...errs.map((e) => `  ${e}`)].join('\n'));
}

/**
 * The path element of a list item: its key fields for a map list (a missing key takes the key field's
 * schema default), its value for a set. Throws a message for an item that has none.
 */
export function listItemElement(t: TypeNode & { kind: 'list' }, item: unknown): PathElement {
  if (t.keys !== undefined && t.keys.length > 0) {
    if (item === null) throw new Error('associative list with keys may not have a null element');
    if (!isMap(item)) throw new Error('associative list with keys may not have non-map elements');
    const key: [string, unknown][] = [];
    for (const k of t.keys) {
      let v = Object.hasOwn(item, k) ? item[k] : undefined;
      if (v === undefined) v = t.items?.properties?.[k]?.default;
      if (v === undefined) throw new Error(`associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
      if (!isScalar(v)) throw new Error(`associative list key ${JSON.stringify(k)} must be a scalar`);
      key.push([k, v]);
    }
    key.sort((a, b) => compareStrings(a[0], b[0]));
    return { key };
  }
  if (!isScalar(item)) throw new Error('only scalar elements may be used as set elements (associative list without keys)');
  return { value: item };
}

export interface WalkOptions {
  /**
   * An apply configuration (default false): a field the schema does not declare and a duplicate list
   * item are errors. Otherwise (a live object) undeclared fields are walked as deduced values and
   * duplicates after the first are skipped.
   */
  strict?: boolean;
}

/**
 * The field set of an object (structured-merge-diff's ToFieldSet): every scalar, every atomic list or
 * map, every item of a map or set list, every key of a map that is not a declared field, and every
 * field whose value is null or an empty object. Throws a TypedError for what cannot be typed.
 */
export function toFieldSet(obj: unknown, schema: Schema, opts: WalkOptions = {}): FieldSet {
  const set = new FieldSet();
  const errs: string[] = [];
  const walk = (v: unknown, s: Schema, path: PathElement[]): void => {
    const t = typeOf(s, v);
    if (t.kind === 'scalar') {
      set.insert(path);
      return;
    }
    if (t.kind === 'list') {
      if (t.atomic) {
        set.insert(path);
        return;
      }
      if (!Array.isArray(v)) return;
      const seen = new Set<string>();
      v.forEach((item: unknown, i) => {
        let pe: PathElement;
        try {
          pe = listItemElement(t, item);
        } catch (err) {
          errs.push(`${pathString(path)}: element ${i}: ${(err as Error).message}`);
          return;
        }
        const k = peString(pe);
        if (seen.has(k)) {
          if (opts.strict) errs.push(`${pathString(path)}: duplicate entries for key ${peDisplay(pe)}`);
          return;
        }
        seen.add(k);
        const p = [...path, pe];
        walk(item, t.items, p);
        set.insert(p);
      });
      return;
    }
    if (t.atomic) {
      set.insert(path);
      return;
    }
    if (!isMap(v)) return;
    for (const [k, val] of Object.entries(v)) {
      const f = fieldOf(t, k);
      const p = [...path, { field: k }];
      if (!f.allowed && opts.strict) {
        errs.push(`${pathString(p)}: field not declared in schema`);
        continue;
      }
      walk(val, f.schema, p);
      if (val === null || (isMap(val) && Object.keys(val).length === 0) || !f.declared) set.insert(p);
    }
  };
  walk(obj, schema, []);
  if (errs.length > 0) throw typedErrors(errs);
  return set;
}

/**
 * The set with every declared struct field that has paths below it also a member (upstream's
 * EnsureNamedFieldsAreMembers): owning `spec.replicas` also means owning `spec`.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, schema: Schema): FieldSet {
  const out = new FieldSet();
  for (const [k, pe] of set.members) out.members.set(k, pe);
  const t = typeOf(schema, undefined);
  for (const [k, c] of set.children) {
    let childSchema: Schema;
    if ('field' in c.pe && t.kind === 'map') {
      const f = fieldOf(t, c.pe.field);
      if (f.declared) out.members.set(k, c.pe);
      childSchema = f.schema;
    } else if (t.kind === 'list') {
      childSchema = t.items;
    }
    const sub = ensureNamedFieldsAreMembers(c.set, childSchema);
    if (!sub.isEmpty()) out.children.set(k, { pe: c.pe, set: sub });
  }
  return out;
}

export interface Comparison {
  /** Fields only in the right-hand object. */
  added: FieldSet;
  /** Leaves in both, with different values. */
  modified: FieldSet;
  /** Fields only in the left-hand object. */
  removed: FieldSet;
}

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a);
  const bo = b as JMap;
  return ak.length === Object.keys(bo).length && ak.every((k) => Object.hasOwn(bo, k) && jsonEqual((a as JMap)[k], bo[k]));
}

function isEmptyContainer(v: unknown): boolean {
  return v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (isMap(v) && Object.keys(v).length === 0);
}

/** The shape a typed walk treats a value as: map, list, or anything else. */
function shape(v: unknown): 'map' | 'list' | 'other' {
  return Array.isArray(v) ? 'list' : isMap(v) ? 'map' : 'other';
}

/**
 * The fields added, modified and removed going from `lhs` to `rhs` (structured-merge-diff's Compare).
 * A map or list item that appears or disappears is reported with every path below it; an atomic
 * value or a scalar is one leaf.
 */
export function compare(lhs: unknown, rhs: unknown, schema: Schema): Comparison {
  const out: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const leaf = (l: unknown, r: unknown, path: PathElement[]): void => {
    if (l === undefined) out.added.insert(path);
    else if (r === undefined) out.removed.insert(path);
    else if (!jsonEqual(l, r)) out.modified.insert(path);
  };
  const walk = (l: unknown, r: unknown, s: Schema, path: PathElement[]): void => {
    const t = typeOf(s, r !== undefined && r !== null ? r : l);
    const container = t.kind === 'list' ? 'list' : t.kind === 'map' ? 'map' : undefined;
    const fits = (v: unknown): boolean => v === undefined || v === null || shape(v) === container;
    if (t.kind === 'scalar' || t.atomic || !fits(l) || !fits(r) || (isEmptyContainer(l) && isEmptyContainer(r))) {
      leaf(l, r, path);
      return;
    }
    if (t.kind === 'list') {
      const index = (list: unknown): Map<string, { pe: PathElement; item: unknown }> => {
        const m = new Map<string, { pe: PathElement; item: unknown }>();
        if (!Array.isArray(list)) return m;
        for (const item of list) {
          let pe: PathElement;
          try {
            pe = listItemElement(t, item);
          } catch {
            continue;
          }
          const k = peString(pe);
          if (!m.has(k)) m.set(k, { pe, item });
        }
        return m;
      };
      const lm = index(l);
      const rm = index(r);
      for (const [k, { pe, item }] of rm) walk(lm.get(k)?.item, item, t.items, [...path, pe]);
      for (const [k, { pe, item }] of lm) if (!rm.has(k)) walk(item, undefined, t.items, [...path, pe]);
    } else {
      const lmap = isMap(l) ? l : {};
      const rmap = isMap(r) ? r : {};
      const keys = new Set([...Object.keys(lmap), ...Object.keys(rmap)]);
      for (const k of keys) {
        const lv = Object.hasOwn(lmap, k) ? lmap[k] : undefined;
        const rv = Object.hasOwn(rmap, k) ? rmap[k] : undefined;
        walk(lv, rv, fieldOf(t, k).schema, [...path, { field: k }]);
      }
    }
    if (l === undefined) out.added.insert(path);
    else if (r === undefined) out.removed.insert(path);
  };
  walk(lhs, rhs, schema, []);
  return out;
}

/**
 * A copy of `value` without the items in `set` (structured-merge-diff's RemoveItems): a member is
 * removed with everything below it; a subtree is followed into the value. A map or list left empty by
 * the removal is removed too (upstream leaves a null that decoding drops).
 */
export function removeItems(value: unknown, set: FieldSet, schema: Schema): unknown {
  const t = typeOf(schema, value);
  if (t.kind === 'list' && !t.atomic && Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      let pe: PathElement;
      try {
        pe = listItemElement(t, item);
      } catch {
        out.push(item);
        continue;
      }
      if (set.hasMember(pe)) continue;
      const sub = set.child(pe);
      const kept: unknown = sub ? removeItems(item, sub, t.items) : item;
      if (kept !== undefined) out.push(kept);
    }
    return out.length === 0 && value.length > 0 ? undefined : out;
  }
  if (t.kind === 'map' && !t.atomic && isMap(value)) {
    const out: JMap = {};
    for (const [k, v] of Object.entries(value)) {
      const pe = { field: k };
      if (set.hasMember(pe)) continue;
      const sub = set.child(pe);
      const kept: unknown = sub ? removeItems(v, sub, fieldOf(t, k).schema) : v;
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length === 0 && Object.keys(value).length > 0 ? undefined : out;
  }
  return value;
}
