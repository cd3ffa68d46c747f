// authentication.k8s.io's create-only kinds, answered by the authenticators and never stored:
// TokenReview (who does this token authenticate as, for which audiences — what webhooks and
// kube-rbac-proxy ask) and SelfSubjectReview (who am I: `kubectl auth whoami`; v1, and v1beta1 and
// v1alpha1 for kubectl 1.27, which asks for those).
import type { IncomingMessage } from 'node:http';
import { selfSubjectReview, tokenReview } from '../../api/index.js';
import type { KObject } from '../../api/types.js';
import { KumoError } from '../../lib/errors.js';
import type { CreateOnlyResource } from '../createonly.js';
import { isObject, rfc3339 } from '../object.js';
import { unauthorizedReason } from './common.js';
import { requestUser, type UserInfo } from './types.js';

export interface ReviewOptions {
  /** The server's token authentication (the request authenticator's token half). */
  authenticateToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | null>;
  now?: () => Date;
}

/** UserInfo as the API writes it (empty fields left out, as Go's omitempty does). */
export function userInfoJson(u: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: u.username };
  if (u.uid !== undefined && u.uid !== '') out.uid = u.uid;
  if (u.groups.length > 0) out.groups = [...u.groups];
  if (u.extra !== undefined && Object.keys(u.extra).length > 0) out.extra = u.extra;
  return out;
}

export function authenticationReviews(o: ReviewOptions): CreateOnlyResource[] {
  const now = (): Date => (o.now ? o.now() : new Date());
  const tokenReviews: CreateOnlyResource = {
    rt: tokenReview(),
    create: async (_req: IncomingMessage, body: KObject) => {
      const spec = isObject(body.spec) ? body.spec : {};
      const token = typeof spec.token === 'string' ? spec.token : '';
      if (token === '') throw new KumoError('BadRequest', 'token is required for TokenReview in authentication');
      const audiences = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === 'string' && a !== '') : [];
      const status: Record<string, unknown> = { user: {} };
      try {
        const r = await o.authenticateToken(token, audiences.length > 0 ? audiences : undefined);
        if (r === null) {
          status.error = 'invalid bearer token';
        } else {
          status.authenticated = true;
          status.user = userInfoJson(r.user);
          if (r.audiences.length > 0) status.audiences = r.audiences;
        }
      } catch (err) {
        if (!(err instanceof KumoError) || err.code !== 'Unauthorized') throw err;
        status.error = `invalid bearer token, ${unauthorizedReason(err)}`;
      }
      return {
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: { token, ...(audiences.length > 0 ? { audiences } : {}) },
        status,
      };
    },
  };
  const selfReviews: CreateOnlyResource[] = (['v1', 'v1beta1', 'v1alpha1'] as const).map((version) => ({
    rt: selfSubjectReview(version),
    create: (req: IncomingMessage) => {
      const user = requestUser(req);
      if (user === undefined) return Promise.reject(new KumoError('Internal', 'no authenticated user on the request'));
      return Promise.resolve({
        kind: 'SelfSubjectReview',
        apiVersion: `authentication.k8s.io/${version}`,
        metadata: { creationTimestamp: rfc3339(now()) },
        status: { userInfo: userInfoJson(user) },
      });
    },
  }));
  return [tokenReviews, ...selfReviews];
}
