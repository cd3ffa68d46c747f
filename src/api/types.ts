// The contract of the `api` layer: how a kind is described. One ResourceType per served
// group/version/kind is the single source of validation, pruning, defaulting, OpenAPI v2/v3, discovery,
// Table output and field selectors — built-in kinds and CRDs alike (ARCHITECTURE.md "Layers").
import type { ErrorCause } from '../lib/errors.js';

/** OpenAPI v3 schema as Kubernetes uses it (apiextensions.k8s.io/v1 JSONSchemaProps, structural). */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  uniqueItems?: boolean;
  multipleOf?: number;
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'granular' | 'atomic';
  /** Strategic merge patch (built-in kinds only): `merge`, `replace`, `retainKeys`, `merge,retainKeys`. */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string; reason?: string; fieldPath?: string }[];
  /**
   * Kumo-only marker: this node is a shared definition, published in OpenAPI under this name
   * (`io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`) and referred to by `$ref` instead of being
   * inlined. Validation, pruning and defaulting ignore it; the OpenAPI builders strip it.
   */
  'x-kumo-ref'?: string;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  /** 0 = shown by default; >0 only with `-o wide`. */
  priority?: number;
  /** A simple JSONPath like `.spec.replicas` or `.metadata.labels.app`. */
  jsonPath: string;
}

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** A Kubernetes object as JSON. */
export type KObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
};

/** Hooks a built-in kind may add beyond its schema (kept small; most behaviour is generic). */
export interface Strategy {
  /** Semantic checks the schema cannot express; return causes naming fields (empty = valid). */
  validate?(obj: KObject, old: KObject | undefined): ErrorCause[];
  /** Normalizes a new object before validation (e.g. sets a computed field). */
  prepareForCreate?(obj: KObject): void;
  prepareForUpdate?(obj: KObject, old: KObject): void;
  /**
   * The top-level fields whose change bumps metadata.generation (default: everything except
   * metadata and status).
   */
  generationFields?: string[];
}

export interface ResourceType {
  /** '' for the core (legacy) group. */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Lowercase plural, the path segment: `configmaps`. */
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** Schema of the whole object (apiVersion, kind, metadata, spec, status …). */
  schema: JSONSchemaProps;
  subresources: { status?: true; scale?: ScaleSubresource };
  /** Printer columns beyond NAME (and AGE, which is always added last unless present). */
  printerColumns: PrinterColumn[];
  /**
   * Cells for `printerColumns`, for built-in kinds whose columns are computed (a ConfigMap's DATA
   * count). Absent: cells are read from each column's jsonPath.
   */
  printRow?: (obj: KObject) => unknown[];
  /** Rule for metadata.name: DNS-1123 subdomain (default), DNS-1123 label, or any path segment (RBAC). */
  nameFormat?: 'dns-subdomain' | 'dns-label' | 'path-segment';
  /** Field selectors beyond metadata.name / metadata.namespace, as dotted paths (`spec.cluster`). */
  selectableFields: string[];
  /**
   * Values of selectable fields that are computed rather than read at their path (core/v1 Event's
   * `source` is source.component, else reportingComponent). Fields it does not return are read by path.
   */
  fieldValues?: (obj: KObject) => Record<string, string>;
  /** Verbs served (discovery): default get,list,watch,create,update,patch,delete,deletecollection. */
  verbs: string[];
  strategy?: Strategy;
  /** Where the definition came from. */
  source: 'builtin' | 'crd';
  /**
   * The version objects are stored in, when another version of the kind is (a CRD's `storage: true`
   * version). Objects are read in any served version with the apiVersion rewritten (the CRD conversion
   * strategy `None`).
   */
  storageVersion?: string;
}

export const DEFAULT_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function groupVersion(rt: Pick<ResourceType, 'group' | 'version'>): string {
  return rt.group === '' ? rt.version : `${rt.group}/${rt.version}`;
}
