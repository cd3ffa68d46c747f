// kumo.dev/v1alpha1 NodePool, Machine and ImportToken: a cluster's worker nodes. A NodePool keeps
// `replicas` Machines of one template and replaces unhealthy ones; a Machine is one node (delete it to
// replace it); an ImportToken lets existing servers join a cluster as nodes.
import type { ErrorCause } from '../../lib/errors.js';
import { invalid, recordAt } from '../builtin/validation.js';
import { arr, bool, int, intOrString, map, obj, str, time } from '../schema/dsl.js';
import type { KObject, ResourceType } from '../types.js';
import { DNS_LABEL_PATTERN, clusterRef, defineKumoKind, kumoConditions, localName } from './common.js';
import { DEFAULT_FLAVOR } from './flavors.js';

export const NODEPOOL_CONDITIONS = ['Ready'] as const;
export const MACHINE_PHASES = ['Pending', 'Provisioning', 'Running', 'Deleting', 'Failed'] as const;
export const MACHINE_CONDITIONS = ['Ready', 'Healthy'] as const;
/** An ImportToken without spec.expiresAt expires this long after creation (like kubeadm's token TTL). */
export const IMPORT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

function flavorName(description: string, defaultValue?: string) {
  return str({ description, pattern: DNS_LABEL_PATTERN, maxLength: 63, ...(defaultValue !== undefined ? { default: defaultValue } : {}) });
}

