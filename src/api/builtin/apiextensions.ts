// apiextensions.k8s.io/v1 CustomResourceDefinition. The CRD's own schema (openAPIV3Schema) is kept as
// given here; the CRD engine checks that it is structural and serves the kind once Established.
import type { ErrorCause } from '../../lib/errors.js';
import { listMap, named, objectMeta } from '../meta.js';
import { arr, bool, bytes, defineKind, int, obj, str, time } from '../schema/dsl.js';
import type { JSONSchemaProps, KObject, ResourceType } from '../types.js';
import { listAt } from './print.js';
import { invalid, isRecord, recordAt } from './validation.js';

const APIEXT_V1 = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
const def = (name: string, s: JSONSchemaProps): JSONSchemaProps => named(`${APIEXT_V1}.${name}`, s);

function names(description: string): JSONSchemaProps {
  return def('CustomResourceDefinitionNames', obj(
    {
      plural: str({ description: 'Plural name of the resource, the path segment: /apis/<group>/<version>/.../<plural>. Lowercase.' }),
      singular: str({ description: 'Singular name of the resource, lowercase; defaults to the lowercased kind.' }),
      shortNames: arr(str(), { atomic: true, description: 'Short names for the resource, e.g. `kubectl get <shortname>`; lowercase.' }),
      kind: str({ description: 'The serialized kind of the resource, normally CamelCase and singular.' }),
      listKind: str({ description: 'The serialized kind of the list; defaults to `<kind>List`.' }),
      categories: arr(str(), { atomic: true, description: 'Grouped resources this one belongs to (e.g. "all"), for `kubectl get <category>`.' }),
    },
    { description, required: ['plural', 'kind'] },
  ));
}

function webhookClientConfig(): JSONSchemaProps {
  return def('WebhookClientConfig', obj(
    {
      url: str({ description: 'Location of the webhook, `https://host:port/path`; exactly one of url or service.' }),
      service: def('ServiceReference', obj(
        {
          namespace: str({ description: 'Namespace of the service.' }),
          name: str({ description: 'Name of the service.' }),
          path: str({ description: 'Optional URL path at which the webhook is contacted.' }),
          port: int({ description: 'Optional service port (default 443).', default: 443 }),
        },
        { description: 'Reference to the service of this webhook; exactly one of url or service.', required: ['namespace', 'name'] },
      )),
      caBundle: bytes({ description: 'PEM-encoded CA bundle to validate the webhook server\'s certificate; default the system roots.' }),
    },
    { description: 'How to communicate with the webhook.' },
  ));
}

function version(): JSONSchemaProps {
  return def('CustomResourceDefinitionVersion', obj(
    {
      name: str({ description: 'The version name, e.g. v1, v2beta1; served under /apis/<group>/<version>/... when served.' }),
      served: bool({ description: 'Whether this version is served via REST APIs.' }),
      storage: bool({ description: 'Whether objects are persisted in this version; exactly one version has storage=true.' }),
      deprecated: bool({ description: 'Whether this version is deprecated; requests to it get a warning header.' }),
      deprecationWarning: str({ description: 'Overrides the default deprecation warning; only with deprecated=true.' }),
      schema: def('CustomResourceValidation', obj(
        {
          openAPIV3Schema: obj({}, {
            description: 'The OpenAPI v3 schema for validation, pruning and defaulting of this version.',
            'x-kubernetes-preserve-unknown-fields': true,
          }),
        },
        { description: 'The schema for validation, pruning and defaulting of this version of the custom resource.' },
      )),
      subresources: def('CustomResourceSubresources', obj(
        {
          status: def('CustomResourceSubresourceStatus', obj({}, { description: 'Enables the /status subresource; when set, the main resource ignores status changes.' })),
          scale: def('CustomResourceSubresourceScale', obj(
            {
              specReplicasPath: str({ description: 'JSON path inside the object to the desired replicas, e.g. .spec.replicas.' }),
              statusReplicasPath: str({ description: 'JSON path inside the object to the observed replicas, e.g. .status.replicas.' }),
              labelSelectorPath: str({ description: 'JSON path to a serialized label selector in string form, e.g. .status.selector.' }),
            },
            { description: 'Enables the /scale subresource.', required: ['specReplicasPath', 'statusReplicasPath'] },
          )),
        },
        { description: 'The subresources this version of the custom resource has.' },
      )),
      additionalPrinterColumns: arr(
        def('CustomResourceColumnDefinition', obj(
          {
            name: str({ description: 'Human-readable name of the column.' }),
            type: str({ description: 'OpenAPI type of the column: integer, number, string, boolean or date.' }),
            format: str({ description: 'Optional OpenAPI format of the column.' }),
            description: str({ description: 'Human-readable description of the column.' }),
            priority: int({ description: '0 shows the column by default; greater values only in wide output.' }),
            jsonPath: str({ description: 'Simple JSONPath evaluated against each object to produce the column\'s value.' }),
          },
          { description: 'A column for server-side printing.', required: ['name', 'type', 'jsonPath'] },
        )),
        { atomic: true, description: 'Extra columns in Table output; without any, a single AGE column is shown.' },
      ),
      selectableFields: arr(
        def(
          'SelectableField',
          obj({ jsonPath: str({ description: 'Simple JSONPath to a string, integer or boolean field, e.g. .spec.color.' }) }, {
            description: 'A field usable in field selectors.',
            required: ['jsonPath'],
          }),
        ),
        { atomic: true, description: 'Paths of fields usable as field selectors (at most 8).' },
      ),
    },
    { description: 'A version of the custom resource.', required: ['name', 'served', 'storage'] },
  ));
}

