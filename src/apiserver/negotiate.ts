// Content negotiation as kube-apiserver does it (endpoints/handlers/negotiation, goautoneg):
//
// - Accept → which serializer answers (JSON or YAML: Kumo speaks no protobuf/CBOR, so a client that
//   also accepts JSON — every real one does — gets JSON) and which conversion the client asked for
//   with `;as=Table;v=v1;g=meta.k8s.io` or `;as=PartialObjectMetadata(List);…` (v1 or v1beta1).
//   Nothing acceptable → 406 NotAcceptable.
// - Content-Type of a create/update body → JSON or YAML; of a PATCH → the patch type. Anything
//   else → 415 UnsupportedMediaType.
// - `?pretty` and the User-Agent rule (curl, Wget and browsers get indented output).
//
// What kubectl sends (checked in the 1.27 and 1.33 binaries):
//   get (human output, also -w): application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json
//   discovery:                   application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,…;v=v2beta1;…,application/json
//   typed clients (1.33):        application/vnd.kubernetes.protobuf,application/json
import { KumoError } from '../lib/errors.js';
import type { ResourceType } from '../api/types.js';

export const JSON_MEDIA_TYPE = 'application/json';
export const YAML_MEDIA_TYPE = 'application/yaml';
export type MediaType = typeof JSON_MEDIA_TYPE | typeof YAML_MEDIA_TYPE;

/** The serializers Kumo has, in kube's order of preference; only JSON can frame a watch stream. */
const SERIALIZERS: readonly { mediaType: MediaType; type: string; subType: string; stream: boolean }[] = [
  { mediaType: JSON_MEDIA_TYPE, type: 'application', subType: 'json', stream: true },
  { mediaType: YAML_MEDIA_TYPE, type: 'application', subType: 'yaml', stream: false },
];

export const META_GROUP = 'meta.k8s.io';
export type MetaVersion = 'v1' | 'v1beta1';
export type Conversion = 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList';

/** A conversion named by Accept parameters (`as`, `g`, `v`). */
export interface ConversionTarget {
  group: string;
  version: string;
  kind: string;
}

export interface OutputNegotiation {
  mediaType: MediaType;
  /** The conversion asked for; set only for meta.k8s.io targets (resource endpoints). */
  as?: Conversion;
  /** meta.k8s.io version of the conversion (`apiVersion: meta.k8s.io/<version>` of the answer). */
  version?: MetaVersion;
  /** The raw target of the chosen clause (any group: discovery uses apidiscovery.k8s.io). */
  target?: ConversionTarget;
  /** Indent the output (`;pretty=1`, `?pretty=true`, or a curl/Wget/browser User-Agent). */
  pretty: boolean;
  /** The clause's `stream` parameter (`watch`), if any. */
  stream?: string;
}

/**
 * Which conversions an endpoint can produce for a serializer (kube's AllowsMediaTypeTransform).
 * `target` is undefined when the clause asks for the plain object.
 */
export type ConversionRule = (target: ConversionTarget | undefined, mediaType: MediaType) => boolean;

/** Resource endpoints: plain objects, Table (JSON/YAML only), PartialObjectMetadata(List), in meta.k8s.io v1/v1beta1. */
export const RESOURCE_CONVERSIONS: ConversionRule = (target) => {
  if (target === undefined) return true;
  if (target.group !== META_GROUP || (target.version !== 'v1' && target.version !== 'v1beta1')) return false;
  return target.kind === 'Table' || target.kind === 'PartialObjectMetadata' || target.kind === 'PartialObjectMetadataList';
};

/** Plain objects only (no `as=`), e.g. for non-resource JSON documents. */
export const NO_CONVERSIONS: ConversionRule = (target) => target === undefined;

// ---- Accept parsing (goautoneg) ----

export interface AcceptClause {
  type: string;
  subType: string;
  q: number;
  params: Record<string, string>;
}

