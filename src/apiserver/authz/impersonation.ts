// Impersonation (k8s.io/apiserver endpoints/filters/impersonation.go): `Impersonate-User`,
// `Impersonate-Group` (repeatable), `Impersonate-Uid` and `Impersonate-Extra-<key>` turn the request
// into one made by another user, when the requester may `impersonate` each part:
//   Impersonate-User: alice                          → users "alice"          (core group)
//   Impersonate-User: system:serviceaccount:ns:name  → serviceaccounts "name" in namespace ns
//   Impersonate-Group: g                             → groups "g"
//   Impersonate-Uid: u                               → uids "u"               (authentication.k8s.io)
//   Impersonate-Extra-Scopes: view                   → userextras/scopes "view" (authentication.k8s.io)
// The pipeline calls `impersonate` after authentication and before authorization; a denied part is
// kube's 403 (`users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API
// group "" at the cluster scope`).
import type { IncomingMessage } from 'node:http';
import { KumoError } from '../../lib/errors.js';
import type { LogicalCluster } from '../keys.js';
import { ANONYMOUS_USER, AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP, type Attributes, type Authorizer, type UserInfo } from '../auth/types.js';
import { splitClusterPath } from '../requestinfo.js';
import { forbiddenFor } from './forbidden.js';
import { SERVICE_ACCOUNT_PREFIX } from './policy.js';

export const IMPERSONATE_USER = 'impersonate-user';
export const IMPERSONATE_GROUP = 'impersonate-group';
export const IMPERSONATE_UID = 'impersonate-uid';
export const IMPERSONATE_EXTRA_PREFIX = 'impersonate-extra-';

const AUTHENTICATION_GROUP = 'authentication.k8s.io';
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** One thing to impersonate (kube builds an ObjectReference per header value). */
export interface ImpersonationRequest {
  kind: 'User' | 'ServiceAccount' | 'Group' | 'UserExtra' | 'UID';
  name: string;
  namespace?: string;
  /** UserExtra: the extra key. */
  key?: string;
}

/** Header values as the client sent them, one per header line (Node joins repeated ones otherwise). */
export type HeaderLists = Record<string, string[] | undefined>;

/** serviceaccount.SplitUsername. */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace = '', name = ''] = parts;
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) return undefined;
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/**
 * buildImpersonationRequests. Groups, extras or a uid without a user are refused as a BadRequest (kube
 * answers 500 here; the pipeline's contract says malformed impersonation headers are a 400).
 */
export function impersonationRequests(headers: HeaderLists): ImpersonationRequest[] {
  const out: ImpersonationRequest[] = [];
  const user = headers[IMPERSONATE_USER]?.[0] ?? '';
  if (user !== '') {
    const sa = splitServiceAccountUsername(user);
    out.push(sa ? { kind: 'ServiceAccount', namespace: sa.namespace, name: sa.name } : { kind: 'User', name: user });
  }
  const groups = headers[IMPERSONATE_GROUP] ?? [];
  for (const g of groups) out.push({ kind: 'Group', name: g });
  let extras = false;
  for (const [header, values] of Object.entries(headers)) {
    if (!header.startsWith(IMPERSONATE_EXTRA_PREFIX) || values === undefined) continue;
    extras = true;
    const key = unescapeExtraKey(header.slice(IMPERSONATE_EXTRA_PREFIX.length).toLowerCase());
    for (const v of values) out.push({ kind: 'UserExtra', name: v, key });
  }
  const uid = headers[IMPERSONATE_UID]?.[0] ?? '';
  if (uid !== '') out.push({ kind: 'UID', name: uid });
  if ((groups.length > 0 || extras || uid !== '') && user === '') {
    const what = out.map((r) => `${r.kind} ${JSON.stringify(r.key !== undefined ? `${r.key}=${r.name}` : r.name)}`).join(', ');
    throw new KumoError('BadRequest', `requested [${what}] without impersonating a user`);
  }
  return out;
}

/** The authorization attributes of impersonating `r`. */
export function impersonationAttributes(requestor: UserInfo, cluster: LogicalCluster, r: ImpersonationRequest): Attributes {
  const a: Attributes = { user: requestor, verb: 'impersonate', cluster, isResourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource: '', subresource: '', namespace: '', name: r.name };
  switch (r.kind) {
    case 'ServiceAccount':
      a.resource = 'serviceaccounts';
      a.namespace = r.namespace ?? '';
      break;
    case 'User':
      a.resource = 'users';
      break;
    case 'Group':
      a.resource = 'groups';
      break;
    case 'UserExtra':
      a.apiGroup = AUTHENTICATION_GROUP;
      a.resource = 'userextras';
      a.subresource = r.key ?? '';
      break;
    case 'UID':
      a.apiGroup = AUTHENTICATION_GROUP;
      a.resource = 'uids';
      break;
  }
  return a;
}

/** The request's impersonation headers, one value per header line. */
export function impersonationHeaders(req: IncomingMessage): HeaderLists {
  const out: HeaderLists = {};
  for (const [k, v] of Object.entries(req.headersDistinct)) if (k.startsWith('impersonate-')) out[k] = v;
  return out;
}

/**
 * The user a request acts as: `requestor` itself when it carries no impersonation headers, else the
 * impersonated user once every part is authorized. Throws Forbidden (kube's message) for a part the
 * requestor may not impersonate.
 */
export async function impersonate(headers: HeaderLists, requestor: UserInfo, cluster: LogicalCluster, authorizer: Authorizer): Promise<UserInfo> {
  const requests = impersonationRequests(headers);
  if (requests.length === 0) return requestor;
  const groupsSpecified = (headers[IMPERSONATE_GROUP] ?? []).length > 0;
  let username = '';
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  let uid = '';
  for (const r of requests) {
    const a = impersonationAttributes(requestor, cluster, r);
    switch (r.kind) {
      case 'ServiceAccount':
        username = `${SERVICE_ACCOUNT_PREFIX}${r.namespace ?? ''}:${r.name}`;
        if (!groupsSpecified) groups = ['system:serviceaccounts', `system:serviceaccounts:${r.namespace ?? ''}`];
        break;
      case 'User':
        username = r.name;
        break;
      case 'Group':
        groups.push(r.name);
        break;
      case 'UserExtra':
        (extra[r.key ?? ''] ??= []).push(r.name);
        break;
      case 'UID':
        uid = r.name;
        break;
    }
    const decision = await authorizer.authorize(a);
    if (decision.decision !== 'allow') throw forbiddenFor(a, decision.reason);
  }
  if (username !== ANONYMOUS_USER) {
    if (!groups.includes(AUTHENTICATED_GROUP) && !groups.includes(UNAUTHENTICATED_GROUP)) groups.push(AUTHENTICATED_GROUP);
  } else if (!groups.includes(UNAUTHENTICATED_GROUP)) {
    groups.push(UNAUTHENTICATED_GROUP);
  }
  const user: UserInfo = { username, groups };
  if (uid !== '') user.uid = uid;
  if (Object.keys(extra).length > 0) user.extra = extra;
  return user;
}

/** The pipeline's impersonation step (auth/types.ts `Impersonator`) over the server's authorizer chain. */
export function impersonator(authorizer: Authorizer): (req: IncomingMessage, user: UserInfo) => Promise<UserInfo> {
  return async (req, user) => {
    const headers = impersonationHeaders(req);
    if (Object.keys(headers).length === 0) return user;
    return impersonate(headers, user, splitClusterPath(safePath(req.url ?? '/')).cluster, authorizer);
  };
}

function safePath(url: string): string {
  const q = url.indexOf('?');
  const raw = q < 0 ? url : url.slice(0, q);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