function crdCondition(): JSONSchemaProps {
  return def('CustomResourceDefinitionCondition', obj(
    {
      type: str({ description: 'Type of the condition: Established, NamesAccepted or Terminating.' }),
      status: str({ description: 'Status of the condition: True, False or Unknown.' }),
      lastTransitionTime: time({ description: 'Last time the condition transitioned from one status to another.' }),
      reason: str({ description: 'Unique, one-word, CamelCase reason for the condition\'s last transition.' }),
      message: str({ description: 'Human-readable message about the last transition.' }),
    },
    { description: 'The state of the CustomResourceDefinition at a point in time.', required: ['type', 'status'] },
  ));
}

/** SetDefaults_CustomResourceDefinitionSpec and the strategy's storedVersions bookkeeping. */
function prepare(o: KObject): void {
  const spec = recordAt(o, 'spec');
  if (!spec) return;
  const n = recordAt(spec, 'names');
  if (n && typeof n['kind'] === 'string' && n['kind'] !== '') {
    if (typeof n['singular'] !== 'string' || n['singular'] === '') n['singular'] = n['kind'].toLowerCase();
    if (typeof n['listKind'] !== 'string' || n['listKind'] === '') n['listKind'] = `${n['kind']}List`;
  }
  if (!isRecord(spec['conversion'])) spec['conversion'] = { strategy: 'None' };
  // The storage version is recorded in status.storedVersions, so a later storage migration knows
  // which versions objects may still be stored in.
  const storage = listAt(spec, 'versions').find((v) => isRecord(v) && v['storage'] === true);
  if (isRecord(storage) && typeof storage['name'] === 'string') {
    // Copies, not edits: on update the status may still be the stored object's own.
    const status = isRecord(o['status']) ? o['status'] : {};
    const stored = Array.isArray(status['storedVersions']) ? (status['storedVersions'] as unknown[]) : [];
    if (!stored.includes(storage['name'])) o['status'] = { ...status, storedVersions: [...stored, storage['name']] };
  }
}

// The few checks that are about the CRD object itself; the CRD engine validates the schema it carries.
function validate(o: KObject, old: KObject | undefined): ErrorCause[] {
  const errs: ErrorCause[] = [];
  const spec = recordAt(o, 'spec') ?? {};
  const plural = recordAt(spec, 'names')?.['plural'];
  const group = spec['group'];
  const name = recordAt(o, 'metadata')?.['name'];
  if (typeof plural === 'string' && typeof group === 'string' && typeof name === 'string' && name !== `${plural}.${group}`) {
    errs.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  const versions = listAt(spec, 'versions');
  if (versions.length > 0 && versions.filter((v) => isRecord(v) && v['storage'] === true).length !== 1) {
    errs.push(invalid('spec.versions', versions.map((v) => (isRecord(v) ? v['name'] : undefined)), 'must have exactly one version marked as storage version'));
  }
  if (spec['preserveUnknownFields'] === true && recordAt(old, 'spec')?.['preserveUnknownFields'] !== true) {
    errs.push(invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'));
  }
  return errs;
}

export function customResourceDefinition(): ResourceType {
  return defineKind(
    {
      group: 'apiextensions.k8s.io',
      version: 'v1',
      kind: 'CustomResourceDefinition',
      plural: 'customresourcedefinitions',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      status: true,
      description: 'CustomResourceDefinition represents a resource that should be exposed on the API server; its name must be <spec.names.plural>.<spec.group>.',
      required: ['spec'],
      fields: {
        spec: def('CustomResourceDefinitionSpec', obj(
          {
            group: str({ description: 'The API group of the defined custom resource: /apis/<group>/...; must match the name\'s suffix.' }),
            names: names('The resource and kind names of the custom resource.'),
            scope: str({ description: 'Whether the resource is cluster-scoped or namespace-scoped.', enum: ['Cluster', 'Namespaced'] }),
            versions: arr(version(), { description: 'All API versions of the custom resource; exactly one is the storage version.' }),
            conversion: def('CustomResourceConversion', obj(
              {
                strategy: str({ description: 'How custom resources are converted between versions: None or Webhook.', enum: ['None', 'Webhook'] }),
                webhook: def('WebhookConversion', obj(
                  {
                    clientConfig: webhookClientConfig(),
                    conversionReviewVersions: arr(str(), {
                      atomic: true,
                      description: 'Ordered list of ConversionReview versions the webhook accepts.',
                    }),
                  },
                  { description: 'How to call the conversion webhook; required when strategy is Webhook.', required: ['conversionReviewVersions'] },
                )),
              },
              { description: 'Conversion settings for the CRD.', required: ['strategy'] },
            )),
            preserveUnknownFields: bool({ description: 'Deprecated; must be false in apiextensions.k8s.io/v1 (use x-kubernetes-preserve-unknown-fields in the schema).' }),
          },
          { description: 'The custom resource the definition describes.', required: ['group', 'names', 'scope', 'versions'] },
        )),
        status: def('CustomResourceDefinitionStatus', obj(
          {
            conditions: listMap(crdCondition(), ['type'], { description: 'The state of particular aspects of the CRD.' }),
            acceptedNames: names('The names actually being used to serve discovery; they may differ from spec.names on conflict.'),
            storedVersions: arr(str(), {
              atomic: true,
              description: 'Versions of the custom resource that were ever persisted; a migration removes entries once nothing is stored in them.',
            }),
          },
          { description: 'The observed state of the CRD.' },
        )),
      },
      printerColumns: [{ name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'When the CRD was created (RFC 3339).' }],
      strategy: { prepareForCreate: prepare, prepareForUpdate: prepare, validate },
    },
    objectMeta(),
  );
}
