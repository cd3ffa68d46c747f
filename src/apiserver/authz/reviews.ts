// The authorization.k8s.io/v1 review kinds (pkg/registry/authorization): answered from the server's
// authorizer chain, never stored. What `kubectl auth can-i` (SelfSubjectAccessReview), `can-i --list`
// (SelfSubjectRulesReview) and `can-i --as` (the same, with impersonation) read.
import type { IncomingMessage } from 'node:http';
import { KumoError, type ErrorCause } from '../../lib/errors.js';
import { AUTHORIZATION_GROUP, authorizationReviewTypes } from '../../api/index.js';
import type { KObject, ResourceType } from '../../api/types.js';
import type { CreateOnlyResource } from '../createonly.js';
import type { LogicalCluster } from '../keys.js';
import { isObject } from '../object.js';
import { requestUser, type Attributes, type Authorizer, type NonResourceRule, type ResourceRule, type RulesResult, type UserInfo } from '../auth/types.js';

const API_VERSION = `${AUTHORIZATION_GROUP}/v1`;

export type ReviewKind = 'SelfSubjectAccessReview' | 'SelfSubjectRulesReview' | 'SubjectAccessReview' | 'LocalSubjectAccessReview';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function invalidReview(kind: ReviewKind, causes: ErrorCause[]): KumoError {
  const text = causes.length === 1 ? `${causes[0]?.field ?? ''}: ${causes[0]?.message ?? ''}` : `[${causes.map((c) => `${c.field ?? ''}: ${c.message}`).join(', ')}]`;
  return new KumoError('Invalid', `${kind}.${AUTHORIZATION_GROUP} "" is invalid: ${text}`, { group: AUTHORIZATION_GROUP, kind, causes });
}

