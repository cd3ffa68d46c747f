// Tenancy's hooks into the engine:
// - admit: a Namespace labelled `kumo.dev/tenant: <t>` is created (or first labelled) only by an admin
//   of t or a system admin; only system admins change or remove the label once set; a namespace
//   without the label is created only by callers who may create namespaces without tenancy's help
//   (RBAC). Tenants are created by system admins; a caller whose only say over a Tenant is tenancy's
//   (a tenant admin) changes its members, nothing else of its spec (the quota stays the system admins').
// - written: a Tenant or Namespace write answers once the tenancy index has seen it.
// - narrow: a list or watch of Tenants or Namespaces by a caller that is not a system admin and that the
//   rest of the chain (RBAC) does not allow to list them is narrowed to the caller's own tenants and
//   their namespaces — items and watch events of other tenants are never sent (docs/tenancy.md).
import type http from 'node:http';
import type { KObject, ResourceType } from '../../api/types.js';
import { requestUser, type Attributes, type Authorizer, type UserInfo } from '../auth/types.js';
import { forbiddenError } from '../authz/forbidden.js';
import { isObject, jsonEqual, meta } from '../object.js';
import { requestAttributes } from '../http.js';
import type { WriteContext } from '../rest.js';
import type { TenancyCache } from './cache.js';
import { tenancyKindOf } from './cache.js';
import { isSystemAdmin, KUMO_GROUP, SYSTEM_ADMIN_GROUPS, TENANT_LABEL } from './roles.js';
import { namespaceTenant, roleFromMembers, tenantMembers } from './tenants.js';

export type Admit = (rt: ResourceType, ctx: WriteContext, obj: KObject, old: KObject | undefined) => Promise<void>;
export type Written = (rt: ResourceType, revision: number) => Promise<void>;
export type Narrow = (rt: ResourceType, req: http.IncomingMessage) => Promise<((obj: KObject) => boolean) | undefined>;

const ADMINS = SYSTEM_ADMIN_GROUPS.join(', ');

function attrs(user: UserInfo, ctx: WriteContext, verb: string, group: string, resource: string, name: string): Attributes {
  return { user, verb, cluster: ctx.cluster, isResourceRequest: true, path: '', apiGroup: group, apiVersion: '*', resource, subresource: '', namespace: '', name };
}

/**
 * The engine's `admit` hook for Tenants and Namespaces. `others`: the server's chain without the
 * tenancy authorizer (what the caller may do through RBAC alone).
 */
export function tenancyAdmission(cache: TenancyCache, others: () => Authorizer): Admit {
  const allowedByOthers = async (a: Attributes): Promise<boolean> => (await others().authorize(a)).decision === 'allow';
  return async (rt, ctx, obj, old) => {
    const kind = tenancyKindOf(rt);
    const user = ctx.user;
    if (kind === undefined || user === undefined || isSystemAdmin(user)) return;
    const name = String(meta(obj).name ?? '');
    if (kind === 'Tenant') {
      if (old === undefined) throw forbiddenError(KUMO_GROUP, 'tenants', name, `only system administrators (groups ${ADMINS}) may create tenants`);
      const spec = (o: KObject): Record<string, unknown> => {
        const s = isObject(o.spec) ? { ...o.spec } : {};
        delete s.members;
        return s;
      };
      if (!jsonEqual(spec(obj), spec(old)) && !(await allowedByOthers(attrs(user, ctx, 'update', KUMO_GROUP, 'tenants', name)))) {
        const changed = [...new Set([...Object.keys(spec(obj)), ...Object.keys(spec(old))])].filter((k) => !jsonEqual(spec(obj)[k], spec(old)[k])).sort();
        throw forbiddenError(KUMO_GROUP, 'tenants', name, `User ${JSON.stringify(user.username)} may change spec.members of the tenant, not ${changed.map((k) => `spec.${k}`).join(', ')}: only system administrators (groups ${ADMINS}) may`);
      }
      return;
    }
    const tenant = namespaceTenant(obj);
    const before = old === undefined ? undefined : namespaceTenant(old);
    if (before === tenant) return;
    if (before !== undefined && before !== '') {
      throw forbiddenError('', 'namespaces', name, `only system administrators (groups ${ADMINS}) may change or remove the label ${TENANT_LABEL} (${JSON.stringify(before)}) of a namespace`);
    }
    if (tenant !== '') {
      if (cache.index.cluster(ctx.cluster)?.roleIn(user, tenant) === 'admin') return;
      throw forbiddenError('', 'namespaces', name, `User ${JSON.stringify(user.username)} may not label a namespace ${TENANT_LABEL}=${tenant}: only admins of tenant ${JSON.stringify(tenant)} and system administrators may`);
    }
    // A create without the label: only for callers RBAC lets create namespaces.
    if (!(await allowedByOthers(attrs(user, ctx, 'create', '', 'namespaces', '')))) {
      throw forbiddenError('', 'namespaces', name, `User ${JSON.stringify(user.username)} may create namespaces only labelled ${TENANT_LABEL}=<tenant> for a tenant they administer`);
    }
  };
}

/** The engine's `written` hook: a Tenant or Namespace write answers once the index has it (at most `timeoutMs`). */
export function tenancyWritten(cache: TenancyCache, timeoutMs = 2000, onLate?: (kind: string, revision: number) => void): Written {
  return async (rt, revision) => {
    const kind = tenancyKindOf(rt);
    if (kind === undefined) return;
    if (!(await cache.waitFor(kind, revision, timeoutMs))) onLate?.(kind, revision);
  };
}

/** The engine's `narrow` hook: the filtered lists and watches of Tenants and Namespaces. */
export function tenancyNarrow(cache: TenancyCache, others: () => Authorizer): Narrow {
  return async (rt, req) => {
    const kind = tenancyKindOf(rt);
    const user = requestUser(req);
    if (kind === undefined || user === undefined || isSystemAdmin(user)) return undefined;
    const a = requestAttributes(req, user);
    if ((await others().authorize(a)).decision === 'allow') return undefined;
    if (kind === 'Tenant') return (obj) => roleFromMembers(user, tenantMembers(obj)) !== undefined;
    const cluster = a.cluster;
    return (obj) => {
      const t = namespaceTenant(obj);
      return t !== '' && cache.index.cluster(cluster)?.roleIn(user, t) !== undefined;
    };
  };
}
