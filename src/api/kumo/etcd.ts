// kumo.dev/v1alpha1 EtcdSnapshot and EtcdRestore: one API call each to back up and restore a
// cluster's datastore. Both are one-shot: their spec cannot change; the outcome is in conditions.
import { at, conditionStatus, strAt } from '../builtin/print.js';
import { int64, obj, str } from '../schema/dsl.js';
import type { KObject, ResourceType } from '../types.js';
import { clusterRef, defineKumoKind, kumoConditions, localName } from './common.js';

export const OPERATION_CONDITIONS = ['Complete', 'Failed'] as const;

/** Complete, Failed or InProgress, from the Complete/Failed conditions. */
export function operationStatus(o: KObject): string {
  if (conditionStatus(o, 'Complete') === 'True') return 'Complete';
  if (conditionStatus(o, 'Failed') === 'True') return 'Failed';
  return 'InProgress';
}

export function etcdSnapshot(): ResourceType {
  return defineKumoKind({
    kind: 'EtcdSnapshot',
    plural: 'etcdsnapshots',
    namespaced: true,
    status: true,
    description: 'EtcdSnapshot is a backup of a Cluster\'s datastore, taken once when created.',
    required: ['spec'],
    fields: {
      spec: obj({ cluster: clusterRef() }, { description: 'What to back up.', required: ['cluster'] }),
      status: obj(
        {
          size: int64({ description: 'Size of the snapshot in bytes.', minimum: 0 }),
          checksum: str({ description: 'Digest of the snapshot, e.g. sha256:<hex>.' }),
          conditions: kumoConditions(OPERATION_CONDITIONS),
        },
        { description: 'The outcome of the snapshot.' },
      ),
    },
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', description: 'The cluster backed up.' },
      { name: 'Status', type: 'string', jsonPath: '.status.conditions', description: 'InProgress, Complete or Failed.' },
      { name: 'Size', type: 'integer', jsonPath: '.status.size', description: 'Bytes.' },
    ],
    printRow: (o) => [strAt(o, 'spec.cluster'), operationStatus(o), typeof at(o, 'status.size') === 'number' ? at(o, 'status.size') : null],
  });
}

export function etcdRestore(): ResourceType {
  return defineKumoKind({
    kind: 'EtcdRestore',
    plural: 'etcdrestores',
    namespaced: true,
    status: true,
    description: 'EtcdRestore restores a Cluster\'s datastore from an EtcdSnapshot, once when created. Clients of the cluster relist afterwards.',
    required: ['spec'],
    fields: {
      spec: obj(
        {
          cluster: clusterRef(),
          snapshot: localName('Name of the EtcdSnapshot (of the same cluster, in this namespace) to restore. Cannot be changed.'),
        },
        { description: 'What to restore from.', required: ['cluster', 'snapshot'] },
      ),
      status: obj({ conditions: kumoConditions(OPERATION_CONDITIONS) }, { description: 'The outcome of the restore.' }),
    },
    immutableSpec: ['snapshot'],
    selectableFields: ['spec.snapshot'],
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', description: 'The cluster restored.' },
      { name: 'Snapshot', type: 'string', jsonPath: '.spec.snapshot', description: 'The snapshot restored from.' },
      { name: 'Status', type: 'string', jsonPath: '.status.conditions', description: 'InProgress, Complete or Failed.' },
    ],
    printRow: (o) => [strAt(o, 'spec.cluster'), strAt(o, 'spec.snapshot'), operationStatus(o)],
  });
}