function checkKind(kind: ReviewKind, body: KObject): void {
  if (body.kind !== undefined && body.kind !== kind) throw new KumoError('BadRequest', `the body of the request was a ${String(body.kind)}, not a ${kind}`);
  if (body.apiVersion !== undefined && body.apiVersion !== API_VERSION) {
    throw new KumoError('BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${API_VERSION})`);
  }
}

/** Extra values as JSON (`{k: [v]}`) or as decoded from protobuf (`{k: {items: [v]}}`). */
function extraFrom(v: unknown): Record<string, string[]> | undefined {
  if (!isObject(v)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, x] of Object.entries(v)) {
    const list = Array.isArray(x) ? x : isObject(x) && Array.isArray(x.items) ? x.items : [];
    out[k] = list.filter((s): s is string => typeof s === 'string');
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** authorizationutil.ResourceAttributesFrom / NonResourceAttributesFrom. */
export function reviewAttributes(user: UserInfo, cluster: LogicalCluster, spec: Record<string, unknown>): Attributes {
  const ra = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  if (ra) {
    return {
      user,
      cluster,
      isResourceRequest: true,
      path: '',
      verb: str(ra.verb),
      apiGroup: str(ra.group),
      apiVersion: str(ra.version),
      resource: str(ra.resource),
      subresource: str(ra.subresource),
      namespace: str(ra.namespace),
      name: str(ra.name),
    };
  }
  const nra = isObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : {};
  return { user, cluster, isResourceRequest: false, path: str(nra.path), verb: str(nra.verb), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
}

/** Exactly one of resourceAttributes and nonResourceAttributes (ValidateSubjectAccessReviewSpec). */
function validateAttributes(spec: Record<string, unknown>, allowNonResource = true): ErrorCause[] {
  const r = isObject(spec.resourceAttributes);
  const n = isObject(spec.nonResourceAttributes);
  if (!allowNonResource && n) return [{ field: 'spec.nonResourceAttributes', reason: 'FieldValueInvalid', message: 'Invalid value: "": disallowed on this kind of request' }];
  if (r && n) return [{ field: 'spec.resourceAttributes', reason: 'FieldValueInvalid', message: 'Invalid value: "": cannot be specified in combination with nonResourceAttributes' }];
  if (!r && !n) return [{ field: 'spec.resourceAttributes', reason: 'FieldValueRequired', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' }];
  return [];
}

function accessReviewResponse(kind: ReviewKind, body: KObject, spec: Record<string, unknown>, decision: { decision: string; reason: string }, evaluationError?: string): KObject {
  const status: Record<string, unknown> = { allowed: decision.decision === 'allow' };
  if (decision.decision === 'deny') status.denied = true;
  if (decision.reason !== '') status.reason = decision.reason;
  if (evaluationError !== undefined && evaluationError !== '') status.evaluationError = evaluationError;
  const metadata = isObject(body.metadata) ? { ...body.metadata } : {};
  return { kind, apiVersion: API_VERSION, metadata: { ...metadata, creationTimestamp: null }, spec, status };
}

async function decide(authorizer: Authorizer, a: Attributes): Promise<{ decision: string; reason: string; evaluationError?: string }> {
  try {
    return await authorizer.authorize(a);
  } catch (err) {
    return { decision: 'noOpinion', reason: '', evaluationError: err instanceof Error ? err.message : String(err) };
  }
}

/** SelfSubjectAccessReview: may the caller do this? */
export async function selfSubjectAccessReview(body: KObject, user: UserInfo, cluster: LogicalCluster, authorizer: Authorizer): Promise<KObject> {
  const kind: ReviewKind = 'SelfSubjectAccessReview';
  checkKind(kind, body);
  const spec = isObject(body.spec) ? body.spec : {};
  const causes = validateAttributes(spec);
  if (causes.length > 0) throw invalidReview(kind, causes);
  const d = await decide(authorizer, reviewAttributes(user, cluster, spec));
  return accessReviewResponse(kind, body, spec, d, d.evaluationError);
}

function subjectOf(spec: Record<string, unknown>): UserInfo {
  const user: UserInfo = { username: str(spec.user), groups: Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [] };
  if (str(spec.uid) !== '') user.uid = str(spec.uid);
  const extra = extraFrom(spec.extra);
  if (extra) user.extra = extra;
  return user;
}

/** SubjectAccessReview: may the user in spec do this? (The caller needs `create` on the kind itself.) */
export async function subjectAccessReview(body: KObject, cluster: LogicalCluster, authorizer: Authorizer): Promise<KObject> {
  const kind: ReviewKind = 'SubjectAccessReview';
  checkKind(kind, body);
  const spec = isObject(body.spec) ? body.spec : {};
  const causes = validateAttributes(spec);
  const user = subjectOf(spec);
  if (user.username === '' && user.groups.length === 0) causes.push({ field: 'spec.user', reason: 'FieldValueInvalid', message: 'Invalid value: "": at least one of user or group must be specified' });
  if (causes.length > 0) throw invalidReview(kind, causes);
  const d = await decide(authorizer, reviewAttributes(user, cluster, spec));
  return accessReviewResponse(kind, body, spec, d, d.evaluationError);
}

/** LocalSubjectAccessReview: a SubjectAccessReview confined to the namespace of the request. */
export async function localSubjectAccessReview(body: KObject, namespace: string, cluster: LogicalCluster, authorizer: Authorizer): Promise<KObject> {
  const kind: ReviewKind = 'LocalSubjectAccessReview';
  checkKind(kind, body);
  const spec = isObject(body.spec) ? { ...body.spec } : {};
  const causes = validateAttributes(spec, false);
  const user = subjectOf(spec);
  if (user.username === '' && user.groups.length === 0) causes.push({ field: 'spec.user', reason: 'FieldValueInvalid', message: 'Invalid value: "": at least one of user or group must be specified' });
  if (causes.length > 0) throw invalidReview(kind, causes);
  const ra = { ...(spec.resourceAttributes as Record<string, unknown>) };
  const ns = str(ra.namespace);
  if (ns === '') ra.namespace = namespace;
  else if (ns !== namespace) {
    throw new KumoError('BadRequest', `spec.resourceAttributes.namespace must match namespace: ${namespace}`);
  }
  spec.resourceAttributes = ra;
  const metaNs = isObject(body.metadata) ? str(body.metadata.namespace) : '';
  if (metaNs !== '' && metaNs !== namespace) throw new KumoError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
  const d = await decide(authorizer, reviewAttributes(user, cluster, spec));
  const out = accessReviewResponse(kind, body, spec, d, d.evaluationError);
  (out.metadata as Record<string, unknown>).namespace = namespace;
  return out;
}

/** The rule resolvers of a chain, asked in order (the union authorizer's RulesFor). */
export async function rulesFor(authorizers: readonly Authorizer[], user: UserInfo, cluster: LogicalCluster, namespace: string): Promise<RulesResult> {
  const resourceRules: ResourceRule[] = [];
  const nonResourceRules: NonResourceRule[] = [];
  let incomplete = false;
  const errors: string[] = [];
  for (const a of authorizers) {
    if (!a.rulesFor) continue;
    try {
      const r = await a.rulesFor(user, cluster, namespace);
      resourceRules.push(...r.resourceRules);
      nonResourceRules.push(...r.nonResourceRules);
      incomplete ||= r.incomplete;
      if (r.evaluationError !== undefined && r.evaluationError !== '') errors.push(r.evaluationError);
    } catch (err) {
      incomplete = true;
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  const out: RulesResult = { resourceRules, nonResourceRules, incomplete };
  if (errors.length > 0) out.evaluationError = errors.length === 1 ? (errors[0] ?? '') : `[${errors.join(', ')}]`;
  return out;
}

/** SelfSubjectRulesReview: what the caller may do in spec.namespace. */
export async function selfSubjectRulesReview(body: KObject, user: UserInfo, cluster: LogicalCluster, authorizers: readonly Authorizer[]): Promise<KObject> {
  const kind: ReviewKind = 'SelfSubjectRulesReview';
  checkKind(kind, body);
  const spec = isObject(body.spec) ? body.spec : {};
  const namespace = str(spec.namespace);
  if (namespace === '') throw new KumoError('BadRequest', 'no namespace on request');
  const r = await rulesFor(authorizers, user, cluster, namespace);
  const status: Record<string, unknown> = {
    resourceRules: r.resourceRules.map((x) => ({ verbs: x.verbs, ...(x.apiGroups.length > 0 ? { apiGroups: x.apiGroups } : {}), ...(x.resources.length > 0 ? { resources: x.resources } : {}), ...((x.resourceNames ?? []).length > 0 ? { resourceNames: x.resourceNames } : {}) })),
    nonResourceRules: r.nonResourceRules.map((x) => ({ verbs: x.verbs, ...(x.nonResourceURLs.length > 0 ? { nonResourceURLs: x.nonResourceURLs } : {}) })),
    incomplete: r.incomplete,
  };
  if (r.evaluationError !== undefined) status.evaluationError = r.evaluationError;
  const metadata = isObject(body.metadata) ? { ...body.metadata } : {};
  return { kind, apiVersion: API_VERSION, metadata: { ...metadata, creationTimestamp: null }, spec: { namespace }, status };
}

export interface AuthorizationReviewOptions {
  /** The server's authorizer chain (what every request is authorized by). */
  authorizer: Authorizer;
  /** The chain's members, asked for rules in order (SelfSubjectRulesReview). */
  ruleResolvers: () => readonly Authorizer[];
}

/** The four review kinds as the engine's create-only resources. */
export function authorizationReviews(o: AuthorizationReviewOptions): CreateOnlyResource[] {
  const types = new Map(authorizationReviewTypes().map((rt) => [rt.kind, rt]));
  const rt = (kind: ReviewKind): ResourceType => {
    const t = types.get(kind);
    if (!t) throw new Error(`no schema for ${kind}`);
    return t;
  };
  const caller = (req: IncomingMessage): UserInfo => {
    const user = requestUser(req);
    if (user === undefined) throw new KumoError('Internal', 'no authenticated user on the request');
    return user;
  };
  return [
    { rt: rt('LocalSubjectAccessReview'), create: (_req, body, ctx) => localSubjectAccessReview(body, ctx.namespace, ctx.cluster, o.authorizer) },
    { rt: rt('SelfSubjectAccessReview'), create: (req, body, ctx) => selfSubjectAccessReview(body, caller(req), ctx.cluster, o.authorizer) },
    { rt: rt('SelfSubjectRulesReview'), create: (req, body, ctx) => selfSubjectRulesReview(body, caller(req), ctx.cluster, o.ruleResolvers()) },
    { rt: rt('SubjectAccessReview'), create: (_req, body, ctx) => subjectAccessReview(body, ctx.cluster, o.authorizer) },
  ];
}
