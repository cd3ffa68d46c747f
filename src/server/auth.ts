// The composition of authentication and authorization for `kumo server`, from kube-apiserver's flags:
// the request authenticator (client certificates → token file → ServiceAccount tokens → OIDC →
// anonymous), the ServiceAccount token signer and verification keys, issuer discovery, the
// authentication reviews, and the authorizer chain for --authorization-mode.
import fs from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { ApiEngine } from '../apiserver/engine.js';
import { RequestAuthenticator } from '../apiserver/auth/authenticate.js';
import { AuthorizerChain, alwaysDenyAuthorizer, authenticatedAllowAuthorizer, privilegedGroupsAuthorizer, publicPathsAuthorizer } from '../apiserver/auth/authorize.js';
import { issuerDiscoveryHandler } from '../apiserver/auth/issuer.js';
import { OidcAuthenticator, validateOidcOptions, type OidcOptions } from '../apiserver/auth/oidc.js';
import { authenticationReviews } from '../apiserver/auth/reviews.js';
import { ServiceAccountTokenAuthenticator, publicKeysFromFile, type ObjectLookup } from '../apiserver/auth/serviceaccount.js';
import { TokenFileAuthenticator } from '../apiserver/auth/tokenfile.js';
import { ClientCertAuthenticator } from '../apiserver/auth/x509.js';
import type { Authorizer, TokenAuthenticator } from '../apiserver/auth/types.js';
import type { CreateOnlyResource } from '../apiserver/createonly.js';
import { isLogicalClusterName, type LogicalCluster } from '../apiserver/keys.js';
import { meta } from '../apiserver/object.js';
import { DEFAULT_ISSUER, createTokenSigner, generateServiceAccountKey, type TokenSigner } from '../apiserver/satoken.js';
import { KumoError, isKumoError } from '../lib/errors.js';
import { writeFileAtomic } from '../lib/pki.js';

export interface OidcFlags extends Omit<OidcOptions, 'caPem' | 'now' | 'onError'> {
  /** --oidc-ca-file. */
  caFile?: string;
}

/** kube-apiserver's authentication flags. */
export interface AuthenticationOptions {
  /** --anonymous-auth (default true). */
  anonymousAuth?: boolean;
  /** --token-auth-file. */
  tokenAuthFile?: string;
  /** --service-account-issuer (repeatable; the first signs). Default https://kubernetes.default.svc.cluster.local. */
  serviceAccountIssuers?: string[];
  /** --service-account-key-file (repeatable): more verification keys (a rotated-out signing key). */
  serviceAccountKeyFiles?: string[];
  /** --service-account-signing-key-file. Default DATA/pki/sa.key (created once). */
  serviceAccountSigningKeyFile?: string;
  /** --service-account-jwks-uri: the discovery document's jwks_uri. Default <server URL>/openid/v1/jwks. */
  serviceAccountJwksUri?: string;
  /** --api-audiences. Default: the service account issuers. */
  apiAudiences?: string[];
  oidc?: OidcFlags;
}

export interface Authentication {
  tokenSigner: TokenSigner;
  authenticator: RequestAuthenticator;
  /** TokenReview and SelfSubjectReview, for the engine. */
  createOnly: CreateOnlyResource[];
  /** /.well-known/openid-configuration and /openid/v1/jwks. */
  issuerDiscovery: ReturnType<typeof issuerDiscoveryHandler>;
  /** What is configured, for the start-up log. */
  summary: Record<string, unknown>;
}

const BOUND_PLURALS = { ServiceAccount: 'serviceaccounts', Secret: 'secrets', Pod: 'pods', Node: 'nodes' } as const;

/** Looks objects up through the engine (the ServiceAccount authenticator's view of the store). */
export function engineObjectLookup(engine: () => ApiEngine): ObjectLookup {
  return {
    get: async (cluster, kind, namespace, name) => {
      if (!isLogicalClusterName(cluster)) return null;
      const lc = cluster as LogicalCluster;
      const e = engine();
      const rt = e.resourceTypes(lc).find((r) => r.group === '' && r.plural === BOUND_PLURALS[kind]);
      if (!rt) return null;
      try {
        const obj = await e.storage(rt).get(rt.namespaced ? { cluster: lc, namespace } : { cluster: lc }, name);
        const m = meta(obj);
        return { uid: String(m.uid ?? ''), deleting: m.deletionTimestamp !== undefined };
      } catch (err) {
        if (isKumoError(err, 'NotFound')) return null;
        throw err;
      }
    },
  };
}

