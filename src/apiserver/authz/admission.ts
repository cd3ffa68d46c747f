// RBAC's hooks into the engine's write path: escalation prevention for the four RBAC kinds (before a
// write is stored), and read-your-writes for their clients (the answer waits until the authorizer's
// index has seen the write, so a RoleBinding is in force when its create returns).
import type { KObject, ResourceType } from '../../api/types.js';
import type { Authorizer } from '../auth/types.js';
import type { WriteContext } from '../rest.js';
import type { PolicyCache } from './cache.js';
import { checkRbacWrite } from './escalation.js';
import { RBAC_GROUP, type RbacKind } from './policy.js';

const KINDS: Record<string, RbacKind> = { roles: 'Role', clusterroles: 'ClusterRole', rolebindings: 'RoleBinding', clusterrolebindings: 'ClusterRoleBinding' };

/** The RBAC kind of `rt`, or undefined for any other resource. */
export function rbacKindOf(rt: Pick<ResourceType, 'group' | 'plural'>): RbacKind | undefined {
  return rt.group === RBAC_GROUP ? KINDS[rt.plural] : undefined;
}

/** The engine's `admit` hook: refuses RBAC writes that would escalate (`authorizer`: the server's chain). */
export function rbacAdmission(cache: PolicyCache, authorizer: () => Authorizer): (rt: ResourceType, ctx: WriteContext, obj: KObject, old: KObject | undefined) => Promise<void> {
  return async (rt, ctx, obj, old) => {
    const kind = rbacKindOf(rt);
    if (kind === undefined) return;
    const w = { kind, user: ctx.user, cluster: ctx.cluster, namespace: ctx.namespace ?? '', obj };
    await checkRbacWrite(old === undefined ? w : { ...w, old }, cache.index, authorizer());
  };
}

/** The engine's `written` hook: an RBAC write's answer waits (at most `timeoutMs`) for the index to see it. */
export function rbacWritten(cache: PolicyCache, timeoutMs = 2000, onLate?: (kind: RbacKind, revision: number) => void): (rt: ResourceType, revision: number) => Promise<void> {
  return async (rt, revision) => {
    const kind = rbacKindOf(rt);
    if (kind === undefined) return;
    if (!(await cache.waitFor(kind, revision, timeoutMs))) onLate?.(kind, revision);
  };
}
