// kumo.dev/v1alpha1 AddonDefinition (cluster-scoped: what an addon is, with manifests per Kubernetes
// version range) and Addon (an addon installed in one Cluster, with its values).
import type { ErrorCause } from '../../lib/errors.js';
import { conditionStatus, strAt } from '../builtin/print.js';
import { invalid, isRecord } from '../builtin/validation.js';
import { arr, obj, str } from '../schema/dsl.js';
import type { KObject, ResourceType } from '../types.js';
import { clusterRef, defineKumoKind, kumoConditions, localName } from './common.js';
import { parseClusterVersion } from './cluster.js';

export const ADDON_CONDITIONS = ['Ready'] as const;

const COMPARATOR = /^(>=|<=|>|<|=)?v?1\.(\d+)(?:\.(\d+))?$/;

/**
 * A Kubernetes version range: `*`, or space-separated comparators all of which must hold, e.g.
 * `>=v1.31 <v1.33` or `v1.32`. A comparator without a patch compares minor versions only.
 */
export function parseVersionRange(range: string): { op: string; minor: number; patch?: number }[] | null {
  const text = range.trim();
  if (text === '*') return [];
  if (text === '') return null;
  const out: { op: string; minor: number; patch?: number }[] = [];
  for (const part of text.split(/\s+/)) {
    const m = COMPARATOR.exec(part);
    if (!m) return null;
    const c: { op: string; minor: number; patch?: number } = { op: m[1] ?? '=', minor: Number(m[2]) };
    if (m[3] !== undefined) c.patch = Number(m[3]);
    out.push(c);
  }
  return out;
}

/** Whether a Cluster version (`v1.32`, `v1.32.4`) is in a range (see parseVersionRange). */
export function versionInRange(version: string, range: string): boolean {
  const v = parseClusterVersion(version);
  const cs = parseVersionRange(range);
  if (!v || !cs) return false;
  return cs.every((c) => {
    const d = c.patch === undefined || v.patch === undefined ? v.minor - c.minor : v.minor - c.minor || v.patch - c.patch;
    switch (c.op) {
      case '>=':
        return d >= 0;
      case '<=':
        return d <= 0;
      case '>':
        return d > 0;
      case '<':
        return d < 0;
      default:
        return d === 0;
    }
  });
}

export function addonDefinition(): ResourceType {
  return defineKumoKind({
    kind: 'AddonDefinition',
    plural: 'addondefinitions',
    namespaced: false,
    description: 'AddonDefinition describes an addon (monitoring, logging, storage …) that Clusters can install through Addons.',
    required: ['spec'],
    fields: {
      spec: obj(
        {
          description: str({ description: 'What the addon does, for people choosing one.' }),
          manifests: arr(
            obj(
              {
                kubernetesVersions: str({ description: 'The cluster versions these manifests are for: "*", or comparators like ">=v1.31 <v1.33".' }),
                manifest: str({ description: 'Multi-document YAML applied to the cluster, parameterized by the Addon\'s values.' }),
              },
              { description: 'Manifests for a range of Kubernetes versions.', required: ['kubernetesVersions', 'manifest'] },
            ),
            { atomic: true, minItems: 1, description: 'Manifests per Kubernetes version range; the first range containing the cluster\'s version is used.' },
          ),
          defaultValues: obj({}, { description: 'Values used where an Addon sets none.', 'x-kubernetes-preserve-unknown-fields': true }),
        },
        { description: 'The addon\'s manifests and defaults.', required: ['manifests'] },
      ),
    },
    printerColumns: [{ name: 'Description', type: 'string', jsonPath: '.spec.description', priority: 1, description: 'What the addon does.' }],
    strategy: {
      validate(o: KObject): ErrorCause[] {
        const errs: ErrorCause[] = [];
        const spec = o['spec'];
        const manifests = isRecord(spec) && Array.isArray(spec['manifests']) ? (spec['manifests'] as unknown[]) : [];
        manifests.forEach((m, i) => {
          const range = isRecord(m) ? m['kubernetesVersions'] : undefined;
          if (typeof range === 'string' && parseVersionRange(range) === null) {
            errs.push(invalid(`spec.manifests[${i}].kubernetesVersions`, range, 'must be "*" or space-separated comparators like ">=v1.31 <v1.33"'));
          }
        });
        return errs;
      },
    },
  });
}

export function addon(): ResourceType {
  return defineKumoKind({
    kind: 'Addon',
    plural: 'addons',
    namespaced: true,
    status: true,
    description: 'Addon installs an AddonDefinition into a Cluster with the given values.',
    required: ['spec'],
    fields: {
      spec: obj(
        {
          cluster: clusterRef(),
          definition: localName('Name of the AddonDefinition to install. Cannot be changed.'),
          values: obj({}, { description: 'Parameters for the definition\'s manifests, over its defaultValues.', 'x-kubernetes-preserve-unknown-fields': true }),
        },
        { description: 'Which addon to install where, and how.', required: ['cluster', 'definition'] },
      ),
      status: obj({ conditions: kumoConditions(ADDON_CONDITIONS) }, { description: 'The observed state of the addon.' }),
    },
    immutableSpec: ['definition'],
    selectableFields: ['spec.definition'],
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', description: 'The cluster the addon is installed in.' },
      { name: 'Definition', type: 'string', jsonPath: '.spec.definition', description: 'The AddonDefinition.' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions', description: 'Status of the Ready condition.' },
    ],
    printRow: (o) => [strAt(o, 'spec.cluster'), strAt(o, 'spec.definition'), conditionStatus(o, 'Ready') || 'Unknown'],
  });
}
