// A small builder for the structural schemas of built-in kinds, so a kind reads like its Go type.
// Everything here returns plain JSONSchemaProps; nothing is hidden from the validator or OpenAPI.
import { DEFAULT_VERBS, type JSONSchemaProps, type KObject, type PrinterColumn, type ResourceType, type ScaleSubresource, type Strategy } from '../types.js';

type Extra = Omit<JSONSchemaProps, 'type' | 'properties' | 'items' | 'additionalProperties'>;

export function str(extra: Extra = {}): JSONSchemaProps {
  return { type: 'string', ...extra };
}
export function int(extra: Extra = {}): JSONSchemaProps {
  return { type: 'integer', format: 'int32', ...extra };
}
export function int64(extra: Extra = {}): JSONSchemaProps {
  return { type: 'integer', format: 'int64', ...extra };
}
export function num(extra: Extra = {}): JSONSchemaProps {
  return { type: 'number', format: 'double', ...extra };
}
export function bool(extra: Extra = {}): JSONSchemaProps {
  return { type: 'boolean', ...extra };
}
/** RFC 3339 time (metav1.Time). */
export function time(extra: Extra = {}): JSONSchemaProps {
  return { type: 'string', format: 'date-time', ...extra };
}
/** RFC 3339 time with microseconds (metav1.MicroTime). */
export function microTime(extra: Extra = {}): JSONSchemaProps {
  return { type: 'string', format: 'date-time', ...extra };
}
/** resource.Quantity: `2`, `500m`, `4Gi`. */
export function quantity(extra: Extra = {}): JSONSchemaProps {
  return { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: QUANTITY_PATTERN, ...extra };
}
export function intOrString(extra: Extra = {}): JSONSchemaProps {
  return { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], ...extra };
}
/** base64-encoded bytes. */
export function bytes(extra: Extra = {}): JSONSchemaProps {
  return { type: 'string', format: 'byte', ...extra };
}
/** Anything (runtime.RawExtension-like): kept as given. */
export function any(extra: Extra = {}): JSONSchemaProps {
  return { 'x-kubernetes-preserve-unknown-fields': true, ...extra };
}

export function obj(properties: Record<string, JSONSchemaProps>, extra: Extra = {}): JSONSchemaProps {
  return { type: 'object', properties, ...extra };
}
/** map[string]T */
export function map(values: JSONSchemaProps, extra: Extra = {}): JSONSchemaProps {
  return { type: 'object', additionalProperties: values, ...extra };
}

export interface ListOpts extends Extra {
  /** Elements identified by these keys (`x-kubernetes-list-type: map`); strategic merge by the first. */
  mapKeys?: string[];
  set?: boolean;
  atomic?: boolean;
  patchStrategy?: string;
}
export function arr(items: JSONSchemaProps, opts: ListOpts = {}): JSONSchemaProps {
  const { mapKeys, set, atomic, patchStrategy, ...extra } = opts;
  const s: JSONSchemaProps = { type: 'array', items, ...extra };
  if (mapKeys) {
    s['x-kubernetes-list-type'] = 'map';
    s['x-kubernetes-list-map-keys'] = mapKeys;
    s['x-kubernetes-patch-merge-key'] = mapKeys[0] ?? 'name';
    s['x-kubernetes-patch-strategy'] = patchStrategy ?? 'merge';
  } else if (set) {
    s['x-kubernetes-list-type'] = 'set';
    if (patchStrategy) s['x-kubernetes-patch-strategy'] = patchStrategy;
  } else if (atomic) {
    s['x-kubernetes-list-type'] = 'atomic';
  } else if (patchStrategy) {
    s['x-kubernetes-patch-strategy'] = patchStrategy;
  }
  return s;
}

export function describe<T extends JSONSchemaProps>(description: string, s: T): T {
  return { ...s, description };
}

export function withDefault<T extends JSONSchemaProps>(value: unknown, s: T): T {
  return { ...s, default: value };
}

// resource.Quantity's grammar: a signed decimal number with an optional binary/decimal SI suffix or exponent.
export const QUANTITY_PATTERN = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

export interface KindDefinition {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** The object's own fields besides apiVersion/kind/metadata (spec, status, data …). */
  fields: Record<string, JSONSchemaProps>;
  required?: string[];
  description?: string;
  singular?: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
  status?: boolean;
  scale?: ScaleSubresource;
  printerColumns?: PrinterColumn[];
  selectableFields?: string[];
  verbs?: string[];
  strategy?: Strategy;
  printRow?: (obj: KObject) => unknown[];
  nameFormat?: ResourceType['nameFormat'];
}

/** A built-in kind: the whole-object schema gets apiVersion, kind and metadata added. */
export function defineKind(d: KindDefinition, objectMeta: JSONSchemaProps): ResourceType {
  const schema = obj(
    {
      apiVersion: str({ description: 'APIVersion defines the versioned schema of this representation of an object.' }),
      kind: str({ description: 'Kind is a string value representing the REST resource this object represents.' }),
      metadata: objectMeta,
      ...d.fields,
    },
    d.description !== undefined ? { description: d.description } : {},
  );
  if (d.required && d.required.length > 0) schema.required = d.required;
  const rt: ResourceType = {
    group: d.group,
    version: d.version,
    kind: d.kind,
    listKind: d.listKind ?? `${d.kind}List`,
    plural: d.plural,
    singular: d.singular ?? d.kind.toLowerCase(),
    shortNames: d.shortNames ?? [],
    categories: d.categories ?? [],
    namespaced: d.namespaced,
    schema,
    subresources: {},
    printerColumns: d.printerColumns ?? [],
    selectableFields: d.selectableFields ?? [],
    verbs: d.verbs ?? DEFAULT_VERBS,
    source: 'builtin',
  };
  if (d.status) rt.subresources.status = true;
  if (d.scale) rt.subresources.scale = d.scale;
  if (d.strategy) rt.strategy = d.strategy;
  if (d.printRow) rt.printRow = d.printRow;
  if (d.nameFormat) rt.nameFormat = d.nameFormat;
  return rt;
}
