// The authorizer chain (k8s.io/apiserver's union authorizer) and the authorizers the pipeline has
// before RBAC: system:masters (kube's privileged-group authorizer, always first), kube's
// --authorization-mode=AlwaysAllow / AlwaysDeny, and the public non-resource paths every caller —
// anonymous included — may GET (system:public-info-viewer and system:discovery's URLs, plus the
// service-account issuer discovery). The Forbidden message is kube's, word for word.
import { KumoError } from '../../lib/errors.js';
import { AUTHENTICATED_GROUP, MASTERS_GROUP, type Attributes, type AuthorizationResult, type Authorizer } from './types.js';

const NO_OPINION: AuthorizationResult = { decision: 'noOpinion', reason: '' };

/** The first allow or deny wins; all noOpinion → noOpinion with every reason given. */
export class AuthorizerChain implements Authorizer {
  readonly name = 'union';
  constructor(readonly authorizers: Authorizer[]) {}

  async authorize(a: Attributes): Promise<AuthorizationResult> {
    const reasons: string[] = [];
    for (const z of this.authorizers) {
      const r = await z.authorize(a);
      if (r.decision !== 'noOpinion') return r;
      if (r.reason !== '') reasons.push(r.reason);
    }
    return { decision: 'noOpinion', reason: reasons.join('\n') };
  }
}

/** Members of these groups may do anything (kube: system:masters, before every other authorizer). */
export function privilegedGroupsAuthorizer(groups: string[] = [MASTERS_GROUP]): Authorizer {
  return {
    name: 'privileged-groups',
    authorize: (a) => (a.user.groups.some((g) => groups.includes(g)) ? { decision: 'allow', reason: '' } : NO_OPINION),
  };
}

/**
 * kube's --authorization-mode=AlwaysAllow, for authenticated users only: anonymous requests are left
 * to the public-paths authorizer (so an anonymous caller reaches health, version and discovery, and
 * nothing else).
 */
export function authenticatedAllowAuthorizer(): Authorizer {
  return {
    name: 'AlwaysAllow',
    authorize: (a) => (a.user.groups.includes(AUTHENTICATED_GROUP) ? { decision: 'allow', reason: '' } : NO_OPINION),
  };
}

/** kube's --authorization-mode=AlwaysDeny. */
export function alwaysDenyAuthorizer(): Authorizer {
  return { name: 'AlwaysDeny', authorize: () => ({ decision: 'deny', reason: 'Everything is forbidden.' }) };
}

/** system:public-info-viewer's URLs. */
export const PUBLIC_INFO_URLS = ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/version', '/version/'];
/** system:discovery's URLs (less the health ones above). */
export const DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*'];
/** kube's system:service-account-issuer-discovery URLs. */
export const ISSUER_DISCOVERY_URLS = ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'];

/**
 * GET on public non-resource URLs, for everyone. Until RBAC's bootstrap bindings serve this, it stands
 * in for system:public-info-viewer (bound to everyone), system:discovery and
 * system:service-account-issuer-discovery.
 */
export function publicPathsAuthorizer(urls: string[] = [...PUBLIC_INFO_URLS, ...DISCOVERY_URLS, ...ISSUER_DISCOVERY_URLS]): Authorizer {
  return {
    name: 'public-paths',
    authorize: (a) => {
      if (a.isResourceRequest || (a.verb !== 'get' && a.verb !== 'head')) return NO_OPINION;
      return urls.some((u) => nonResourceUrlMatches(u, a.path)) ? { decision: 'allow', reason: '' } : NO_OPINION;
    },
  };
}

/** RBAC's nonResourceURLs rule: exact, or a prefix ending in `*`. */
export function nonResourceUrlMatches(rule: string, path: string): boolean {
  if (rule === '*' || rule === path) return true;
  return rule.endsWith('*') && path.startsWith(rule.slice(0, -1));
}

/** kube's forbiddenMessage (endpoints/handlers/responsewriters). */
export function forbiddenMessage(a: Attributes): string {
  const user = a.user.username;
  if (!a.isResourceRequest) return `User ${JSON.stringify(user)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource !== '' ? `${a.resource}/${a.subresource}` : a.resource;
  if (a.namespace !== '') return `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} in the namespace ${JSON.stringify(a.namespace)}`;
  return `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} at the cluster scope`;
}

/** `<resource>.<group> "<name>" is forbidden: <err>` (apierrors.NewForbidden). */
export function forbiddenError(group: string, resource: string, name: string, err: string): KumoError {
  const qualified = resource === '' ? '' : group === '' ? resource : `${resource}.${group}`;
  let message: string;
  if (qualified === '') message = `forbidden: ${err}`;
  else if (name === '') message = `${qualified} is forbidden: ${err}`;
  else message = `${qualified} ${JSON.stringify(name)} is forbidden: ${err}`;
  const details: { name?: string; group?: string; kind?: string } = {};
  if (name !== '') details.name = name;
  if (group !== '') details.group = group;
  if (resource !== '') details.kind = resource;
  return new KumoError('Forbidden', message, details);
}

/** The 403 Status kube writes for a request no authorizer allowed. */
export function forbidden(a: Attributes, reason: string): KumoError {
  return forbiddenError(a.apiGroup, a.resource, a.name, reason === '' ? forbiddenMessage(a) : `${forbiddenMessage(a)}: ${reason}`);
}
