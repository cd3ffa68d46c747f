// The meta/v1 (and autoscaling/v1 Scale) definitions every API operation refers to: Status for
// errors and deletions, DeleteOptions, Patch, WatchEvent, ListMeta for lists, APIResourceList for
// the group-version root, Scale for scale subresources. A ResourceType's own marked schemas (e.g.
// ObjectMeta from api/meta.ts) take precedence where names collide.
import { arr, bool, int, int64, obj, str } from '../schema/dsl.js';
import type { JSONSchemaProps } from '../types.js';
import { META_V1 } from './names.js';

function def<T extends JSONSchemaProps>(name: string, s: T): T {
  return { ...s, 'x-kumo-ref': name };
}

export const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
export const SCALE = 'io.k8s.api.autoscaling.v1.Scale';

export function listMetaDefinition(): JSONSchemaProps {
  return def(
    `${META_V1}.ListMeta`,
    obj(
      {
        continue: str({ description: 'Set when more items can be retrieved: pass it as the continue parameter of the next list call.' }),
        remainingItemCount: int64({ description: 'How many items follow in the list (set only for paginated lists without selectors).' }),
        resourceVersion: str({ description: 'Identifies the version of the list, for watching from it. Opaque to clients.' }),
        selfLink: str({ description: 'Deprecated: a legacy read-only field that is no longer populated.' }),
      },
      { description: 'ListMeta describes metadata that synthetic resources must have, including lists and various status objects.' },
    ),
  );
}

function statusCause(): JSONSchemaProps {
  return def(
    `${META_V1}.StatusCause`,
    obj(
      {
        field: str({ description: 'The field of the resource that caused this error, in JSON path form (`spec.containers[0].name`).' }),
        message: str({ description: 'A human-readable description of the cause of the error.' }),
        reason: str({ description: 'A machine-readable description of the cause of the error.' }),
      },
      { description: 'StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.' },
    ),
  );
}

function statusDetails(): JSONSchemaProps {
  return def(
    `${META_V1}.StatusDetails`,
    obj(
      {
        causes: arr(statusCause(), { atomic: true, description: 'The causes of the error, field by field where they are known.' }),
        group: str({ description: 'The group attribute of the resource associated with the status.' }),
        kind: str({ description: 'The kind attribute of the resource associated with the status.' }),
        name: str({ description: 'The name attribute of the resource associated with the status (when there is a single name).' }),
        retryAfterSeconds: int({ description: 'Seconds the client should wait before retrying the operation, if set.' }),
        uid: str({ description: 'UID of the resource (when there is a single resource).' }),
      },
      { description: 'StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response.' },
    ),
  );
}

function status(): JSONSchemaProps {
  return def(
    `${META_V1}.Status`,
    obj(
      {
        apiVersion: str({ description: 'APIVersion defines the versioned schema of this representation of an object.' }),
        code: int({ description: 'Suggested HTTP return code for this status, 0 if not set.' }),
        details: statusDetails(),
        kind: str({ description: 'Kind is a string value representing the REST resource this object represents.' }),
        message: str({ description: 'A human-readable description of the status of this operation.' }),
        metadata: listMetaDefinition(),
        reason: str({ description: 'A machine-readable description of why this operation is in the "Failure" status.' }),
        status: str({ description: 'Status of the operation: "Success" or "Failure".' }),
      },
      { description: 'Status is a return value for calls that don\'t return other objects.' },
    ),
  );
}

function preconditions(): JSONSchemaProps {
  return def(
    `${META_V1}.Preconditions`,
    obj(
      {
        resourceVersion: str({ description: 'Specifies the target ResourceVersion.' }),
        uid: str({ description: 'Specifies the target UID.' }),
      },
      { description: 'Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.' },
    ),
  );
}

function deleteOptions(): JSONSchemaProps {
  return def(
    `${META_V1}.DeleteOptions`,
    obj(
      {
        apiVersion: str({ description: 'APIVersion defines the versioned schema of this representation of an object.' }),
        dryRun: arr(str(), { atomic: true, description: 'When present, modifications are not persisted: "All" processes every stage.' }),
        gracePeriodSeconds: int64({ description: 'The duration in seconds before the object should be deleted.' }),
        kind: str({ description: 'Kind is a string value representing the REST resource this object represents.' }),
        orphanDependents: bool({ description: 'Deprecated: use propagationPolicy. Whether dependents are orphaned.' }),
        preconditions: preconditions(),
        propagationPolicy: str({ description: 'Whether and how garbage collection is performed: "Orphan", "Background" or "Foreground".' }),
      },
      { description: 'DeleteOptions may be provided when deleting an API object.' },
    ),
  );
}

