// Protobuf request bodies (`Content-Type: application/vnd.kubernetes.protobuf`), decoded into the JSON
// object the same request would carry as JSON.
//
// client-go typed clients (kubectl 1.33's `create configmap|secret|namespace|serviceaccount|token|
// role|rolebinding|clusterrole|clusterrolebinding|quota`, and controllers built on client-go) send their
// bodies as protobuf and never fall back to JSON for a request body; responses stay JSON (they accept
// it). The body is kube's protobuf envelope: the magic `k8s\0`, then a runtime.Unknown whose typeMeta
// names the kind and whose `raw` is the object's message (k8s.io/apimachinery runtime/serializer/
// protobuf). The object becomes what Go's encoding/json writes for the typed object (see
// protobuf/definitions.ts for the field rules): `kind` and `apiVersion` first, JSON field names,
// omitempty honoured, maps with sorted keys, bytes as base64, Time as RFC 3339, MicroTime with
// microseconds, int64 as a number.
//
// Kinds outside protobuf/definitions.ts answer 415 as kube-apiserver does for custom resources, which
// have no protobuf form; malformed bytes answer 400, never a crash.
import protobuf from 'protobufjs';
import { formatQuantity, parseQuantity } from '../api/builtin/quantity.js';
import type { KObject } from '../api/types.js';
import { KumoError } from '../lib/errors.js';
import { checkDecodedBody } from './bodylimits.js';
import { BODY_MEDIA_TYPES, parseMediaType } from './negotiate.js';
import { DELETE_OPTIONS_MESSAGE, K8S_PROTOS, KIND_MESSAGES } from './protobuf/definitions.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** The envelope's magic prefix, `k8s\0`. */
export const PROTOBUF_MAGIC: Readonly<Buffer> = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Whether a Content-Type names kube's protobuf serialization (parameters ignored, as in negotiation). */
export function isProtobuf(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType === '') return false;
  return parseMediaType(contentType) === PROTOBUF_MEDIA_TYPE;
}

/** The group/version/kind an endpoint expects, used when the envelope's typeMeta leaves them empty. */
export interface ProtobufDefaults {
  apiVersion?: string;
  kind?: string;
}

const TIME = 'k8s.io.apimachinery.pkg.apis.meta.v1.Time';
const MICRO_TIME = 'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime';
const FIELDS_V1 = 'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1';
const QUANTITY = 'k8s.io.apimachinery.pkg.api.resource.Quantity';
const UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';

const root = new protobuf.Root();
for (const text of K8S_PROTOS) protobuf.parse(text, root, { keepCase: true });
root.resolveAll();
const unknownType = root.lookupType(UNKNOWN);
const deleteOptionsType = root.lookupType(DELETE_OPTIONS_MESSAGE);
const kindTypes = new Map(Object.entries(KIND_MESSAGES).map(([k, name]) => [k, root.lookupType(name)]));

/** The parsed definitions (for tests that encode bodies from the same source). */
export function protobufRoot(): protobuf.Root {
  return root;
}

/**
 * Decodes a protobuf request body into the Kubernetes JSON object it stands for. `defaults` fills an
 * empty apiVersion/kind in the envelope as kube does from the endpoint. Throws KumoError: BadRequest
 * for malformed bytes or a missing kind/apiVersion, UnsupportedMediaType for a kind with no protobuf
 * form here.
 */
