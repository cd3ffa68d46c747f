// Schema validation of objects, as kube-apiserver validates custom resources (apiextensions-apiserver
// over kube-openapi): the schema is translated once into an ajv validator (compiled JavaScript), and
// ajv's errors are turned into causes with kube's field paths, reasons and wording:
//
//   spec.replicas   FieldValueTypeInvalid  Invalid value: "string": spec.replicas in body must be of type integer: "string"
//   spec.size       FieldValueNotSupported Unsupported value: "XL": supported values: "S", "M"
//   spec.name       FieldValueRequired     Required value
//
// Kubernetes semantics kept: `nullable`, `x-kubernetes-int-or-string` (type integer or string),
// `x-kubernetes-list-type` set (unique items) and map (unique keys: Duplicate value), embedded
// resources (apiVersion and kind required), formats (date-time, byte, int32/int64 ranges for built-in
// kinds; CRDs ignore the formats kube-apiserver strips, like int32 and double).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ErrorCause } from '../../lib/errors.js';
import type { JSONSchemaProps } from '../types.js';
import { child, duplicate, goFloat64, goQuote, index, invalid, jsonTypeOf, notSupported, required, tooLong, tooMany, typeInvalid } from './field.js';

export interface ValidateOptions {
  /**
   * CRD semantics: formats kube-apiserver strips from CRD schemas (int32, int64, float, double and
   * unknown names) are not checked. Default false: built-in kinds also get int32/int64 range checks,
   * since a Go client could not decode an out-of-range value.
   */
  crd?: boolean;
}

/**
 * Validates a decoded JSON value and returns its causes (empty = valid). `prefix` is prepended to
 * cause fields (not to the field names inside messages), e.g. `spec.versions[0]…default`.
 */
export type Validator = (obj: unknown, prefix?: string) => ErrorCause[];

const cache = new WeakMap<JSONSchemaProps, { crd?: Validator; builtin?: Validator }>();

/** The validator of a schema, compiled on first use and cached per schema object. */
export function compileValidator(schema: JSONSchemaProps, opts: ValidateOptions = {}): Validator {
  let entry = cache.get(schema);
  if (!entry) {
    entry = {};
    cache.set(schema, entry);
  }
  const slot = opts.crd ? 'crd' : 'builtin';
  let v = entry[slot];
  if (!v) {
    v = build(schema, opts.crd === true);
    entry[slot] = v;
  }
  return v;
}

// ---- ajv setup ----

const KW_SET = 'x-kumo-list-set';
const KW_MAP = 'x-kumo-list-map';
const KW_INT = 'x-kumo-int';
const KW_EMBEDDED = 'x-kumo-embedded';

interface KumoErrorParams {
  cause: 'duplicate' | 'invalid' | 'required' | 'range';
  /** Path below the failing node: `[3]` or `.kind`. */
  sub: string;
  value?: unknown;
  detail?: string;
}

function kumoError(params: KumoErrorParams): ErrorObject {
  // ajv fills in instancePath (left undefined here), schemaPath and data for `validate` keywords.
  const e: Partial<ErrorObject> = { keyword: 'kumo', params: { ...params } };
  return e as ErrorObject;
}

type KeywordFn = ((schema: unknown, data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** x-kubernetes-list-type: set — every item unique (Duplicate value at the repeated index). */
const listSet: KeywordFn = (_schema, data) => {
  const errs = duplicatesOf(data as unknown[]).map((i) => kumoError({ cause: 'duplicate', sub: `[${i}]`, value: (data as unknown[])[i] }));
  listSet.errors = errs;
  return errs.length === 0;
};

/** x-kubernetes-list-type: map — objects with unique key tuples. */
const listMap: KeywordFn = (schema, data) => {
  const keys = schema as string[];
  const list = data as unknown[];
  const errs: ErrorObject[] = [];
  const tuples: unknown[] = [];
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (x !== null && (typeof x !== 'object' || Array.isArray(x))) {
      listMap.errors = [kumoError({ cause: 'invalid', sub: `[${i}]`, value: x, detail: 'must be an object for an array of list-type map' })];
      return false;
    }
    const t: Record<string, unknown> = {};
    if (x) for (const k of keys) if (k in x) t[k] = (x as Record<string, unknown>)[k];
    tuples.push(t);
  }
  for (const i of duplicatesOf(tuples)) errs.push(kumoError({ cause: 'duplicate', sub: `[${i}]`, value: tuples[i] }));
  listMap.errors = errs;
  return errs.length === 0;
};

/** Indices of the first repeat of each repeated value (kube reports each duplicate once). */
function duplicatesOf(list: unknown[]): number[] {
  if (list.length <= 1) return [];
  const seen = new Map<string, number>();
  const out: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    const k = typeof x === 'object' && x !== null ? `o${canonicalJSON(x)}` : `${typeof x}:${String(x)}`;
    const n = seen.get(k) ?? 0;
    if (n === 1) out.push(i);
    seen.set(k, n + 1);
  }
  return out;
}

