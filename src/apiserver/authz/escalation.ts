// RBAC escalation prevention (pkg/registry/rbac: escalation_check.go, the policybased storages and
// validation.ConfirmNoEscalation): nobody grants through RBAC what they do not hold.
// - Role / ClusterRole create or update: allowed for system:masters, for holders of the `escalate`
//   verb on the role, or when the requester's own rules (in the role's namespace) cover the new rules;
//   setting or changing a ClusterRole's aggregationRule needs full authority (it can gather anything).
// - RoleBinding / ClusterRoleBinding create or update: allowed for system:masters, for holders of
//   `bind` on the referenced role, or when the requester's rules cover the role's.
// Updates that only touch what the garbage collector needs (ownerReferences, finalizers) pass.
// Writes without a user (in-process: bootstrap, controllers) are the server's own and pass.
import { KumoError } from '../../lib/errors.js';
import type { KObject } from '../../api/types.js';
import type { LogicalCluster } from '../keys.js';
import { deepCopy, isObject, jsonEqual, meta } from '../object.js';
import { MASTERS_GROUP, type Attributes, type Authorizer, type UserInfo } from '../auth/types.js';
import { forbiddenError } from './forbidden.js';
import { aggregateErrors, bindingEntryFrom, RBAC_GROUP, type PolicyIndex, type RbacKind } from './policy.js';
import { compactRules, compactString, covers, goQuoteList, policyRulesFrom, type PolicyRule } from './rules.js';

const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

export interface RbacWrite {
  kind: RbacKind;
  user: UserInfo | undefined;
  cluster: LogicalCluster;
  /** The object's namespace ('' for cluster-scoped kinds). */
  namespace: string;
  obj: KObject;
  /** The stored object on update; undefined on create. */
  old?: KObject;
}

/** EscalationAllowed: system:masters may do anything (the API server's own loopback identity too). */
export function escalationAllowed(user: UserInfo | undefined): boolean {
  return user === undefined || user.groups.includes(MASTERS_GROUP);
}

/** IsOnlyMutatingGCFields: the update changes nothing but ownerReferences and finalizers. */
export function isOnlyMutatingGCFields(obj: KObject, old: KObject | undefined): boolean {
  if (old === undefined) return false;
  const a = deepCopy(obj);
  const b = deepCopy(old);
  for (const o of [a, b]) {
    const m = meta(o);
    delete m.ownerReferences;
    delete m.finalizers;
    delete m.managedFields;
    delete m.selfLink;
    delete m.resourceVersion;
    delete m.generation;
  }
  return jsonEqual(a, b);
}

/** ConfirmNoEscalation: the requester's rules in `namespace` must cover `rules`. Returns the reason it fails, or ''. */
export function confirmNoEscalation(index: PolicyIndex, user: UserInfo, cluster: LogicalCluster, namespace: string, rules: readonly PolicyRule[]): string {
  const owner = index.rulesFor(user, cluster, namespace);
  const { covered, missing } = covers(owner.rules, rules);
  if (covered) return '';
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user ${JSON.stringify(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  if (owner.errors.length > 0) msg += `; resolution errors: [${aggregateErrors(owner.errors)}]`;
  return msg;
}

async function allowed(authorizer: Authorizer, a: Attributes): Promise<boolean> {
  return (await authorizer.authorize(a)).decision === 'allow';
}

function attrs(user: UserInfo, cluster: LogicalCluster, verb: string, resource: string, namespace: string, name: string): Attributes {
  return { user, verb, cluster, isResourceRequest: true, path: '', apiGroup: RBAC_GROUP, apiVersion: '*', resource, subresource: '', namespace, name };
}

/**
 * Throws kube's 403 when the write would grant permissions the requester does not hold. `authorizer`
 * is the server's whole chain (bind and escalate may be granted by any authorizer, as in kube);
 * `index` gives the requester's RBAC rules for the cover check.
 */
export async function checkRbacWrite(w: RbacWrite, index: PolicyIndex, authorizer: Authorizer): Promise<void> {
  const user = w.user;
  if (user === undefined || escalationAllowed(user)) return;
  const name = String(meta(w.obj).name ?? '');
  if (w.kind === 'Role' || w.kind === 'ClusterRole') {
    const resource = w.kind === 'Role' ? 'roles' : 'clusterroles';
    if (w.old !== undefined && isOnlyMutatingGCFields(w.obj, w.old)) return;
    // RoleEscalationAuthorized: the `escalate` verb on this role.
    if (await allowed(authorizer, attrs(user, w.cluster, 'escalate', resource, w.namespace, name))) return;
    const why = confirmNoEscalation(index, user, w.cluster, w.namespace, policyRulesFrom(w.obj.rules));
    if (why !== '') throw forbiddenError(RBAC_GROUP, resource, name, why);
    if (w.kind === 'ClusterRole' && isObject(w.obj.aggregationRule) && !(w.old !== undefined && jsonEqual(w.old.aggregationRule, w.obj.aggregationRule))) {
      if (confirmNoEscalation(index, user, w.cluster, w.namespace, FULL_AUTHORITY) !== '') {
        throw forbiddenError(RBAC_GROUP, resource, name, 'must have cluster-admin privileges to use the aggregationRule');
      }
    }
    return;
  }
  const resource = w.kind === 'RoleBinding' ? 'rolebindings' : 'clusterrolebindings';
  if (w.old !== undefined && isOnlyMutatingGCFields(w.obj, w.old)) return;
  const binding = bindingEntryFrom(w.kind, w.obj);
  const ref = binding.roleRef;
  // BindingAuthorized: the `bind` verb on the referenced role, in the binding's namespace.
  const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : ref.kind === 'Role' ? 'roles' : '';
  if (refResource !== '' && (await allowed(authorizer, { ...attrs(user, w.cluster, 'bind', refResource, w.namespace, ref.name), apiGroup: ref.apiGroup }))) return;
  const resolved = index.roleRefRules(w.cluster, ref, w.namespace);
  if (resolved.error !== undefined) {
    const plural = ref.kind === 'Role' ? 'roles' : 'clusterroles';
    throw new KumoError('NotFound', `${plural}.${RBAC_GROUP} ${JSON.stringify(ref.name)} not found`, { name: ref.name, group: RBAC_GROUP, kind: plural });
  }
  const why = confirmNoEscalation(index, user, w.cluster, w.namespace, resolved.rules ?? []);
  if (why !== '') throw forbiddenError(RBAC_GROUP, resource, name, why);
}