function trimSpaces(s: string): string {
  return s.replace(/^ +| +$/g, '');
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i === -1 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

/** goautoneg.ParseAccept: clauses sorted by q (highest first), specific types before wildcards. */
export function parseAccept(header: string): AcceptClause[] {
  const clauses: AcceptClause[] = [];
  for (const rawPart of header.split(',')) {
    const part = trimSpaces(rawPart);
    const [mediaRange, paramText] = splitOnce(part, ';');
    const [type0, subRest] = splitOnce(mediaRange, '/');
    const clause: AcceptClause = { type: trimSpaces(type0), subType: '', q: 1, params: {} };
    if (subRest === '') {
      if (clause.type !== '*') continue;
      clause.subType = '*';
    } else {
      const [sub, extra] = splitOnce(subRest, '/');
      if (extra !== '') continue;
      clause.subType = trimSpaces(sub);
    }
    let rest = paramText;
    while (rest.length > 0) {
      let p: string;
      [p, rest] = splitOnce(rest, ';');
      if (!p.includes('=')) continue;
      const [k, v] = splitOnce(p, '=');
      if (v.includes('=')) continue;
      const key = trimSpaces(k);
      if (key === 'q') {
        // Go parses the untrimmed text; anything unparsable counts as q=0.
        clause.q = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : 0;
      } else {
        clause.params[key] = trimSpaces(v);
      }
    }
    clauses.push(clause);
  }
  const rank = (c: AcceptClause): number => (c.type === '*' ? 2 : 0) + (c.subType === '*' ? 1 : 0);
  return clauses.sort((a, b) => (a.q !== b.q ? b.q - a.q : rank(a) - rank(b)));
}

// ---- output negotiation ----

export interface NegotiateOptions {
  /** What the endpoint can convert to (default: a resource endpoint's). */
  conversions?: ConversionRule;
  /** The request's query (for `?pretty`). */
  query?: URLSearchParams;
  userAgent?: string;
  /** A watch: the chosen serializer must be able to frame a stream (JSON). */
  watch?: boolean;
}

function notAcceptable(types: string[]): KumoError {
  return new KumoError('NotAcceptable', `only the following media types are accepted: ${types.join(', ')}`);
}

/** The 406 Kumo answers when a client accepts none of its media types. */
export function notAcceptableError(watch = false): KumoError {
  return watch ? notAcceptable(SERIALIZERS.filter((s) => s.stream).map((s) => `${s.mediaType};stream=watch`)) : notAcceptable(SERIALIZERS.map((s) => s.mediaType));
}

/**
 * Picks the response's media type and conversion from an Accept header, as NegotiateOutputMediaType
 * does: clauses in preference order, the first one a serializer and the endpoint can satisfy wins.
 * No Accept header means JSON. Throws NotAcceptable (406).
 */
export function negotiateOutput(accept: string | undefined, opts: NegotiateOptions = {}): OutputNegotiation {
  const conversions = opts.conversions ?? RESOURCE_CONVERSIONS;
  const prettyDefault = isPrettyPrint(opts.query, opts.userAgent);
  let chosen: OutputNegotiation | undefined;
  if (accept === undefined || accept === '') {
    chosen = { mediaType: JSON_MEDIA_TYPE, pretty: prettyDefault };
  } else {
    search: for (const clause of parseAccept(accept)) {
      for (const s of SERIALIZERS) {
        const typeMatch = (clause.type === s.type && (clause.subType === s.subType || clause.subType === '*')) || (clause.type === '*' && clause.subType === '*');
        if (!typeMatch) continue;
        const result = acceptClause(clause.params, s, conversions, prettyDefault);
        if (result) {
          chosen = result;
          break search;
        }
      }
    }
  }
  if (chosen === undefined) throw notAcceptableError(false);
  if (opts.watch && !SERIALIZERS.some((s) => s.mediaType === chosen.mediaType && s.stream)) throw notAcceptableError(true);
  return chosen;
}

const EMPTY_TARGET: ConversionTarget = { group: '', version: '', kind: '' };

function acceptClause(
  params: Record<string, string>,
  s: (typeof SERIALIZERS)[number],
  conversions: ConversionRule,
  prettyDefault: boolean,
): OutputNegotiation | undefined {
  let target: ConversionTarget | undefined;
  let pretty = false;
  let stream: string | undefined;
  for (const [k, v] of Object.entries(params)) {
    switch (k) {
      case 'as':
        target = { ...(target ?? EMPTY_TARGET), kind: v };
        break;
      case 'g':
        target = { ...(target ?? EMPTY_TARGET), group: v };
        break;
      case 'v':
        target = { ...(target ?? EMPTY_TARGET), version: v };
        break;
      case 'stream':
        if (v !== '' && (!s.stream || v !== 'watch')) return undefined;
        stream = v;
        break;
      case 'sv':
        if (v !== '' && v !== 'v1') return undefined;
        break;
      case 'pretty':
        pretty = v === '1';
        break;
      default:
      // unrecognized parameters are ignored (charset, export …)
    }
  }
  if (!conversions(target, s.mediaType)) return undefined;
  // A Table cannot be written as protobuf in kube; here every serializer is text, so only the rule applies.
  const out: OutputNegotiation = { mediaType: s.mediaType, pretty: pretty || prettyDefault };
  if (target !== undefined) {
    out.target = target;
    if (target.group === META_GROUP && (target.version === 'v1' || target.version === 'v1beta1') && isConversion(target.kind)) {
      out.as = target.kind;
      out.version = target.version;
    }
  }
  if (stream !== undefined && stream !== '') out.stream = stream;
  return out;
}

function isConversion(kind: string): kind is Conversion {
  return kind === 'Table' || kind === 'PartialObjectMetadata' || kind === 'PartialObjectMetadataList';
}

const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

/**
 * kube's isPrettyPrint: `?pretty=<bool>` decides when present and non-empty (strconv.ParseBool;
 * unparsable is false); otherwise curl, Wget and browsers (`Mozilla/5.0`) get indented output.
 */
export function isPrettyPrint(query: URLSearchParams | undefined, userAgent: string | undefined): boolean {
  const pp = query?.get('pretty');
  if (pp !== undefined && pp !== null && pp !== '') return TRUE_VALUES.has(pp);
  const ua = userAgent ?? '';
  return ua.startsWith('curl') || ua.startsWith('Wget') || ua.startsWith('Mozilla/5.0');
}

// ---- request bodies ----

export const BODY_MEDIA_TYPES: readonly MediaType[] = [JSON_MEDIA_TYPE, YAML_MEDIA_TYPE];

function unsupportedMediaType(accepted: readonly string[]): KumoError {
  return new KumoError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const mediaTypeRe = new RegExp(`^(${TOKEN})/(${TOKEN})$`);
const paramRe = new RegExp(`^\\s*${TOKEN}\\s*=\\s*(${TOKEN}|"(?:[^"\\\\]|\\\\.)*")\\s*$`);

/** Go's mime.ParseMediaType, reduced to what negotiation needs: the lowercase type, or undefined if malformed. */
export function parseMediaType(value: string): string | undefined {
  const [base = '', ...params] = value.split(';');
  const type = base.trim().toLowerCase();
  if (!mediaTypeRe.test(type)) return undefined;
  for (let i = 0; i < params.length; i++) {
    const p = params[i] ?? '';
    if (p.trim() === '' && i === params.length - 1) break; // a trailing ';' is ignored
    if (!paramRe.test(p)) return undefined;
  }
  return type;
}

/**
 * The serializer of a create/update body (NegotiateInputSerializer): JSON when the Content-Type is
 * absent; JSON or YAML by exact media type (parameters such as charset ignored); anything else,
 * protobuf included, is 415.
 */
export function negotiateInput(contentType: string | undefined): MediaType {
  if (contentType === undefined || contentType === '') return JSON_MEDIA_TYPE;
  const type = parseMediaType(contentType);
  const found = BODY_MEDIA_TYPES.find((m) => m === type);
  if (found === undefined) throw unsupportedMediaType(BODY_MEDIA_TYPES);
  return found;
}

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';
export type PatchType = typeof JSON_PATCH | typeof MERGE_PATCH | typeof STRATEGIC_MERGE_PATCH | typeof APPLY_PATCH;

/** The patch types a resource accepts, in kube's order: custom resources have no strategic merge patch. */
export function patchTypesFor(rt: Pick<ResourceType, 'source'>): PatchType[] {
  return rt.source === 'crd' ? [JSON_PATCH, MERGE_PATCH, APPLY_PATCH] : [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];
}

/**
 * The patch type of a PATCH body, as kube's PatchResource reads it: the Content-Type up to the first
 * `;`, compared exactly (no trimming, no case folding). Unsupported → 415 listing `supported`.
 */
export function negotiatePatch(contentType: string | undefined, supported: readonly PatchType[]): PatchType {
  let ct = contentType ?? '';
  const i = ct.indexOf(';');
  if (i > 0) ct = ct.slice(0, i);
  const found = supported.find((t) => t === ct);
  if (found === undefined) throw unsupportedMediaType(supported);
  return found;
}