function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const INT_RANGES: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  // JSON numbers beyond ±2^63 cannot be an int64.
  int64: [-9223372036854775808, 9223372036854775807],
};

/** format int32 / int64 on built-in kinds: the value must fit. */
const intRange: KeywordFn = (schema, data) => {
  const range = INT_RANGES[schema as string];
  const n = data as number;
  if (!range || !Number.isInteger(n)) {
    intRange.errors = null;
    return true;
  }
  if (n > range[1]) {
    intRange.errors = [kumoError({ cause: 'range', sub: '', value: n, detail: `should be less than or equal to ${range[1]}` })];
    return false;
  }
  if (n < range[0]) {
    intRange.errors = [kumoError({ cause: 'range', sub: '', value: n, detail: `should be greater than or equal to ${range[0]}` })];
    return false;
  }
  intRange.errors = null;
  return true;
};

/** x-kubernetes-embedded-resource: apiVersion and kind are required strings. */
const embedded: KeywordFn = (_schema, data) => {
  const o = data as Record<string, unknown>;
  const errs: ErrorObject[] = [];
  for (const f of ['apiVersion', 'kind']) {
    const v = o[f];
    if (v === undefined || v === '') errs.push(kumoError({ cause: 'required', sub: `.${f}` }));
    else if (typeof v !== 'string') errs.push(kumoError({ cause: 'invalid', sub: `.${f}`, value: v, detail: 'must be a string' }));
  }
  embedded.errors = errs;
  return errs.length === 0;
};

