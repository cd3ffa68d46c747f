// Shared meta/v1 and core/v1 building blocks every kind's schema uses: ObjectMeta, ListMeta,
// Condition, LabelSelector, ObjectReference. Faithful to k8s.io/apimachinery meta/v1 and k8s.io/api
// core/v1 (field names, required fields, list types, patch strategies and merge keys); descriptions
// are short and our own. Each function returns a fresh schema, so callers may extend it.
import { arr, bool, int64, map, obj, str, time } from './schema/dsl.js';
import type { JSONSchemaProps } from './types.js';

export const META_V1 = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const CORE_V1 = 'io.k8s.api.core.v1';

/**
 * Marks a schema as a shared definition published in OpenAPI under `name` (upstream's definition
 * name, so `kubectl explain` shows the same type names) and referred to by `$ref`.
 */
export function named<T extends JSONSchemaProps>(name: string, s: T): T {
  return { ...s, 'x-kumo-ref': name };
}

/**
 * A list whose items are identified by `keys` (`x-kubernetes-list-type: map`) without a strategic
 * merge patch strategy — for upstream fields tagged `+listType=map` but not `+patchStrategy`.
 */
export function listMap(items: JSONSchemaProps, keys: string[], extra: Omit<JSONSchemaProps, 'type' | 'items'> = {}): JSONSchemaProps {
  return { type: 'array', items, ...extra, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys };
}

