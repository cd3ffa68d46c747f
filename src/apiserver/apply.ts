// The request side of managedFields and server-side apply: who the field manager of a write is (the
// `fieldManager` query parameter, else the User-Agent's prefix, as kube-apiserver's
// managerOrUserAgent), the checks kube makes on Create/Update/PatchOptions, and the decoding of an
// `application/apply-patch+yaml` body. The field ownership itself is api/patch/fieldmanager.
import { KumoError, type ErrorCause } from '../lib/errors.js';
import { FIELD_MANAGER_MAX_LENGTH } from '../api/patch/fieldmanager.js';
import type { KObject } from '../api/types.js';
import { parseYamlBody } from './bodylimits.js';
import { isObject } from './object.js';

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function invalidOptions(kind: OptionsKind, causes: ErrorCause[]): KumoError {
  const texts = causes.map((c) => `${c.field ?? ''}: ${c.message}`);
  const list = texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
  return new KumoError('Invalid', `${kind}.meta.k8s.io "" is invalid: ${list}`, { group: 'meta.k8s.io', kind, causes });
}

/** kube's ValidateFieldManager: at most 128 bytes, printable characters only. */
function fieldManagerCauses(fm: string): ErrorCause[] {
  const causes: ErrorCause[] = [];
  if (Buffer.byteLength(fm) > FIELD_MANAGER_MAX_LENGTH) {
    causes.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes`, field: 'fieldManager' });
  }
  let offset = 0;
  for (const ch of fm) {
    if (!PRINTABLE.test(ch)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(fm)}: invalid characters at offset ${offset}`, field: 'fieldManager' });
    offset += Buffer.byteLength(ch);
  }
  return causes;
}

/** kube's prefixFromUserAgent: up to the first `/`, printable characters, at most 128 bytes. */
export function managerFromUserAgent(userAgent: string): string {
  let out = '';
  for (const ch of userAgent.split('/')[0] ?? '') {
    if (!PRINTABLE.test(ch)) continue;
    if (Buffer.byteLength(out + ch) > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
  }
  return out;
}

/**
 * The field manager of a create, update or patch, with kube's option checks (422 on
 * `<kind>.meta.k8s.io`): a valid `fieldManager`, required for apply; `force` only for apply.
 */
export function writeFieldManager(q: URLSearchParams, userAgent: string, kind: OptionsKind, isApply = false): string {
  const fm = q.get('fieldManager') ?? '';
  const causes: ErrorCause[] = [];
  if (kind === 'PatchOptions') {
    if (!isApply && q.has('force')) causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified for non-apply patch', field: 'force' });
    if (isApply && fm === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' });
  }
  causes.push(...fieldManagerCauses(fm));
  if (causes.length > 0) throw invalidOptions(kind, causes);
  return fm !== '' ? fm : managerFromUserAgent(userAgent);
}

/** An apply configuration: a YAML (or JSON) object. */
export function decodeApplyPatch(body: Buffer): KObject {
  let v: unknown;
  try {
    v = parseYamlBody(body);
  } catch (err) {
    throw new KumoError('BadRequest', `error decoding YAML: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}`);
  }
  if (!isObject(v)) throw new KumoError('BadRequest', `error decoding YAML: the apply configuration must be an object, not ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`);
  return v;
}
