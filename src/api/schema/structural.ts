// Structural-schema machinery of apiextensions-apiserver, for built-in kinds and CRDs alike:
//  - prune: drop fields the schema does not specify (pruning), reporting their paths for
//    fieldValidation=Strict/Warn, and drop nulls the schema does not allow (when no default exists);
//  - applyDefaults: CRD defaulting (missing fields, and nulls under non-nullable schemas);
//  - checkStructural: the rules a CRD's openAPIV3Schema must follow, with kube's field paths
//    (x-kubernetes-validations rules must compile: cel.ts).
// The apiserver calls prune → applyDefaults → validate, in that order, like kube-apiserver's decoder.
import type { ErrorCause } from '../../lib/errors.js';
import type { JSONSchemaProps } from '../types.js';
import { child, forbidden, index, invalid, key, notSupported, required } from './field.js';
import { checkRules } from './cel.js';
import { compileValidator, goPatternError } from './validate.js';

const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

type JSONObject = Record<string, unknown>;

function isObject(v: unknown): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The schema of a map's values: a schema, "anything" (additionalProperties: true), or none. */
function valuesSchema(s: JSONSchemaProps): JSONSchemaProps | 'any' | undefined {
  const ap = s.additionalProperties;
  if (ap === undefined || ap === false) return undefined;
  return ap === true ? 'any' : ap;
}

// ---- pruning ----

export interface PruneOptions {
  /**
   * The object is a whole resource (default true): apiVersion, kind and metadata at its root are
   * never removed; they are pruned by their own schemas only when the schema specifies their fields.
   */
  resourceRoot?: boolean;
}

/**
 * Removes, in place, every field the schema does not specify (respecting
 * x-kubernetes-preserve-unknown-fields, additionalProperties and x-kubernetes-embedded-resource) and
 * returns the removed fields' paths, sorted (`spec.foo`, `spec.items[0].bar`), like kube-apiserver's
 * pruning with ReturnPruned. Also drops nulls where the schema is not nullable and has no default
 * (not reported: kube does the same silently).
 */
export function prune(obj: unknown, schema: JSONSchemaProps, opts: PruneOptions = {}): string[] {
  const pruned: string[] = [];
  pruneValue(obj, schema, '', pruned, opts.resourceRoot !== false);
  dropNonNullableNulls(obj, schema);
  return pruned.sort();
}

function pruneValue(x: unknown, s: JSONSchemaProps | undefined, path: string, out: string[], root = false): void {
  if (s && s['x-kubernetes-preserve-unknown-fields']) {
    skipPrune(x, s, path, out);
    return;
  }
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) pruneValue(x[i], s?.items, index(path, i), out);
    return;
  }
  if (!isObject(x)) return;
  if (!s) {
    for (const k of Object.keys(x)) {
      out.push(child(path, k));
      delete x[k];
    }
    return;
  }
  const embedded = root || s['x-kubernetes-embedded-resource'] === true;
  const values = valuesSchema(s);
  for (const k of Object.keys(x)) {
    const prop = s.properties?.[k];
    if (embedded && META_FIELDS.has(k)) {
      // TypeMeta and ObjectMeta are kept; a resource root whose schema spells out metadata's fields
      // (built-in kinds) has metadata pruned by it.
      if (root && prop && (prop.properties !== undefined || prop.additionalProperties !== undefined)) pruneValue(x[k], prop, child(path, k), out);
      continue;
    }
    if (prop) pruneValue(x[k], prop, child(path, k), out);
    else if (values === 'any') continue;
    else if (values) pruneValue(x[k], values, child(path, k), out);
    else {
      out.push(child(path, k));
      delete x[k];
    }
  }
}

/** Under x-kubernetes-preserve-unknown-fields: unknown fields stay, known ones are still pruned. */
function skipPrune(x: unknown, s: JSONSchemaProps, path: string, out: string[]): void {
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) pruneValue(x[i], s.items ? s.items : { 'x-kubernetes-preserve-unknown-fields': true }, index(path, i), out);
    return;
  }
  if (!isObject(x)) return;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  const values = valuesSchema(s);
  for (const k of Object.keys(x)) {
    if (embedded && META_FIELDS.has(k)) continue;
    const prop = s.properties?.[k];
    if (prop) pruneValue(x[k], prop, child(path, k), out);
    else if (values && values !== 'any') pruneValue(x[k], values, child(path, k), out);
  }
}

