// kumo.dev/v1alpha1 Cluster: one managed Kubernetes cluster in a tenant namespace. Day-2 operations
// are edits of this object (change spec.version to upgrade); the checks below keep those edits to
// what the cluster controller can carry out (one minor version at a time, no datastore or network swaps).
import { isIP } from 'node:net';
import type { ErrorCause } from '../../lib/errors.js';
import { invalid, recordAt } from '../builtin/validation.js';
import { int, obj, str } from '../schema/dsl.js';
import type { KObject, ResourceType } from '../types.js';
import { defineKumoKind, kumoConditions } from './common.js';

/** Kubernetes minor versions a Cluster may run, oldest first; the newest is the default. */
export const SUPPORTED_VERSIONS = ['v1.31', 'v1.32', 'v1.33'] as const;
export const DEFAULT_VERSION = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1] ?? 'v1.33';

/** `v1.33` or `v1.33.2`, only for supported minors. */
export const VERSION_PATTERN = `^v1\\.(${SUPPORTED_VERSIONS.map((v) => v.slice(3)).join('|')})(\\.(0|[1-9][0-9]*))?$`;

export const CLUSTER_PHASES = ['Pending', 'Provisioning', 'Running', 'Upgrading', 'Degraded', 'Deleting', 'Failed'] as const;
export const CLUSTER_CONDITIONS = ['ControlPlaneReady', 'DatastoreHealthy', 'NodesReady', 'Ready'] as const;
export const PROVIDERS = ['local'] as const;
export const DATASTORE_TYPES = ['sqlite', 'etcd'] as const;

export const DEFAULT_POD_CIDR = '10.244.0.0/16';
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

/** A cron schedule (5 fields) or one of cron's @-macros. */
export const SCHEDULE_PATTERN = '^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\\S+\\s+){4}\\S+)$';

/** {minor, patch} of a Cluster version string (`v1.33`, `v1.33.2`), or null. */
export function parseClusterVersion(v: unknown): { minor: number; patch?: number } | null {
  if (typeof v !== 'string') return null;
  const m = /^v1\.(\d+)(?:\.(\d+))?$/.exec(v);
  if (!m) return null;
  return m[2] === undefined ? { minor: Number(m[1]) } : { minor: Number(m[1]), patch: Number(m[2]) };
}

/** A CIDR as [first address, prefix length, address bits], or null when not a valid CIDR. */
export function parseCIDR(s: unknown): { base: bigint; prefix: number; bits: number } | null {
  if (typeof s !== 'string') return null;
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const ip = s.slice(0, slash);
  const prefixText = s.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(prefixText)) return null;
  const bits = family === 4 ? 32 : 128;
  const prefix = Number(prefixText);
  if (prefix > bits) return null;
  let value = 0n;
  if (family === 4) {
    for (const part of ip.split('.')) value = (value << 8n) | BigInt(Number(part));
  } else {
    const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
    const h = head === '' ? [] : head.split(':');
    const t = tail === '' ? [] : tail.split(':');
    // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
    const expand = (groups: string[]): string[] =>
      groups.flatMap((g) => {
        if (!g.includes('.')) return [g];
        const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
        return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
      });
    const hh = expand(h);
    const tt = expand(t);
    const groups = [...hh, ...Array<string>(8 - hh.length - tt.length).fill('0'), ...tt];
    for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { base: value & mask, prefix, bits };
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCIDR(a);
  const y = parseCIDR(b);
  if (!x || !y || x.bits !== y.bits) return false;
  const prefix = Math.min(x.prefix, y.prefix);
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(x.bits - prefix);
  return (x.base & mask) === (y.base & mask);
}

