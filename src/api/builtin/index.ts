// The upstream Kubernetes kinds the management plane serves (issue 4).
import type { ResourceType } from '../types.js';
import { customResourceDefinition } from './apiextensions.js';
import { lease } from './coordination.js';
import { configMap, namespace, secret, serviceAccount } from './core.js';
import { coreEvent, eventsV1Event } from './events.js';
import { limitRange, resourceQuota } from './quota.js';
import { clusterRole, clusterRoleBinding, role, roleBinding } from './rbac.js';

export function kubernetesResourceTypes(): ResourceType[] {
  return [
    namespace(),
    configMap(),
    secret(),
    serviceAccount(),
    resourceQuota(),
    limitRange(),
    coreEvent(),
    eventsV1Event(),
    lease(),
    role(),
    clusterRole(),
    roleBinding(),
    clusterRoleBinding(),
    customResourceDefinition(),
  ];
}
