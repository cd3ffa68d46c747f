// Name, label and annotation rules of Kubernetes objects, with kube-apiserver's exact wording
// (k8s.io/apimachinery util/validation, api/validation/objectmeta.go, names.SimpleNameGenerator),
// so a client sees the same message from Kumo as from kube-apiserver. Pure functions, no I/O.
//
// The `is*` checks return kube's error strings (empty = valid); the `validate*` functions return
// Status causes (`{field, reason, message}`) whose message is field.Error's ErrorBody().
import { randomInt } from 'node:crypto';
import type { ErrorCause } from '../lib/errors.js';
import type { ResourceType } from '../api/types.js';

// ---- kube's message builders (util/validation) ----

export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

export function emptyError(): string {
  return 'must be non-empty';
}

/** validation.RegexError, including its double space before each " or ". */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((ex, i) => {
    if (i > 0) out += ' or ';
    out += `'${ex}', `;
  });
  return `${out}regex used for validation is '${fmt}')`;
}

/** Go's `%q` for a string (what field.Error prints for a string value). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

// ---- DNS names ----

export const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
export const DNS1123_LABEL_MAX_LENGTH = 63;
export const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const DNS1123_LABEL_ERR = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_ERR = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const dns1123LabelRe = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const dns1123SubdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

/** Lengths are in bytes, as Go's len() counts them. */
function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** validation.IsDNS1123Label. */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1123LabelRe.test(value)) {
    if (dns1123SubdomainRe.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

/** validation.IsDNS1123Subdomain. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

// ---- path segment names (apimachinery api/validation/path) ----

const NAME_MAY_NOT_BE = ['.', '..'];
const NAME_MAY_NOT_CONTAIN = ['/', '%'];

/** path.IsValidPathSegmentName: a name that can be one segment of a URL path and of a storage key. */
export function isValidPathSegmentName(name: string): string[] {
  for (const illegal of NAME_MAY_NOT_BE) {
    if (name === illegal) return [`may not be '${illegal}'`];
  }
  return isValidPathSegmentPrefix(name);
}

/** path.IsValidPathSegmentPrefix (a generateName may be `.`). */
export function isValidPathSegmentPrefix(name: string): string[] {
  const errs: string[] = [];
  for (const illegal of NAME_MAY_NOT_CONTAIN) {
    if (name.includes(illegal)) errs.push(`may not contain '${illegal}'`);
  }
  return errs;
}

// ---- labels and annotations ----

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_ERR = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_MAX_LENGTH = 63;
const qualifiedNameRe = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const LABEL_VALUE_MAX_LENGTH = 63;
const labelValueRe = new RegExp(`^${LABEL_VALUE_FMT}$`);

/** validation.IsQualifiedName: a label key, annotation key (lowercased first) or finalizer. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > QUALIFIED_NAME_MAX_LENGTH) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX_LENGTH)}`);
  if (!qualifiedNameRe.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** validation.IsValidLabelValue. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!labelValueRe.test(value)) errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

// ---- causes (field.Error shapes) ----

/** Go's `%v`/`%q`/`%#v` rendering of a bad value, as field.Error's ErrorBody() prints it. */
function showValue(value: unknown): string {
  if (typeof value === 'string') return goQuote(value);
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function invalidCause(field: string, value: unknown, detail: string): ErrorCause {
  return { field, reason: 'FieldValueInvalid', message: `Invalid value: ${showValue(value)}${detail ? `: ${detail}` : ''}` };
}

export function requiredCause(field: string, detail = ''): ErrorCause {
  return { field, reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' };
}

export function forbiddenCause(field: string, detail: string): ErrorCause {
  return { field, reason: 'FieldValueForbidden', message: detail ? `Forbidden: ${detail}` : 'Forbidden' };
}

export function tooLongCause(field: string, maxBytes: number): ErrorCause {
  return { field, reason: 'FieldValueTooLong', message: `Too long: may not be more than ${maxBytes} ${maxBytes === 1 ? 'byte' : 'bytes'}` };
}

/** `field: message` — one cause as field.Error.Error() prints it. */
export function causeText(c: ErrorCause): string {
  return c.field !== undefined ? `${c.field}: ${c.message}` : c.message;
}

/** ErrorList.ToAggregate().Error(): one message as is, several as `[a, b]` (duplicates dropped). */
export function aggregateText(causes: ErrorCause[]): string {
  const texts = [...new Set(causes.map(causeText))];
  return texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
}

/** validation.ValidateLabels (metadata.labels, a pod template's labels, a selector's matchLabels). */
export function validateLabels(labels: Record<string, string> | undefined, field = 'metadata.labels'): ErrorCause[] {
  const causes: ErrorCause[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const msg of isQualifiedName(k)) causes.push(invalidCause(field, k, msg));
    if (typeof v !== 'string') {
      causes.push(invalidCause(field, v, 'must be a string'));
      continue;
    }
    for (const msg of isValidLabelValue(v)) causes.push(invalidCause(field, v, msg));
  }
  return causes;
}

/** Total size (keys + values, in bytes) annotations may have: 256 KiB. */
export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

/** validation.ValidateAnnotations: keys are qualified names (case-insensitive); total ≤ 256 KiB. */
export function validateAnnotations(annotations: Record<string, string> | undefined, field = 'metadata.annotations'): ErrorCause[] {
  const causes: ErrorCause[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const msg of isQualifiedName(k.toLowerCase())) causes.push(invalidCause(field, k, msg));
    total += byteLength(k) + (typeof v === 'string' ? byteLength(v) : 0);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) causes.push(tooLongCause(field, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return causes;
}

// ---- object names ----

export type NameFormat = NonNullable<ResourceType['nameFormat']>;
/** A ValidateNameFunc: `prefix` is true for a generateName (a suffix will be appended). */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** kube's maskTrailingDash, with its quirk: the last *two* characters become `a`. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

export function nameIsDNSSubdomain(name: string, prefix: boolean): string[] {
  return isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
}

export function nameIsDNSLabel(name: string, prefix: boolean): string[] {
  return isDNS1123Label(prefix ? maskTrailingDash(name) : name);
}

/** path.ValidatePathSegmentName: RBAC kinds and others that allow any URL-safe name. */
export function nameIsPathSegment(name: string, prefix: boolean): string[] {
  return prefix ? isValidPathSegmentPrefix(name) : isValidPathSegmentName(name);
}

export function nameValidator(format: NameFormat | undefined): NameValidator {
  switch (format) {
    case 'dns-label':
      return nameIsDNSLabel;
    case 'path-segment':
      return nameIsPathSegment;
    default:
      return nameIsDNSSubdomain;
  }
}

/** Namespaces are DNS labels (ValidateNamespaceName). */
export const validateNamespaceName: NameValidator = nameIsDNSLabel;

/**
 * The name checks of ValidateObjectMeta, in kube's order: generateName, name, namespace, labels,
 * annotations. `requestNamespace` is where the object will live (already defaulted from the URL).
 */
export function validateObjectMetaNames(
  meta: { name?: unknown; generateName?: unknown; namespace?: unknown; labels?: unknown; annotations?: unknown },
  rt: Pick<ResourceType, 'namespaced' | 'nameFormat'>,
  field = 'metadata',
): ErrorCause[] {
  const causes: ErrorCause[] = [];
  const validate = nameValidator(rt.nameFormat);
  const generateName = typeof meta.generateName === 'string' ? meta.generateName : '';
  const name = typeof meta.name === 'string' ? meta.name : '';
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : '';
  if (generateName !== '') {
    for (const msg of validate(generateName, true)) causes.push(invalidCause(`${field}.generateName`, generateName, msg));
  }
  if (name === '') causes.push(requiredCause(`${field}.name`, 'name or generateName is required'));
  else for (const msg of validate(name, false)) causes.push(invalidCause(`${field}.name`, name, msg));
  if (rt.namespaced) {
    if (namespace === '') causes.push(requiredCause(`${field}.namespace`));
    else for (const msg of validateNamespaceName(namespace, false)) causes.push(invalidCause(`${field}.namespace`, namespace, msg));
  } else if (namespace !== '') {
    causes.push(forbiddenCause(`${field}.namespace`, 'not allowed on this type'));
  }
  if (meta.labels !== undefined && meta.labels !== null) causes.push(...validateLabels(meta.labels as Record<string, string>, `${field}.labels`));
  if (meta.annotations !== undefined && meta.annotations !== null) causes.push(...validateAnnotations(meta.annotations as Record<string, string>, `${field}.annotations`));
  return causes;
}

// ---- generateName (names.SimpleNameGenerator) ----

/** utilrand's alphabet: no vowels (no words), no 0/1/3 (look like o/l/e). */
export const GENERATED_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const GENERATED_SUFFIX_LENGTH = 5;
/** 63 − 5: the base is cut so that base + suffix fits a DNS label. */
export const MAX_GENERATED_NAME_BASE_LENGTH = 63 - GENERATED_SUFFIX_LENGTH;

/**
 * `base` (cut to 58 characters) plus 5 random characters from kube's alphabet. `random` returns an
 * integer in [0, n) and defaults to crypto-quality randomness; tests inject their own.
 */
export function generateName(base: string, random: (n: number) => number = defaultRandom): string {
  const cut = base.length > MAX_GENERATED_NAME_BASE_LENGTH ? base.slice(0, MAX_GENERATED_NAME_BASE_LENGTH) : base;
  let suffix = '';
  for (let i = 0; i < GENERATED_SUFFIX_LENGTH; i++) suffix += GENERATED_NAME_ALPHABET[random(GENERATED_NAME_ALPHABET.length)] ?? 'x';
  return cut + suffix;
}

function defaultRandom(n: number): number {
  return randomInt(n);
}
