// OIDC ID tokens from an external issuer, with kube-apiserver's --oidc-* flags: the issuer's discovery
// document is fetched once (retried while it fails), its JWKS is fetched, cached and refetched by
// jose's remote key set (on a key id it does not know, so a rotated key works as soon as the issuer
// publishes it; at most once per cooldown), and a token is accepted when it is signed by one of those
// keys with an allowed algorithm, names the issuer exactly, has the client id among its audiences,
// has not expired (nbf may be up to 5 minutes ahead, as go-oidc allows), and carries the required
// claims. The username is the --oidc-username-claim (default `sub`), prefixed by `<issuer>#` unless
// the claim is `email` or --oidc-username-prefix says otherwise (`-`: no prefix); the groups come
// from --oidc-groups-claim (a string or a list of strings), each with --oidc-groups-prefix.
import https from 'node:https';
import { createRemoteJWKSet, customFetch, jwtVerify, type FetchImplementation, type JWTPayload } from 'jose';
import { KumoError } from '../../lib/errors.js';
import { peekJwtClaims, unauthorized } from './common.js';
import type { TokenAuthenticator, UserInfo } from './types.js';

export interface OidcOptions {
  /** --oidc-issuer-url: https only. */
  issuerUrl: string;
  /** --oidc-client-id: must be one of the token's audiences. */
  clientId: string;
  /** --oidc-username-claim (default `sub`). */
  usernameClaim?: string;
  /** --oidc-username-prefix: absent → `<issuer>#` for claims other than `email`; `-` → none. */
  usernamePrefix?: string;
  /** --oidc-groups-claim: absent → no groups from the token. */
  groupsClaim?: string;
  /** --oidc-groups-prefix. */
  groupsPrefix?: string;
  /** --oidc-required-claim key=value (repeatable): each must be present with exactly this value. */
  requiredClaims?: Record<string, string>;
  /** --oidc-ca-file's PEM: the CAs trusted for the issuer's HTTPS (default: the system's). */
  caPem?: string;
  /** --oidc-signing-algs (default RS256). */
  signingAlgs?: string[];
  /** No JWKS refetch sooner than this after the last one (default 5 s). */
  jwksCooldownMs?: number;
  /** The JWKS is refetched after this long even when every key id is known (default 10 minutes). */
  jwksMaxAgeMs?: number;
  /** Wait between discovery attempts while the issuer is unreachable (default 10 s). */
  discoveryRetryMs?: number;
  now?: () => Date;
  /** For the log: why discovery failed. */
  onError?: (err: unknown) => void;
}

/** go-oidc's allowance for an nbf a little ahead of our clock. */
const NBF_SKEW_SECONDS = 300;
const SUPPORTED_ALGS = new Set(['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA']);

/** Checks the flags as kube-apiserver does at start; throws Invalid naming the flag. */
export function validateOidcOptions(o: OidcOptions): void {
  let url: URL;
  try {
    url = new URL(o.issuerUrl);
  } catch {
    throw new KumoError('Invalid', `--oidc-issuer-url: ${JSON.stringify(o.issuerUrl)} is not a URL`);
  }
  if (url.protocol !== 'https:') throw new KumoError('Invalid', `--oidc-issuer-url: ${JSON.stringify(o.issuerUrl)} has invalid scheme ${JSON.stringify(url.protocol.replace(/:$/, ''))}, require 'https'`);
  if (url.search !== '' || url.hash !== '') throw new KumoError('Invalid', `--oidc-issuer-url: ${JSON.stringify(o.issuerUrl)} must not have a query or fragment`);
  if (o.clientId === '') throw new KumoError('Invalid', '--oidc-client-id is required with --oidc-issuer-url');
  for (const alg of o.signingAlgs ?? []) if (!SUPPORTED_ALGS.has(alg)) throw new KumoError('Invalid', `--oidc-signing-algs: unsupported algorithm ${JSON.stringify(alg)} (supported: ${[...SUPPORTED_ALGS].join(', ')})`);
}

