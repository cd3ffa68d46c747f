// Logic shared by every backend: input checks, the conflict error, continue tokens, deadlines.
// Backends stay thin by calling these before touching their database.
import { KumoError } from '../lib/errors.js';
import { StoreLimits, type KeyValue } from './types.js';

/** Conflict that carries the key's current value (null if it no longer exists) so callers can retry without a re-read. */
export class StoreConflict extends KumoError {
  constructor(
    key: string,
    readonly current: KeyValue | null,
    expected: number,
  ) {
    super(
      'Conflict',
      `store: key ${key} was modified (expected modRevision ${expected}, current ${current ? current.modRevision : 'none'})`,
    );
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function validateKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new KumoError('Invalid', `store: ${what} must be a non-empty string`, { causes: [{ field: what, reason: 'FieldValueRequired', message: `${what} is empty` }] });
  }
  if (key[0] !== '/') {
    throw new KumoError('Invalid', `store: ${what} ${JSON.stringify(key.slice(0, 80))} must start with "/"`, { causes: [{ field: what, reason: 'FieldValueInvalid', message: 'must start with "/"' }] });
  }
  if (Buffer.byteLength(key) > StoreLimits.maxKeyBytes) {
    throw new KumoError('Invalid', `store: ${what} is ${Buffer.byteLength(key)} bytes, over the limit of ${StoreLimits.maxKeyBytes} bytes`, { causes: [{ field: what, reason: 'FieldValueTooLong', message: `must be at most ${StoreLimits.maxKeyBytes} bytes` }] });
  }
  // NUL and lone surrogates cannot round-trip through every backend.
  if (key.includes('\0') || LONE_SURROGATE.test(key)) {
    throw new KumoError('Invalid', `store: ${what} must be valid UTF-8 without NUL characters`, { causes: [{ field: what, reason: 'FieldValueInvalid', message: 'invalid characters' }] });
  }
}

export function validatePrefix(prefix: unknown): asserts prefix is string {
  validateKey(prefix, 'prefix');
}

export function validateValue(value: unknown): asserts value is Buffer {
  if (!Buffer.isBuffer(value)) {
    throw new KumoError('Invalid', 'store: value must be a Buffer', { causes: [{ field: 'value', reason: 'FieldValueInvalid', message: 'must be bytes' }] });
  }
  if (value.length > StoreLimits.maxValueBytes) {
    throw new KumoError('Invalid', `store: value is ${value.length} bytes, over the limit of ${StoreLimits.maxValueBytes} bytes (1.5 MiB)`, {
      causes: [{ field: 'value', reason: 'FieldValueTooLong', message: `must be at most ${StoreLimits.maxValueBytes} bytes` }],
    });
  }
}

export function validateRevision(rev: unknown, what: string): asserts rev is number {
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 0) {
    throw new KumoError('Invalid', `store: ${what} must be a non-negative integer`, { causes: [{ field: what, reason: 'FieldValueInvalid', message: 'must be a non-negative integer' }] });
  }
}

export function validateTtl(ttl: unknown): void {
  if (ttl === undefined) return;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl <= 0 || ttl > 10 * 365 * 24 * 3600) {
    throw new KumoError('Invalid', 'store: ttl must be a positive whole number of seconds', { causes: [{ field: 'ttl', reason: 'FieldValueInvalid', message: 'must be a positive integer' }] });
  }
}

export function validateLimit(limit: unknown): void {
  if (limit === undefined) return;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
    throw new KumoError('Invalid', 'store: limit must be a non-negative integer', { causes: [{ field: 'limit', reason: 'FieldValueInvalid', message: 'must be a non-negative integer' }] });
  }
}

/** The smallest key greater than every key with this prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  // Keys are compared as UTF-8 bytes by both backends; appending U+10FFFF's encoding is not enough for
  // every byte, so increment the last code unit instead (prefixes here always end in ASCII '/').
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

interface ContinueToken {
  /** The last key returned; the next page starts strictly after it. */
  k: string;
  /** The snapshot revision. */
  r: number;
  /** The prefix, so a token is not replayed against another list. */
  p: string;
}

export function encodeContinue(prefix: string, lastKey: string, revision: number): string {
  const t: ContinueToken = { k: lastKey, r: revision, p: prefix };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeContinue(prefix: string, token: string): { after: string; revision: number } {
  const bad = (why: string): KumoError =>
    new KumoError('BadRequest', `store: invalid continue token: ${why}`, { causes: [{ field: 'continue', reason: 'FieldValueInvalid', message: why }] });
  if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw bad('wrong length');
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad('not decodable');
  }
  if (typeof t !== 'object' || t === null) throw bad('not an object');
  const { k, r, p } = t as Partial<ContinueToken>;
  if (typeof k !== 'string' || typeof r !== 'number' || !Number.isSafeInteger(r) || r < 1 || typeof p !== 'string') throw bad('malformed');
  if (p !== prefix) throw bad('issued for another prefix');
  if (!k.startsWith(prefix)) throw bad('key outside prefix');
  return { after: k, revision: r };
}

/** A signal that aborts at the deadline or when the caller's signal aborts, whichever comes first. */
export function deadlineSignal(ms: number, signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, t]) : t;
}

/** The KumoError for an aborted call: Timeout for deadlines, Unavailable otherwise. */
export function abortError(signal: AbortSignal, what: string): KumoError {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new KumoError('Timeout', `store: ${what} did not finish before its deadline`, {}, { cause: reason });
  }
  if (reason instanceof KumoError) return reason;
  return new KumoError('Unavailable', `store: ${what} was cancelled`, {}, { cause: reason });
}

export function gone(revision: number, compacted: number): KumoError {
  return new KumoError('Gone', `store: revision ${revision} has been compacted (oldest available is ${compacted})`);
}

export function futureRevision(revision: number, current: number): KumoError {
  return new KumoError('Invalid', `store: revision ${revision} is in the future (current is ${current})`, {
    causes: [{ field: 'revision', reason: 'FieldValueInvalid', message: 'revision is newer than the store' }],
  });
}
