// core/v1 kinds the management plane serves: Namespace, ConfigMap, Secret, ServiceAccount (Event is in
// events.ts). Schemas follow k8s.io/api core/v1; strategies carry the semantic checks of
// pkg/apis/core/validation that the schema cannot express (data keys, size limits, immutability).
import type { ErrorCause } from '../../lib/errors.js';
import { CORE_V1, localObjectReference, mergeList, named, objectMeta, objectReference } from '../meta.js';
import { arr, bool, bytes, defineKind, map, obj, str, time } from '../schema/dsl.js';
import type { KObject, ResourceType } from '../types.js';
import { keyCount, listAt, strAt } from './print.js';
import { configMapKeyErrors, deepEqual, forbidden, invalid, isRecord, keyPath, recordAt, required, tooLarge } from './validation.js';

/** ConfigMap and Secret payloads may not exceed 1 MiB (api.MaxSecretSize). */
export const MAX_DATA_BYTES = 1024 * 1024;

/** The finalizer the namespace controller removes once a terminating namespace is empty. */
export const NAMESPACE_FINALIZER = 'kubernetes';
/** Label kube-apiserver keeps equal to a namespace's name (selectable in NetworkPolicies). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function setNameLabel(o: KObject): void {
  const meta = o.metadata;
  if (!meta || typeof meta['name'] !== 'string' || meta['name'] === '') return;
  meta['labels'] = { ...(isRecord(meta['labels']) ? meta['labels'] : {}), [NAMESPACE_NAME_LABEL]: meta['name'] };
}

export function namespace(): ResourceType {
  return defineKind(
    {
      group: '',
      version: 'v1',
      kind: 'Namespace',
      plural: 'namespaces',
      namespaced: false,
      shortNames: ['ns'],
      nameFormat: 'dns-label',
      status: true,
      selectableFields: ['status.phase'],
      description: 'Namespace provides a scope for names.',
      fields: {
        spec: named(`${CORE_V1}.NamespaceSpec`, obj(
          {
            finalizers: arr(str(), {
              atomic: true,
              description: 'Finalizers that must be removed before the namespace is deleted from storage.',
            }),
          },
          { description: 'Spec defines the behavior of the Namespace.' },
        )),
        status: named(`${CORE_V1}.NamespaceStatus`, obj(
          {
            phase: str({ description: 'The current lifecycle phase of the namespace.', enum: ['Active', 'Terminating'] }),
            conditions: arr(
              named(`${CORE_V1}.NamespaceCondition`, obj(
                {
                  type: str({ description: 'Type of namespace controller condition.' }),
                  status: str({ description: 'Status of the condition, one of True, False, Unknown.' }),
                  lastTransitionTime: time({ description: 'Last time the condition transitioned.' }),
                  reason: str({ description: 'Unique, one-word, CamelCase reason for the condition\'s last transition.' }),
                  message: str({ description: 'Human-readable message about the last transition.' }),
                },
                { description: 'NamespaceCondition contains details about the state of a namespace.', required: ['type', 'status'] },
              )),
              { mapKeys: ['type'], description: 'The latest observations of the namespace\'s state.' },
            ),
          },
          { description: 'Status describes the current status of a Namespace.' },
        )),
      },
      printerColumns: [{ name: 'Status', type: 'string', jsonPath: '.status.phase', description: 'The lifecycle phase of the namespace.' }],
      strategy: {
        // As kube-apiserver: a new namespace is Active and carries the `kubernetes` finalizer; the
        // name label is kept in step with the name (set again on update, so it cannot be removed).
        prepareForCreate(o) {
          o['status'] = { phase: 'Active' };
          const spec = isRecord(o['spec']) ? o['spec'] : {};
          const finalizers = Array.isArray(spec['finalizers']) ? (spec['finalizers'] as unknown[]) : [];
          if (!finalizers.includes(NAMESPACE_FINALIZER)) finalizers.push(NAMESPACE_FINALIZER);
          spec['finalizers'] = finalizers;
          o['spec'] = spec;
          setNameLabel(o);
        },
        prepareForUpdate(o) {
          setNameLabel(o);
        },
      },
    },
    objectMeta(),
  );
}

function immutableData(o: KObject, old: KObject | undefined, fields: string[]): ErrorCause[] {
  if (!old || old['immutable'] !== true) return [];
  const errs: ErrorCause[] = [];
  if (o['immutable'] !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) {
    if (!deepEqual(o[f] ?? {}, old[f] ?? {})) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  }
  return errs;
}

function base64Length(v: unknown): number {
  return typeof v === 'string' ? Buffer.from(v, 'base64').length : 0;
}

export function configMap(): ResourceType {
  return defineKind(
    {
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
      plural: 'configmaps',
      namespaced: true,
      shortNames: ['cm'],
      description: 'ConfigMap holds configuration data for pods to consume.',
      fields: {
        data: map(str(), {
          description: 'Configuration data (UTF-8). Keys consist of alphanumerics, "-", "_" or "."; a key may not also be in binaryData.',
        }),
        binaryData: map(bytes(), {
          description: 'Binary data (base64-encoded). Keys follow the data rules and may not also be in data.',
        }),
        immutable: bool({ description: 'If true, data cannot be updated (only the object deleted and recreated).' }),
      },
      printerColumns: [{ name: 'Data', type: 'integer', jsonPath: '.data', description: 'Number of keys in data and binaryData.' }],
      printRow: (o) => [keyCount(o, 'data') + keyCount(o, 'binaryData')],
      strategy: {
        validate(o, old) {
          const errs: ErrorCause[] = [];
          const data = recordAt(o, 'data') ?? {};
          const binary = recordAt(o, 'binaryData') ?? {};
          let total = 0;
          for (const [key, value] of Object.entries(data)) {
            for (const msg of configMapKeyErrors(key)) errs.push(invalid(keyPath('data', key), key, msg));
            if (Object.hasOwn(binary, key)) errs.push(invalid(keyPath('data', key), key, 'duplicate of key present in binaryData'));
            if (typeof value === 'string') total += Buffer.byteLength(value, 'utf8');
          }
          for (const [key, value] of Object.entries(binary)) {
            for (const msg of configMapKeyErrors(key)) errs.push(invalid(keyPath('binaryData', key), key, msg));
            total += base64Length(value);
          }
          // kube reports the size of the whole object at the empty path, shown as `[]`.
          if (total > MAX_DATA_BYTES) errs.push(tooLarge('[]', MAX_DATA_BYTES));
          errs.push(...immutableData(o, old, ['data', 'binaryData']));
          return errs;
        },
      },
    },
    objectMeta(),
  );
}

/** Secret types kube-apiserver knows, with the data keys each requires. */
export const SecretTypes = {
  Opaque: 'Opaque',
  ServiceAccountToken: 'kubernetes.io/service-account-token',
  Dockercfg: 'kubernetes.io/dockercfg',
  DockerConfigJson: 'kubernetes.io/dockerconfigjson',
  BasicAuth: 'kubernetes.io/basic-auth',
  SSHAuth: 'kubernetes.io/ssh-auth',
  TLS: 'kubernetes.io/tls',
  BootstrapToken: 'bootstrap.kubernetes.io/token',
} as const;

