// Field paths and validation causes shaped like k8s.io/apimachinery's util/validation/field: a path
// prints as `spec.containers[0].name` (Child adds `.name`, Index `[0]`, Key `[key]`), and a cause's
// message is the field.Error's ErrorBody(): `Invalid value: "x": detail`, `Required value`,
// `Unsupported value: "x": supported values: "a", "b"`, `Too long: may not be longer than 5`…
// Values print the way Go's fmt does for them (%q strings, %v numbers, %#v maps and lists), so
// clients that show kube-apiserver's messages see the same text from Kumo.
import type { ErrorCause } from '../../lib/errors.js';

/** The closed set of cause reasons (metav1.CauseType values of field.ErrorType). */
export const CauseReason = {
  NotFound: 'FieldValueNotFound',
  Required: 'FieldValueRequired',
  Duplicate: 'FieldValueDuplicate',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  Forbidden: 'FieldValueForbidden',
  TooLong: 'FieldValueTooLong',
  TooMany: 'FieldValueTooMany',
  Internal: 'InternalError',
  TypeInvalid: 'FieldValueTypeInvalid',
} as const;
export type CauseReason = (typeof CauseReason)[keyof typeof CauseReason];

const typeText: Record<CauseReason, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
};

// ---- paths ----

/** `parent.name` (just `name` at the root). */
export function child(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}
/** `parent[i]`. */
export function index(parent: string, i: number): string {
  return `${parent}[${i}]`;
}
/** `parent[key]` (a map key or a named element). */
export function key(parent: string, k: string): string {
  return `${parent}[${k}]`;
}

// ---- causes ----

/** A value that is not printed (field.Error's omitValue). */
export const OMIT: unique symbol = Symbol('omit');

/** The message of a cause, exactly as field.Error.ErrorBody() renders it. */
export function errorBody(reason: CauseReason, value: unknown, detail: string): string {
  let s: string;
  if (
    reason === CauseReason.Required ||
    reason === CauseReason.Forbidden ||
    reason === CauseReason.TooLong ||
    reason === CauseReason.Internal ||
    value === OMIT
  ) {
    s = typeText[reason];
  } else {
    s = `${typeText[reason]}: ${goValue(value)}`;
  }
  return detail === '' ? s : `${s}: ${detail}`;
}

function cause(reason: CauseReason, field: string, value: unknown, detail: string): ErrorCause {
  return { field, reason, message: errorBody(reason, value, detail) };
}

export function required(field: string, detail = ''): ErrorCause {
  return cause(CauseReason.Required, field, '', detail);
}
export function invalid(field: string, value: unknown, detail: string): ErrorCause {
  return cause(CauseReason.Invalid, field, value, detail);
}
export function typeInvalid(field: string, value: unknown, detail: string): ErrorCause {
  return cause(CauseReason.TypeInvalid, field, value, detail);
}
export function notSupported(field: string, value: unknown, validValues: string[]): ErrorCause {
  const detail = validValues.length > 0 ? `supported values: ${validValues.map(goQuote).join(', ')}` : '';
  return cause(CauseReason.NotSupported, field, value, detail);
}
export function duplicate(field: string, value: unknown): ErrorCause {
  return cause(CauseReason.Duplicate, field, value, '');
}
export function forbidden(field: string, detail: string): ErrorCause {
  return cause(CauseReason.Forbidden, field, '', detail);
}
/** String longer than maxLength (apiextensions' TooLongMaxLength wording). */
export function tooLong(field: string, maxLength: number): ErrorCause {
  return cause(CauseReason.TooLong, field, '', maxLength >= 0 ? `may not be longer than ${maxLength}` : 'value is too long');
}
/** A list or map with more than max entries. */
export function tooMany(field: string, actual: number, max: number): ErrorCause {
  return cause(CauseReason.TooMany, field, actual >= 0 ? actual : OMIT, max >= 0 ? `must have at most ${max} items` : 'has too many items');
}
export function internal(field: string, detail: string): ErrorCause {
  return cause(CauseReason.Internal, field, null, detail);
}

// ---- Go value printing ----

/** Go's %q for a string (printable Unicode kept, control characters escaped). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * A JSON number as kube-apiserver prints it: whole numbers decode to int64 and print in full; other
 * numbers are float64 and print with Go's %v (see goFloat64).
 */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  // JSON integers decode to int64 in kube-apiserver and print in full.
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  return goFloat64(n);
}

/** Go's %v of a float64 (schema limits are float64 in kube-openapi: a maximum of 1e7 prints `1e+07`). */
export function goFloat64(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant = '0', expStr = '0'] = n.toExponential().split('e');
  const exp = Number(expStr);
  // strconv's shortest 'g': %e form when the exponent is < -4 or >= 6.
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/** Go's %#v of a JSON value held in an interface{} (maps print with sorted keys). */
export function goSyntax(v: unknown): string {
  if (v === null || v === undefined) return 'interface {}(nil)';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSyntax).join(', ')}}`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const parts = Object.keys(o)
      .sort()
      .map((k) => `${goQuote(k)}:${goSyntax(o[k])}`);
    return `map[string]interface {}{${parts.join(', ')}}`;
  }
  return typeof v === 'bigint' ? v.toString() : typeof v;
}

/** How field.Error prints a bad value: null, %v for numbers and booleans, %q strings, %#v otherwise. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return String(v);
  return goSyntax(v);
}

/** The JSON type name kube-openapi reports for a decoded value (`integer` for whole numbers). */
export function jsonTypeOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(v) ? 'integer' : 'number';
    case 'object':
      return 'object';
    default:
      return typeof v;
  }
}