/** Removes nulls under non-nullable schemas that have no default (kube's PruneNonNullableNullsWithoutDefaults). */
export function dropNonNullableNulls(x: unknown, s: JSONSchemaProps | undefined): void {
  if (Array.isArray(x)) {
    for (const v of x) dropNonNullableNulls(v, s?.items);
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    const sub = fieldSchema(s, k);
    const v = x[k];
    if (v === null && sub && !sub.nullable && sub.default === undefined) delete x[k];
    else dropNonNullableNulls(v, sub);
  }
}

function fieldSchema(s: JSONSchemaProps | undefined, k: string): JSONSchemaProps | undefined {
  if (!s) return undefined;
  const prop = s.properties?.[k];
  if (prop) return prop;
  const values = valuesSchema(s);
  return values === 'any' ? undefined : values;
}

// ---- defaulting ----

/**
 * Applies schema defaults in place, as kube-apiserver defaults custom resources: a property with a
 * default is set when missing (or null under a non-nullable schema), inside every object that exists
 * — also array items and map values — and recursively inside defaulted values. Defaults are copied.
 */
export function applyDefaults(obj: unknown, schema: JSONSchemaProps): void {
  defaultValue(obj, schema);
}

function isNonNullableNull(v: unknown, s: JSONSchemaProps | undefined): boolean {
  return v === null && s !== undefined && !s.nullable;
}

function defaultValue(x: unknown, s: JSONSchemaProps | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    const items = s.items;
    if (!items) return;
    for (let i = 0; i < x.length; i++) {
      if (items.default !== undefined && isNonNullableNull(x[i], items)) x[i] = structuredClone(items.default);
      defaultValue(x[i], items);
    }
    return;
  }
  if (!isObject(x)) return;
  if (s.properties) {
    for (const [k, prop] of Object.entries(s.properties)) {
      if (prop.default === undefined) continue;
      if (!(k in x) || isNonNullableNull(x[k], prop)) x[k] = structuredClone(prop.default);
    }
  }
  const values = valuesSchema(s);
  for (const k of Object.keys(x)) {
    const prop = s.properties?.[k];
    if (prop) defaultValue(x[k], prop);
    else if (values && values !== 'any') {
      if (values.default !== undefined && isNonNullableNull(x[k], values)) x[k] = structuredClone(values.default);
      defaultValue(x[k], values);
    }
  }
}

// ---- structural schema rules ----

type Level = 'root' | 'item' | 'field';

/**
 * The rules a CRD version's openAPIV3Schema must satisfy before it is served (structural schema,
 * list/map extensions, pruned and valid defaults). `path` names the schema in the CRD, e.g.
 * `spec.versions[0].schema.openAPIV3Schema`; causes read like kube-apiserver's:
 * `spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields`.
 */
export function checkStructural(schema: JSONSchemaProps, path = ''): ErrorCause[] {
  const errs: ErrorCause[] = [];
  openAPIRules(schema, path, errs);
  invariants(schema, 'root', path, errs);
  completeness(schema, path, errs);
  if (errs.length === 0) defaults(schema, path, errs, true, false);
  // CEL rules are compiled only once the schema itself is sound, as kube does.
  if (errs.length === 0) errs.push(...checkRules(schema, path));
  return errs;
}