/** An upstream list with `+patchStrategy=merge` and `+patchMergeKey=<key>` but no `+listType`. */
export function mergeList(items: JSONSchemaProps, key: string, extra: Omit<JSONSchemaProps, 'type' | 'items'> = {}): JSONSchemaProps {
  return { type: 'array', items, ...extra, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': key };
}

/** A struct that is replaced as a whole by merges and apply (`+structType=atomic`). */
export function atomicObj(properties: Record<string, JSONSchemaProps>, extra: Omit<JSONSchemaProps, 'type' | 'properties'> = {}): JSONSchemaProps {
  return obj(properties, { ...extra, 'x-kubernetes-map-type': 'atomic' });
}

export function ownerReference(): JSONSchemaProps {
  return named(`${META_V1}.OwnerReference`, atomicObj(
    {
      apiVersion: str({ description: 'API version of the referent.' }),
      kind: str({ description: 'Kind of the referent.' }),
      name: str({ description: 'Name of the referent.' }),
      uid: str({ description: 'UID of the referent.' }),
      controller: bool({ description: 'If true, this reference points to the managing controller.' }),
      blockOwnerDeletion: bool({
        description: 'If true, and the owner has the "foregroundDeletion" finalizer, the owner cannot be deleted until this reference is removed.',
      }),
    },
    {
      description: 'OwnerReference identifies an owning object in the same namespace (or a cluster-scoped one).',
      required: ['apiVersion', 'kind', 'name', 'uid'],
    },
  ));
}

export function managedFieldsEntry(): JSONSchemaProps {
  return named(`${META_V1}.ManagedFieldsEntry`, obj(
    {
      manager: str({ description: 'Identifier of the workflow managing these fields.' }),
      operation: str({ description: 'The operation that caused this entry: "Apply" or "Update".' }),
      apiVersion: str({ description: 'The version of the resource this field set applies to.' }),
      time: time({ description: 'When this entry was last changed.' }),
      fieldsType: str({ description: 'Format of the fields field; the only valid value is "FieldsV1".' }),
      fieldsV1: obj({}, { description: 'The set of fields managed, in FieldsV1 format.', 'x-kubernetes-preserve-unknown-fields': true }),
      subresource: str({ description: 'Name of the subresource used to update the object, empty for the main resource.' }),
    },
    { description: 'ManagedFieldsEntry records the fields a manager owns (server-side apply).' },
  ));
}

/** metav1.ObjectMeta. */
export function objectMeta(): JSONSchemaProps {
  return named(`${META_V1}.ObjectMeta`, obj(
    {
      name: str({ description: 'Name must be unique within a namespace; it cannot be updated.' }),
      generateName: str({ description: 'Prefix the server uses to generate a unique name when name is not given.' }),
      namespace: str({ description: 'The namespace the object lives in; empty for cluster-scoped objects.' }),
      selfLink: str({ description: 'Deprecated: a legacy read-only field that is no longer populated.' }),
      uid: str({ description: 'Unique in time and space; set by the server on creation. Read-only.' }),
      resourceVersion: str({ description: 'Opaque value for optimistic concurrency and watch; clients pass it back unmodified. Read-only.' }),
      generation: int64({ description: 'Sequence number of a specific generation of the desired state. Read-only.' }),
      creationTimestamp: time({ description: 'When the object was created (RFC 3339, UTC). Read-only.' }),
      deletionTimestamp: time({ description: 'When graceful deletion was requested; the object goes once its finalizers are empty. Read-only.' }),
      deletionGracePeriodSeconds: int64({ description: 'Seconds allowed for graceful termination; set with deletionTimestamp. Read-only.' }),
      labels: map(str(), { description: 'Keys and values to organize and select objects.' }),
      annotations: map(str(), { description: 'Unstructured keys and values stored by tools; not queryable.' }),
      ownerReferences: arr(ownerReference(), {
        mapKeys: ['uid'],
        description: 'Objects this object depends on; when all are gone it is garbage collected.',
      }),
      finalizers: arr(str(), {
        set: true,
        patchStrategy: 'merge',
        description: 'Must be empty before the object is deleted from storage; each entry names the component that removes it.',
      }),
      managedFields: arr(managedFieldsEntry(), { atomic: true, description: 'Which manager owns which fields (server-side apply).' }),
    },
    { description: 'Standard object metadata.' },
  ));
}

/** metav1.ListMeta. */
export function listMeta(): JSONSchemaProps {
  return named(`${META_V1}.ListMeta`, obj(
    {
      selfLink: str({ description: 'Deprecated: a legacy read-only field that is no longer populated.' }),
      resourceVersion: str({ description: 'The revision the list was read at; start a watch from here.' }),
      continue: str({ description: 'Set when more items exist; pass it back to fetch the next page.' }),
      remainingItemCount: int64({ description: 'Number of items after this page (an estimate when a selector is used).' }),
    },
    { description: 'Standard list metadata.' },
  ));
}

// metav1.Condition's validation, as upstream declares it on the Go type.
const CONDITION_TYPE_PATTERN = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$';
const CONDITION_REASON_PATTERN = '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$';

/** metav1.Condition. */
export function condition(): JSONSchemaProps {
  return named(`${META_V1}.Condition`, obj(
    {
      type: str({ description: 'Type of condition in CamelCase, e.g. Ready.', maxLength: 316, pattern: CONDITION_TYPE_PATTERN }),
      status: str({ description: 'Status of the condition: True, False or Unknown.', enum: ['True', 'False', 'Unknown'] }),
      observedGeneration: int64({ description: 'The metadata.generation the condition was set for.', minimum: 0 }),
      lastTransitionTime: time({ description: 'When the condition last changed from one status to another.' }),
      reason: str({ description: 'Programmatic identifier (CamelCase) for the last transition.', minLength: 1, maxLength: 1024, pattern: CONDITION_REASON_PATTERN }),
      message: str({ description: 'Human-readable message about the transition.', maxLength: 32768 }),
    },
    {
      description: 'Condition is one aspect of the current state of an object.',
      required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
    },
  ));
}

/** `conditions` as built-in kinds declare it: a list keyed by type, strategic-merged by type. */
export function conditions(description = 'The latest observations of the object\'s state.'): JSONSchemaProps {
  return arr(condition(), { mapKeys: ['type'], description });
}

/** metav1.LabelSelector. */
export function labelSelector(): JSONSchemaProps {
  return named(`${META_V1}.LabelSelector`, atomicObj(
    {
      matchLabels: map(str(), { description: 'Each key=value pair must match (ANDed with matchExpressions).' }),
      matchExpressions: arr(
        named(`${META_V1}.LabelSelectorRequirement`, obj(
          {
            key: str({ description: 'The label key the requirement applies to.' }),
            operator: str({ description: 'One of In, NotIn, Exists and DoesNotExist.' }),
            values: arr(str(), { atomic: true, description: 'Values for In and NotIn (non-empty); empty for Exists and DoesNotExist.' }),
          },
          { description: 'A label requirement.', required: ['key', 'operator'] },
        )),
        { atomic: true, description: 'Label requirements, ANDed.' },
      ),
    },
    { description: 'A label query over a set of objects; an empty selector matches everything, a null one nothing.' },
  ));
}

/** core/v1 ObjectReference. */
export function objectReference(): JSONSchemaProps {
  return named(`${CORE_V1}.ObjectReference`, atomicObj(
    {
      kind: str({ description: 'Kind of the referent.' }),
      namespace: str({ description: 'Namespace of the referent.' }),
      name: str({ description: 'Name of the referent.' }),
      uid: str({ description: 'UID of the referent.' }),
      apiVersion: str({ description: 'API version of the referent.' }),
      resourceVersion: str({ description: 'Specific resourceVersion this reference is made to, if any.' }),
      fieldPath: str({ description: 'A piece of the object, e.g. spec.containers{name}, instead of the whole object.' }),
    },
    { description: 'ObjectReference contains enough information to inspect or modify the referred object.' },
  ));
}

/** core/v1 LocalObjectReference. */
export function localObjectReference(): JSONSchemaProps {
  return named(
    `${CORE_V1}.LocalObjectReference`,
    atomicObj({ name: str({ description: 'Name of the referent in the same namespace.', default: '' }) }, {
      description: 'A reference to an object in the same namespace.',
    }),
  );
}
