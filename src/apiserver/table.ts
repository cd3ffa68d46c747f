// Server-side printing and metadata-only answers, as kube-apiserver produces them:
//
// - meta.k8s.io Table (`Accept: …;as=Table;v=v1;g=meta.k8s.io`, what `kubectl get` asks for):
//   column definitions (Name first, the type's printer columns, Age), one row per object with its
//   cells and, per `?includeObject=`, a PartialObjectMetadata (default), the full object, or null.
//   Built-in kinds print like pkg/printers (Age a preformatted `5m` string column); custom resources
//   like apiextensions' tableconvertor (columns from JSONPaths, `date` columns also as `5m`, an Age
//   column only when the CRD declares no columns).
// - PartialObjectMetadata / PartialObjectMetadataList (metadata-only informers).
//
// Pure: the caller passes `now` for ages; nothing here reads the clock unless it is left out.
import { humanDuration } from '../api/index.js';
import { KumoError } from '../lib/errors.js';
import type { KObject, PrinterColumn, ResourceType } from '../api/types.js';
import { META_GROUP, type Conversion, type MetaVersion } from './negotiate.js';

// =====================================================================================
// JSONPath (the subset printer columns use: client-go's jsonpath with allowMissingKeys)
// =====================================================================================

type Literal = string | number | boolean | null;
type Step =
  | { t: 'field'; name: string }
  | { t: 'index'; index: number }
  | { t: 'slice'; start: number | undefined; end: number | undefined }
  | { t: 'wildcard' }
  | { t: 'filter'; path: Step[]; op: 'exists' | '==' | '!=' | '<' | '<=' | '>' | '>='; value: Literal };

export interface JSONPath {
  readonly source: string;
  /** Every match, in document order (client-go's FindResults for one `{…}` node). */
  find(obj: unknown): unknown[];
}

class PathSyntaxError extends Error {}

/**
 * Compiles a printer-column JSONPath: `.spec.replicas`, `.metadata.labels.app`,
 * `.metadata.annotations.example\.com/x`, `.metadata.labels['app.kubernetes.io/name']`, `.spec.list[0]`,
 * `.spec.list[-1]`, `.spec.list[*].name`, `.spec.list[1:3]`,
 * `.status.conditions[?(@.type=="Ready")].status` (==, !=, <, <=, >, >= and `[?(@.x)]`).
 * Optional `{…}` braces and a leading `$` are accepted. Throws on anything else.
 */
export function compileJSONPath(source: string): JSONPath {
  let s = source.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  const steps = parseSteps(s, source);
  return { source, find: (obj) => evaluate(steps, [obj]) };
}

function parseSteps(s: string, source: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new PathSyntaxError(`unrecognized JSONPath ${JSON.stringify(source)}: ${why}`);
  };
  const readName = (): string => {
    let name = '';
    while (i < s.length && s[i] !== '.' && s[i] !== '[') {
      if (s[i] === '\\' && i + 1 < s.length) {
        name += s[i + 1];
        i += 2;
        continue;
      }
      if (s[i] === ']' || s[i] === '(' || s[i] === ')' || s[i] === ' ') fail(`unexpected ${JSON.stringify(s[i])}`);
      name += s[i++];
    }
    return name;
  };
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      i++;
      if (s[i] === '.') fail('recursive descent (..) is not supported');
      if (s[i] === '*') {
        i++;
        steps.push({ t: 'wildcard' });
        continue;
      }
      if (i >= s.length) break; // a lone '.' is the object itself
      const name = readName();
      if (name === '') fail('empty field name');
      steps.push({ t: 'field', name });
    } else if (c === '[') {
      const end = findClosingBracket(s, i);
      if (end === -1) fail('unterminated [');
      steps.push(parseBracket(s.slice(i + 1, end).trim(), source, fail));
      i = end + 1;
    } else if (steps.length === 0) {
      // a path without its leading dot (`spec.replicas`)
      steps.push({ t: 'field', name: readName() });
    } else {
      fail(`unexpected ${JSON.stringify(c)}`);
    }
  }
  return steps;
}

