// The bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy): kube's default ClusterRoles
// and ClusterRoleBindings with their real rules, plus Kumo's own aggregate roles for the kumo.dev
// kinds. Ensured in a logical cluster at startup and reconciled like kube-apiserver's
// `rbac/bootstrap-roles` post-start hook: objects annotated `rbac.authorization.kubernetes.io/
// autoupdate: "true"` (or without the annotation) are created when missing and get back any rule,
// subject, label or annotation of the default that they lack; extra permissions are kept; objects
// annotated "false" are left alone.
import { isKumoError } from '../../lib/errors.js';
import type { KObject } from '../../api/types.js';
import type { LogicalCluster } from '../keys.js';
import { deepCopy, isObject, jsonEqual, meta } from '../object.js';
import type { ResourceStorage } from '../rest.js';
import { AUTHENTICATED_GROUP, MASTERS_GROUP, UNAUTHENTICATED_GROUP } from '../auth/types.js';
import { RBAC_GROUP } from './policy.js';
import { breakdownRule, covers, policyRuleJSON, policyRulesFrom, type PolicyRule } from './rules.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const BOOTSTRAP_LABEL = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
export const AGGREGATE_TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';
/** Kumo's system administrators besides system:masters (issue 6, tenancy). */
export const KUMO_SYSTEM_ADMINS_GROUP = 'kumo:system-admins';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';
export const MONITORING_GROUP = 'system:monitoring';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function rule(verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const r: PolicyRule = { verbs, apiGroups, resources };
  if (resourceNames) r.resourceNames = resourceNames;
  return r;
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

interface ClusterRoleSpec {
  name: string;
  labels?: Record<string, string>;
  rules?: PolicyRule[];
  /** Aggregated role: `rbac.authorization.k8s.io/aggregate-to-<x>: "true"` selectors. */
  aggregateFrom?: string[];
}

const KUMO_GROUP = 'kumo.dev';

/** The default ClusterRoles (kube 1.33's rule contents for the roles Kumo ships). */
export function bootstrapClusterRoleSpecs(): ClusterRoleSpec[] {
  return [
    { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
    { name: 'admin', aggregateFrom: [AGGREGATE_TO_ADMIN] },
    { name: 'edit', labels: { [AGGREGATE_TO_ADMIN]: 'true' }, aggregateFrom: [AGGREGATE_TO_EDIT] },
    { name: 'view', labels: { [AGGREGATE_TO_EDIT]: 'true' }, aggregateFrom: [AGGREGATE_TO_VIEW] },
    {
      name: 'system:aggregate-to-admin',
      labels: { [AGGREGATE_TO_ADMIN]: 'true' },
      rules: [rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']), rule(READ_WRITE, [RBAC_GROUP], ['rolebindings', 'roles'])],
    },
    {
      name: 'system:aggregate-to-edit',
      labels: { [AGGREGATE_TO_EDIT]: 'true' },
      rules: [
        rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
        rule(['impersonate'], [''], ['serviceaccounts']),
        rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
        rule(['create'], [''], ['pods/eviction']),
        rule(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
        rule(['create'], [''], ['serviceaccounts/token']),
        rule(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
        rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
        rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
        rule(WRITE, ['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale']),
        rule(WRITE, ['policy'], ['poddisruptionbudgets']),
        rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
        rule(READ_WRITE, ['coordination.k8s.io'], ['leases']),
      ],
    },
    {
      name: 'system:aggregate-to-view',
      labels: { [AGGREGATE_TO_VIEW]: 'true' },
      rules: [
        rule(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
        rule(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
        rule(READ, [''], ['namespaces']),
        rule(READ, ['discovery.k8s.io'], ['endpointslices']),
        rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
        rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
        rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
        rule(READ, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale']),
        rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
        rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
      ],
    },
    // Kumo's kinds join the user-facing roles the way add-ons do in kube: through aggregation labels.
    {
      name: 'kumo:aggregate-to-edit',
      labels: { [AGGREGATE_TO_EDIT]: 'true' },
      rules: [
        rule(WRITE, [KUMO_GROUP], ['addons', 'clusters', 'etcdrestores', 'etcdsnapshots', 'importtokens', 'machines', 'nodepools', 'nodepools/scale']),
        rule(READ, [KUMO_GROUP], ['importtokens']),
        rule(['create', 'delete', 'get', 'patch', 'update'], [KUMO_GROUP], ['clusters/proxy']),
      ],
    },
    {
      name: 'kumo:aggregate-to-view',
      labels: { [AGGREGATE_TO_VIEW]: 'true' },
      rules: [
        rule(READ, [KUMO_GROUP], [
          'addons', 'addons/status', 'clusters', 'clusters/status', 'etcdrestores', 'etcdrestores/status', 'etcdsnapshots', 'etcdsnapshots/status',
          'machines', 'machines/status', 'nodepools', 'nodepools/scale', 'nodepools/status',
        ]),
      ],
    },
    {
      name: 'system:auth-delegator',
      rules: [rule(['create'], ['authentication.k8s.io'], ['tokenreviews']), rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])],
    },
    {
      name: 'system:basic-user',
      rules: [rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews'])],
    },
    { name: 'system:discovery', rules: [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])] },
    { name: 'system:monitoring', rules: [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])] },
    { name: 'system:public-info-viewer', rules: [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])] },
    { name: 'system:service-account-issuer-discovery', rules: [urls(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks'])] },
  ];
}

interface BindingSpec {
  name: string;
  role: string;
  groups?: string[];
  users?: string[];
}

export function bootstrapClusterRoleBindingSpecs(): BindingSpec[] {
  return [
    { name: 'cluster-admin', role: 'cluster-admin', groups: [MASTERS_GROUP] },
    { name: 'kumo:system-admins', role: 'cluster-admin', groups: [KUMO_SYSTEM_ADMINS_GROUP] },
    { name: 'system:basic-user', role: 'system:basic-user', groups: [AUTHENTICATED_GROUP] },
    { name: 'system:discovery', role: 'system:discovery', groups: [AUTHENTICATED_GROUP] },
    { name: 'system:monitoring', role: 'system:monitoring', groups: [MONITORING_GROUP] },
    { name: 'system:public-info-viewer', role: 'system:public-info-viewer', groups: [AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP] },
    { name: 'system:service-account-issuer-discovery', role: 'system:service-account-issuer-discovery', groups: [SERVICE_ACCOUNTS_GROUP] },
  ];
}

function objectMetaFor(name: string, labels: Record<string, string> = {}): Record<string, unknown> {
  return { name, labels: { ...BOOTSTRAP_LABEL, ...labels }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } };
}

/** The default ClusterRoles as objects. */
export function bootstrapClusterRoles(): KObject[] {
  return bootstrapClusterRoleSpecs().map((s) => {
    const o: KObject = { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: objectMetaFor(s.name, s.labels) };
    if (s.aggregateFrom) o.aggregationRule = { clusterRoleSelectors: s.aggregateFrom.map((l) => ({ matchLabels: { [l]: 'true' } })) };
    else o.rules = (s.rules ?? []).map(policyRuleJSON);
    return o;
  });
}

/** The default ClusterRoleBindings as objects. */
export function bootstrapClusterRoleBindings(): KObject[] {
  return bootstrapClusterRoleBindingSpecs().map((s) => ({
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: objectMetaFor(s.name),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: s.role },
    subjects: [...(s.users ?? []).map((name) => ({ apiGroup: RBAC_GROUP, kind: 'User', name })), ...(s.groups ?? []).map((name) => ({ apiGroup: RBAC_GROUP, kind: 'Group', name }))],
  }));
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** Labels and annotations of the default that `existing` lacks are added (existing values win, as in kube). */
function reconcileMeta(existing: KObject, expected: KObject): void {
  const m = meta(existing);
  const e = meta(expected);
  const labels = { ...stringMap(e.labels), ...stringMap(m.labels) };
  const annotations = { ...stringMap(e.annotations), ...stringMap(m.annotations) };
  if (Object.keys(labels).length > 0) m.labels = labels;
  if (Object.keys(annotations).length > 0) m.annotations = annotations;
}

function autoupdateOff(obj: KObject): boolean {
  return stringMap(meta(obj).annotations)[AUTOUPDATE_ANNOTATION] === 'false';
}

/**
 * computeReconciledRole: `existing` with what the default adds (rules it does not cover, appended
 * broken down; aggregation selectors it lacks), or null when nothing is to change.
 */
export function reconcileClusterRole(existing: KObject, expected: KObject): KObject | null {
  if (autoupdateOff(existing)) return null;
  const next = deepCopy(existing);
  reconcileMeta(next, expected);
  const have = policyRulesFrom(next.rules);
  const want = policyRulesFrom(expected.rules);
  if (isObject(expected.aggregationRule)) {
    const wantSel = Array.isArray(expected.aggregationRule.clusterRoleSelectors) ? expected.aggregationRule.clusterRoleSelectors : [];
    const agg = isObject(next.aggregationRule) ? next.aggregationRule : {};
    const haveSel = Array.isArray(agg.clusterRoleSelectors) ? [...(agg.clusterRoleSelectors as unknown[])] : [];
    for (const s of wantSel) if (!haveSel.some((h) => jsonEqual(h, s))) haveSel.push(s);
    next.aggregationRule = { ...agg, clusterRoleSelectors: haveSel };
  } else {
    const { missing } = covers(have, want);
    if (missing.length > 0) next.rules = [...(Array.isArray(next.rules) ? (next.rules as unknown[]) : []), ...missing.flatMap(breakdownRule).map(policyRuleJSON)];
  }
  return jsonEqual(next, existing) ? null : next;
}

/** computeReconciledRoleBinding: subjects of the default that `existing` lacks are added. */
export function reconcileClusterRoleBinding(existing: KObject, expected: KObject): KObject | null {
  if (autoupdateOff(existing)) return null;
  const next = deepCopy(existing);
  reconcileMeta(next, expected);
  const have = Array.isArray(next.subjects) ? [...(next.subjects as unknown[])] : [];
  for (const s of Array.isArray(expected.subjects) ? expected.subjects : []) if (!have.some((h) => jsonEqual(h, s))) have.push(s);
  next.subjects = have;
  return jsonEqual(next, existing) ? null : next;
}

export interface BootstrapStorages {
  clusterRoles: ResourceStorage;
  clusterRoleBindings: ResourceStorage;
}

export interface BootstrapResult {
  created: string[];
  updated: string[];
}

/**
 * Ensures the default policy in `cluster` (kube's rbac/bootstrap-roles). A binding whose roleRef
 * differs from the default is replaced (roleRef cannot change in place), as kube does.
 */
export async function ensureBootstrapPolicy(s: BootstrapStorages, cluster: LogicalCluster): Promise<BootstrapResult> {
  const result: BootstrapResult = { created: [], updated: [] };
  const scope = { cluster };
  const sync = async (storage: ResourceStorage, kind: string, expected: KObject, reconcile: (existing: KObject, expected: KObject) => KObject | null): Promise<void> => {
    const name = String(meta(expected).name);
    for (let attempt = 0; attempt < 5; attempt++) {
      let existing: KObject;
      try {
        existing = await storage.get(scope, name);
      } catch (err) {
        if (!isKumoError(err, 'NotFound')) throw err;
        try {
          await storage.create(scope, deepCopy(expected));
          result.created.push(`${kind}/${name}`);
          return;
        } catch (e) {
          if (isKumoError(e, 'AlreadyExists')) continue;
          throw e;
        }
      }
      if (kind === 'ClusterRoleBinding' && !autoupdateOff(existing) && !jsonEqual(existing.roleRef, expected.roleRef)) {
        await storage.delete(scope, name, { preconditions: { resourceVersion: String(meta(existing).resourceVersion) } }).catch((e: unknown) => {
          if (!isKumoError(e, 'NotFound') && !isKumoError(e, 'Conflict')) throw e;
        });
        continue;
      }
      const next = reconcile(existing, expected);
      if (next === null) return;
      try {
        await storage.update(scope, name, next);
        result.updated.push(`${kind}/${name}`);
        return;
      } catch (e) {
        if (isKumoError(e, 'Conflict') || isKumoError(e, 'NotFound')) continue;
        throw e;
      }
    }
  };
  for (const role of bootstrapClusterRoles()) await sync(s.clusterRoles, 'ClusterRole', role, reconcileClusterRole);
  for (const b of bootstrapClusterRoleBindings()) await sync(s.clusterRoleBindings, 'ClusterRoleBinding', b, reconcileClusterRoleBinding);
  return result;
}
