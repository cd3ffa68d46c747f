// kumo.dev/v1alpha1 Tenant (cluster-scoped): who may use the platform and how much of it.
import type { ErrorCause } from '../../lib/errors.js';
import { forbidden, invalid, recordAt } from '../builtin/validation.js';
import { listMap } from '../meta.js';
import { int, map, obj, quantity, str } from '../schema/dsl.js';
import type { ResourceType } from '../types.js';
import { defineKumoKind, kumoConditions } from './common.js';

export const TENANT_ROLES = ['admin', 'member', 'viewer'] as const;
export const TENANT_CONDITIONS = ['Ready'] as const;

function count(description: string) {
  return int({ description, minimum: 0 });
}

export function tenant(): ResourceType {
  return defineKumoKind({
    kind: 'Tenant',
    plural: 'tenants',
    namespaced: false,
    status: true,
    nameFormat: 'dns-label',
    description: 'Tenant is a team or organization using the platform: its members and its quota.',
    fields: {
      spec: obj(
        {
          members: listMap(
            obj(
              {
                kind: str({ description: 'User or Group.', enum: ['User', 'Group'] }),
                name: str({ description: 'User or group name as the authenticator reports it.', minLength: 1 }),
                role: str({ description: 'admin manages the tenant and its clusters; member uses clusters; viewer reads.', enum: [...TENANT_ROLES] }),
              },
              { description: 'A user or group and its role in the tenant.', required: ['kind', 'name', 'role'] },
            ),
            ['kind', 'name'],
            { description: 'Who belongs to the tenant; each kind and name at most once.' },
          ),
          quota: obj(
            {
              clusters: count('Maximum number of Clusters.'),
              nodes: count('Maximum number of nodes across all clusters.'),
              cpu: quantity({ description: 'Maximum CPU across all nodes, e.g. 64.' }),
              memory: quantity({ description: 'Maximum memory across all nodes, e.g. 256Gi.' }),
              volumes: map(count('Maximum number of volumes of this storage class.'), { description: 'Maximum number of volumes per storage class.' }),
              loadBalancerPorts: obj(
                {
                  from: int({ description: 'First port of the range.', minimum: 1, maximum: 65535 }),
                  to: int({ description: 'Last port of the range (inclusive).', minimum: 1, maximum: 65535 }),
                },
                { description: 'The load-balancer ports the tenant\'s Services may use.', required: ['from', 'to'] },
              ),
            },
            { description: 'Limits across all of the tenant\'s clusters; absent fields are unlimited.' },
          ),
        },
        { description: 'The desired state of the tenant.', default: {} },
      ),
      status: obj(
        {
          usage: obj(
            {
              clusters: count('Number of Clusters.'),
              nodes: count('Number of nodes across all clusters.'),
              cpu: quantity({ description: 'CPU across all nodes.' }),
              memory: quantity({ description: 'Memory across all nodes.' }),
              volumes: map(count('Volumes of this storage class.'), { description: 'Volumes per storage class.' }),
              loadBalancerPorts: count('Load-balancer ports in use.'),
            },
            { description: 'What the tenant uses now, in the units of spec.quota.' },
          ),
          conditions: kumoConditions(TENANT_CONDITIONS),
        },
        { description: 'The observed state of the tenant.' },
      ),
    },
    printerColumns: [
      { name: 'Clusters', type: 'integer', jsonPath: '.status.usage.clusters', description: 'Number of clusters.' },
      { name: 'Nodes', type: 'integer', jsonPath: '.status.usage.nodes', description: 'Number of nodes.' },
    ],
    strategy: {
      validate(o) {
        const errs: ErrorCause[] = [];
        const ports = recordAt(recordAt(recordAt(o, 'spec'), 'quota'), 'loadBalancerPorts');
        if (ports && typeof ports['from'] === 'number' && typeof ports['to'] === 'number' && ports['from'] > ports['to']) {
          errs.push(invalid('spec.quota.loadBalancerPorts.to', ports['to'], `must not be less than from (${ports['from']})`));
        }
        errs.push(...tenantMemberCauses(o));
        return errs;
      },
    },
  });
}

/** Names that would open a tenant to callers without credentials. */
const UNAUTHENTICATED_MEMBERS: Record<string, string> = { User: 'system:anonymous', Group: 'system:unauthenticated' };

/**
 * The semantic checks of spec.members beyond the schema (which checks kinds, roles and duplicate kind
 * and name): a name must be the exact name the authenticator reports (no surrounding blanks), and
 * anonymous callers may not be members.
 */
export function tenantMemberCauses(o: Record<string, unknown>): ErrorCause[] {
  const errs: ErrorCause[] = [];
  const members = recordAt(o, 'spec')?.['members'];
  if (!Array.isArray(members)) return errs;
  members.forEach((m: unknown, i) => {
    if (typeof m !== 'object' || m === null) return;
    const { kind, name } = m as Record<string, unknown>;
    if (typeof name !== 'string') return;
    if (name.trim() !== name) errs.push(invalid(`spec.members[${i}].name`, name, 'must not begin or end with whitespace'));
    if (typeof kind === 'string' && UNAUTHENTICATED_MEMBERS[kind] === name) errs.push(forbidden(`spec.members[${i}].name`, `unauthenticated callers (${name}) may not be members of a tenant`));
  });
  return errs;
}
