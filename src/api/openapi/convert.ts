// JSONSchemaProps → the schema objects of OpenAPI v2 (swagger 2.0) and v3 (3.0), the way
// kube-apiserver publishes them: nodes marked `x-kumo-ref` become `$ref`s to shared definitions
// (v2: `{$ref, description}`; v3: `{allOf: [{$ref}], description}` when the use site adds a
// description or default), the marker itself is never served, and v2 drops what swagger 2.0 cannot
// say (kube's ToStructuralOpenAPIV2: no nullable/anyOf/oneOf/allOf/not; nullable or
// preserve-unknown-fields nodes lose their type or structure so kubectl does not over-validate).
import type { JSONSchemaProps } from '../types.js';

export type Json = Record<string, unknown>;
export type Flavor = 'v2' | 'v3';

/** Shared definitions found while converting (first marked schema of a name wins). */
export class DefinitionRegistry {
  readonly raw = new Map<string, JSONSchemaProps>();

  /**
   * Records a marked schema under its name unless one is known; a bare `{x-kumo-ref}` stub only
   * refers, and a use site that narrows the definition with allOf (a CRD's metadata name rules)
   * gives way to a plain one.
   */
  add(s: JSONSchemaProps): void {
    const name = s['x-kumo-ref'];
    if (name === undefined || isStub(s)) return;
    const known = this.raw.get(name);
    if (known && !(known.allOf && !s.allOf)) return;
    this.raw.set(name, s);
  }

  /** Collects every marked node below (and at) s. */
  collect(s: JSONSchemaProps | undefined): void {
    if (!s) return;
    const name = s['x-kumo-ref'];
    if (name !== undefined) {
      const known = this.raw.get(name);
      if (known && !known.allOf) return;
      this.add(s);
    }
    this.collectInside(s);
  }

  /** Collects the marked nodes strictly below s. */
  collectInside(s: JSONSchemaProps): void {
    for (const v of Object.values(s.properties ?? {})) this.collect(v);
    if (typeof s.additionalProperties === 'object') this.collect(s.additionalProperties);
    this.collect(s.items);
    for (const list of [s.allOf, s.anyOf, s.oneOf]) for (const v of list ?? []) this.collect(v);
    this.collect(s.not);
  }
}

function isStub(s: JSONSchemaProps): boolean {
  return Object.keys(s).every((k) => k === 'x-kumo-ref' || k === 'description');
}

export function refTo(name: string, flavor: Flavor): string {
  return flavor === 'v2' ? `#/definitions/${name}` : `#/components/schemas/${name}`;
}

const COPIED: (keyof JSONSchemaProps)[] = [
  'description',
  'type',
  'format',
  'required',
  'default',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'uniqueItems',
  'multipleOf',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-validations',
];

/** Looks up a shared definition's schema, to leave out use-site descriptions that only repeat it. */
export type DefinitionLookup = (name: string) => JSONSchemaProps | undefined;

/**
 * Converts a schema; `asDefinition` converts a marked node's own content (the definition) instead of
 * referring to it.
 */
export function convertSchema(s: JSONSchemaProps, flavor: Flavor, asDefinition = false, lookup?: DefinitionLookup): Json {
  const ref = s['x-kumo-ref'];
  if (ref !== undefined && !asDefinition) {
    const $ref = refTo(ref, flavor);
    // The use site's description (and, in v3, default) sit beside the reference, unless it only
    // repeats the definition's own description.
    const useDescription = s.description !== undefined && s.description !== lookup?.(ref)?.description ? s.description : undefined;
    if (flavor === 'v2') return useDescription !== undefined ? { $ref, description: useDescription } : { $ref };
    const wrapper: Json = { allOf: [{ $ref }] };
    if (s.default !== undefined) wrapper.default = s.default;
    if (useDescription !== undefined) wrapper.description = useDescription;
    return wrapper.default === undefined && wrapper.description === undefined ? { $ref } : wrapper;
  }

  const out: Json = {};
  for (const k of COPIED) if (s[k] !== undefined) out[k] = s[k];
  if (s.properties) {
    const props: Json = {};
    for (const [k, v] of Object.entries(s.properties)) props[k] = convertSchema(v, flavor, false, lookup);
    out.properties = props;
  }
  if (s.additionalProperties !== undefined) {
    out.additionalProperties = typeof s.additionalProperties === 'boolean' ? s.additionalProperties : convertSchema(s.additionalProperties, flavor, false, lookup);
  }
  if (s.items) out.items = convertSchema(s.items, flavor, false, lookup);

  if (flavor === 'v3') {
    if (s.nullable) out.nullable = true;
    for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
      const list = s[k];
      if (list) out[k] = list.map((x) => convertSchema(x, flavor, false, lookup));
    }
    if (s.not) out.not = convertSchema(s.not, flavor, false, lookup);
    return out;
  }
  return toV2(out, s);
}

/** kube's ToStructuralOpenAPIV2 on one converted node. */
function toV2(out: Json, s: JSONSchemaProps): Json {
  if (s['x-kubernetes-int-or-string']) {
    // swagger 2.0 has no "integer or string" type: leave it untyped.
    delete out.type;
  }
  if (s.nullable || s['x-kubernetes-preserve-unknown-fields']) {
    if (s.nullable) delete out.type;
    delete out.items;
    delete out.properties;
  }
  if (out.type === 'array' && out.items === undefined) delete out.type;
  if (Array.isArray(out.required) && s.properties) {
    const req = (out.required as string[]).filter((f) => !s.properties?.[f]?.nullable);
    if (req.length > 0) out.required = req;
    else delete out.required;
  }
  return out;
}

/** Every `$ref` target name in a JSON value. */
export function refsIn(v: unknown, flavor: Flavor, into: Set<string>): Set<string> {
  const prefix = flavor === 'v2' ? '#/definitions/' : '#/components/schemas/';
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) {
      for (const e of x) walk(e);
      return;
    }
    if (x === null || typeof x !== 'object') return;
    for (const [k, e] of Object.entries(x)) {
      if (k === '$ref' && typeof e === 'string' && e.startsWith(prefix)) into.add(e.slice(prefix.length));
      else walk(e);
    }
  };
  walk(v);
  return into;
}