/** Merges `stringData` into `data` (base64) and drops it, as kube-apiserver does before validation. */
function mergeStringData(o: KObject): void {
  const stringData = o['stringData'];
  if (stringData === undefined || stringData === null) {
    delete o['stringData'];
    return;
  }
  // Non-string values are left in place for schema validation to reject with a field path.
  if (!isRecord(stringData) || !Object.values(stringData).every((v) => typeof v === 'string')) return;
  const data = isRecord(o['data']) ? o['data'] : {};
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v as string, 'utf8').toString('base64');
  o['data'] = data;
  delete o['stringData'];
}

function isJSONObject(b64: unknown): boolean {
  if (typeof b64 !== 'string') return false;
  try {
    const v: unknown = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    return isRecord(v);
  } catch {
    return false;
  }
}

function validateSecret(o: KObject, old: KObject | undefined): ErrorCause[] {
  const errs: ErrorCause[] = [];
  const data = recordAt(o, 'data') ?? {};
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    for (const msg of configMapKeyErrors(key)) errs.push(invalid(keyPath('data', key), key, msg));
    total += base64Length(value);
  }
  if (total > MAX_DATA_BYTES) errs.push(tooLarge('data', MAX_DATA_BYTES));
  const type = typeof o['type'] === 'string' ? o['type'] : SecretTypes.Opaque;
  const has = (k: string): boolean => Object.hasOwn(data, k);
  switch (type) {
    case SecretTypes.ServiceAccountToken: {
      const name = recordAt(recordAt(o, 'metadata'), 'annotations')?.['kubernetes.io/service-account.name'];
      if (typeof name !== 'string' || name === '') errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      break;
    }
    case SecretTypes.Dockercfg:
    case SecretTypes.DockerConfigJson: {
      const key = type === SecretTypes.Dockercfg ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) errs.push(required(keyPath('data', key)));
      else if (!isJSONObject(data[key])) errs.push(invalid(keyPath('data', key), '<secret contents redacted>', 'must be a JSON object'));
      break;
    }
    case SecretTypes.BasicAuth:
      if (!has('username') && !has('password')) errs.push(required(keyPath('data', 'username')), required(keyPath('data', 'password')));
      break;
    case SecretTypes.SSHAuth:
      if (base64Length(data['ssh-privatekey']) === 0) errs.push(required(keyPath('data', 'ssh-privatekey')));
      break;
    case SecretTypes.TLS:
      if (!has('tls.crt')) errs.push(required(keyPath('data', 'tls.crt')));
      if (!has('tls.key')) errs.push(required(keyPath('data', 'tls.key')));
      break;
    default:
  }
  if (old) {
    const oldType = typeof old['type'] === 'string' ? old['type'] : SecretTypes.Opaque;
    if (type !== oldType) errs.push(invalid('type', type, 'field is immutable'));
  }
  errs.push(...immutableData(o, old, ['data']));
  return errs;
}

