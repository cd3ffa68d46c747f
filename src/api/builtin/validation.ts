// Helpers for the semantic checks of built-in kinds (Strategy.validate). Causes come from
// schema/field.ts, worded like k8s.io/apimachinery's field.Error so Status causes read as kube's do.
import type { ErrorCause } from '../../lib/errors.js';
import { CauseReason, errorBody, invalid } from '../schema/field.js';

export { forbidden, invalid, notSupported, required } from '../schema/field.js';

/** A payload over a byte limit (field.TooLong on a whole map: `may not be more than N bytes`). */
export function tooLarge(field: string, maxBytes: number): ErrorCause {
  return { field, reason: CauseReason.TooLong, message: errorBody(CauseReason.TooLong, '', `may not be more than ${maxBytes} bytes`) };
}

/** `field is immutable` when the value at `path` differs between the two objects (deep comparison). */
export function immutable(obj: Record<string, unknown>, old: Record<string, unknown> | undefined, path: string): ErrorCause[] {
  if (!old) return [];
  const a = valueAt(obj, path);
  const b = valueAt(old, path);
  return deepEqual(a, b) ? [] : [invalid(path, a, 'field is immutable')];
}

export function valueAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The object at `key` of `obj`, or undefined. */
export function recordAt(obj: Record<string, unknown> | undefined, key: string): Record<string, unknown> | undefined {
  const v = obj?.[key];
  return isRecord(v) ? v : undefined;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** validation.IsConfigMapKey: the rule for ConfigMap and Secret data keys. */
export function configMapKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push('must be no more than 253 characters');
  if (!CONFIG_KEY.test(key)) {
    errs.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  }
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** field.Path.Key: `data[key]`. */
export { key as keyPath } from '../schema/field.js';
