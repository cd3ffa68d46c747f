// ServiceAccount tokens (k8s.io/kubernetes pkg/serviceaccount): JWTs from TokenRequest, verified
// against every --service-account-key-file key (so the signing key can rotate: publish the new key
// beside the old one, then switch --service-account-signing-key-file), for an accepted issuer, an
// audience the server (or a TokenReview) accepts, inside their validity window (60 s of leeway, as
// kube's go-jose default), and only while the ServiceAccount — and the Secret, Pod or Node the token
// is bound to — still exists with the uid the token names.
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { KumoError } from '../../lib/errors.js';
import { CLUSTER_CLAIM, jwsAlgorithmOf, keyIdOf, publicJwkOf } from '../satoken.js';
import { audiencesOf, intersect, peekJwtClaims, unauthorized } from './common.js';
import { SERVICE_ACCOUNTS_GROUP, SERVICE_ACCOUNT_USERNAME_PREFIX, type TokenAuthenticator, type UserInfo } from './types.js';
import type { JWK } from 'jose';

/** kube's leeway on exp/nbf/iat (go-jose's jwt.DefaultLeeway). */
export const SA_TOKEN_LEEWAY_SECONDS = 60;

export type BoundKind = 'ServiceAccount' | 'Secret' | 'Pod' | 'Node';

/** What the authenticator needs to know of an object: that it exists, its uid, and whether it is going. */
export interface ObjectLookup {
  /** null when the object does not exist. `namespace` is '' for Nodes. */
  get(cluster: string, kind: BoundKind, namespace: string, name: string): Promise<{ uid: string; deleting: boolean } | null>;
}

export interface ServiceAccountAuthenticatorOptions {
  /** Accepted `iss` values (--service-account-issuer, repeatable; the first one signs). */
  issuers: string[];
  /** Verification keys (public halves of --service-account-key-file and the signing key). */
  keys: KeyObject[];
  /** The server's audiences (--api-audiences; default: the issuers). */
  audiences: string[];
  lookup: ObjectLookup;
  now?: () => Date;
}

interface VerificationKey {
  key: KeyObject;
  kid: string;
  alg: string;
}

export class ServiceAccountTokenAuthenticator implements TokenAuthenticator {
  readonly name = 'serviceaccount';
  private readonly keys: VerificationKey[];
  private readonly issuers: Set<string>;

  constructor(private readonly opts: ServiceAccountAuthenticatorOptions) {
    if (opts.keys.length === 0) throw new KumoError('Invalid', 'service account token verification needs at least one key');
    const byKid = new Map<string, VerificationKey>();
    for (const key of opts.keys) {
      const pub = key.type === 'private' ? crypto.createPublicKey(key) : key;
      byKid.set(keyIdOf(pub), { key: pub, kid: keyIdOf(pub), alg: jwsAlgorithmOf(pub) });
    }
    this.keys = [...byKid.values()];
    this.issuers = new Set(opts.issuers);
  }

  /** Whether a token claims one of our issuers (the union sends it here first). */
  claims(token: string): boolean {
    const c = peekJwtClaims(token);
    return c !== null && typeof c.iss === 'string' && this.issuers.has(c.iss);
  }