export function secret(): ResourceType {
  return defineKind(
    {
      group: '',
      version: 'v1',
      kind: 'Secret',
      plural: 'secrets',
      namespaced: true,
      description: 'Secret holds secret data of a certain type; values are base64-encoded.',
      fields: {
        data: map(bytes(), {
          description: 'Secret data (base64-encoded). Keys consist of alphanumerics, "-", "_" or "."; at most 1 MiB in total.',
        }),
        stringData: map(str(), {
          description: 'Write-only convenience: plain-text values merged into data on write (stringData wins); never returned on read.',
        }),
        type: str({ description: 'Used to facilitate programmatic handling of secret data, e.g. kubernetes.io/tls.', default: SecretTypes.Opaque }),
        immutable: bool({ description: 'If true, data cannot be updated (only the object deleted and recreated).' }),
      },
      selectableFields: ['type'],
      printerColumns: [
        { name: 'Type', type: 'string', jsonPath: '.type', description: 'The type of the secret.' },
        { name: 'Data', type: 'integer', jsonPath: '.data', description: 'Number of keys in data.' },
      ],
      printRow: (o) => [strAt(o, 'type'), keyCount(o, 'data')],
      strategy: {
        prepareForCreate: mergeStringData,
        prepareForUpdate: mergeStringData,
        validate: validateSecret,
      },
    },
    objectMeta(),
  );
}

export function serviceAccount(): ResourceType {
  return defineKind(
    {
      group: '',
      version: 'v1',
      kind: 'ServiceAccount',
      plural: 'serviceaccounts',
      namespaced: true,
      shortNames: ['sa'],
      description: 'ServiceAccount binds together a name, a principal that can be authenticated and authorized, and a set of secrets.',
      fields: {
        secrets: mergeList(objectReference(), 'name', {
          description: 'Secrets in the same namespace that pods running as this ServiceAccount may use.',
        }),
        imagePullSecrets: arr(localObjectReference(), { description: 'Secrets in the same namespace used to pull images for pods using this ServiceAccount.' }),
        automountServiceAccountToken: bool({ description: 'Whether pods running as this ServiceAccount get an API token mounted automatically.' }),
      },
      printerColumns: [{ name: 'Secrets', type: 'integer', jsonPath: '.secrets', description: 'Number of secrets.' }],
      printRow: (o) => [listAt(o, 'secrets').length],
    },
    objectMeta(),
  );
}