function rawExtension(): JSONSchemaProps {
  return def(RAW_EXTENSION, { type: 'object', description: 'RawExtension is used to hold extensions in external versions.' });
}

function watchEvent(): JSONSchemaProps {
  return def(
    `${META_V1}.WatchEvent`,
    obj(
      {
        object: { ...rawExtension(), description: 'The object: for ADDED and MODIFIED its new state, for DELETED its last state, for ERROR a Status, for BOOKMARK only its resourceVersion.' },
        type: str({ description: 'ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.' }),
      },
      { description: 'Event represents a single event to a watched resource.', required: ['type', 'object'] },
    ),
  );
}

function patch(): JSONSchemaProps {
  return def(`${META_V1}.Patch`, { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' });
}

function apiResource(): JSONSchemaProps {
  return def(
    `${META_V1}.APIResource`,
    obj(
      {
        categories: arr(str(), { atomic: true, description: 'The groups this resource belongs to (e.g. "all").' }),
        group: str({ description: 'The preferred group of the resource.' }),
        kind: str({ description: 'The kind of the resource.' }),
        name: str({ description: 'The plural name of the resource.' }),
        namespaced: bool({ description: 'Whether the resource is namespaced.' }),
        shortNames: arr(str(), { atomic: true, description: 'Suggested short names.' }),
        singularName: str({ description: 'The singular name of the resource.' }),
        storageVersionHash: str({ description: 'A hash of the storage version.' }),
        verbs: arr(str(), { description: 'The supported verbs.' }),
        version: str({ description: 'The preferred version of the resource.' }),
      },
      { description: 'APIResource specifies the name of a resource and whether it is namespaced.', required: ['name', 'singularName', 'namespaced', 'kind', 'verbs'] },
    ),
  );
}

function apiResourceList(): JSONSchemaProps {
  return def(
    `${META_V1}.APIResourceList`,
    obj(
      {
        apiVersion: str({ description: 'APIVersion defines the versioned schema of this representation of an object.' }),
        groupVersion: str({ description: 'The group and version of this resource list.' }),
        kind: str({ description: 'Kind is a string value representing the REST resource this object represents.' }),
        resources: arr(apiResource(), { atomic: true, description: 'The resources available.' }),
      },
      { description: 'APIResourceList is a list of APIResource, used to expose the name of the resources supported in a group-version.', required: ['groupVersion', 'resources'] },
    ),
  );
}

function scale(objectMeta: JSONSchemaProps): JSONSchemaProps {
  return def(
    SCALE,
    obj(
      {
        apiVersion: str({ description: 'APIVersion defines the versioned schema of this representation of an object.' }),
        kind: str({ description: 'Kind is a string value representing the REST resource this object represents.' }),
        metadata: objectMeta,
        spec: def('io.k8s.api.autoscaling.v1.ScaleSpec', obj({ replicas: int({ description: 'The desired number of instances.' }) }, { description: 'ScaleSpec describes the attributes of a scale subresource.' })),
        status: def(
          'io.k8s.api.autoscaling.v1.ScaleStatus',
          obj(
            {
              replicas: int({ description: 'The actual number of observed instances.' }),
              selector: str({ description: 'The label query over the objects counted by replicas, in the string form of a label selector.' }),
            },
            { description: 'ScaleStatus represents the current status of a scale subresource.', required: ['replicas'] },
          ),
        ),
      },
      { description: 'Scale represents a scaling request for a resource.' },
    ),
  );
}

/** The shared definitions, keyed by name, as marked JSONSchemaProps (nested ones marked too). */
export function commonDefinitions(objectMeta: JSONSchemaProps): JSONSchemaProps[] {
  return [listMetaDefinition(), status(), deleteOptions(), watchEvent(), patch(), apiResourceList(), scale(objectMeta)];
}