  /** The JWKS `/openid/v1/jwks` serves: every verification key. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: await Promise.all(this.keys.map((k) => publicJwkOf(k.key))) };
  }

  async authenticateToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | null> {
    const peek = peekJwtClaims(token);
    if (peek === null || typeof peek.iss !== 'string' || !this.issuers.has(peek.iss)) return null;
    const wanted = audiences !== undefined && audiences.length > 0 ? audiences : this.opts.audiences;
    const payload = await this.verify(token, wanted);
    const k8s = isRecord(payload['kubernetes.io']) ? payload['kubernetes.io'] : null;
    const sa = k8s && isRecord(k8s.serviceaccount) ? k8s.serviceaccount : null;
    const namespace = k8s && typeof k8s.namespace === 'string' ? k8s.namespace : '';
    const name = sa && typeof sa.name === 'string' ? sa.name : '';
    const uid = sa && typeof sa.uid === 'string' ? sa.uid : '';
    if (namespace === '' || name === '' || uid === '') throw unauthorized('service account token: missing kubernetes.io claims');
    const username = `${SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${name}`;
    if (payload.sub !== undefined && payload.sub !== username) throw unauthorized('service account token: sub does not match its kubernetes.io claims');
    const clusterClaim = payload[CLUSTER_CLAIM];
    const cluster = typeof clusterClaim === 'string' && clusterClaim !== '' ? clusterClaim : 'root';

    const saNow = await this.opts.lookup.get(cluster, 'ServiceAccount', namespace, name);
    if (saNow === null) throw unauthorized(`service account ${namespace}/${name} has been deleted`);
    if (saNow.uid !== uid) throw unauthorized(`service account ${namespace}/${name}: uid ${uid} in the token, ${saNow.uid} now (recreated)`);
    if (saNow.deleting) throw unauthorized(`service account ${namespace}/${name} is being deleted`);

    const extra: Record<string, string[]> = {};
    for (const [claim, kind] of [['secret', 'Secret'], ['pod', 'Pod'], ['node', 'Node']] as const) {
      const ref = k8s && isRecord(k8s[claim]) ? k8s[claim] : null;
      if (!ref) continue;
      const refName = typeof ref.name === 'string' ? ref.name : '';
      const refUid = typeof ref.uid === 'string' ? ref.uid : '';
      const found = await this.opts.lookup.get(cluster, kind, kind === 'Node' ? '' : namespace, refName);
      if (found === null) throw unauthorized(`service account token bound to ${kind} ${refName}, which has been deleted`);
      if (found.uid !== refUid) throw unauthorized(`service account token bound to ${kind} ${refName}: uid ${refUid} in the token, ${found.uid} now`);
      if (found.deleting) throw unauthorized(`service account token bound to ${kind} ${refName}, which is being deleted`);
      if (kind === 'Pod') {
        extra['authentication.kubernetes.io/pod-name'] = [refName];
        extra['authentication.kubernetes.io/pod-uid'] = [refUid];
      } else if (kind === 'Node') {
        extra['authentication.kubernetes.io/node-name'] = [refName];
        extra['authentication.kubernetes.io/node-uid'] = [refUid];
      }
    }
    if (typeof payload.jti === 'string' && payload.jti !== '') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload.jti}`];
    if (cluster !== 'root') extra[CLUSTER_CLAIM] = [cluster];
    const user: UserInfo = { username, uid, groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`] };
    if (Object.keys(extra).length > 0) user.extra = extra;
    return { user, audiences: intersect(audiencesOf(payload), wanted) };
  }

  private async verify(token: string, audiences: string[]): Promise<JWTPayload> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw unauthorized('service account token: malformed header');
    }
    const candidates = kid === undefined ? this.keys : this.keys.filter((k) => k.kid === kid);
    if (candidates.length === 0) throw unauthorized('service account token: signed by an unknown key');
    const now = this.opts.now ? this.opts.now() : new Date();
    let last: unknown;
    for (const k of candidates) {
      try {
        const { payload } = await jwtVerify(token, k.key, {
          algorithms: algorithmsFor(k.key),
          audience: audiences,
          clockTolerance: SA_TOKEN_LEEWAY_SECONDS,
          currentDate: now,
          requiredClaims: ['exp'],
        });
        // iat in the future (beyond the leeway) is refused too, as go-jose does.
        if (typeof payload.iat === 'number' && payload.iat > now.getTime() / 1000 + SA_TOKEN_LEEWAY_SECONDS) throw new Error('token used before issued');
        return payload;
      } catch (err) {
        last = err;
      }
    }
    throw unauthorized(`service account token: ${last instanceof Error ? last.message : String(last)}`);
  }
}

function algorithmsFor(key: KeyObject): string[] {
  return key.asymmetricKeyType === 'rsa' ? ['RS256', 'RS384', 'RS512'] : [jwsAlgorithmOf(key)];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Public keys from PEM text, as kube reads --service-account-key-file: PUBLIC KEY, RSA PUBLIC KEY,
 * CERTIFICATE, and private keys (PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY: their public half).
 * A file may hold several.
 */
export function publicKeysFromPem(text: string, source = 'key file'): KeyObject[] {
  const out: KeyObject[] = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)) {
    const block = m[0];
    const type = m[1] ?? '';
    try {
      if (type === 'CERTIFICATE') out.push(new crypto.X509Certificate(block).publicKey);
      else if (type.endsWith('PRIVATE KEY')) out.push(crypto.createPublicKey(crypto.createPrivateKey(block)));
      else if (type.endsWith('PUBLIC KEY')) out.push(crypto.createPublicKey(block));
    } catch (err) {
      throw new KumoError('Invalid', `${source}: cannot read the ${type} block: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (out.length === 0) throw new KumoError('Invalid', `${source}: no public or private key found`);
  for (const k of out) jwsAlgorithmOf(k); // refuses key types tokens cannot use
  return out;
}

export function publicKeysFromFile(file: string): KeyObject[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new KumoError('Invalid', `--service-account-key-file: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return publicKeysFromPem(text, file);
}