function findClosingBracket(s: string, open: number): number {
  let quote: string | undefined;
  let depth = 0;
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ']' && depth === 0) return i;
  }
  return -1;
}

function parseBracket(inner: string, source: string, fail: (why: string) => never): Step {
  if (inner === '*') return { t: 'wildcard' };
  if (/^-?\d+$/.test(inner)) return { t: 'index', index: Number(inner) };
  const slice = /^(-?\d+)?:(-?\d+)?$/.exec(inner);
  if (slice) return { t: 'slice', start: slice[1] === undefined ? undefined : Number(slice[1]), end: slice[2] === undefined ? undefined : Number(slice[2]) };
  const quoted = /^(['"])(.*)\1$/s.exec(inner);
  if (quoted) return { t: 'field', name: (quoted[2] ?? '').replace(/\\(.)/g, '$1') };
  if (inner.startsWith('?(') && inner.endsWith(')')) return parseFilter(inner.slice(2, -1).trim(), source, fail);
  return fail(`unsupported subscript [${inner}]`);
}

function parseFilter(expr: string, source: string, fail: (why: string) => never): Step {
  const m = /^@((?:\.[^=!<>\s]+|\[[^\]]*\])*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+))?$/s.exec(expr);
  if (!m) return fail(`unsupported filter ?(${expr})`);
  const path = parseSteps(m[1] ?? '', source);
  if (m[2] === undefined) return { t: 'filter', path, op: 'exists', value: null };
  const raw = (m[3] ?? '').trim();
  let value: Literal;
  const q = /^(['"])(.*)\1$/s.exec(raw);
  if (q) value = (q[2] ?? '').replace(/\\(.)/g, '$1');
  else if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) value = Number(raw);
  else if (raw === 'true' || raw === 'false') value = raw === 'true';
  else if (raw === 'null') value = null;
  else return fail(`unsupported filter value ${raw}`);
  return { t: 'filter', path, op: m[2] as Exclude<Extract<Step, { t: 'filter' }>['op'], 'exists'>, value };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class IncomparableError extends Error {}

function compare(left: unknown, op: string, right: Literal): boolean {
  const sameKind = (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string') || (typeof left === 'boolean' && typeof right === 'boolean');
  if (op === '==' || op === '!=') {
    if (!sameKind && !(left === null && right === null)) throw new IncomparableError();
    return (left === right) === (op === '==');
  }
  if (typeof left === 'number' && typeof right === 'number') return ordered(left, op, right);
  if (typeof left === 'string' && typeof right === 'string') return ordered(left, op, right);
  throw new IncomparableError();
}

function ordered<T extends number | string>(l: T, op: string, r: T): boolean {
  switch (op) {
    case '<': return l < r;
    case '<=': return l <= r;
    case '>': return l > r;
    default: return l >= r;
  }
}

function evaluate(steps: Step[], start: unknown[]): unknown[] {
  let cur = start;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      switch (step.t) {
        case 'field':
          if (isRecord(v) && Object.hasOwn(v, step.name)) next.push(v[step.name]);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const i = step.index < 0 ? v.length + step.index : step.index;
            if (i >= 0 && i < v.length) next.push(v[i]);
          }
          break;
        case 'slice':
          if (Array.isArray(v)) {
            const norm = (x: number): number => Math.min(Math.max(x < 0 ? v.length + x : x, 0), v.length);
            next.push(...(v as unknown[]).slice(norm(step.start ?? 0), norm(step.end ?? v.length)));
          }
          break;
        case 'wildcard':
          if (Array.isArray(v)) next.push(...(v as unknown[]));
          else if (isRecord(v)) next.push(...Object.values(v));
          break;
        case 'filter': {
          // client-go fails the whole path when filtering a non-list or comparing unlike types.
          if (!Array.isArray(v)) return [];
          for (const el of v as unknown[]) {
            const lefts = evaluate(step.path, [el]);
            if (step.op === 'exists') {
              if (lefts.length > 0) next.push(el);
              continue;
            }
            if (lefts.length === 0) continue;
            if (lefts.length > 1) return [];
            try {
              if (compare(lefts[0], step.op, step.value)) next.push(el);
            } catch (e) {
              if (e instanceof IncomparableError) return [];
              throw e;
            }
          }
          break;
        }
      }
    }
    cur = next;
  }
  return cur;
}