export async function setUpAuthentication(
  o: AuthenticationOptions,
  deps: { pkiDir: string; log: Logger; lookup: ObjectLookup; serverUrl: () => string },
): Promise<Authentication> {
  const issuers = o.serviceAccountIssuers && o.serviceAccountIssuers.length > 0 ? o.serviceAccountIssuers : [DEFAULT_ISSUER];
  const signingPem = o.serviceAccountSigningKeyFile !== undefined ? readKeyFile('--service-account-signing-key-file', o.serviceAccountSigningKeyFile) : loadOrCreateServiceAccountKey(deps.pkiDir);
  const issuer = issuers[0] ?? DEFAULT_ISSUER;
  // kube: --api-audiences defaults to the (first) issuer; TokenRequests that name no audience get these.
  const apiAudiences = o.apiAudiences && o.apiAudiences.length > 0 ? o.apiAudiences : [issuer];
  const tokenSigner = await createTokenSigner(signingPem, issuer, apiAudiences);
  const keys: KeyObject[] = [tokenSigner.publicKey];
  for (const f of o.serviceAccountKeyFiles ?? []) keys.push(...publicKeysFromFile(f));
  const sa = new ServiceAccountTokenAuthenticator({ issuers, keys, audiences: apiAudiences, lookup: deps.lookup });

  const tokens: TokenAuthenticator[] = [];
  const summary: Record<string, unknown> = { anonymous: o.anonymousAuth ?? true, serviceAccountIssuers: issuers, apiAudiences, serviceAccountKeys: keys.length };
  if (o.tokenAuthFile !== undefined) {
    const { authenticator, warnings } = TokenFileAuthenticator.fromFile(o.tokenAuthFile);
    for (const w of warnings) deps.log.warn({ file: o.tokenAuthFile, warning: w }, 'token auth file');
    tokens.push(authenticator);
    summary.tokenAuthFile = { file: o.tokenAuthFile, tokens: authenticator.size };
  }
  tokens.push(sa);
  if (o.oidc !== undefined) {
    const { caFile, ...rest } = o.oidc;
    const opts: OidcOptions = { ...rest, onError: (err) => deps.log.warn({ issuer: rest.issuerUrl, err: err instanceof Error ? err.message : String(err) }, 'oidc issuer discovery failed; retrying') };
    if (caFile !== undefined) opts.caPem = readKeyFile('--oidc-ca-file', caFile);
    validateOidcOptions(opts);
    if (issuers.includes(opts.issuerUrl)) throw new KumoError('Invalid', `--oidc-issuer-url ${opts.issuerUrl} is also a --service-account-issuer`);
    const oidc = new OidcAuthenticator(opts);
    oidc.warmUp();
    tokens.push(oidc);
    summary.oidc = { issuer: opts.issuerUrl, clientId: opts.clientId };
  }
  const authenticator = new RequestAuthenticator({
    requestAuthenticators: [new ClientCertAuthenticator()],
    tokenAuthenticators: tokens,
    apiAudiences,
    anonymous: o.anonymousAuth ?? true,
  });
  const issuerDiscovery = issuerDiscoveryHandler({
    issuer,
    jwksUri: () => o.serviceAccountJwksUri ?? `${deps.serverUrl()}/openid/v1/jwks`,
    jwks: () => sa.jwks(),
  });
  const createOnly = authenticationReviews({ authenticateToken: (t, a) => authenticator.authenticateToken(t, a) });
  return { tokenSigner, authenticator, createOnly, issuerDiscovery, summary };
}

export const AUTHORIZATION_MODES = ['AlwaysAllow', 'AlwaysDeny', 'RBAC'] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];

/**
 * The authorizers of each --authorization-mode. AlwaysAllow allows every authenticated user and gives
 * anonymous callers the public paths only (health, version, discovery, OpenAPI, issuer discovery).
 * RBAC is filled in by the RBAC authorizer's composition.
 */
export type ModeAuthorizers = Partial<Record<AuthorizationMode, () => Authorizer[]>>;

export const DEFAULT_MODE_AUTHORIZERS: ModeAuthorizers = {
  AlwaysAllow: () => [authenticatedAllowAuthorizer(), publicPathsAuthorizer()],
  AlwaysDeny: () => [alwaysDenyAuthorizer()],
};

/** system:masters first (kube's privileged-group authorizer), then each mode's authorizers in order. */
export function authorizerFor(modes: string[], byMode: ModeAuthorizers = DEFAULT_MODE_AUTHORIZERS): AuthorizerChain {
  if (modes.length === 0) throw new KumoError('Invalid', '--authorization-mode: at least one mode is required');
  const chain: Authorizer[] = [privilegedGroupsAuthorizer()];
  const seen = new Set<string>();
  for (const m of modes) {
    if (!(AUTHORIZATION_MODES as readonly string[]).includes(m)) throw new KumoError('Invalid', `--authorization-mode: unknown mode ${JSON.stringify(m)} (supported: ${AUTHORIZATION_MODES.join(', ')})`);
    if (seen.has(m)) throw new KumoError('Invalid', `--authorization-mode: ${m} given twice`);
    seen.add(m);
    const make = byMode[m as AuthorizationMode];
    if (!make) throw new KumoError('Invalid', `--authorization-mode: ${m} is not available in this build`);
    chain.push(...make());
  }
  return new AuthorizerChain(chain);
}

function readKeyFile(flag: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new KumoError('Invalid', `${flag}: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The default service-account signing key, `DATA/pki/sa.key` (created once, 0600). Replicas must share it. */
function loadOrCreateServiceAccountKey(pkiDir: string): string {
  const file = path.join(pkiDir, 'sa.key');
  try {
    const pem = fs.readFileSync(file, 'utf8');
    crypto.createPrivateKey(pem);
    return pem;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pem = generateServiceAccountKey();
  writeFileAtomic(file, pem, 0o600);
  return pem;
}
