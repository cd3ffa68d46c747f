// The request authenticator (k8s.io/apiserver's union of request authenticators): client certificate
// first, then the bearer token through each token authenticator (token file, ServiceAccount tokens,
// OIDC), then anonymous. A credential that is present but not valid ends the request with 401 — it
// never falls back to anonymous. Every user but the anonymous one gets `system:authenticated`.
import type { IncomingMessage } from 'node:http';
import { bearerToken, intersect, unauthorized } from './common.js';
import { ANONYMOUS_USER, AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP, type Authenticator, type TokenAuthenticator, type UserInfo } from './types.js';

/** Reachable without credentials even with --anonymous-auth=false (what load balancers probe). */
export const HEALTH_PATHS = ['/livez', '/readyz', '/healthz'];

export interface RequestAuthenticatorOptions {
  /** Client certificates (x509), asked first. */
  requestAuthenticators: Authenticator[];
  /** Bearer token authenticators, in order. */
  tokenAuthenticators: TokenAuthenticator[];
  /** The server's audiences (--api-audiences): what a token that names no audience of its own is good for. */
  apiAudiences: string[];
  /** --anonymous-auth (default true). */
  anonymous: boolean;
}

export function anonymousUser(): UserInfo {
  return { username: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] };
}

/** kube's AuthenticatedGroupAdder. */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  if (u.username === ANONYMOUS_USER || u.groups.includes(AUTHENTICATED_GROUP) || u.groups.includes(UNAUTHENTICATED_GROUP)) return u;
  return { ...u, groups: [...u.groups, AUTHENTICATED_GROUP] };
}

export class RequestAuthenticator implements Authenticator {
  readonly name = 'union';

  constructor(private readonly o: RequestAuthenticatorOptions) {}

  /** Never null: a user, the anonymous user, or a 401. */
  async authenticate(req: IncomingMessage): Promise<UserInfo> {
    for (const a of this.o.requestAuthenticators) {
      const u = await a.authenticate(req);
      if (u !== null) return withAuthenticatedGroup(u);
    }
    const token = bearerToken(req);
    if (token !== null) {
      const r = await this.authenticateToken(token);
      if (r === null) throw unauthorized('no token authenticator accepted the bearer token');
      return r.user;
    }
    if (this.o.anonymous || isHealthPath(req.url ?? '/')) return anonymousUser();
    throw unauthorized('no credentials and anonymous requests are disabled');
  }

  /**
   * A bearer token alone (the request's, or a TokenReview's with its spec.audiences). null: no token
   * authenticator knows it. Throws Unauthorized for a token one of them refuses.
   */
  async authenticateToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | null> {
    const requested = audiences !== undefined && audiences.length > 0 ? audiences : undefined;
    for (const a of this.o.tokenAuthenticators) {
      const r = await a.authenticateToken(token, requested);
      if (r === null) continue;
      let auds = r.audiences;
      if (auds.length === 0) {
        // An authenticator that knows no audiences (token file, OIDC): its tokens are good for the
        // server's own audiences only (kube's WrapAudienceAgnosticToken).
        auds = requested === undefined ? [...this.o.apiAudiences] : intersect(requested, this.o.apiAudiences);
        if (requested !== undefined && auds.length === 0) continue;
      }
      return { user: withAuthenticatedGroup(r.user), audiences: auds };
    }
    return null;
  }
}

function isHealthPath(url: string): boolean {
  const q = url.indexOf('?');
  const p = q < 0 ? url : url.slice(0, q);
  return HEALTH_PATHS.some((h) => p === h || p.startsWith(`${h}/`));
}