// =====================================================================================
// Value formatting (Go's fmt and encoding/json, as the cells kube sends are made with them)
// =====================================================================================

/** Go's `%v` of a JSON number as kube decodes it: int64 when integral and in range, else float64 (`%g`, shortest). */
export function goNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 2 ** 63) return BigInt(x).toString();
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN';
  const [mant = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  // strconv's %g with the shortest precision switches to an exponent below 1e-4 and from 1e6 on.
  if (exp < -4 || exp >= 6) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(x);
}

/** Go's json.Marshal of a decoded JSON value: object keys sorted, `<`, `>`, `&`, U+2028/9 escaped. */
export function goJSON(v: unknown): string {
  const escape = (s: string): string => s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
  const walk = (x: unknown): string => {
    if (x === null || x === undefined) return 'null';
    if (Array.isArray(x)) return `[${x.map(walk).join(',')}]`;
    if (typeof x === 'object') {
      const o = x as Record<string, unknown>;
      return `{${Object.keys(o)
        .sort()
        .map((k) => `${escape(JSON.stringify(k))}:${walk(o[k])}`)
        .join(',')}}`;
    }
    if (typeof x === 'string') return escape(JSON.stringify(x));
    return JSON.stringify(x) ?? 'null';
  };
  return walk(v);
}

/** client-go's jsonpath PrintResults of one value: strings raw, maps and lists as JSON, null as `<nil>`. */
export function jsonPathText(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return goJSON(v);
}

// =====================================================================================
// Ages
// =====================================================================================

// One implementation of kube's duration.HumanDuration, shared with the built-in kinds' printers.
export { humanDuration };

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The age cell of a timestamp (metatable.ConvertToHumanReadableDateType): `<unknown>` when absent
 * or empty, `<invalid>` when not RFC 3339, else HumanDuration(now − t).
 */
export function ageCell(timestamp: unknown, now: number): string {
  if (timestamp === undefined || timestamp === null || timestamp === '' || timestamp === 'null') return '<unknown>';
  if (typeof timestamp !== 'string' || !RFC3339.test(timestamp)) return '<invalid>';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '<invalid>' : humanDuration(now - t);
}

// =====================================================================================
// Columns and rows
// =====================================================================================

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** metav1.ObjectMeta's swagger docs, which kube uses as the Name and Age column descriptions. */
export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

type TableResource = Pick<ResourceType, 'group' | 'version' | 'kind' | 'listKind' | 'printerColumns' | 'source'> & Partial<Pick<ResourceType, 'printRow'>>;

interface CompiledColumn {
  def: TableColumnDefinition;
  /** undefined: cell from printRow (built-in) or the object's age (the implicit Age column). */
  path?: JSONPath;
  implicitAge?: boolean;
}

/** A resource type's printer, compiled once (JSONPaths parsed) and cached per ResourceType object. */
export interface TablePrinter {
  readonly columns: readonly TableColumnDefinition[];
  /** The cells of one object's row: name, then the type's columns, then Age when implicit. */
  cells(obj: KObject, now: number): unknown[];
}

const printers = new WeakMap<object, TablePrinter>();

export function tablePrinter(rt: TableResource): TablePrinter {
  let p = printers.get(rt);
  if (!p) {
    p = buildPrinter(rt);
    printers.set(rt, p);
  }
  return p;
}

function columnDef(c: PrinterColumn): TableColumnDefinition {
  return { name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 };
}

