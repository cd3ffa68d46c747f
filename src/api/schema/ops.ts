// The schema steps the REST engine runs on every write, in kube-apiserver's order: prune unknown
// fields (reported for fieldValidation Strict/Warn), drop disallowed nulls, apply defaults, then
// validate against the schema (and its x-kubernetes-validations rules) and the kind's strategy.
// Shaped to fit apiserver's SchemaOps.
import type { ErrorCause } from '../../lib/errors.js';
import type { JSONSchemaProps, KObject, ResourceType } from '../types.js';
import { blockingCause, hasRules, validateRules } from './cel.js';
import { applyDefaults, prune } from './structural.js';
import { compileValidator } from './validate.js';

export const schemaOps = {
  /** Prunes unknown fields in place (returning their paths, e.g. `spec.foo`) and applies defaults. */
  normalize(rt: ResourceType, obj: KObject): string[] {
    const unknown = prune(obj, rt.schema);
    applyDefaults(obj, rt.schema);
    return unknown;
  },
  /** Schema causes, then the strategy's semantic causes. */
  validate(rt: ResourceType, obj: KObject, old: KObject | undefined): ErrorCause[] {
    const causes = compileValidator(rt.schema, { crd: rt.source === 'crd' })(obj);
    if (hasRules(rt.schema)) {
      // kube runs x-kubernetes-validations only on objects of the right types.
      const blocked = blockingCause(causes);
      causes.push(...(blocked ? [blocked] : validateRules(rt.schema, obj, old)));
    }
    const semantic = rt.strategy?.validate?.(obj, old);
    return semantic && semantic.length > 0 ? [...causes, ...semantic] : causes;
  },
};

/**
 * The whole-object schema of a CRD version as served: the CRD's openAPIV3Schema with apiVersion,
 * kind and metadata spelled out (metadata = the shared ObjectMeta schema), the way kube-apiserver
 * publishes CRDs in OpenAPI. Pruning then also reports unknown metadata fields (`metadata.foo`), and
 * OpenAPI refers to ObjectMeta by `$ref`. The CRD's own metadata restriction (name, generateName)
 * is kept as an allOf.
 */
export function crdResourceSchema(openAPIV3Schema: JSONSchemaProps, objectMeta: JSONSchemaProps): JSONSchemaProps {
  const props = openAPIV3Schema.properties ?? {};
  const own = props.metadata;
  const metadata: JSONSchemaProps = own?.properties ? { ...objectMeta, allOf: [...(objectMeta.allOf ?? []), { properties: own.properties }] } : objectMeta;
  return {
    ...openAPIV3Schema,
    type: 'object',
    properties: {
      ...props,
      apiVersion: props.apiVersion ?? {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
      },
      kind: props.kind ?? {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
      },
      metadata,
    },
  };
}
