// The kumo.dev/v1alpha1 kinds (ARCHITECTURE.md "Resources"). RecordSet, ManagedCertificate and
// LoadBalancer are not served yet: their issues define them (see index.ts in src/api).
import type { ResourceType } from '../types.js';
import { addon, addonDefinition } from './addons.js';
import { cluster } from './cluster.js';
import { etcdRestore, etcdSnapshot } from './etcd.js';
import { importToken, machine, nodePool } from './nodes.js';
import { tenant } from './tenant.js';

export function kumoResourceTypes(): ResourceType[] {
  return [tenant(), cluster(), nodePool(), machine(), importToken(), etcdSnapshot(), etcdRestore(), addonDefinition(), addon()];
}