function buildPrinter(rt: TableResource): TablePrinter {
  const nameCol: TableColumnDefinition = { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 };
  const compiled: CompiledColumn[] = rt.printerColumns.map((c) => {
    const col: CompiledColumn = { def: columnDef(c) };
    if (!rt.printRow || rt.source === 'crd') {
      try {
        col.path = compileJSONPath(c.jsonPath);
      } catch (e) {
        if (e instanceof PathSyntaxError) throw new KumoError('Internal', e.message);
        throw e;
      }
    }
    return col;
  });
  const hasAge = rt.printerColumns.some((c) => c.name.toLowerCase() === 'age');
  // kube: built-in printers always end with Age; a CRD gets Age only when it declares no columns.
  const addAge = !hasAge && (rt.source !== 'crd' || rt.printerColumns.length === 0);
  if (addAge) {
    compiled.push({
      def: { name: 'Age', type: rt.source === 'crd' ? 'date' : 'string', format: '', description: CREATION_TIMESTAMP_DESCRIPTION, priority: 0 },
      implicitAge: true,
    });
  }
  const usePrintRow = rt.printRow !== undefined && rt.source !== 'crd';
  const declared = rt.printerColumns.length;
  return {
    columns: [nameCol, ...compiled.map((c) => c.def)],
    cells(obj, now) {
      const meta = isRecord(obj.metadata) ? obj.metadata : {};
      const cells: unknown[] = [typeof meta['name'] === 'string' ? meta['name'] : ''];
      if (usePrintRow && rt.printRow) {
        const row = rt.printRow(obj);
        if (row.length !== declared) {
          throw new KumoError('Internal', `printer for ${rt.kind} returned ${row.length} cells for ${declared} columns`);
        }
        cells.push(...row);
      } else {
        for (const col of compiled) {
          if (col.implicitAge || !col.path) continue;
          cells.push(cellFor(col.def.type, col.path.find(obj), now));
        }
      }
      if (addAge) cells.push(ageCell(meta['creationTimestamp'], now));
      return cells;
    },
  };
}

/** apiextensions' tableconvertor: the first match, typed by the column's type; a type mismatch is null. */
function cellFor(type: string, results: unknown[], now: number): unknown {
  if (results.length === 0) return null;
  const v = results[0];
  switch (type) {
    case 'string':
      return jsonPathText(v);
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date':
      return typeof v === 'string' ? ageCell(v, now) : null;
    default:
      return null;
  }
}

// =====================================================================================
// Table, PartialObjectMetadata(List)
// =====================================================================================

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface TableRow {
  cells: unknown[];
  /** PartialObjectMetadata (default), the object (`Object`) or null (`None`). */
  object: KObject | null;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: ListMeta;
  /** null when headers are left out (watch events after the first), as kube sends it. */
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

export interface TableOptions {
  /** Default `Metadata`. */
  includeObject?: IncludeObject;
  /** Leave columnDefinitions out (null): every watch event after the first. */
  noHeaders?: boolean;
  /** meta.k8s.io version of the Table (default v1). */
  version?: MetaVersion;
  /** Milliseconds since the epoch for ages (default Date.now()). */
  now?: number;
}

/**
 * The `includeObject` query parameter (metav1.TableOptions): '' or absent means Metadata; anything
 * else than Metadata/Object/None is a BadRequest worded as kube's.
 */
export function parseIncludeObject(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject') ?? '';
  if (v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'Object' || v === 'None') return v;
  throw new KumoError(
    'BadRequest',
    `Unable to convert to Table as requested: includeObject: Invalid value: ${JSON.stringify(v)}: must be 'Metadata', 'Object', 'None', or empty`,
  );
}

function metaApiVersion(version: MetaVersion | undefined): string {
  return `${META_GROUP}/${version ?? 'v1'}`;
}

/** meta.AsPartialObjectMetadata: the whole metadata, kind PartialObjectMetadata. */
export function partialObjectMetadata(obj: KObject, version?: MetaVersion): KObject {
  return { kind: 'PartialObjectMetadata', apiVersion: metaApiVersion(version), metadata: isRecord(obj.metadata) ? { ...obj.metadata } : {} };
}

function listMetaOf(m: ListMeta): ListMeta {
  const out: ListMeta = {};
  if (m.resourceVersion !== undefined && m.resourceVersion !== '') out.resourceVersion = m.resourceVersion;
  if (m.continue !== undefined && m.continue !== '') out.continue = m.continue;
  if (m.remainingItemCount !== undefined) out.remainingItemCount = m.remainingItemCount;
  return out;
}

export function partialObjectMetadataList(items: readonly KObject[], listMeta: ListMeta, version?: MetaVersion): KObject {
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: metaApiVersion(version),
    metadata: { ...listMetaOf(listMeta) },
    items: items.map((o) => partialObjectMetadata(o, version)),
  };
}

