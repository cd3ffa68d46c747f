// ServiceAccount tokens (the `serviceaccounts/<name>/token` subresource, TokenRequest): JWTs signed
// with the server's service-account key, with kube-apiserver's claims. Verifying them (authentication)
// is a later layer; the signing key and issuer live here so both agree.
import crypto from 'node:crypto';
import { SignJWT, exportJWK, importPKCS8, type JWK } from 'jose';
import { KumoError } from '../lib/errors.js';
import type { KObject } from '../api/types.js';
import { isObject, meta, rfc3339 } from './object.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** kube-apiserver: default 1 h, at least 10 minutes, at most 2^32 s. */
const EXPIRATION = { defaultSeconds: 3600, minSeconds: 600, maxSeconds: 2 ** 32 };

export interface TokenSigner {
  readonly issuer: string;
  /** Key id (the JWK thumbprint), also published in the JWKS. */
  readonly keyId: string;
  readonly publicJwk: JWK;
  sign(claims: Record<string, unknown>, expiresAt: Date, now: Date): Promise<string>;
}

/** A signer over a PKCS#8 PEM EC P-256 key (ES256). */
export async function createTokenSigner(privateKeyPem: string, issuer = DEFAULT_ISSUER): Promise<TokenSigner> {
  const key = await importPKCS8(privateKeyPem, 'ES256', { extractable: true });
  const publicKey = crypto.createPublicKey(privateKeyPem);
  const publicJwk = await exportJWK(publicKey);
  const keyId = crypto.createHash('sha256').update(JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x, y: publicJwk.y })).digest('base64url');
  return {
    issuer,
    keyId,
    publicJwk: { ...publicJwk, kid: keyId, alg: 'ES256', use: 'sig' },
    sign: (claims, expiresAt, now) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: keyId })
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

/**
 * Answers a TokenRequest for a ServiceAccount that exists: validates the request, signs the token,
 * and returns the TokenRequest with its status, as kube-apiserver does.
 */
export async function issueServiceAccountToken(signer: TokenSigner, sa: KObject, request: KObject, now: Date): Promise<KObject> {
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
  let audiences: string[] = [signer.issuer];
  if (Array.isArray(spec.audiences) && spec.audiences.length > 0) {
    if (!spec.audiences.every((a): a is string => typeof a === 'string' && a !== '')) {
      causes.push({ field: 'spec.audiences', reason: 'FieldValueInvalid', message: 'Invalid value: audiences must be non-empty strings' });
    } else audiences = spec.audiences;
  }
  if (spec.boundObjectRef !== undefined && spec.boundObjectRef !== null) {
    causes.push({ field: 'spec.boundObjectRef', reason: 'FieldValueNotSupported', message: 'Unsupported value: binding tokens to pods, secrets or nodes is not supported yet' });
  }
  if (causes.length > 0) {
    const text = causes.length === 1 ? `${causes[0]?.field}: ${causes[0]?.message}` : `[${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]`;
    throw new KumoError('Invalid', `TokenRequest.authentication.k8s.io "${String(sm.name)}" is invalid: ${text}`, { name: String(sm.name), group: 'authentication.k8s.io', kind: 'TokenRequest', causes });
  }
  const expiresAt = new Date(now.getTime() + seconds * 1000);
  const token = await signer.sign(
    {
      aud: audiences,
      sub: `system:serviceaccount:${String(sm.namespace)}:${String(sm.name)}`,
      jti: crypto.randomUUID(),
      'kubernetes.io': { namespace: sm.namespace, serviceaccount: { name: sm.name, uid: sm.uid } },
    },
    expiresAt,
    now,
  );
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: sm.name, namespace: sm.namespace, creationTimestamp: rfc3339(now) },
    spec: { audiences, expirationSeconds: seconds, boundObjectRef: null },
    status: { token, expirationTimestamp: rfc3339(expiresAt) },
  };
}
