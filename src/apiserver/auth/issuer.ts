// Service account issuer discovery (kube's /.well-known/openid-configuration and /openid/v1/jwks), so
// that other systems can verify Kumo's ServiceAccount tokens as OIDC ID tokens.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import { KumoError, statusFor } from '../../lib/errors.js';

export interface IssuerDiscoveryOptions {
  issuer: string;
  /** --service-account-jwks-uri, or https://<server>/openid/v1/jwks. */
  jwksUri: () => string;
  jwks: () => Promise<{ keys: JWK[] }>;
}

export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';

/** The discovery document (kube's serviceaccount.openIDMetadata). */
export function openIdConfiguration(issuer: string, jwksUri: string, keys: JWK[]): Record<string, unknown> {
  const algs = [...new Set(keys.map((k) => k.alg).filter((a): a is string => typeof a === 'string'))].sort();
  return {
    issuer,
    jwks_uri: jwksUri,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algs,
  };
}

/** Serves both documents; false for other paths. */
export function issuerDiscoveryHandler(o: IssuerDiscoveryOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const p = (q < 0 ? url : url.slice(0, q)).replace(/(.)\/+$/, '$1');
    if (p !== OPENID_CONFIGURATION_PATH && p !== JWKS_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const body = statusFor(new KumoError('MethodNotAllowed', 'the server does not allow this method on the requested resource'));
      res.writeHead(405, { 'Content-Type': 'application/json', Allow: 'GET, HEAD' });
      res.end(JSON.stringify(body));
      return true;
    }
    const jwks = await o.jwks();
    const doc = p === JWKS_PATH ? jwks : openIdConfiguration(o.issuer, o.jwksUri(), jwks.keys);
    const text = JSON.stringify(doc);
    res.writeHead(200, {
      'Content-Type': p === JWKS_PATH ? 'application/jwk-set+json' : 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'public, max-age=3600',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  };
}