/** kube's username prefix rule. */
export function effectiveUsernamePrefix(o: Pick<OidcOptions, 'issuerUrl' | 'usernameClaim' | 'usernamePrefix'>): string {
  if (o.usernamePrefix === '-') return '';
  if (o.usernamePrefix !== undefined) return o.usernamePrefix;
  return (o.usernameClaim ?? 'sub') === 'email' ? '' : `${o.issuerUrl}#`;
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

export class OidcAuthenticator implements TokenAuthenticator {
  readonly name = 'oidc';
  private keySet: KeySet | null = null;
  private discovering: Promise<KeySet> | null = null;
  private lastFailure = 0;
  private readonly fetch: FetchImplementation;
  private readonly prefix: string;

  constructor(private readonly o: OidcOptions) {
    validateOidcOptions(o);
    this.fetch = httpsFetch(o.caPem);
    this.prefix = effectiveUsernamePrefix(o);
  }

  get issuer(): string {
    return this.o.issuerUrl;
  }

  /**
   * Starts discovery now rather than on the first ID token (kube initializes its OIDC authenticator
   * in the background at start). A failure is only logged (onError); tokens then retry it.
   */
  warmUp(): void {
    this.keys().catch(() => undefined);
  }

  async authenticateToken(token: string): Promise<{ user: UserInfo; audiences: string[] } | null> {
    const peek = peekJwtClaims(token);
    if (peek === null || peek.iss !== this.o.issuerUrl) return null;
    const keys = await this.keys();
    const now = this.o.now ? this.o.now() : new Date();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.o.issuerUrl,
        audience: this.o.clientId,
        algorithms: this.o.signingAlgs ?? ['RS256'],
        clockTolerance: NBF_SKEW_SECONDS,
        currentDate: now,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw unauthorized(`oidc: verify token: ${err instanceof Error ? err.message : String(err)}`);
    }
    // The tolerance above is for nbf only: expiry is exact, as go-oidc checks it.
    if (typeof payload.exp !== 'number' || payload.exp * 1000 <= now.getTime()) throw unauthorized('oidc: token is expired');
    return { user: this.userOf(payload), audiences: [] };
  }

  /** The claims → UserInfo mapping (after the signature and the registered claims were checked). */
  userOf(claims: Record<string, unknown>): UserInfo {
    for (const [k, want] of Object.entries(this.o.requiredClaims ?? {})) {
      const got = claims[k];
      if (got === undefined) throw unauthorized(`oidc: required claim ${k} not present in ID token`);
      if (got !== want) throw unauthorized(`oidc: required claim ${k} value does not match. Got = ${JSON.stringify(got)}, want = ${want}`);
    }
    const claim = this.o.usernameClaim ?? 'sub';
    const value = claims[claim];
    if (typeof value !== 'string' || value === '') throw unauthorized(`oidc: parse username claims ${JSON.stringify(claim)}: claim not present or not a string`);
    if (claim === 'email' && claims.email_verified !== undefined && claims.email_verified !== true) throw unauthorized(`oidc: email not verified`);
    const user: UserInfo = { username: this.prefix + value, groups: [] };
    if (this.o.groupsClaim !== undefined && this.o.groupsClaim !== '') {
      const g = claims[this.o.groupsClaim];
      if (g !== undefined) {
        const list = typeof g === 'string' ? [g] : Array.isArray(g) && g.every((x) => typeof x === 'string') ? (g) : null;
        if (list === null) throw unauthorized(`oidc: parse groups claim ${JSON.stringify(this.o.groupsClaim)}: not a string or a list of strings`);
        user.groups = list.map((x) => (this.o.groupsPrefix ?? '') + x);
      }
    }
    return user;
  }

  /** The remote key set, after discovery (once; retried at most every discoveryRetryMs while it fails). */
  private keys(): Promise<KeySet> {
    if (this.keySet) return Promise.resolve(this.keySet);
    if (this.discovering) return this.discovering;
    if (Date.now() - this.lastFailure < (this.o.discoveryRetryMs ?? 10_000)) return Promise.reject(unauthorized('oidc: authenticator not initialized (issuer discovery failed recently)'));
    this.discovering = this.discover()
      .then((ks) => {
        this.keySet = ks;
        return ks;
      })
      .catch((err: unknown) => {
        this.lastFailure = Date.now();
        this.o.onError?.(err);
        throw unauthorized(`oidc: authenticator not initialized: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => {
        this.discovering = null;
      });
    return this.discovering;
  }

  private async discover(): Promise<KeySet> {
    const url = `${this.o.issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await this.fetch(url, { method: 'GET', headers: new Headers({ accept: 'application/json' }), redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // go-oidc: the discovery document must name the issuer it was fetched for.
    if (doc.issuer !== this.o.issuerUrl) throw new Error(`issuer did not match the issuer returned by provider, expected ${JSON.stringify(this.o.issuerUrl)} got ${JSON.stringify(doc.issuer)}`);
    if (typeof doc.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
    return createRemoteJWKSet(new URL(doc.jwks_uri), {
      [customFetch]: this.fetch,
      cooldownDuration: this.o.jwksCooldownMs ?? 5_000,
      cacheMaxAge: this.o.jwksMaxAgeMs ?? 600_000,
      timeoutDuration: 10_000,
    });
  }
}

/**
 * A fetch over node's https with the given CAs (fetch itself cannot take a CA): enough for discovery
 * and JWKS (GET, JSON, no redirects followed).
 */
export function httpsFetch(caPem?: string): FetchImplementation {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const u = new URL(url);
      if (u.protocol !== 'https:') {
        reject(new Error(`refusing to fetch ${url}: not https`));
        return;
      }
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const req = https.request(u, { method: init.method, headers, ...(caPem !== undefined ? { ca: caPem } : {}), signal: init.signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1024 * 1024) {
            req.destroy(new Error(`${url}: response larger than 1 MiB`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: h }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
}