function validateCluster(o: KObject, old: KObject | undefined): ErrorCause[] {
  const errs: ErrorCause[] = [];
  const spec = recordAt(o, 'spec') ?? {};
  const oldSpec = recordAt(old, 'spec');

  // Upgrades go one minor version at a time from what runs now; downgrades are not supported.
  const next = parseClusterVersion(spec['version']);
  if (old && next) {
    const running = parseClusterVersion(recordAt(old, 'status')?.['version']) ?? parseClusterVersion(oldSpec?.['version']);
    if (running && next.minor < running.minor) {
      errs.push(invalid('spec.version', spec['version'], `downgrading from v1.${running.minor} is not supported`));
    } else if (running && next.minor > running.minor + 1) {
      errs.push(invalid('spec.version', spec['version'], `upgrade one minor version at a time: from v1.${running.minor} the next is v1.${running.minor + 1}`));
    }
  }

  const datastore = recordAt(spec, 'datastore') ?? {};
  const type = datastore['type'] ?? 'sqlite';
  if (type === 'sqlite') {
    const replicas = datastore['replicas'];
    if (typeof replicas === 'number' && replicas !== 1) {
      errs.push(invalid('spec.datastore.replicas', replicas, 'must be 1 with datastore type sqlite (use type etcd for 3 or 5 members)'));
    }
    const cp = recordAt(spec, 'controlPlane')?.['replicas'];
    if (typeof cp === 'number' && cp !== 1) {
      errs.push(invalid('spec.controlPlane.replicas', cp, 'must be 1 with datastore type sqlite: the control plane shares one SQLite file (use type etcd for more replicas)'));
    }
  }

  const network = recordAt(spec, 'network') ?? {};
  const cidrs: [string, unknown][] = [
    ['spec.network.podCIDR', network['podCIDR']],
    ['spec.network.serviceCIDR', network['serviceCIDR']],
  ];
  for (const [field, value] of cidrs) {
    if (value !== undefined && parseCIDR(value) === null) errs.push(invalid(field, value, 'must be a valid CIDR, e.g. 10.244.0.0/16'));
  }
  const pod = network['podCIDR'];
  const svc = network['serviceCIDR'];
  if (typeof pod === 'string' && typeof svc === 'string' && cidrsOverlap(pod, svc)) {
    errs.push(invalid('spec.network.serviceCIDR', svc, `must not overlap spec.network.podCIDR (${pod})`));
  }
  return errs;
}

export function cluster(): ResourceType {
  return defineKumoKind({
    kind: 'Cluster',
    plural: 'clusters',
    namespaced: true,
    shortNames: ['kc'],
    status: true,
    nameFormat: 'dns-label',
    description: 'Cluster is a managed Kubernetes cluster. Change spec.version to upgrade it.',
    fields: {
      spec: obj(
        {
          version: str({
            description: `Kubernetes version, v1.MINOR or v1.MINOR.PATCH; supported: ${SUPPORTED_VERSIONS.join(', ')}. Upgrades go one minor version at a time.`,
            default: DEFAULT_VERSION,
            pattern: VERSION_PATTERN,
          }),
          provider: str({ description: 'Where the cluster runs: local (this machine). Cannot be changed.', default: 'local', enum: [...PROVIDERS] }),
          controlPlane: obj(
            { replicas: int({ description: 'Number of control-plane replicas (1 with a sqlite datastore).', default: 1, minimum: 1, maximum: 5 }) },
            { description: 'The control plane (API server, controllers, scheduler).', default: {} },
          ),
          datastore: obj(
            {
              type: str({
                description: 'sqlite: a logical cluster in a shared control-plane host; etcd: dedicated etcd members. Cannot be changed.',
                default: 'sqlite',
                enum: [...DATASTORE_TYPES],
              }),
              replicas: int({ description: 'Number of etcd members: 1, 3 or 5 (etcd only; 1 for sqlite).', default: 1, enum: [1, 3, 5] }),
            },
            { description: 'Where the cluster\'s state is kept.', default: {} },
          ),
          network: obj(
            {
              podCIDR: str({ description: 'IP range pods get addresses from. Cannot be changed.', default: DEFAULT_POD_CIDR, format: 'cidr' }),
              serviceCIDR: str({ description: 'IP range Services get cluster IPs from; must not overlap podCIDR. Cannot be changed.', default: DEFAULT_SERVICE_CIDR, format: 'cidr' }),
            },
            { description: 'Cluster networking.', default: {} },
          ),
          backup: obj(
            {
              schedule: str({ description: 'When to take an EtcdSnapshot, in cron syntax (e.g. "0 3 * * *") or a macro like @daily.', pattern: SCHEDULE_PATTERN }),
              retention: int({ description: 'How many scheduled snapshots to keep; older ones are deleted.', default: 7, minimum: 1 }),
            },
            { description: 'Scheduled datastore backups; absent means none.', required: ['schedule'] },
          ),
        },
        { description: 'The desired state of the cluster.', default: {} },
      ),
      status: obj(
        {
          phase: str({ description: 'A summary of the cluster\'s lifecycle; conditions carry the detail.', enum: [...CLUSTER_PHASES] }),
          endpoint: str({ description: 'URL of the cluster\'s API server.' }),
          version: str({ description: 'The Kubernetes version the control plane runs now.' }),
          conditions: kumoConditions(CLUSTER_CONDITIONS),
        },
        { description: 'The observed state of the cluster.' },
      ),
    },
    immutableSpec: ['provider', 'datastore.type', 'network.podCIDR', 'network.serviceCIDR'],
    printerColumns: [
      { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'The desired Kubernetes version.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase.' },
      { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', description: 'API server URL.' },
      { name: 'Provider', type: 'string', jsonPath: '.spec.provider', priority: 1, description: 'Where the cluster runs.' },
      { name: 'Datastore', type: 'string', jsonPath: '.spec.datastore.type', priority: 1, description: 'sqlite or etcd.' },
    ],
    strategy: { validate: validateCluster },
  });
}