function rowObject(obj: KObject, include: IncludeObject, version: MetaVersion | undefined): KObject | null {
  switch (include) {
    case 'Object':
      return obj;
    case 'None':
      return null;
    default:
      return partialObjectMetadata(obj, version);
  }
}

/** The Table of a list. */
export function listTable(rt: TableResource, items: readonly KObject[], listMeta: ListMeta, opts: TableOptions = {}): Table {
  const printer = tablePrinter(rt);
  const now = opts.now ?? Date.now();
  const include = opts.includeObject ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: metaApiVersion(opts.version),
    metadata: listMetaOf(listMeta),
    columnDefinitions: opts.noHeaders ? null : [...printer.columns],
    rows: items.map((o) => ({ cells: printer.cells(o, now), object: rowObject(o, include, opts.version) })),
  };
}

/** The Table of one object (a GET, or one watch event): its resourceVersion, one row. */
export function objectTable(rt: TableResource, obj: KObject, opts: TableOptions = {}): Table {
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const rv = typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : undefined;
  return listTable(rt, [obj], rv !== undefined ? { resourceVersion: rv } : {}, opts);
}

/**
 * Table-formatted watch events: the first table carries the column definitions, later ones do not
 * (kube's watchEmbeddedEncoder). One per watch; call it for ADDED/MODIFIED/DELETED objects.
 */
export function watchTableEncoder(rt: TableResource, opts: Omit<TableOptions, 'noHeaders' | 'now'> & { now?: () => number } = {}): (obj: KObject) => Table {
  let sentHeaders = false;
  return (obj) => {
    const t = objectTable(rt, obj, { ...opts, noHeaders: sentHeaders, now: opts.now ? opts.now() : Date.now() });
    sentHeaders = true;
    return t;
  };
}

/** Go's %T of what kube would have converted (its internal type), for the 406 texts. */
function goTypeName(rt: TableResource, list: boolean): string {
  if (rt.source === 'crd') return list ? '*unstructured.UnstructuredList' : '*unstructured.Unstructured';
  const pkg = rt.group === '' ? 'core' : (rt.group.split('.')[0] ?? rt.group);
  return `*${pkg}.${list ? rt.listKind : rt.kind}`;
}

/** What a handler produced, before conversion. */
export type HandlerResult = { type: 'object'; object: KObject } | { type: 'list'; items: readonly KObject[]; metadata: ListMeta };

/**
 * kube's doTransformObject for an `as=` conversion: Table (list or object), PartialObjectMetadata
 * (objects only) or PartialObjectMetadataList (lists only); the wrong shape is 406 with kube's text.
 * A Status object passes through unchanged.
 */
export function convertResult(rt: TableResource, result: HandlerResult, as: Conversion, opts: TableOptions = {}): KObject | Table {
  if (result.type === 'object' && result.object.kind === 'Status' && result.object.apiVersion === 'v1') return result.object;
  switch (as) {
    case 'Table':
      return result.type === 'list' ? listTable(rt, result.items, result.metadata, opts) : objectTable(rt, result.object, opts);
    case 'PartialObjectMetadata':
      if (result.type === 'list') {
        throw new KumoError('NotAcceptable', `you requested PartialObjectMetadata, but the requested object is a list (${goTypeName(rt, true)})`);
      }
      return partialObjectMetadata(result.object, opts.version);
    case 'PartialObjectMetadataList':
      if (result.type === 'object') {
        throw new KumoError('NotAcceptable', `you requested PartialObjectMetadataList, but the requested object is not a list (${goTypeName(rt, false)})`);
      }
      return partialObjectMetadataList(result.items, result.metadata, opts.version);
  }
}
