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
 * The bearer token of a request, read as kube-apiserver reads it (bearertoken.Authenticator): the
 * trimmed header split on single spaces, the scheme `bearer` in any case, the token the second part.
 * `null` without a bearer header (or with another scheme); an empty token is refused.
 */
export function bearerToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (h === undefined) return null;
  const parts = h.trim().split(' ');
  if (parts.length < 2 || (parts[0] ?? '').toLowerCase() !== 'bearer') return null;
  const token = parts[1] ?? '';
  if (token === '') throw unauthorized('invalid bearer token: empty');
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
