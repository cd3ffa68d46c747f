// CustomResourceDefinitions → served ResourceTypes (what apiextensions-apiserver does inside
// kube-apiserver): the schema checks a CRD must pass, the ResourceType of each served version, and
// the status the server writes back (NamesAccepted, Established, Terminating).
import { objectMeta } from '../api/meta.js';
import { crdResourceSchema } from '../api/schema/ops.js';
import { checkStructural } from '../api/schema/structural.js';
import { DEFAULT_VERBS, type JSONSchemaProps, type KObject, type PrinterColumn, type ResourceType, type ScaleSubresource } from '../api/types.js';
import type { ErrorCause } from '../lib/errors.js';
import { isObject, meta, rfc3339 } from './object.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Schema causes for a CRD's versions (the rest of CRD validation is the kind's strategy). */
export function crdSchemaCauses(crd: KObject): ErrorCause[] {
  const causes: ErrorCause[] = [];
  const spec = isObject(crd.spec) ? crd.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  if (!str(names.kind)) causes.push({ field: 'spec.names.kind', reason: 'FieldValueRequired', message: 'Required value' });
  const plural = str(names.plural);
  if (!plural) causes.push({ field: 'spec.names.plural', reason: 'FieldValueRequired', message: 'Required value' });
  else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(plural)) {
    causes.push({ field: 'spec.names.plural', reason: 'FieldValueInvalid', message: `Invalid value: "${plural}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    causes.push({ field: 'spec.scope', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"` });
  }
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) causes.push({ field: 'spec.versions', reason: 'FieldValueRequired', message: 'Required value: must have exactly one version marked as storage version' });
  versions.forEach((v: unknown, i) => {
    const path = `spec.versions[${i}]`;
    if (!isObject(v)) return;
    const schema = isObject(v.schema) && isObject(v.schema.openAPIV3Schema) ? (v.schema.openAPIV3Schema as JSONSchemaProps) : undefined;
    if (!schema) {
      causes.push({ field: `${path}.schema.openAPIV3Schema`, reason: 'FieldValueRequired', message: 'Required value: schemas are required' });
      return;
    }
    const shape = schemaShapeCauses(schema, `${path}.schema.openAPIV3Schema`);
    // The structural checks read the schema as JSONSchemaProps: only one of that shape gets to them.
    causes.push(...(shape.length > 0 ? shape : checkStructural(schema, `${path}.schema.openAPIV3Schema`)));
  });
  return causes;
}

const SCHEMA_STRINGS = ['type', 'format', 'pattern', 'description', 'title', 'id', '$schema', '$ref', 'x-kubernetes-list-type', 'x-kubernetes-map-type'];
const SCHEMA_BOOLS = ['exclusiveMaximum', 'exclusiveMinimum', 'uniqueItems', 'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string'];
const SCHEMA_NUMBERS = ['maximum', 'minimum', 'multipleOf'];
const SCHEMA_INTEGERS = ['maxLength', 'minLength', 'maxItems', 'minItems', 'maxProperties', 'minProperties'];
const SCHEMA_STRING_LISTS = ['required', 'x-kubernetes-list-map-keys'];
const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'];
const RULE_STRINGS = ['rule', 'message', 'messageExpression', 'reason', 'fieldPath'];

/**
 * Whether an openAPIV3Schema has the shape of JSONSchemaProps (kube decodes it into that type and
 * answers a wrong type with an error): every schema node an object, every keyword of its type. The
 * structural checks assume that shape; a CRD whose schema held `properties: {x: null}` was a 500
 * there (found by the API fuzz test, seed 13). One pass, without recursion.
 */
