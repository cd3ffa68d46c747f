// ServiceAccount tokens (the `serviceaccounts/<name>/token` subresource, TokenRequest): JWTs signed
// with the server's service-account signing key, with kube-apiserver's claims. Verification is
// auth/serviceaccount.ts; the key id, the algorithm and the claims' shape live here so both agree.
import crypto, { type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, type JWK } from 'jose';
import { KumoError } from '../lib/errors.js';
import type { KObject } from '../api/types.js';
import { isObject, meta, rfc3339 } from './object.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** kube-apiserver: default 1 h, at least 10 minutes, at most 2^32 s. */
const EXPIRATION = { defaultSeconds: 3600, minSeconds: 600, maxSeconds: 2 ** 32 };
/** The private claim a token names its logical cluster in (absent for the root cluster). */
export const CLUSTER_CLAIM = 'kumo.dev/cluster';
/** Kinds a token may be bound to (kube: Pod, Secret, Node), and their resources. */
export const BINDABLE_KINDS: Readonly<Record<string, { plural: string; claim: 'pod' | 'secret' | 'node'; namespaced: boolean }>> = {
  Pod: { plural: 'pods', claim: 'pod', namespaced: true },
  Secret: { plural: 'secrets', claim: 'secret', namespaced: true },
  Node: { plural: 'nodes', claim: 'node', namespaced: false },
};

export interface TokenSigner {
  /** The issuer the tokens carry (the first --service-account-issuer). */
  readonly issuer: string;
  /** The audiences of a TokenRequest that names none (kube: the API audiences; default the issuer). */
  readonly defaultAudiences: string[];
  /** Key id (kube's: base64url SHA-256 of the public key's PKIX DER), also published in the JWKS. */
  readonly keyId: string;
  readonly publicJwk: JWK;
  readonly publicKey: KeyObject;
  sign(claims: Record<string, unknown>, expiresAt: Date, now: Date): Promise<string>;
}

/** kube-apiserver's key id for a public key (serviceaccount.keyIDFromPublicKey). */
export function keyIdOf(publicKey: KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

/** The JWS algorithm kube signs with for this key: RS256 for RSA, ES256/384/512 by the EC curve. */
export function jwsAlgorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
    if (curve === 'secp521r1' || curve === 'P-521') return 'ES512';
    throw new KumoError('Invalid', `unsupported EC curve ${String(curve)} for service account tokens (P-256, P-384 or P-521)`);
  }
  throw new KumoError('Invalid', `unsupported key type ${String(key.asymmetricKeyType)} for service account tokens (RSA or EC)`);
}

/** The public JWK of a key as the JWKS publishes it (kid, alg, use). */
export async function publicJwkOf(publicKey: KeyObject): Promise<JWK> {
  const jwk = await exportJWK(publicKey);
  return { ...jwk, kid: keyIdOf(publicKey), alg: jwsAlgorithmOf(publicKey), use: 'sig' };
}

/** A signer over a PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC). */
export async function createTokenSigner(privateKeyPem: string, issuer = DEFAULT_ISSUER, defaultAudiences: string[] = [issuer]): Promise<TokenSigner> {
  const key = crypto.createPrivateKey(privateKeyPem);
  const publicKey = crypto.createPublicKey(key);
  const alg = jwsAlgorithmOf(key);
  const keyId = keyIdOf(publicKey);
  return {
    issuer,
    defaultAudiences,
    keyId,
    publicKey,
    publicJwk: await publicJwkOf(publicKey),
    sign: (claims, expiresAt, now) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg, kid: keyId })
        .setIssuer(issuer)
        .setIssuedAt(Math.floor(now.getTime() / 1000))
        .setNotBefore(Math.floor(now.getTime() / 1000))
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(key),
  };
}

