// Small pieces every authenticator shares: the one 401 every failure becomes (its reason kept for the
// log only), reading the bearer token of a request, and a look at a JWT's claims before verifying it
// (to route it to the authenticator of its issuer).
import type { IncomingMessage } from 'node:http';
import { decodeJwt } from 'jose';
import { KumoError } from '../../lib/errors.js';

/**
 * The one answer to a credential that does not hold: 401 with the message `Unauthorized` and nothing
 * else, as kube-apiserver answers. `reason` is the cause, for the server log only.
 */
export function unauthorized(reason: string): KumoError {
  return new KumoError('Unauthorized', 'Unauthorized', {}, { cause: new Error(reason) });
}

/** Why a request was refused (the cause of `unauthorized`), for the log. */
export function unauthorizedReason(err: unknown): string {
  if (err instanceof KumoError && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * The bearer token of a request (`Authorization: Bearer <token>`, the scheme in any case, as
 * kube-apiserver reads it). `null` without one; an empty or malformed bearer header is refused.
 */
export function bearerToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (h === undefined) return null;
  const m = /^\s*bearer\s+(.*)$/i.exec(h);
  if (!m) return null; // another scheme (Basic …): not ours to judge
  const token = (m[1] ?? '').trim();
  // kube: "invalid bearer token" for an empty one (and for one with spaces in it).
  if (token === '' || /\s/.test(token)) throw unauthorized('empty or malformed bearer token');
  return token;
}

/** A compact JWS's claims, unverified; null when the token is not a JWT at all. */
export function peekJwtClaims(token: string): Record<string, unknown> | null {
  if (token.split('.').length !== 3) return null;
  try {
    return decodeJwt(token);
  } catch {
    return null;
  }
}

/** The `aud` claim as a list. */
export function audiencesOf(claims: Record<string, unknown>): string[] {
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

export function intersect(a: readonly string[], b: readonly string[]): string[] {
  const set = new Set(b);
  return a.filter((x) => set.has(x));
}
