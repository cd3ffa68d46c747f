// rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding: stored and validated
// now, enforced by the authorizer in a later issue. Defaulting and checks follow pkg/apis/rbac.
import type { ErrorCause } from '../../lib/errors.js';
import { atomicObj, labelSelector, named, objectMeta } from '../meta.js';
import { arr, defineKind, obj, str } from '../schema/dsl.js';
import type { KObject, PrinterColumn, ResourceType } from '../types.js';
import { listAt, since } from './print.js';
import { deepEqual, invalid, isRecord, notSupported, recordAt, required } from './validation.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_V1 = 'io.k8s.api.rbac.v1';

function policyRule(): ReturnType<typeof obj> {
  const list = (description: string) => arr(str(), { atomic: true, description });
  return named(`${RBAC_V1}.PolicyRule`, obj(
    {
      verbs: list('Verbs that apply to all resources in this rule; "*" means all.'),
      apiGroups: list('API groups of the resources; "" is the core group, "*" means all.'),
      resources: list('Resources this rule applies to; "*" means all.'),
      resourceNames: list('Optional allow-list of object names; empty means all.'),
      nonResourceURLs: list('Partial URLs a user may access (ClusterRoles only), e.g. /healthz; "*" as the last segment matches a prefix.'),
    },
    { description: 'PolicyRule describes actions allowed on resources or non-resource URLs.', required: ['verbs'] },
  ));
}

function rules(): ReturnType<typeof arr> {
  return arr(policyRule(), { atomic: true, description: 'All the policy rules of this role.' });
}

function subjects(): ReturnType<typeof arr> {
  return arr(
    named(`${RBAC_V1}.Subject`, obj(
      {
        kind: str({ description: 'Kind of object being referenced: User, Group or ServiceAccount.' }),
        apiGroup: str({ description: 'API group of the subject: "" for ServiceAccount, rbac.authorization.k8s.io for User and Group.' }),
        name: str({ description: 'Name of the object being referenced.' }),
        namespace: str({ description: 'Namespace of a ServiceAccount subject.' }),
      },
      { description: 'Subject references a user, a group or a service account.', required: ['kind', 'name'], 'x-kubernetes-map-type': 'atomic' },
    )),
    { atomic: true, description: 'References to the objects the role applies to.' },
  );
}

function roleRef(): ReturnType<typeof atomicObj> {
  return named(`${RBAC_V1}.RoleRef`, atomicObj(
    {
      apiGroup: str({ description: 'API group of the referenced role.' }),
      kind: str({ description: 'Kind of the referenced role: Role or ClusterRole.' }),
      name: str({ description: 'Name of the referenced role.' }),
    },
    { description: 'The role being bound; it cannot be changed.', required: ['apiGroup', 'kind', 'name'] },
  ));
}

/** path-segment names (ValidatePathSegmentName), the rule RBAC names and roleRef.name follow. */
export function pathSegmentErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  for (const bad of ['/', '%']) if (name.includes(bad)) return [`may not contain '${bad}'`];
  return [];
}

