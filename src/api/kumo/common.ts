// What every kumo.dev/v1alpha1 kind shares: the group, the `kumo` category, `spec.cluster` (the
// Cluster in the same namespace an object belongs to: selectable and immutable) and status conditions.
import type { ErrorCause } from '../../lib/errors.js';
import { immutable } from '../builtin/validation.js';
import { conditions, objectMeta } from '../meta.js';
import { defineKind, str, type KindDefinition } from '../schema/dsl.js';
import type { JSONSchemaProps, KObject, ResourceType } from '../types.js';

export const KUMO_GROUP = 'kumo.dev';
export const KUMO_VERSION = 'v1alpha1';
export const KUMO_API_VERSION = `${KUMO_GROUP}/${KUMO_VERSION}`;
export const KUMO_CATEGORY = 'kumo';

/** DNS-1123 label: the names objects refer to each other by (clusters, node pools, flavors). */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** `spec.cluster`: the name of the Cluster in the object's namespace. */
export function clusterRef(): JSONSchemaProps {
  return str({
    description: 'Name of the Cluster (in this namespace) this object belongs to. Cannot be changed.',
    minLength: 1,
    maxLength: 63,
    pattern: DNS_LABEL_PATTERN,
  });
}

/** A reference by name to another object in the same namespace. */
export function localName(description: string): JSONSchemaProps {
  return str({ description, minLength: 1, maxLength: 253 });
}

export function kumoConditions(types: readonly string[]): JSONSchemaProps {
  return conditions(`The latest observations of the object's state (${types.join(', ')}), each with observedGeneration, a reason and a message.`);
}

export interface KumoKindDefinition extends Omit<KindDefinition, 'group' | 'version'> {
  /** Fields under spec that may not change after creation (spec.cluster is always one when present). */
  immutableSpec?: string[];
}

/**
 * A kumo.dev/v1alpha1 kind: category `kumo`, `spec.cluster` selectable and immutable when the kind
 * belongs to a cluster, and the kind's own checks (strategy.validate) run after those.
 */
export function defineKumoKind(d: KumoKindDefinition): ResourceType {
  const spec = d.fields['spec'];
  const belongsToCluster = spec?.properties?.['cluster'] !== undefined;
  const immutableSpec = [...(belongsToCluster ? ['cluster'] : []), ...(d.immutableSpec ?? [])];
  const selectableFields = [...(belongsToCluster ? ['spec.cluster'] : []), ...(d.selectableFields ?? [])];
  const validate = (o: KObject, old: KObject | undefined): ErrorCause[] => [
    ...immutableSpec.flatMap((f) => immutable(o, old, `spec.${f}`)),
    ...(d.strategy?.validate?.(o, old) ?? []),
  ];
  const { immutableSpec: _ignored, ...rest } = d;
  return defineKind(
    {
      ...rest,
      group: KUMO_GROUP,
      version: KUMO_VERSION,
      categories: [KUMO_CATEGORY, ...(d.categories ?? [])],
      selectableFields,
      strategy: { ...d.strategy, validate },
    },
    objectMeta(),
  );
}