// Formats kube-apiserver checks for CRDs (strfmt names it keeps); anything else is ignored.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
// strfmt.DateTime also takes these reduced forms (CRDs only).
const DATE_TIME_LENIENT = [/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$/];
const formats: Record<string, (s: string, crd: boolean) => boolean> = {
  'date-time': (s, crd) => (RFC3339.test(s) || (crd && DATE_TIME_LENIENT.some((r) => r.test(s)))) && !Number.isNaN(Date.parse(s.replace(' ', 'T'))),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  byte: (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s),
  uuid: (s) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(s),
  uuid3: (s) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?3[0-9a-fA-F]{3}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(s),
  uuid4: (s) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?4[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}$/.test(s),
  uuid5: (s) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?5[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}$/.test(s),
  ipv4: (s) => isIPv4(s),
  ipv6: (s) => isIPv6(s),
  cidr: (s) => {
    const m = /^(.+)\/(\d{1,3})$/.exec(s);
    if (!m) return false;
    const bits = Number(m[2]);
    return (isIPv4(m[1] ?? '') && bits <= 32) || (isIPv6(m[1] ?? '') && bits <= 128);
  },
  mac: (s) => /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{2}[:-]){7}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(s),
  hostname: (s) => s.length <= 255 && /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/.test(s),
  email: (s) => /^[^\s@]+@[^\s@]+$/.test(s),
  uri: (s) => /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/.test(s),
  duration: (s) => /^\s*([+-]?(\d+(\.\d*)?|\.\d+)\s*(ns|us|µs|ms|s|m|h|d|w)\s*)+$/.test(s) || /^P/.test(s),
};
formats.datetime = formats['date-time'] as (s: string, crd: boolean) => boolean;

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  const dbl = s.split('::');
  if (dbl.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all = dbl.flatMap(groups);
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i] ?? '';
    if (i === all.length - 1 && g.includes('.')) {
      if (!isIPv4(g)) return false;
      count += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) count += 1;
    else return false;
  }
  return dbl.length === 2 ? count < 8 : count === 8;
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\s',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  punct: '!-\\/:-@\\[-`{-~',
};

/** A Go (RE2) pattern as JavaScript source and flags: a leading `(?flags)`, `(?P<name>`, POSIX classes, \A and \z. */
function translateGoPattern(pattern: string, flags: string): [string, string] {
  let p = pattern;
  let f = flags;
  const m = /^\(\?([imsU]+)\)/.exec(p);
  if (m) {
    p = p.slice(m[0].length);
    if (m[1]?.includes('i')) f += 'i';
    if (m[1]?.includes('s')) f += 's';
    if (m[1]?.includes('m')) f += 'm';
  }
  p = p
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$')
    .replace(/\(\?P</g, '(?<')
    .replace(/\[:(\w+):\]/g, (all: string, name: string) => POSIX_CLASSES[name] ?? all);
  return [p, f];
}

function compileGoPattern(pattern: string, flags: string): RegExp {
  const [p, f] = translateGoPattern(pattern, flags);
  try {
    return new RegExp(p, f);
  } catch {
    // the unicode flag's escapes are stricter than RE2's
    return new RegExp(p, f.replace('u', ''));
  }
}

/** Why a schema pattern cannot be used, or undefined when it compiles. */
export function goPatternError(pattern: string): string | undefined {
  try {
    compileGoPattern(pattern, 'u');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** ajv's RegExp engine: Go patterns; one JavaScript cannot compile matches anything (checkStructural rejects it in CRDs). */
function goRegExp(pattern: string, flags: string): { test: (s: string) => boolean } {
  try {
    return compileGoPattern(pattern, flags);
  } catch {
    return { test: () => true };
  }
}

let ajvInstance: Ajv | undefined;
function ajv(): Ajv {
  if (ajvInstance) return ajvInstance;
  const a = new Ajv({
    allErrors: true,
    verbose: true,
    strict: false,
    validateFormats: true,
    // Schemas are trees without $id; don't keep every compiled schema in ajv's own cache forever.
    addUsedSchema: false,
    code: { regExp: Object.assign(goRegExp, { code: 'goRegExp' }) },
  });
  a.addKeyword({ keyword: KW_SET, type: 'array', schemaType: 'boolean', errors: true, validate: listSet as never });
  a.addKeyword({ keyword: KW_MAP, type: 'array', schemaType: 'array', errors: true, validate: listMap as never });
  a.addKeyword({ keyword: KW_INT, type: 'number', schemaType: 'string', errors: true, validate: intRange as never });
  a.addKeyword({ keyword: KW_EMBEDDED, type: 'object', schemaType: 'boolean', errors: true, validate: embedded as never });
  for (const [name, check] of Object.entries(formats)) {
    a.addFormat(`kumo-${name}`, { type: 'string', validate: (s: string) => check(s, false) });
    a.addFormat(`kumo-crd-${name}`, { type: 'string', validate: (s: string) => check(s, true) });
  }
  ajvInstance = a;
  return a;
}

// ---- schema translation ----

type AjvSchema = Record<string, unknown>;

function isIntOrStringAnyOf(list: JSONSchemaProps[] | undefined): boolean {
  if (!list || list.length !== 2) return false;
  const types = list.map((s) => (Object.keys(s).length === 1 ? s.type : undefined)).sort();
  return types[0] === 'integer' && types[1] === 'string';
}

/** JSONSchemaProps (OpenAPI v3.0 + x-kubernetes-*) → a plain draft-07 schema with Kumo keywords. */
export function toAjvSchema(s: JSONSchemaProps, crd: boolean): AjvSchema {
  const out: AjvSchema = {};
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (intOrString) out.type = ['integer', 'string'];
  else if (s.type) out.type = s.type;
  if (s.nullable && out.type !== undefined) out.nullable = true;
  if (s.properties) {
    const props: Record<string, AjvSchema> = {};
    for (const [k, v] of Object.entries(s.properties)) props[k] = toAjvSchema(v, crd);
    out.properties = props;
  }
  if (s.additionalProperties === false) out.additionalProperties = false;
  else if (typeof s.additionalProperties === 'object') out.additionalProperties = toAjvSchema(s.additionalProperties, crd);
  if (s.items) out.items = toAjvSchema(s.items, crd);
  if (s.required && s.required.length > 0) out.required = s.required;
  if (s.enum) out.enum = s.enum;
  if (s.pattern !== undefined) out.pattern = s.pattern;
  if (s.minLength !== undefined) out.minLength = s.minLength;
  if (s.maxLength !== undefined) out.maxLength = s.maxLength;
  if (s.minItems !== undefined) out.minItems = s.minItems;
  if (s.maxItems !== undefined) out.maxItems = s.maxItems;
  if (s.minProperties !== undefined) out.minProperties = s.minProperties;
  if (s.maxProperties !== undefined) out.maxProperties = s.maxProperties;
  if (s.multipleOf !== undefined) out.multipleOf = s.multipleOf;
  // OpenAPI v3.0's boolean exclusiveMinimum/Maximum → draft-07's numeric form.
  if (s.minimum !== undefined) out[s.exclusiveMinimum ? 'exclusiveMinimum' : 'minimum'] = s.minimum;
  if (s.maximum !== undefined) out[s.exclusiveMaximum ? 'exclusiveMaximum' : 'maximum'] = s.maximum;
  const listType = s['x-kubernetes-list-type'];
  if (listType === 'set') out[KW_SET] = true;
  else if (listType === 'map' && s['x-kubernetes-list-map-keys']?.length) out[KW_MAP] = s['x-kubernetes-list-map-keys'];
  if (s.uniqueItems && listType !== 'set') out.uniqueItems = true;
  if (s['x-kubernetes-embedded-resource']) out[KW_EMBEDDED] = true;
  if (s.format !== undefined) {
    if (s.format === 'int32' || s.format === 'int64') {
      if (!crd) out[KW_INT] = s.format;
    } else if (formats[s.format]) {
      out.format = `${crd ? 'kumo-crd-' : 'kumo-'}${s.format}`;
    }
  }
  if (s.anyOf && !(intOrString && isIntOrStringAnyOf(s.anyOf))) out.anyOf = s.anyOf.map((x) => toAjvSchema(x, crd));
  if (s.allOf) {
    // allOf's first entry may be the int-or-string anyOf pattern (kube's second IntOrString form).
    const all = s.allOf.filter((x, i) => !(intOrString && i === 0 && isIntOrStringAnyOf(x.anyOf) && Object.keys(x).length === 1));
    if (all.length > 0) out.allOf = all.map((x) => toAjvSchema(x, crd));
  }
  if (s.oneOf) out.oneOf = s.oneOf.map((x) => toAjvSchema(x, crd));
  if (s.not) out.not = toAjvSchema(s.not, crd);
  return out;
}

// ---- errors → causes ----

function build(schema: JSONSchemaProps, crd: boolean): Validator {
  const fn: ValidateFunction = ajv().compile(toAjvSchema(schema, crd));
  return (obj: unknown, prefix = ''): ErrorCause[] => {
    if (fn(obj)) return [];
    return toCauses(obj, fn.errors ?? [], prefix);
  };
}

/** The kube-openapi path of an ajv instancePath: `/spec/containers/0/name` → `spec.containers[0].name`. */
function pathOf(root: unknown, pointer: string): string {
  if (pointer === '') return '';
  let path = '';
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      path = index(path, Number(seg));
      cur = cur[Number(seg)];
    } else {
      path = child(path, seg);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return path;
}

/** Keeps, under each failed anyOf/oneOf, only the errors of its best branch (fewest errors), as kube-openapi does. */
function bestBranches(errors: ErrorObject[]): ErrorObject[] {
  const composites = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (composites.length === 0) return errors;
  const drop = new Set<ErrorObject>();
  for (const c of composites) {
    const prefix = `${c.schemaPath}/`;
    const byBranch = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (e === c || !e.schemaPath.startsWith(prefix)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
    }
    let best: string | undefined;
    for (const [b, errs] of byBranch) if (best === undefined || errs.length < (byBranch.get(best)?.length ?? 0)) best = b;
    for (const [b, errs] of byBranch) if (b !== best) for (const e of errs) drop.add(e);
  }
  return errors.filter((e) => !drop.has(e));
}

function toCauses(root: unknown, errors: ErrorObject[], prefix: string): ErrorCause[] {
  const out: ErrorCause[] = [];
  const field = (rel: string) => (prefix === '' ? rel : rel === '' ? prefix : rel.startsWith('[') ? prefix + rel : `${prefix}.${rel}`);
  for (const e of bestBranches(errors)) {
    const name = pathOf(root, e.instancePath);
    const where = name === '' ? 'in body' : `${name} in body`;
    const data: unknown = e.data;
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'type': {
        const t = Array.isArray(p.type) ? (p.type as string[]).join(',') : String(p.type);
        const actual = jsonTypeOf(data);
        out.push(typeInvalid(field(name), actual, `${where} must be of type ${t}: ${goQuote(actual)}`));
        break;
      }
      case 'required': {
        out.push(required(field(child(name, String(p.missingProperty)))));
        break;
      }
      case 'enum': {
        const allowed = (p.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
        out.push(notSupported(field(name), data, allowed));
        break;
      }
      case 'pattern':
        out.push(invalid(field(name), data, `${where} should match '${String(p.pattern)}'`));
        break;
      case 'maxLength':
        out.push(tooLong(field(name), Number(p.limit)));
        break;
      case 'minLength':
        out.push(invalid(field(name), data, `${where} should be at least ${Number(p.limit)} chars long`));
        break;
      case 'maximum':
        out.push(invalid(field(name), data, `${where} should be less than or equal to ${goFloat64(Number(p.limit))}`));
        break;
      case 'exclusiveMaximum':
        out.push(invalid(field(name), data, `${where} should be less than ${goFloat64(Number(p.limit))}`));
        break;
      case 'minimum':
        out.push(invalid(field(name), data, `${where} should be greater than or equal to ${goFloat64(Number(p.limit))}`));
        break;
      case 'exclusiveMinimum':
        out.push(invalid(field(name), data, `${where} should be greater than ${goFloat64(Number(p.limit))}`));
        break;
      case 'multipleOf':
        out.push(invalid(field(name), data, `${where} should be a multiple of ${goFloat64(Number(p.multipleOf))}`));
        break;
      case 'maxItems':
        out.push(tooMany(field(name), Array.isArray(data) ? data.length : -1, Number(p.limit)));
        break;
      case 'minItems':
        out.push(invalid(field(name), Array.isArray(data) ? data.length : 0, `${where} should have at least ${Number(p.limit)} items`));
        break;
      case 'uniqueItems':
        out.push(invalid(field(name), '', `${where} shouldn't contain duplicates`));
        break;
      case 'maxProperties':
        out.push(tooMany(field(name), isObj(data) ? Object.keys(data).length : -1, Number(p.limit)));
        break;
      case 'minProperties':
        out.push(invalid(field(name), isObj(data) ? Object.keys(data).length : 0, `${where} should have at least ${Number(p.limit)} properties`));
        break;
      case 'additionalProperties': {
        const k = String(p.additionalProperty);
        out.push(invalid(field(name), k, `${child(name, k)} in body is a forbidden property`));
        break;
      }
      case 'format': {
        const fmt = String(p.format).replace(/^kumo-(crd-)?/, '');
        out.push(typeInvalid(field(name), data, `${where} must be of type ${fmt}: ${goQuote(String(data))}`));
        break;
      }
      case 'anyOf':
        out.push(invalid(field(name), '', `${goQuote(name)} must validate at least one schema (anyOf)`));
        break;
      case 'oneOf': {
        const passing = p.passingSchemas as number[] | null;
        const found = passing ? `Found ${passing.length} valid alternatives` : 'Found none valid';
        out.push(invalid(field(name), '', `${goQuote(name)} must validate one and only one schema (oneOf). ${found}`));
        break;
      }
      case 'not':
        out.push(invalid(field(name), '', `${goQuote(name)} must not validate the schema (not)`));
        break;
      case 'kumo': {
        const k = e.params as unknown as KumoErrorParams;
        const at = k.sub === '' ? name : k.sub.startsWith('[') ? name + k.sub : child(name, k.sub.slice(1));
        if (k.cause === 'duplicate') out.push(duplicate(field(at), k.value));
        else if (k.cause === 'required') out.push(required(field(at)));
        else if (k.cause === 'range') out.push(invalid(field(at), k.value, `${where} ${k.detail ?? ''}`));
        else out.push(invalid(field(at), k.value, k.detail ?? ''));
        break;
      }
      default:
        out.push(invalid(field(name), data === undefined ? '' : data, `${where} ${e.message ?? 'is invalid'}`));
    }
  }
  return out;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