/** A new PKCS#8 PEM EC P-256 private key for service-account tokens. */
export function generateServiceAccountKey(): string {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** What a TokenRequest may bind its token to, resolved by the caller (the object must exist). */
export interface BoundObject {
  kind: string;
  apiVersion: string;
  name: string;
  uid: string;
}

export interface IssueOptions {
  /** The logical cluster of the ServiceAccount (the root cluster's tokens carry no cluster claim). */
  cluster?: string;
  /**
   * Looks up the object a request binds the token to (its uid), in the ServiceAccount's namespace;
   * throws NotFound when it does not exist. Without it, binding is refused.
   */
  lookupBound?: (kind: string, name: string) => Promise<{ uid: string }>;
}

/**
 * Answers a TokenRequest for a ServiceAccount that exists: validates the request, signs the token,
 * and returns the TokenRequest with its status, as kube-apiserver does.
 */
export async function issueServiceAccountToken(signer: TokenSigner, sa: KObject, request: KObject, now: Date, opts: IssueOptions = {}): Promise<KObject> {
  const sm = meta(sa);
  const spec = isObject(request.spec) ? request.spec : {};
  const causes: { field: string; reason: string; message: string }[] = [];
  let seconds = EXPIRATION.defaultSeconds;
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null) {
    const v = spec.expirationSeconds;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      causes.push({ field: 'spec.expirationSeconds', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: must be an integer` });
    } else if (v < EXPIRATION.minSeconds) {
      causes.push({ field: 'spec.expirationSeconds', reason: 'FieldValueInvalid', message: `Invalid value: ${v}: may not specify a duration less than 10 minutes` });
    } else if (v > EXPIRATION.maxSeconds) {
      causes.push({ field: 'spec.expirationSeconds', reason: 'FieldValueInvalid', message: `Invalid value: ${v}: may not specify a duration larger than 2^32 seconds` });
    } else seconds = v;
  }
  let audiences: string[] = [...signer.defaultAudiences];
  if (Array.isArray(spec.audiences) && spec.audiences.length > 0) {
    if (!spec.audiences.every((a): a is string => typeof a === 'string' && a !== '')) {
      causes.push({ field: 'spec.audiences', reason: 'FieldValueInvalid', message: 'Invalid value: audiences must be non-empty strings' });
    } else audiences = spec.audiences;
  }
  let bound: BoundObject | null = null;
  if (isObject(spec.boundObjectRef)) {
    const ref = spec.boundObjectRef;
    const kind = typeof ref.kind === 'string' ? ref.kind : '';
    const name = typeof ref.name === 'string' ? ref.name : '';
    const apiVersion = typeof ref.apiVersion === 'string' && ref.apiVersion !== '' ? ref.apiVersion : 'v1';
    if (BINDABLE_KINDS[kind] === undefined) {
      causes.push({ field: 'spec.boundObjectRef.kind', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(kind)}: supported values: "Node", "Pod", "Secret"` });
    } else if (apiVersion !== 'v1') {
      causes.push({ field: 'spec.boundObjectRef.apiVersion', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(apiVersion)}: supported values: "v1"` });
    } else if (name === '') {
      causes.push({ field: 'spec.boundObjectRef.name', reason: 'FieldValueRequired', message: 'Required value' });
    } else {
      bound = { kind, apiVersion, name, uid: typeof ref.uid === 'string' ? ref.uid : '' };
    }
  }
  if (causes.length > 0) {
    const text = causes.length === 1 ? `${causes[0]?.field}: ${causes[0]?.message}` : `[${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]`;
    throw new KumoError('Invalid', `TokenRequest.authentication.k8s.io "${String(sm.name)}" is invalid: ${text}`, { name: String(sm.name), group: 'authentication.k8s.io', kind: 'TokenRequest', causes });
  }
  if (bound !== null) {
    if (!opts.lookupBound) throw new KumoError('BadRequest', `cannot bind a token to a ${bound.kind}`);
    const found = await opts.lookupBound(bound.kind, bound.name);
    if (bound.uid !== '' && bound.uid !== found.uid) {
      throw new KumoError('Conflict', `the UID in the bound object reference (${bound.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    bound.uid = found.uid;
  }
  const expiresAt = new Date(now.getTime() + seconds * 1000);
  const k8s: Record<string, unknown> = { namespace: sm.namespace, serviceaccount: { name: sm.name, uid: sm.uid } };
  if (bound !== null) k8s[BINDABLE_KINDS[bound.kind]?.claim ?? 'secret'] = { name: bound.name, uid: bound.uid };
  const claims: Record<string, unknown> = {
    aud: audiences,
    sub: `system:serviceaccount:${String(sm.namespace)}:${String(sm.name)}`,
    jti: crypto.randomUUID(),
    'kubernetes.io': k8s,
  };
  if (opts.cluster !== undefined && opts.cluster !== 'root') claims[CLUSTER_CLAIM] = opts.cluster;
  const token = await signer.sign(claims, expiresAt, now);
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: sm.name, namespace: sm.namespace, creationTimestamp: rfc3339(now) },
    spec: { audiences, expirationSeconds: seconds, boundObjectRef: bound },
    status: { token, expirationTimestamp: rfc3339(expiresAt) },
  };
}