function validateRules(o: KObject, namespaced: boolean): ErrorCause[] {
  const errs: ErrorCause[] = [];
  listAt(o, 'rules').forEach((r, i) => {
    const rule = isRecord(r) ? r : {};
    const p = `rules[${i}]`;
    const len = (k: string): number => (Array.isArray(rule[k]) ? (rule[k] as unknown[]).length : 0);
    if (len('verbs') === 0) errs.push(required(`${p}.verbs`, 'verbs must contain at least one value'));
    if (len('nonResourceURLs') > 0) {
      if (namespaced) errs.push(invalid(`${p}.nonResourceURLs`, rule['nonResourceURLs'], 'namespaced rules cannot apply to non-resource URLs'));
      if (len('apiGroups') > 0 || len('resources') > 0 || len('resourceNames') > 0) {
        errs.push(invalid(`${p}.nonResourceURLs`, rule['nonResourceURLs'], 'rules cannot apply to both regular resources and non-resource URLs'));
      }
      return;
    }
    if (len('apiGroups') === 0) errs.push(required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
    if (len('resources') === 0) errs.push(required(`${p}.resources`, 'resource rules must supply at least one resource'));
  });
  return errs;
}

/** SetDefaults_Subject and the roleRef default: User and Group subjects and roleRef get the RBAC group. */
function defaultBinding(o: KObject): void {
  for (const s of listAt(o, 'subjects')) {
    if (!isRecord(s) || (typeof s['apiGroup'] === 'string' && s['apiGroup'] !== '')) continue;
    if (s['kind'] === 'User' || s['kind'] === 'Group') s['apiGroup'] = RBAC_GROUP;
  }
  const ref = recordAt(o, 'roleRef');
  if (ref && (typeof ref['apiGroup'] !== 'string' || ref['apiGroup'] === '')) ref['apiGroup'] = RBAC_GROUP;
}

function validateBinding(o: KObject, old: KObject | undefined, namespaced: boolean): ErrorCause[] {
  const errs: ErrorCause[] = [];
  const ref = recordAt(o, 'roleRef') ?? {};
  if (ref['apiGroup'] !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', ref['apiGroup'] ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (typeof ref['kind'] !== 'string' || !kinds.includes(ref['kind'])) errs.push(notSupported('roleRef.kind', ref['kind'] ?? '', kinds));
  const name = typeof ref['name'] === 'string' ? ref['name'] : '';
  if (name === '') errs.push(required('roleRef.name'));
  else for (const msg of pathSegmentErrors(name)) errs.push(invalid('roleRef.name', name, msg));
  listAt(o, 'subjects').forEach((s, i) => {
    const subject = isRecord(s) ? s : {};
    const p = `subjects[${i}]`;
    const apiGroup = typeof subject['apiGroup'] === 'string' ? subject['apiGroup'] : '';
    if (typeof subject['name'] !== 'string' || subject['name'] === '') errs.push(required(`${p}.name`));
    switch (subject['kind']) {
      case 'ServiceAccount':
        if (apiGroup !== '') errs.push(notSupported(`${p}.apiGroup`, apiGroup, ['']));
        if (!namespaced && (typeof subject['namespace'] !== 'string' || subject['namespace'] === '')) errs.push(required(`${p}.namespace`));
        break;
      case 'User':
      case 'Group':
        if (apiGroup !== RBAC_GROUP) errs.push(notSupported(`${p}.apiGroup`, apiGroup, [RBAC_GROUP]));
        break;
      default:
        errs.push(notSupported(`${p}.kind`, subject['kind'] ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  if (old && !deepEqual(recordAt(old, 'roleRef'), recordAt(o, 'roleRef'))) errs.push(invalid('roleRef', o['roleRef'], 'cannot change roleRef'));
  return errs;
}

/** rbac.SubjectsStrings: users, groups and `namespace/name` service accounts, for the wide columns. */
export function subjectsStrings(o: KObject): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const out = { users: [] as string[], groups: [] as string[], serviceAccounts: [] as string[] };
  for (const s of listAt(o, 'subjects')) {
    if (!isRecord(s)) continue;
    const name = typeof s['name'] === 'string' ? s['name'] : '';
    if (s['kind'] === 'User') out.users.push(name);
    else if (s['kind'] === 'Group') out.groups.push(name);
    else if (s['kind'] === 'ServiceAccount') out.serviceAccounts.push(`${typeof s['namespace'] === 'string' ? s['namespace'] : ''}/${name}`);
  }
  return out;
}

const CREATED_AT: PrinterColumn = { name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'When the object was created (RFC 3339).' };

const BINDING_COLUMNS: PrinterColumn[] = [
  { name: 'Role', type: 'string', jsonPath: '.roleRef.name', description: 'Kind/name of the bound role.' },
  { name: 'Age', type: 'string', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
  { name: 'Users', type: 'string', jsonPath: '.subjects', priority: 1, description: 'Bound users.' },
  { name: 'Groups', type: 'string', jsonPath: '.subjects', priority: 1, description: 'Bound groups.' },
  { name: 'ServiceAccounts', type: 'string', jsonPath: '.subjects', priority: 1, description: 'Bound service accounts (namespace/name).' },
];

/** The cells of a (Cluster)RoleBinding row as kube-apiserver prints them. */
export function printBinding(o: KObject, now = Date.now()): unknown[] {
  const ref = recordAt(o, 'roleRef') ?? {};
  const { users, groups, serviceAccounts } = subjectsStrings(o);
  return [
    `${typeof ref['kind'] === 'string' ? ref['kind'] : ''}/${typeof ref['name'] === 'string' ? ref['name'] : ''}`,
    since(recordAt(o, 'metadata')?.['creationTimestamp'], now),
    users.join(', '),
    groups.join(', '),
    serviceAccounts.join(', '),
  ];
}

export function role(): ResourceType {
  return defineKind(
    {
      group: RBAC_GROUP,
      version: 'v1',
      kind: 'Role',
      plural: 'roles',
      namespaced: true,
      nameFormat: 'path-segment',
      description: 'Role is a namespaced set of PolicyRules that a RoleBinding grants.',
      fields: { rules: rules() },
      printerColumns: [CREATED_AT],
      strategy: { validate: (o) => validateRules(o, true) },
    },
    objectMeta(),
  );
}

export function clusterRole(): ResourceType {
  return defineKind(
    {
      group: RBAC_GROUP,
      version: 'v1',
      kind: 'ClusterRole',
      plural: 'clusterroles',
      namespaced: false,
      nameFormat: 'path-segment',
      description: 'ClusterRole is a cluster-level set of PolicyRules that a RoleBinding or ClusterRoleBinding grants.',
      fields: {
        rules: rules(),
        aggregationRule: named(`${RBAC_V1}.AggregationRule`, obj(
          {
            clusterRoleSelectors: arr(labelSelector(), {
              atomic: true,
              description: 'Selectors of ClusterRoles whose rules are aggregated into this one.',
            }),
          },
          { description: 'How to build the rules of this ClusterRole from others; if set, rules are controller-managed.' },
        )),
      },
      printerColumns: [CREATED_AT],
      strategy: {
        validate(o) {
          const errs = validateRules(o, false);
          const agg = o['aggregationRule'];
          if (isRecord(agg) && listAt(agg, 'clusterRoleSelectors').length === 0) {
            errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
          }
          return errs;
        },
      },
    },
    objectMeta(),
  );
}

export function roleBinding(): ResourceType {
  return defineKind(
    {
      group: RBAC_GROUP,
      version: 'v1',
      kind: 'RoleBinding',
      plural: 'rolebindings',
      namespaced: true,
      nameFormat: 'path-segment',
      description: 'RoleBinding grants the permissions of a Role or ClusterRole to subjects within a namespace.',
      required: ['roleRef'],
      fields: { subjects: subjects(), roleRef: roleRef() },
      printerColumns: BINDING_COLUMNS,
      printRow: (o) => printBinding(o),
      strategy: {
        prepareForCreate: defaultBinding,
        prepareForUpdate: defaultBinding,
        validate: (o, old) => validateBinding(o, old, true),
      },
    },
    objectMeta(),
  );
}

export function clusterRoleBinding(): ResourceType {
  return defineKind(
    {
      group: RBAC_GROUP,
      version: 'v1',
      kind: 'ClusterRoleBinding',
      plural: 'clusterrolebindings',
      namespaced: false,
      nameFormat: 'path-segment',
      description: 'ClusterRoleBinding grants the permissions of a ClusterRole to subjects cluster-wide.',
      required: ['roleRef'],
      fields: { subjects: subjects(), roleRef: roleRef() },
      printerColumns: BINDING_COLUMNS,
      printRow: (o) => printBinding(o),
      strategy: {
        prepareForCreate: defaultBinding,
        prepareForUpdate: defaultBinding,
        validate: (o, old) => validateBinding(o, old, false),
      },
    },
    objectMeta(),
  );
}