export function decodeProtobufObject(body: Buffer, defaults: ProtobufDefaults = {}): KObject {
  if (body.length === 0) throw badRequest('empty data');
  if (body.length < PROTOBUF_MAGIC.length || !body.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    throw badRequest(`provided data does not appear to be a protobuf message, expected prefix [${[...PROTOBUF_MAGIC].join(' ')}]`);
  }
  if (body.length === PROTOBUF_MAGIC.length) throw badRequest('empty body');
  const data = body.subarray(PROTOBUF_MAGIC.length);

  const unk = decodeChecked(unknownType, data);
  const tm = isRecord(unk.typeMeta) ? unk.typeMeta : {};
  let apiVersion = typeof tm.apiVersion === 'string' ? tm.apiVersion : '';
  let kind = typeof tm.kind === 'string' ? tm.kind : '';
  const goTypeMeta = `runtime.TypeMeta{APIVersion:${JSON.stringify(apiVersion)}, Kind:${JSON.stringify(kind)}}`;
  // copyKindDefaults: an empty kind, or an empty version (with its group), comes from the endpoint.
  if (kind === '' && defaults.kind !== undefined) kind = defaults.kind;
  if (versionOf(apiVersion) === '' && defaults.apiVersion !== undefined && versionOf(defaults.apiVersion) !== '') apiVersion = defaults.apiVersion;
  if (kind === '') throw badRequest(`Object 'Kind' is missing in '${goTypeMeta}'`);
  if (versionOf(apiVersion) === '') throw badRequest(`Object 'apiVersion' is missing in '${goTypeMeta}'`);

  // contentEncoding and contentType are ignored, as kube's protobuf serializer ignores them.
  const type = kind === 'DeleteOptions' && versionOf(apiVersion) === 'v1' ? deleteOptionsType : kindTypes.get(`${apiVersion}/${kind}`);
  if (type === undefined) {
    throw new KumoError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${BODY_MEDIA_TYPES.join(', ')}`);
  }
  const raw = unk.raw instanceof Uint8Array ? unk.raw : new Uint8Array(0);
  const msg = decodeChecked(type, raw);
  return { kind, apiVersion, ...toJSON(type, msg) };
}

function versionOf(apiVersion: string): string {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? apiVersion : apiVersion.slice(i + 1);
}

function badRequest(detail: string, cause?: unknown): KumoError {
  return new KumoError('BadRequest', `the body of the request could not be decoded: ${detail}`, {}, cause === undefined ? undefined : { cause });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- wire checks ----
//
// protobufjs's generated decoders trust the wire types and, at the top level, the lengths; gogo's
// (what kube-apiserver runs) reject a wrong wire type and a truncated message. So every message is
// walked once against its definition before protobufjs decodes it.

class WireError extends Error {}

function decodeChecked(type: protobuf.Type, data: Uint8Array): Record<string, unknown> {
  try {
    checkMessage(type, protobuf.Reader.create(data), data.length, 0);
    return type.decode(data) as unknown as Record<string, unknown>;
  } catch (err) {
    if (err instanceof WireError) throw badRequest(err.message, err);
    // Anything protobufjs still trips over (it should not, after the walk) is the bytes' fault.
    throw badRequest(`proto: ${type.name}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool', 'enum']);
const FIXED64_TYPES = new Set(['fixed64', 'sfixed64', 'double']);
const FIXED32_TYPES = new Set(['fixed32', 'sfixed32', 'float']);

/** The wire type a scalar or message of this proto type is written with (unpacked). */
function wireTypeOf(typeName: string, resolved: protobuf.ReflectionObject | null): number {
  if (resolved instanceof protobuf.Type) return 2;
  if (resolved instanceof protobuf.Enum || VARINT_TYPES.has(typeName)) return 0;
  if (FIXED64_TYPES.has(typeName)) return 1;
  if (FIXED32_TYPES.has(typeName)) return 5;
  return 2; // string, bytes
}

const MAX_DEPTH = 64;

function checkMessage(type: protobuf.Type, r: protobuf.Reader, end: number, depth: number): void {
  if (depth > MAX_DEPTH) throw new WireError(`proto: ${type.name}: nesting too deep`);
  while (r.pos < end) {
    const [id, wt] = readTag(r, end, type.name);
    const field = type.fieldsById[id];
    if (field === undefined) {
      skipField(r, wt, end, type.name, depth);
      continue;
    }
    if (field instanceof protobuf.MapField) {
      if (wt !== 2) throw new WireError(`proto: wrong wireType = ${wt} for field ${field.name}`);
      const len = readLength(r, end, type.name);
      checkMapEntry(field, r, r.pos + len, depth + 1);
      continue;
    }
    const want = wireTypeOf(field.type, field.resolvedType);
    if (field.repeated && want !== 2 && wt === 2) {
      // packed repeated scalars
      const stop = r.pos + readLength(r, end, type.name);
      while (r.pos < stop) checkValue(field.type, field.resolvedType, want, r, stop, type.name, depth);
      continue;
    }
    if (wt !== want) throw new WireError(`proto: wrong wireType = ${wt} for field ${field.name}`);
    checkValue(field.type, field.resolvedType, wt, r, end, type.name, depth);
  }
  if (r.pos !== end) throw new WireError('unexpected EOF');
}

function checkMapEntry(field: protobuf.MapField, r: protobuf.Reader, end: number, depth: number): void {
  while (r.pos < end) {
    const [id, wt] = readTag(r, end, field.name);
    if (id !== 1 && id !== 2) {
      skipField(r, wt, end, field.name, depth);
      continue;
    }
    const [typeName, resolved] = id === 1 ? [field.keyType, null] : [field.type, field.resolvedType];
    const want = wireTypeOf(typeName, resolved);
    if (wt !== want) throw new WireError(`proto: wrong wireType = ${wt} for field ${field.name}`);
    checkValue(typeName, resolved, wt, r, end, field.name, depth);
  }
  if (r.pos !== end) throw new WireError('unexpected EOF');
}

/** One value of the field's own wire type: a message is walked, anything else checked and skipped. */
function checkValue(typeName: string, resolved: protobuf.ReflectionObject | null, wt: number, r: protobuf.Reader, end: number, where: string, depth: number): void {
  if (resolved instanceof protobuf.Type) {
    const len = readLength(r, end, where);
    checkMessage(resolved, r, r.pos + len, depth + 1);
    return;
  }
  if (wt === 0 && !LONG_VARINT_TYPES.has(typeName)) {
    // protobufjs reads 32-bit varints as 5 bytes or 10 (a negative int32); refuse the lengths between,
    // which no encoder writes and which it would misread.
    const n = readVarint(r, end, where)[1];
    if (n > 5 && n < 10) throw new WireError(`proto: ${where}: integer overflow`);
    return;
  }
  skipField(r, wt, end, where, depth);
}

const LONG_VARINT_TYPES = new Set(['int64', 'uint64', 'sint64']);

/** A field tag: its number and wire type (read as protobufjs reads it, a 32-bit varint). */
function readTag(r: protobuf.Reader, end: number, where: string): [number, number] {
  const [tag, n] = readVarint(r, end, where);
  if (n > 5 || tag > 0xffffffffn) throw new WireError(`proto: ${where}: illegal tag (too long)`);
  const t = Number(tag);
  const id = t >>> 3;
  const wt = t & 7;
  if (wt === 4) throw new WireError(`proto: ${where}: wiretype end group for non-group`);
  if (id <= 0) throw new WireError(`proto: ${where}: illegal tag ${id} (wire type ${wt})`);
  return [id, wt];
}

/** A varint of up to 64 bits within `end`, and how many bytes it took. */
function readVarint(r: protobuf.Reader, end: number, where: string): [bigint, number] {
  let v = 0n;
  for (let i = 0; ; i++) {
    if (i >= 10) throw new WireError(`proto: ${where}: integer overflow`);
    if (r.pos >= end) throw new WireError('unexpected EOF');
    const b = r.buf[r.pos++] ?? 0;
    v |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) return [v & 0xffffffffffffffffn, i + 1];
  }
}

function readLength(r: protobuf.Reader, end: number, where: string): number {
  const [len, n] = readVarint(r, end, where);
  if (n > 5 || len > 0x7fffffffn) throw new WireError(`proto: ${where}: invalid negative length`);
  if (len > BigInt(end - r.pos)) throw new WireError('unexpected EOF');
  return Number(len);
}

function skipField(r: protobuf.Reader, wt: number, end: number, where: string, depth: number): void {
  switch (wt) {
    case 0:
      readVarint(r, end, where);
      return;
    case 1:
    case 5: {
      const n = wt === 1 ? 8 : 4;
      if (r.pos + n > end) throw new WireError('unexpected EOF');
      r.pos += n;
      return;
    }
    case 2: {
      const len = readLength(r, end, where);
      r.pos += len;
      return;
    }
    case 3: {
      // a group: skip fields until its end-group tag
      if (depth > MAX_DEPTH) throw new WireError(`proto: ${where}: nesting too deep`);
      for (;;) {
        const [tag, n] = readVarint(r, end, where);
        if (n > 5) throw new WireError(`proto: ${where}: illegal tag (too long)`);
        const inner = Number(tag & 7n);
        if (inner === 4) return;
        skipField(r, inner, end, where, depth + 1);
      }
    }
    default:
      throw new WireError(`proto: ${where}: illegal wireType ${wt}`);
  }
}

// ---- JSON ----

type GoField = { ptr: boolean; always: boolean };

function goField(field: protobuf.Field): GoField {
  const opt: unknown = field.options?.['(go)'];
  const parts = typeof opt === 'string' ? opt.split(',') : [];
  return { ptr: parts.includes('ptr'), always: parts.includes('always') };
}

/** What encoding/json writes for the typed Go object this decoded message stands for. */
function toJSON(type: protobuf.Type, msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const name = field.name;
    const set = Object.hasOwn(msg, name);
    const value = msg[name];
    const go = goField(field);
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;

    if (field instanceof protobuf.MapField) {
      const entries = isRecord(value) ? Object.keys(value) : [];
      if (entries.length === 0) {
        if (go.always) out[name] = null;
        continue;
      }
      const m: Record<string, unknown> = {};
      // defineProperty keeps a key such as `__proto__` (a valid ConfigMap key) an own property, as JSON.parse does.
      for (const k of entries.sort(goStringCompare)) {
        Object.defineProperty(m, k, { value: scalarOrMessage(field, sub, (value as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
      }
      out[name] = m;
      continue;
    }
    if (field.repeated) {
      const list = Array.isArray(value) ? (value as unknown[]) : [];
      if (list.length === 0) {
        if (go.always) out[name] = null;
        continue;
      }
      out[name] = list.map((v) => scalarOrMessage(field, sub, v));
      continue;
    }
    if (sub !== undefined) {
      if (!set) {
        if (go.ptr) {
          if (go.always) out[name] = null;
          continue;
        }
        // A struct value is always written; a Time value that was never set is the zero time.
        out[name] = messageJSON(sub, undefined);
        continue;
      }
      out[name] = messageJSON(sub, value);
      continue;
    }
    // scalar
    if (go.ptr) {
      if (set) out[name] = scalar(field, value);
      else if (go.always) out[name] = null;
      continue;
    }
    const v = scalar(field, set ? value : field.typeDefault);
    if (!go.always && isZero(v)) continue;
    out[name] = v;
  }
  return out;
}

function scalarOrMessage(field: protobuf.Field, sub: protobuf.Type | undefined, v: unknown): unknown {
  return sub !== undefined ? messageJSON(sub, v) : scalar(field, v);
}

function messageJSON(type: protobuf.Type, value: unknown): unknown {
  const msg = isRecord(value) ? value : undefined;
  switch (type.fullName.slice(1)) {
    case TIME:
      return formatTime(msg, false);
    case MICRO_TIME:
      return formatTime(msg, true);
    case FIELDS_V1:
      return fieldsV1JSON(msg);
    case QUANTITY:
      return quantityJSON(msg);
    default:
      return toJSON(type, msg ?? (type.create() as unknown as Record<string, unknown>));
  }
}

function scalar(field: protobuf.Field, v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (isLong(v)) return longToNumber(v);
  if (field.type === 'bytes' && (v === undefined || v === null)) return '';
  return v;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === null || v === undefined;
}

/** Go compares map keys as byte strings; for the UTF-16 JS strings here, code points order the same. */
function goStringCompare(a: string, b: string): number {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}

// Go's zero time.Time in Unix seconds (January 1, year 1, UTC).
const GO_ZERO_TIME_UNIX = -62135596800;

/**
 * metav1.Time (`2006-01-02T15:04:05Z`, the nanos dropped as kube's Unmarshal drops them) or metav1.MicroTime
 * (`2006-01-02T15:04:05.000000Z`); null for the zero time, as their MarshalJSON writes it.
 */
function formatTime(msg: Record<string, unknown> | undefined, micro: boolean): string | null {
  if (msg === undefined || (!Object.hasOwn(msg, 'seconds') && !Object.hasOwn(msg, 'nanos'))) return null;
  let seconds = toInt(msg.seconds);
  let nanos = micro ? toInt(msg.nanos) : 0;
  // time.Unix normalizes nanos outside [0, 1e9).
  if (nanos < 0 || nanos >= 1e9) {
    seconds += Math.floor(nanos / 1e9);
    nanos = ((nanos % 1e9) + 1e9) % 1e9;
  }
  if (seconds === GO_ZERO_TIME_UNIX && nanos === 0) return null;
  const d = new Date(seconds * 1000);
  if (!Number.isFinite(d.getTime())) throw badRequest(`proto: time ${seconds}s is out of range`);
  const year = d.getUTCFullYear();
  const yyyy = year < 0 ? `-${pad(-year, 4)}` : pad(year, 4);
  const base = `${yyyy}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return micro ? `${base}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${base}Z`;
}

function toInt(v: unknown): number {
  if (typeof v === 'number') return v;
  if (isLong(v)) return longToNumber(v);
  return 0;
}

/** An int64 as protobufjs decodes it (a Long when the `long` package is there). */
function isLong(v: unknown): v is protobuf.Long {
  return typeof v === 'object' && v !== null && typeof (v as { low?: unknown }).low === 'number' && typeof (v as { high?: unknown }).high === 'number';
}

/** int64 → number, as JSON.parse reads a large integer (exact up to 2^53). */
function longToNumber(v: protobuf.Long): number {
  return protobuf.util.LongBits.from(v).toNumber(v.unsigned);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** resource.Quantity is written as its canonical string, as its MarshalJSON does (`0` when unset). */
function quantityJSON(msg: Record<string, unknown> | undefined): string {
  const text = typeof msg?.string === 'string' ? msg.string : '';
  if (text === '') return '0';
  const q = parseQuantity(text);
  if (!q) throw badRequest(`proto: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  return formatQuantity(q);
}

/** metav1.FieldsV1 is written as its raw JSON (null when empty). */
function fieldsV1JSON(msg: Record<string, unknown> | undefined): unknown {
  const raw = msg?.Raw;
  if (!(raw instanceof Uint8Array) || raw.length === 0) return null;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')) as unknown;
  } catch (err) {
    throw badRequest(`proto: FieldsV1: invalid JSON: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  checkDecodedBody(v, 'proto: FieldsV1');
  return v;
}
