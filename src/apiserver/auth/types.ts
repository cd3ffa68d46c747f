// The identity contract of the request pipeline (k8s.io/apiserver's user.Info, authenticator.Request
// and authorizer.Authorizer): authentication turns a request into a UserInfo, authorization decides
// on the request's attributes. Every authenticator and authorizer (x509, token file, ServiceAccount
// tokens, OIDC; RBAC, tenancy) implements one of these two interfaces; the pipeline (http.ts) only
// sees the interfaces.
import type { IncomingMessage } from 'node:http';
import type { LogicalCluster } from '../keys.js';

/** Who is asking (user.Info). */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ANONYMOUS_USER = 'system:anonymous';
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
export const AUTHENTICATED_GROUP = 'system:authenticated';
export const MASTERS_GROUP = 'system:masters';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';
export const SERVICE_ACCOUNT_USERNAME_PREFIX = 'system:serviceaccount:';

/**
 * One way of proving identity. `null`: the request carries no credentials of this kind (the next
 * authenticator is asked). Throws `KumoError('Unauthorized')` when it carries credentials of this
 * kind that are not valid (expired, forged, wrong audience) — the request is then rejected with 401
 * and no other authenticator is asked.
 */
export interface Authenticator {
  readonly name: string;
  authenticate(req: IncomingMessage): Promise<UserInfo | null>;
}

/**
 * Proves identity from a bearer token alone (authenticator.Token): the token file, ServiceAccount
 * tokens, OIDC. `null`: not a token of this kind. Throws `KumoError('Unauthorized')` for a token of
 * this kind that is not valid. `audiences` (TokenReview's spec.audiences) replaces the server's own
 * audiences; the answer carries the audiences the token is valid for.
 */
export interface TokenAuthenticator {
  readonly name: string;
  authenticateToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | null>;
}

/**
 * The impersonation step between authentication and authorization (k8s.io/apiserver's
 * WithImpersonation): given the authenticated user, returns the user the request acts as (the same
 * one when no `Impersonate-*` header is set). Throws `KumoError('Forbidden')` when the caller may not
 * impersonate, `KumoError('BadRequest')` for malformed headers.
 */
export type Impersonator = (req: IncomingMessage, user: UserInfo) => Promise<UserInfo>;

/** What is being asked (authorizer.Attributes). */
export interface Attributes {
  user: UserInfo;
  /** Kube's verb (get, list, watch, create, update, patch, delete, deletecollection, impersonate, bind, escalate …) or, for non-resource requests, the lowercase HTTP method. */
  verb: string;
  cluster: LogicalCluster;
  isResourceRequest: boolean;
  /** For non-resource requests: the path (`/healthz`, `/apis`). */
  path: string;
  /** '' for the core group. */
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export type Decision = 'allow' | 'deny' | 'noOpinion';

export interface AuthorizationResult {
  decision: Decision;
  /** Why (shown in SubjectAccessReview status and logs). */
  reason: string;
}

/** One authorizer of a chain (RBAC, tenancy): the first `allow` or `deny` wins; all `noOpinion` → forbidden. */
export interface Authorizer {
  readonly name: string;
  authorize(a: Attributes): AuthorizationResult | Promise<AuthorizationResult>;
  /**
   * What `user` may do in `namespace` ('' for cluster-wide rules only) — authorizer.RuleResolver, for
   * SelfSubjectRulesReview (`kubectl auth can-i --list`). Absent: the authorizer contributes no rules
   * (the review is then reported as incomplete only if the authorizer says so).
   */
  rulesFor?(user: UserInfo, cluster: LogicalCluster, namespace: string): RulesResult | Promise<RulesResult>;
}

/** authorizer.ResourceRuleInfo, as SelfSubjectRulesReview reports it. */
export interface ResourceRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
}

/** authorizer.NonResourceRuleInfo. */
export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs: string[];
}

export interface RulesResult {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  /** True when the list may miss rules (an authorizer that cannot enumerate, a failed lookup). */
  incomplete: boolean;
  evaluationError?: string;
}

// The effective user of a request (after impersonation), recorded by the pipeline and read by the
// handlers that need it (SelfSubjectAccessReview, RBAC escalation checks, filtered lists).
const requestUsers = new WeakMap<IncomingMessage, UserInfo>();

export function setRequestUser(req: IncomingMessage, user: UserInfo): void {
  requestUsers.set(req, user);
}

/** The user the pipeline authenticated for `req`; undefined when no pipeline ran (in-process callers). */
export function requestUser(req: IncomingMessage): UserInfo | undefined {
  return requestUsers.get(req);
}