/** kube's ValidateCustomResourceDefinitionOpenAPISchema (the rules independent of structure). */
function openAPIRules(s: JSONSchemaProps, path: string, errs: ErrorCause[]): void {
  if (s.uniqueItems === true) errs.push(forbidden(child(path, 'uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (s.additionalProperties !== undefined && s.properties && Object.keys(s.properties).length > 0) {
    if (s.additionalProperties !== true) errs.push(forbidden(child(path, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
  }
  if (typeof s.additionalProperties === 'object') openAPIRules(s.additionalProperties, child(path, 'additionalProperties'), errs);
  for (const [k, v] of Object.entries(s.properties ?? {})) openAPIRules(v, key(child(path, 'properties'), k), errs);
  if (s.not) openAPIRules(s.not, child(path, 'not'), errs);
  for (const [name, list] of [['allOf', s.allOf], ['oneOf', s.oneOf], ['anyOf', s.anyOf]] as const) {
    list?.forEach((v, i) => openAPIRules(v, index(child(path, name), i), errs));
  }
  if (s.items) openAPIRules(s.items, child(path, 'items'), errs);

  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    errs.push(invalid(child(path, 'x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  }
  const mapType = s['x-kubernetes-map-type'];
  if (mapType !== undefined && s.type !== 'object') typeMust(s, path, 'must be object if x-kubernetes-map-type is specified', errs);
  if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') {
    errs.push(notSupported(child(path, 'x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
  }
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined && s.type !== 'array') typeMust(s, path, 'must be array if x-kubernetes-list-type is specified', errs);
  if (listType !== undefined && listType !== 'atomic' && listType !== 'set' && listType !== 'map') {
    errs.push(notSupported(child(path, 'x-kubernetes-list-type'), listType, ['atomic', 'set', 'map']));
  }
  const mapKeys = s['x-kubernetes-list-map-keys'] ?? [];
  if (mapKeys.length > 0) {
    if (listType === undefined) errs.push(required(child(path, 'x-kubernetes-list-type'), 'must be map if x-kubernetes-list-map-keys is non-empty'));
    else if (listType !== 'map') errs.push(invalid(child(path, 'x-kubernetes-list-type'), listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType === 'map') {
    if (mapKeys.length === 0) errs.push(required(child(path, 'x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
    const items = s.items;
    if (!items) errs.push(required(child(path, 'items'), 'must have a schema if x-kubernetes-list-type is map'));
    else if (items.type !== 'object') errs.push(invalid(child(child(path, 'items'), 'type'), items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
    else {
      const seen = new Set<string>();
      for (const k of mapKeys) {
        const ks = items.properties?.[k];
        if (!ks) errs.push(invalid(child(path, 'x-kubernetes-list-map-keys'), mapKeys, 'entries must all be names of item properties'));
        else if (ks.type === 'array' || ks.type === 'object') {
          errs.push(invalid(child(key(child(child(path, 'items'), 'properties'), k), 'type'), items.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
        }
        if (seen.has(k)) errs.push(invalid(child(path, 'x-kubernetes-list-map-keys'), mapKeys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  if (s.pattern !== undefined) {
    const err = goPatternError(s.pattern);
    if (err !== undefined) errs.push(invalid(child(path, 'pattern'), s.pattern, `must be a valid regular expression, but isn't: ${err}`));
  }
  (s['x-kubernetes-validations'] ?? []).forEach((rule, i) => {
    const at = index(child(path, 'x-kubernetes-validations'), i);
    if (rule.rule.trim() === '') errs.push(required(child(at, 'rule'), 'rule is not specified'));
    else if (rule.message !== undefined && rule.message !== '' && rule.message.trim() === '') {
      errs.push(invalid(child(at, 'message'), rule.message, 'message must be non-empty if specified'));
    }
  });
}

function typeMust(s: JSONSchemaProps, path: string, detail: string, errs: ErrorCause[]): void {
  if (s.type === undefined) errs.push(required(child(path, 'type'), detail));
  else errs.push(invalid(child(path, 'type'), s.type, detail));
}

function isIntOrStringPattern(list: JSONSchemaProps[] | undefined): boolean {
  if (!list || list.length !== 2) return false;
  const [a, b] = list;
  const only = (x: JSONSchemaProps | undefined, t: string) => x !== undefined && Object.keys(x).length === 1 && x.type === t;
  return only(a, 'integer') && only(b, 'string');
}

/** kube's validateStructuralInvariants: types everywhere, metadata and embedded-resource rules. */
function invariants(s: JSONSchemaProps, lvl: Level, path: string, errs: ErrorCause[]): void {
  if (s.type === 'array' && !s.items) errs.push(required(child(path, 'items'), 'must be specified'));
  if (s.items) invariants(s.items, 'item', child(path, 'items'), errs);
  for (const [k, v] of Object.entries(s.properties ?? {})) invariants(v, 'field', key(child(path, 'properties'), k), errs);
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
    if (lvl === 'root') errs.push(forbidden(child(path, 'additionalProperties'), 'must not be used at the root'));
    if (typeof s.additionalProperties === 'object') invariants(s.additionalProperties, 'field', child(path, 'additionalProperties'), errs);
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) errs.push(invalid(child(path, 'x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  if (intOrString && embedded) errs.push(invalid(child(path, 'x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));

  // Value validations (anyOf, allOf, oneOf, not) may not add structure; int-or-string's anyOf is the exception.
  const skipAnyOf = isIntOrStringPattern(s.anyOf);
  const skipFirstAllOfAnyOf = isIntOrStringPattern(s.allOf?.[0]?.anyOf);
  valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, path, errs);

  const checkMetadata = lvl === 'root' || embedded;
  if (embedded && s.type !== 'object') typeMust(s, path, 'must be object if x-kubernetes-embedded-resource is true', errs);
  else if (s.type === undefined && !intOrString && !preserve) {
    const detail = lvl === 'root' ? 'must not be empty at the root' : lvl === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
    errs.push(required(child(path, 'type'), detail));
  }
  if (embedded && s.additionalProperties !== undefined) errs.push(forbidden(child(path, 'additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
  if (lvl === 'root' && s.type !== undefined && s.type !== 'object') errs.push(invalid(child(path, 'type'), s.type, 'must be object at the root'));
  for (const f of ['kind', 'apiVersion'] as const) {
    const p = s.properties?.[f];
    if (p && checkMetadata && p.type !== 'string') errs.push(invalid(child(key(child(path, 'properties'), f), 'type'), p.type ?? '', 'must be string'));
  }
  const metadata = s.properties?.metadata;
  if (metadata) {
    const mpath = key(child(path, 'properties'), 'metadata');
    if (checkMetadata && metadata.type !== 'object') errs.push(invalid(child(mpath, 'type'), metadata.type ?? '', 'must be object'));
    if (lvl === 'root' && !onlyNameAndGenerateName(metadata)) {
      errs.push(forbidden(mpath, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
    }
  }
  if (embedded && !preserve && Object.keys(s.properties ?? {}).length === 0) {
    errs.push(required(child(path, 'properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
}

/** Root metadata may only restrict name and generateName (type and description aside). */
function onlyNameAndGenerateName(m: JSONSchemaProps): boolean {
  const allowed = new Set(['type', 'description', 'properties']);
  if (Object.keys(m).some((k) => !allowed.has(k))) return false;
  return Object.keys(m.properties ?? {}).every((k) => k === 'name' || k === 'generateName');
}

const NESTED_FORBIDDEN: [keyof JSONSchemaProps, string][] = [
  ['type', 'must be empty to be structural'],
  ['default', 'must be undefined to be structural'],
  ['description', 'must be empty to be structural'],
  ['nullable', 'must be false to be structural'],
  ['x-kubernetes-preserve-unknown-fields', 'must be false to be structural'],
  ['x-kubernetes-embedded-resource', 'must be false to be structural'],
  ['x-kubernetes-int-or-string', 'must be false to be structural'],
  ['x-kubernetes-list-map-keys', 'must be empty to be structural'],
  ['x-kubernetes-list-type', 'must be undefined to be structural'],
  ['x-kubernetes-map-type', 'must be undefined to be structural'],
  ['x-kubernetes-validations', 'must be empty to be structural'],
];

function valueValidation(s: JSONSchemaProps, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, path: string, errs: ErrorCause[]): void {
  if (!skipAnyOf) s.anyOf?.forEach((v, i) => nestedValueValidation(v, false, index(child(path, 'anyOf'), i), errs));
  s.allOf?.forEach((v, i) => nestedValueValidation(v, skipFirstAllOfAnyOf && i === 0, index(child(path, 'allOf'), i), errs));
  s.oneOf?.forEach((v, i) => nestedValueValidation(v, false, index(child(path, 'oneOf'), i), errs));
  if (s.not) nestedValueValidation(s.not, false, child(path, 'not'), errs);
}

function nestedValueValidation(v: JSONSchemaProps, skipAnyOf: boolean, path: string, errs: ErrorCause[]): void {
  valueValidation(v, skipAnyOf, false, path, errs);
  if (v.items) nestedValueValidation(v.items, false, child(path, 'items'), errs);
  for (const [k, p] of Object.entries(v.properties ?? {})) nestedValueValidation(p, false, key(child(path, 'properties'), k), errs);
  for (const [f, detail] of NESTED_FORBIDDEN) {
    const x = v[f];
    if (x === undefined || x === false || (Array.isArray(x) && x.length === 0) || x === '') continue;
    errs.push(forbidden(child(path, f), detail));
  }
  if (v.additionalProperties !== undefined) errs.push(forbidden(child(path, 'additionalProperties'), 'must be undefined to be structural'));
  if (v.properties?.metadata) errs.push(forbidden(key(child(path, 'properties'), 'metadata'), 'must not be specified in a nested context'));
}

/** Every field or array named in a value validation must also exist in the structural part. */
function completeness(s: JSONSchemaProps, path: string, errs: ErrorCause[]): void {
  const check = (v: JSONSchemaProps, st: JSONSchemaProps | undefined, sPath: string, vPath: string): void => {
    if (!st) {
      errs.push(required(sPath, `because it is defined in ${vPath}`));
      return;
    }
    walkValue(v, st, sPath, vPath);
    if (v.items) check(v.items, st.items, child(sPath, 'items'), child(vPath, 'items'));
    for (const [k, vf] of Object.entries(v.properties ?? {})) {
      const sf = st.properties?.[k];
      if (!sf) errs.push(required(key(child(sPath, 'properties'), k), `because it is defined in ${key(child(vPath, 'properties'), k)}`));
      else check(vf, sf, key(child(sPath, 'properties'), k), key(child(vPath, 'properties'), k));
    }
  };
  const walkValue = (v: JSONSchemaProps, st: JSONSchemaProps, sPath: string, vPath: string): void => {
    if (v.not) check(v.not, st, sPath, child(vPath, 'not'));
    for (const [name, list] of [['allOf', v.allOf], ['anyOf', v.anyOf], ['oneOf', v.oneOf]] as const) {
      list?.forEach((x, i) => check(x, st, sPath, index(child(vPath, name), i)));
    }
  };
  const structural = (st: JSONSchemaProps, p: string): void => {
    walkValue(st, st, p, p);
    if (st.items) structural(st.items, child(p, 'items'));
    for (const [k, v] of Object.entries(st.properties ?? {})) structural(v, key(child(p, 'properties'), k));
    if (typeof st.additionalProperties === 'object') structural(st.additionalProperties, child(p, 'additionalProperties'));
  };
  structural(s, path);
}

/** Defaults must validate against their schema and be pruned (kube's ValidateDefaults). */
function defaults(s: JSONSchemaProps, path: string, errs: ErrorCause[], root: boolean, insideMeta: boolean): void {
  if (s.default !== undefined) {
    const dpath = child(path, 'default');
    if (insideMeta) {
      errs.push(forbidden(dpath, 'must not be set in top-level metadata'));
    } else {
      const copy = structuredClone(s.default);
      const removed = prune(copy, s, { resourceRoot: s['x-kubernetes-embedded-resource'] === true });
      if (removed.length > 0) errs.push(invalid(dpath, s.default, 'must not have unknown fields'));
      errs.push(...compileValidator(s, { crd: true })(s.default, dpath));
    }
  }
  // Defaults are not followed into additionalProperties (kube forbids them where pruning is ambiguous).
  if (s.items) defaults(s.items, child(path, 'items'), errs, false, insideMeta);
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    defaults(v, key(child(path, 'properties'), k), errs, false, insideMeta || (root && META_FIELDS.has(k)));
  }
}