export function schemaShapeCauses(root: unknown, rootPath: string): ErrorCause[] {
  const causes: ErrorCause[] = [];
  const bad = (field: string, value: unknown, what: string): void => {
    if (causes.length < 20) causes.push({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)?.slice(0, 64) ?? 'undefined'}: must be ${what}` });
  };
  const stack: [unknown, string][] = [[root, rootPath]];
  while (stack.length > 0 && causes.length < 20) {
    const [node, path] = stack.pop() as [unknown, string];
    if (!isObject(node)) {
      bad(path, node, 'an object (a JSON schema)');
      continue;
    }
    for (const k of SCHEMA_STRINGS) if (node[k] !== undefined && typeof node[k] !== 'string') bad(`${path}.${k}`, node[k], 'a string');
    for (const k of SCHEMA_BOOLS) if (node[k] !== undefined && typeof node[k] !== 'boolean') bad(`${path}.${k}`, node[k], 'a boolean');
    for (const k of SCHEMA_NUMBERS) if (node[k] !== undefined && (typeof node[k] !== 'number' || !Number.isFinite(node[k]))) bad(`${path}.${k}`, node[k], 'a number');
    for (const k of SCHEMA_INTEGERS) if (node[k] !== undefined && !Number.isSafeInteger(node[k])) bad(`${path}.${k}`, node[k], 'an integer');
    for (const k of SCHEMA_STRING_LISTS) {
      const v = node[k];
      if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) bad(`${path}.${k}`, v, 'a list of strings');
    }
    if (node.enum !== undefined && !Array.isArray(node.enum)) bad(`${path}.enum`, node.enum, 'a list');
    for (const k of SCHEMA_MAPS) {
      const v = node[k];
      if (v === undefined) continue;
      if (!isObject(v)) bad(`${path}.${k}`, v, 'an object');
      else for (const [name, s] of Object.entries(v)) stack.push([s, `${path}.${k}[${JSON.stringify(name)}]`]);
    }
    for (const k of SCHEMA_LISTS) {
      const v = node[k];
      if (v === undefined) continue;
      if (!Array.isArray(v)) bad(`${path}.${k}`, v, 'a list');
      else v.forEach((s, i) => stack.push([s, `${path}.${k}[${i}]`]));
    }
    if (node.not !== undefined) stack.push([node.not, `${path}.not`]);
    for (const k of ['additionalProperties', 'additionalItems']) {
      const v = node[k];
      if (v !== undefined && typeof v !== 'boolean') stack.push([v, `${path}.${k}`]);
    }
    if (Array.isArray(node.items)) node.items.forEach((s, i) => stack.push([s, `${path}.items[${i}]`]));
    else if (node.items !== undefined) stack.push([node.items, `${path}.items`]);
    const rules = node['x-kubernetes-validations'];
    if (rules !== undefined) {
      if (!Array.isArray(rules)) bad(`${path}.x-kubernetes-validations`, rules, 'a list');
      else {
        rules.forEach((r, i) => {
          const at = `${path}.x-kubernetes-validations[${i}]`;
          if (!isObject(r)) return bad(at, r, 'an object');
          for (const k of RULE_STRINGS) if (r[k] !== undefined && typeof r[k] !== 'string') bad(`${at}.${k}`, r[k], 'a string');
          if (typeof r.rule !== 'string') bad(`${at}.rule`, r.rule, 'a string');
        });
      }
    }
  }
  return causes;
}

/** The ResourceTypes a CRD serves: one per version with `served: true`. */
export function crdResourceTypes(crd: KObject): ResourceType[] {
  const spec = isObject(crd.spec) ? crd.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  const group = str(spec.group) ?? '';
  const kind = str(names.kind) ?? '';
  const plural = str(names.plural) ?? '';
  const out: ResourceType[] = [];
  const stored: unknown = (Array.isArray(spec.versions) ? (spec.versions as unknown[]) : []).find((v) => isObject(v) && v.storage === true);
  const storageVersion = isObject(stored) ? str(stored.name) : undefined;
  for (const v of Array.isArray(spec.versions) ? spec.versions : []) {
    if (!isObject(v) || v.served !== true || !str(v.name)) continue;
    const openAPI = isObject(v.schema) && isObject(v.schema.openAPIV3Schema) ? (v.schema.openAPIV3Schema as JSONSchemaProps) : { type: 'object' as const, 'x-kubernetes-preserve-unknown-fields': true };
    const sub = isObject(v.subresources) ? v.subresources : {};
    const rt: ResourceType = {
      group,
      version: String(v.name),
      kind,
      listKind: str(names.listKind) ?? `${kind}List`,
      plural,
      singular: str(names.singular) ?? kind.toLowerCase(),
      shortNames: strings(names.shortNames),
      categories: strings(names.categories),
      namespaced: spec.scope !== 'Cluster',
      schema: crdResourceSchema(openAPI, objectMeta()),
      subresources: {},
      printerColumns: printerColumns(v.additionalPrinterColumns),
      selectableFields: Array.isArray(v.selectableFields)
        ? v.selectableFields.flatMap((f: unknown) => (isObject(f) && typeof f.jsonPath === 'string' ? [f.jsonPath.replace(/^\./, '')] : []))
        : [],
      verbs: DEFAULT_VERBS,
      source: 'crd',
    };
    if (storageVersion !== undefined && storageVersion !== rt.version) rt.storageVersion = storageVersion;
    if (isObject(sub.status)) rt.subresources.status = true;
    if (isObject(sub.scale)) {
      const sc: ScaleSubresource = { specReplicasPath: str(sub.scale.specReplicasPath) ?? '', statusReplicasPath: str(sub.scale.statusReplicasPath) ?? '' };
      if (typeof sub.scale.labelSelectorPath === 'string') sc.labelSelectorPath = sub.scale.labelSelectorPath;
      rt.subresources.scale = sc;
    }
    out.push(rt);
  }
  return out;
}

function printerColumns(v: unknown): PrinterColumn[] {
  if (!Array.isArray(v)) return [];
  const out: PrinterColumn[] = [];
  for (const c of v) {
    if (!isObject(c) || !str(c.name) || !str(c.jsonPath)) continue;
    const t = c.type;
    const col: PrinterColumn = {
      name: String(c.name),
      type: t === 'integer' || t === 'number' || t === 'boolean' || t === 'date' ? t : 'string',
      jsonPath: String(c.jsonPath),
    };
    if (typeof c.format === 'string') col.format = c.format;
    if (typeof c.description === 'string') col.description = c.description;
    if (typeof c.priority === 'number') col.priority = c.priority;
    out.push(col);
  }
  return out;
}

function setCondition(conditions: Record<string, unknown>[], type: string, status: string, reason: string, message: string, now: Date): Record<string, unknown>[] {
  const prev = conditions.find((c) => c.type === type);
  const next = { type, status, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : rfc3339(now), reason, message };
  return [...conditions.filter((c) => c.type !== type), next];
}

/** The status the server keeps on a CRD: accepted names and the NamesAccepted/Established/Terminating conditions. */
export function crdStatus(crd: KObject, conflict: string | null, now: Date): Record<string, unknown> {
  const status = isObject(crd.status) ? { ...crd.status } : {};
  const spec = isObject(crd.spec) ? crd.spec : {};
  let conditions = Array.isArray(status.conditions) ? (status.conditions as Record<string, unknown>[]) : [];
  // Every version objects were ever stored in (kube keeps it for storage migrations).
  const stored: unknown = (Array.isArray(spec.versions) ? (spec.versions as unknown[]) : []).find((v) => isObject(v) && v.storage === true);
  const storedVersions = strings(status.storedVersions);
  if (isObject(stored) && str(stored.name) && !storedVersions.includes(String(stored.name))) storedVersions.push(String(stored.name));
  if (storedVersions.length > 0) status.storedVersions = storedVersions;
  if (conflict) {
    conditions = setCondition(conditions, 'NamesAccepted', 'False', 'NameConflict', conflict, now);
    conditions = setCondition(conditions, 'Established', 'False', 'NotAccepted', 'not all names are accepted', now);
  } else {
    status.acceptedNames = spec.names;
    conditions = setCondition(conditions, 'NamesAccepted', 'True', 'NoConflicts', 'no conflicts found', now);
    conditions = setCondition(conditions, 'Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted', now);
  }
  if (meta(crd).deletionTimestamp !== undefined) {
    conditions = setCondition(conditions, 'Terminating', 'True', 'InstanceDeletionInProgress', 'CustomResource deletion is in progress', now);
  }
  status.conditions = conditions;
  return status;
}