function taint() {
  return obj(
    {
      key: str({ description: 'The taint key applied to the node.' }),
      value: str({ description: 'The taint value.' }),
      effect: str({ description: 'What happens to pods that do not tolerate the taint.', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
    },
    { description: 'A taint every node of the pool gets.', required: ['key', 'effect'] },
  );
}

export function nodePool(): ResourceType {
  return defineKumoKind({
    kind: 'NodePool',
    plural: 'nodepools',
    namespaced: true,
    shortNames: ['np'],
    status: true,
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
    description: 'NodePool is a set of identical worker nodes of a Cluster, kept at spec.replicas and healed automatically.',
    required: ['spec'],
    fields: {
      spec: obj(
        {
          cluster: clusterRef(),
          replicas: int({ description: 'Desired number of nodes.', default: 1, minimum: 0 }),
          template: obj(
            {
              flavor: flavorName(`Machine size: small (2 CPU, 4Gi), medium (4, 8Gi), large (8, 32Gi), gpu (16, 64Gi, 2 GPUs) or a configured one.`, DEFAULT_FLAVOR),
              image: str({ description: 'OS image of the nodes; empty means the provider\'s default for the cluster version.' }),
              network: str({ description: 'Provider network the nodes attach to; empty means the cluster\'s default.' }),
              labels: map(str(), { description: 'Labels every node of the pool gets.' }),
              taints: arr(taint(), { description: 'Taints every node of the pool gets.' }),
              runtimeOptions: map(str(), { description: 'Node agent and container runtime settings (e.g. maxPods) passed to each node as given.' }),
            },
            { description: 'What each node of the pool looks like; changing it replaces nodes one at a time.', default: {} },
          ),
          autoHeal: obj(
            {
              enabled: bool({ description: 'Replace nodes that stay unhealthy.', default: true }),
              maxUnhealthy: intOrString({
                description: 'Stop replacing when more than this many nodes (or this percentage, e.g. "40%") are unhealthy at once.',
                default: '40%',
                pattern: '^(100|[1-9]?[0-9])%$|^[0-9]+$',
              }),
            },
            { description: 'Automatic replacement of unhealthy nodes.', default: {} },
          ),
        },
        { description: 'The desired state of the pool.', required: ['cluster'] },
      ),
      status: obj(
        {
          replicas: int({ description: 'Number of Machines of the pool.' }),
          readyReplicas: int({ description: 'Number of the pool\'s nodes that are Ready.' }),
          selector: str({ description: 'Label selector of the pool\'s Machines, in string form (for the scale subresource).' }),
          conditions: kumoConditions(NODEPOOL_CONDITIONS),
        },
        { description: 'The observed state of the pool.' },
      ),
    },
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', description: 'The cluster the pool belongs to.' },
      { name: 'Flavor', type: 'string', jsonPath: '.spec.template.flavor', description: 'Machine size.' },
      { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas', description: 'Desired number of nodes.' },
      { name: 'Current', type: 'integer', jsonPath: '.status.replicas', description: 'Number of machines.' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Number of ready nodes.' },
    ],
  });
}

export function machine(): ResourceType {
  return defineKumoKind({
    kind: 'Machine',
    plural: 'machines',
    namespaced: true,
    status: true,
    description: 'Machine is one node of a Cluster, usually owned by a NodePool. Delete it to replace the node.',
    required: ['spec'],
    fields: {
      spec: obj(
        {
          cluster: clusterRef(),
          nodePool: localName('The NodePool this machine belongs to; empty for an imported server. Cannot be changed.'),
          flavor: flavorName('Machine size (see NodePool spec.template.flavor). Cannot be changed.'),
          providerID: str({ description: 'The provider\'s identifier of the machine; set once by the controller.' }),
        },
        { description: 'The desired state of the machine.', required: ['cluster'] },
      ),
      status: obj(
        {
          phase: str({ description: 'A summary of the machine\'s lifecycle; conditions carry the detail.', enum: [...MACHINE_PHASES] }),
          nodeName: str({ description: 'Name of the Node in the cluster this machine became.' }),
          addresses: arr(
            obj(
              {
                type: str({ description: 'Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.' }),
                address: str({ description: 'The address.' }),
              },
              { description: 'An address of the machine.', required: ['type', 'address'] },
            ),
            { atomic: true, description: 'Addresses of the machine.' },
          ),
          conditions: kumoConditions(MACHINE_CONDITIONS),
        },
        { description: 'The observed state of the machine.' },
      ),
    },
    immutableSpec: ['nodePool', 'flavor'],
    selectableFields: ['spec.nodePool'],
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', description: 'The cluster the machine belongs to.' },
      { name: 'NodePool', type: 'string', jsonPath: '.spec.nodePool', description: 'The pool the machine belongs to.' },
      { name: 'Flavor', type: 'string', jsonPath: '.spec.flavor', description: 'Machine size.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase.' },
      { name: 'Node', type: 'string', jsonPath: '.status.nodeName', description: 'The Node it became.' },
      { name: 'ProviderID', type: 'string', jsonPath: '.spec.providerID', priority: 1, description: 'The provider\'s identifier.' },
    ],
    strategy: {
      validate(o: KObject, old: KObject | undefined): ErrorCause[] {
        // providerID may be set once (empty → value), never changed afterwards.
        const was = recordAt(old, 'spec')?.['providerID'];
        const now = recordAt(o, 'spec')?.['providerID'];
        if (typeof was === 'string' && was !== '' && now !== was) return [invalid('spec.providerID', now ?? '', 'field is immutable once set')];
        return [];
      },
    },
  });
}

export function importToken(): ResourceType {
  return defineKumoKind({
    kind: 'ImportToken',
    plural: 'importtokens',
    namespaced: true,
    status: true,
    description: 'ImportToken lets existing servers join a Cluster as nodes, until it expires or is used up.',
    required: ['spec'],
    fields: {
      spec: obj(
        {
          cluster: clusterRef(),
          expiresAt: time({ description: 'When the token stops working; default 24 hours after creation.' }),
          maxUses: int({ description: 'How many servers may join with the token.', default: 1, minimum: 1 }),
        },
        { description: 'The desired state of the token.', required: ['cluster'] },
      ),
      status: obj({ uses: int({ description: 'How many servers have joined with the token.', minimum: 0 }) }, { description: 'The observed state of the token.' }),
    },
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', description: 'The cluster servers join.' },
      { name: 'Expires At', type: 'date', jsonPath: '.spec.expiresAt', description: 'When the token stops working.' },
      { name: 'Max Uses', type: 'integer', jsonPath: '.spec.maxUses', description: 'How many servers may join.' },
      { name: 'Uses', type: 'integer', jsonPath: '.status.uses', description: 'How many have joined.' },
    ],
    strategy: {
      prepareForCreate(o) {
        const spec = recordAt(o, 'spec');
        if (spec && (typeof spec['expiresAt'] !== 'string' || spec['expiresAt'] === '')) {
          spec['expiresAt'] = new Date(Date.now() + IMPORT_TOKEN_TTL_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
        }
      },
    },
  });
}
