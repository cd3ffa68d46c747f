// CRD validation rules (x-kubernetes-validations), as apiextensions-apiserver runs them: every rule
// of a schema is compiled once (per schema object, so once per ResourceType) with @bufbuild/cel
// (docs/adr/0005-cel.md), then evaluated at each node of an object that has rules, with `self` = the
// value there and `oldSelf` = the old value at the same path on update. A false rule is a cause at
// the node (or the rule's fieldPath) with the rule's message, messageExpression or
// `failed rule: <rule>`, and its reason; evaluation errors are causes too, never a 500.
//
// Kubernetes' additions over standard CEL that are here: the strings extension (from @bufbuild/cel),
// the list library (isSorted, sum, min, max, indexOf, lastIndexOf), the sets extension, and schema
// typing of values (integer → int, number → double, format date/date-time → timestamp, duration →
// duration, byte → bytes, escaped property names such as `self.foo__dash__bar`). Not here: cel.bind,
// optional types (`?.`, optionalOldSelf), two-variable comprehensions, regex find/findAll, and the
// url/ip/cidr/quantity/semver/format libraries; set/map lists compare in order.
//
// Cost: a rule's cost is one unit per comprehension iteration (all, exists, exists_one, map,
// filter) and one per list element read by the list library, plus one per evaluation. A rule may
// spend PER_CALL_LIMIT units and an object RUNTIME_COST_BUDGET in all (kube's two limits, scaled to
// these coarser units), and all rules of one object stop after TIME_LIMIT_MS of wall clock, checked
// as units are spent (a safety net for expensive loop bodies). Comprehensions are instrumented by
// rewriting each one's loop condition into a call of an internal function that spends a unit (see
// instrument()).
import { CelScalar, celEnv, celError, celFunc, celMethod, isCelError, isCelList, isCelMap, isCelUint, listType, parse, plan } from '@bufbuild/cel';
import type { CelEnv, CelList, CelResult, CelValue } from '@bufbuild/cel';
import { strings as stringsExtension } from '@bufbuild/cel/ext';
import { create } from '@bufbuild/protobuf';
import { DurationSchema, TimestampSchema } from '@bufbuild/protobuf/wkt';
import type { ErrorCause } from '../../lib/errors.js';
import type { JSONSchemaProps } from '../types.js';
import { CauseReason, child, duplicate, forbidden, goQuote, index, invalid, key, notSupported, required } from './field.js';

// One unit here (a comprehension iteration with its body) costs about 1 µs on a 2-core machine
// and is worth several of kube's units, so the limits are a tenth of kube's PerCallLimit and
// RuntimeCELCostBudget: about 0.1 s per rule and 1 s per object, as kube aims for.
/** A rule's cost limit. */
export const PER_CALL_LIMIT = 100_000;
/** The cost budget of all rules of one object. */
export const RUNTIME_COST_BUDGET = 1_000_000;
/** Wall-clock ceiling for all rules of one object. */
export const TIME_LIMIT_MS = 1000;

export interface CelLimits {
  perCallLimit?: number;
  costBudget?: number;
  timeLimitMs?: number;
}

type ValidationRule = NonNullable<JSONSchemaProps['x-kubernetes-validations']>[number] & { optionalOldSelf?: boolean };
type Parsed = ReturnType<typeof parse>;
type Expr = Parsed['expr'];
type Program = (ctx: Record<string, unknown>) => CelResult;

const SUPPORTED_REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

// ---- cost metering ----

class CostExceeded extends Error {}

class Meter {
  used = 0;
  exceeded: 'call' | 'budget' | 'time' | undefined;
  private sinceClock = 0;
  constructor(
    private readonly limit: number,
    private readonly limitKind: 'call' | 'budget',
    private readonly deadline: number,
  ) {}
  charge(n: number): void {
    if (this.exceeded) throw new CostExceeded('cost limit exceeded');
    this.used += n;
    if (this.used > this.limit) this.exceeded = this.limitKind;
    this.sinceClock += n;
    if (this.sinceClock >= 256) {
      this.sinceClock = 0;
      if (performance.now() > this.deadline) this.exceeded = 'time';
    }
    if (this.exceeded) throw new CostExceeded('cost limit exceeded');
  }
}

/** The meter of the evaluation running now (evaluation is synchronous). */
let meter: Meter | undefined;
function charge(n: number): void {
  meter?.charge(n);
}

const TICK = '@kumo_tick';

// ---- the environment: standard CEL, the strings extension, and Kubernetes' list and sets libraries ----

function cmp(a: CelValue, b: CelValue): number {
  const num = (x: CelValue): number | bigint | undefined => (typeof x === 'bigint' || typeof x === 'number' ? x : isCelUint(x) ? x.value : undefined);
  const na = num(a);
  const nb = num(b);
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const ta = timeParts(a);
  const tb = timeParts(b);
  if (ta && tb && ta.kind === tb.kind) return ta.s < tb.s ? -1 : ta.s > tb.s ? 1 : ta.n - tb.n;
  throw new Error('no such overload');
}

function timeParts(v: CelValue): { kind: string; s: bigint; n: number } | undefined {
  if (typeof v !== 'object' || v === null || !('$typeName' in v)) return undefined;
  const m = v as unknown as { $typeName: string; seconds: bigint; nanos: number };
  if (m.$typeName !== 'google.protobuf.Timestamp' && m.$typeName !== 'google.protobuf.Duration') return undefined;
  return { kind: m.$typeName, s: m.seconds, n: m.nanos };
}

function celEquals(a: CelValue, b: CelValue): boolean {
  if (isCelList(a) && isCelList(b)) {
    if (a.size !== b.size) return false;
    for (let i = 0; i < a.size; i++) if (!celEquals(a.get(i) as CelValue, b.get(i) as CelValue)) return false;
    return true;
  }
  if (isCelMap(a) && isCelMap(b)) {
    if (a.size !== b.size) return false;
    for (const k of a.keys()) {
      if (!b.has(k)) return false;
      if (!celEquals(a.get(k) as CelValue, b.get(k) as CelValue)) return false;
    }
    return true;
  }
  try {
    return cmp(a, b) === 0;
  } catch {
    return a === b;
  }
}

function items(list: CelList): CelValue[] {
  charge(list.size);
  return Array.from(list);
}

const LIST = listType(CelScalar.DYN);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function sum(this: CelList): CelValue {
  const xs = items(this);
  if (xs.length === 0) return 0n;
  const first = xs[0];
  if (typeof first === 'bigint') {
    let total = 0n;
    for (const x of xs) {
      if (typeof x !== 'bigint') throw new Error('no such overload');
      total += x;
      if (total > INT64_MAX || total < INT64_MIN) throw new Error('integer overflow');
    }
    return total;
  }
  if (typeof first === 'number') {
    let total = 0;
    for (const x of xs) {
      if (typeof x !== 'number') throw new Error('no such overload');
      total += x;
    }
    return total;
  }
  const d = timeParts(first as CelValue);
  if (d?.kind === 'google.protobuf.Duration') {
    let nanos = 0n;
    for (const x of xs) {
      const p = timeParts(x);
      if (p?.kind !== 'google.protobuf.Duration') throw new Error('no such overload');
      nanos += p.s * 1_000_000_000n + BigInt(p.n);
    }
    return create(DurationSchema, { seconds: nanos / 1_000_000_000n, nanos: Number(nanos % 1_000_000_000n) }) as unknown as CelValue;
  }
  throw new Error('no such overload');
}

function extreme(name: string, sign: number): (this: CelList) => CelValue {
  return function (this: CelList): CelValue {
    const xs = items(this);
    if (xs.length === 0) throw new Error(`${name} called on empty list`);
    let best = xs[0] as CelValue;
    for (const x of xs) if (cmp(x, best) * sign > 0) best = x;
    return best;
  };
}

/** Kubernetes' list library and the sets extension (k8s.io/apiserver/pkg/cel/library, cel-go ext.Sets). */
const kubeLibrary = [
  celMethod('isSorted', LIST, [], CelScalar.BOOL, function (this: CelList) {
    const xs = items(this);
    for (let i = 1; i < xs.length; i++) if (cmp(xs[i - 1] as CelValue, xs[i] as CelValue) > 0) return false;
    return true;
  }),
  celMethod('sum', LIST, [], CelScalar.DYN, sum),
  celMethod('min', LIST, [], CelScalar.DYN, extreme('min', -1)),
  celMethod('max', LIST, [], CelScalar.DYN, extreme('max', 1)),
  celMethod('indexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (this: CelList, x: CelValue) {
    const xs = items(this);
    return BigInt(xs.findIndex((y) => celEquals(y, x)));
  }),
  celMethod('lastIndexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (this: CelList, x: CelValue) {
    const xs = items(this);
    for (let i = xs.length - 1; i >= 0; i--) if (celEquals(xs[i] as CelValue, x)) return BigInt(i);
    return -1n;
  }),
  celFunc('sets.contains', [LIST, LIST], CelScalar.BOOL, (a: CelList, b: CelList) => {
    const xs = items(a);
    return items(b).every((y) => {
      charge(xs.length);
      return xs.some((x) => celEquals(x, y));
    });
  }),
  celFunc('sets.equivalent', [LIST, LIST], CelScalar.BOOL, (a: CelList, b: CelList) => {
    const xs = items(a);
    const ys = items(b);
    charge(xs.length * ys.length);
    return xs.every((x) => ys.some((y) => celEquals(x, y))) && ys.every((y) => xs.some((x) => celEquals(x, y)));
  }),
  celFunc('sets.intersects', [LIST, LIST], CelScalar.BOOL, (a: CelList, b: CelList) => {
    const xs = items(a);
    const ys = items(b);
    charge(xs.length * ys.length);
    return xs.some((x) => ys.some((y) => celEquals(x, y)));
  }),
  celFunc(TICK, [CelScalar.DYN], CelScalar.DYN, (x: CelValue) => {
    charge(1);
    return x;
  }),
];

let envInstance: CelEnv | undefined;
function env(): CelEnv {
  envInstance ??= celEnv({ funcs: [...stringsExtension, ...kubeLibrary] });
  return envInstance;
}

// ---- values: JSON + schema → CEL values ----

const RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** A property name as CEL sees it (`foo-bar` → `foo__dash__bar`), or undefined when it cannot be accessed. */
export function escapeName(name: string): string | undefined {
  if (RESERVED.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_./-][a-zA-Z0-9_./-]*$/.test(name)) return undefined;
  return name.replace(/__|[./-]/g, (m) => (m === '__' ? '__underscores__' : m === '.' ? '__dot__' : m === '-' ? '__dash__' : '__slash__'));
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isDyn(s: JSONSchemaProps | undefined): boolean {
  return !s || s['x-kubernetes-int-or-string'] === true || (s.type === undefined && s['x-kubernetes-preserve-unknown-fields'] === true) || s.type === undefined;
}

/** A JSON value of no known schema: whole numbers are int, other numbers double. */
function dynValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) && Number.isSafeInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(dynValue);
  if (isObj(v)) {
    const m = new Map<string, unknown>();
    for (const [k, x] of Object.entries(v)) m.set(k, dynValue(x));
    return m;
  }
  return v;
}

const GO_DURATION = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h|d|w))+$/;
const UNIT_NANOS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9, w: 604800e9 };

function durationValue(s: string): unknown {
  const t = s.trim();
  const m = GO_DURATION.exec(t);
  if (!m) return s;
  let nanos = 0;
  for (const part of t.slice(m[1]?.length ?? 0).matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w)/g)) nanos += Number(part[1]) * (UNIT_NANOS[part[2] ?? 's'] ?? 1e9);
  const total = BigInt(Math.round(nanos)) * (m[1] === '-' ? -1n : 1n);
  return create(DurationSchema, { seconds: total / 1_000_000_000n, nanos: Number(total % 1_000_000_000n) });
}

function timestampValue(s: string): unknown {
  const ms = Date.parse(s.replace(' ', 'T'));
  if (Number.isNaN(ms)) return s;
  const frac = /\.(\d+)/.exec(s)?.[1];
  const seconds = Math.floor(ms / 1000);
  const nanos = frac !== undefined ? Number(frac.slice(0, 9).padEnd(9, '0')) : (ms - seconds * 1000) * 1e6;
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos });
}

/**
 * A decoded JSON value as the CEL value of its schema. `root` marks a resource root (the object or
 * an embedded resource), where only apiVersion, kind, metadata.name and metadata.generateName are
 * visible, as in kube.
 */
export function toCel(v: unknown, s: JSONSchemaProps | undefined, root = false): unknown {
  if (v === null || v === undefined) return null;
  if (isDyn(s) && !(s?.properties || s?.additionalProperties || s?.items)) return dynValue(v);
  const schema = s as JSONSchemaProps;
  switch (typeof v) {
    case 'number':
      if (schema.type === 'integer' || (schema.type !== 'number' && Number.isInteger(v))) return Number.isSafeInteger(v) ? BigInt(v) : v;
      return v;
    case 'string':
      if (schema.type !== 'string') return v;
      if (schema.format === 'date-time' || schema.format === 'datetime' || schema.format === 'date') return timestampValue(v);
      if (schema.format === 'duration') return durationValue(v);
      if (schema.format === 'byte') return new Uint8Array(Buffer.from(v, 'base64'));
      return v;
    case 'boolean':
      return v;
    default:
      break;
  }
  if (Array.isArray(v)) return v.map((x) => toCel(x, schema.items, schema.items?.['x-kubernetes-embedded-resource'] === true));
  if (!isObj(v)) return null;
  const m = new Map<string, unknown>();
  const values = schema.additionalProperties;
  const embedded = root || schema['x-kubernetes-embedded-resource'] === true;
  for (const [k, x] of Object.entries(v)) {
    const prop = schema.properties?.[k];
    if (embedded && (k === 'apiVersion' || k === 'kind')) {
      if (typeof x === 'string') m.set(k, x);
      continue;
    }
    if (embedded && k === 'metadata') {
      if (!isObj(x)) continue;
      const meta = new Map<string, unknown>();
      for (const f of ['name', 'generateName']) if (typeof x[f] === 'string') meta.set(f, x[f]);
      m.set(k, meta);
      continue;
    }
    if (prop) {
      const name = escapeName(k);
      if (name !== undefined) m.set(name, toCel(x, prop, prop['x-kubernetes-embedded-resource'] === true));
    } else if (typeof values === 'object') {
      m.set(k, toCel(x, values, values['x-kubernetes-embedded-resource'] === true));
    } else if (values === true || schema['x-kubernetes-preserve-unknown-fields']) {
      m.set(k, dynValue(x));
    }
  }
  return m;
}

// ---- compiling: parse, static checks, instrumentation ----

interface CompileError {
  detail: string;
}

function lineCol(source: string, offset: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return `${line}:${col}`;
}

/** Schema facts the static checks track for an expression: its schema, or "dyn" when unknown. */
type Shape = JSONSchemaProps | 'dyn';

const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);
const NAMESPACES = new Set(['strings', 'sets', 'math']);
const BOOL_FUNCTIONS = new Set(['_==_', '_!=_', '_<_', '_<=_', '_>_', '_>=_', '@in', '_&&_', '_||_', '!_', '@not_strictly_false', 'startsWith', 'endsWith', 'contains', 'matches', 'isSorted', 'sets.contains', 'sets.equivalent', 'sets.intersects']);
const ARITHMETIC = new Set(['_+_', '_-_', '_*_', '_/_', '_%_', '-_']);
const NON_BOOL_FUNCTIONS: Record<string, string> = {
  size: 'int',
  int: 'int',
  uint: 'uint',
  double: 'double',
  string: 'string',
  bytes: 'bytes',
  timestamp: 'google.protobuf.Timestamp',
  duration: 'google.protobuf.Duration',
  indexOf: 'int',
  lastIndexOf: 'int',
  lowerAscii: 'string',
  upperAscii: 'string',
  replace: 'string',
  substring: 'string',
  trim: 'string',
  join: 'string',
  format: 'string',
  charAt: 'string',
  split: 'list',
  'strings.quote': 'string',
};

/** What static checking knows of a result: a CEL type name, or undefined for dyn. */
function schemaTypeName(s: Shape | undefined): string | undefined {
  if (s === undefined || s === 'dyn' || isDyn(s)) return undefined;
  switch (s.type) {
    case 'integer':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'string':
      if (s.format === 'date-time' || s.format === 'date') return 'google.protobuf.Timestamp';
      if (s.format === 'duration') return 'google.protobuf.Duration';
      return s.format === 'byte' ? 'bytes' : 'string';
    case 'array':
      return 'list';
    case 'object':
      return s.properties && !s.additionalProperties ? 'object' : 'map';
    default:
      return undefined;
  }
}

let regexProbe: Program | undefined;

class Checker {
  errors: string[] = [];
  usesOldSelf = false;
  constructor(
    private readonly source: string,
    private readonly parsed: Parsed,
    private readonly self: JSONSchemaProps,
    private readonly resourceRoot: boolean,
  ) {}

  private error(e: Expr, msg: string): void {
    const offset = this.parsed.sourceInfo?.positions[String(e.id)] ?? 0;
    this.errors.push(`ERROR: <input>:${lineCol(this.source, offset)}: ${msg}`);
  }

  /** Walks an expression; returns what is known of its schema and its CEL type name. */
  walk(e: Expr, scope: Map<string, Shape>): { shape?: Shape; type?: string } {
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr': {
        const c = k.value.constantKind.case;
        const names: Record<string, string> = { boolValue: 'bool', int64Value: 'int', uint64Value: 'uint', doubleValue: 'double', stringValue: 'string', bytesValue: 'bytes', nullValue: 'null_type' };
        return { type: c ? names[c] : undefined };
      }
      case 'identExpr': {
        const name = k.value.name;
        const bound = scope.get(name);
        if (bound !== undefined) return { shape: bound, type: schemaTypeName(bound) };
        if (name === 'self' || name === 'oldSelf') {
          if (name === 'oldSelf') this.usesOldSelf = true;
          return { shape: this.self, type: schemaTypeName(this.self) };
        }
        if (TYPE_NAMES.has(name) || name.startsWith('@')) return { type: 'type' };
        this.error(e, `undeclared reference to '${name}' (in container '')`);
        return {};
      }
      case 'selectExpr': {
        const operand = k.value.operand;
        if (operand?.exprKind.case === 'identExpr' && NAMESPACES.has(operand.exprKind.value.name) && !scope.has(operand.exprKind.value.name)) return {};
        const base = operand ? this.walk(operand, scope) : {};
        const shape = this.field(e, base.shape, k.value.field, operand);
        return k.value.testOnly ? { type: 'bool' } : { shape, type: schemaTypeName(shape) };
      }
      case 'callExpr':
        return this.call(e, k.value, scope);
      case 'listExpr':
        for (const x of k.value.elements) this.walk(x, scope);
        return { type: 'list' };
      case 'structExpr':
        for (const x of k.value.entries) {
          if (x.keyKind.case === 'mapKey') this.walk(x.keyKind.value, scope);
          if (x.value) this.walk(x.value, scope);
        }
        return { type: 'map' };
      case 'comprehensionExpr': {
        const c = k.value;
        const range = c.iterRange ? this.walk(c.iterRange, scope) : {};
        let elem: Shape = 'dyn';
        const rs = range.shape;
        if (rs && rs !== 'dyn' && !isDyn(rs)) {
          if (rs.type === 'array' && rs.items) elem = rs.items;
          else if (rs.type === 'object') elem = { type: 'string' };
        }
        if (c.accuInit) this.walk(c.accuInit, scope);
        const inner = new Map(scope);
        inner.set(c.iterVar, elem);
        inner.set(c.accuVar, 'dyn');
        if (c.loopCondition) this.walk(c.loopCondition, inner);
        if (c.loopStep) this.walk(c.loopStep, inner);
        const accuScope = new Map(scope);
        accuScope.set(c.accuVar, 'dyn');
        const result = c.result ? this.walk(c.result, accuScope) : {};
        const init = c.accuInit?.exprKind;
        // all/exists/exists_one fold into a bool; map/filter into a list.
        if (init?.case === 'listExpr') return { type: 'list' };
        if (init?.case === 'constExpr' && init.value.constantKind.case === 'boolValue') return { type: 'bool' };
        return { type: result.type };
      }
      default:
        return {};
    }
  }

  private field(e: Expr, base: Shape | undefined, name: string, operand: Expr | undefined): Shape {
    if (base === undefined || base === 'dyn' || isDyn(base)) {
      if (base !== undefined && base !== 'dyn' && base.properties && !base['x-kubernetes-preserve-unknown-fields']) return this.property(e, base, name, operand);
      return 'dyn';
    }
    if (base.type === 'object') {
      if (base.properties || (!base.additionalProperties && !base['x-kubernetes-preserve-unknown-fields'])) return this.property(e, base, name, operand);
      return typeof base.additionalProperties === 'object' ? base.additionalProperties : 'dyn';
    }
    const t = schemaTypeName(base);
    if (t === 'list' || t === undefined) return 'dyn';
    this.error(e, `type '${t}' does not support field selection`);
    return 'dyn';
  }

  private property(e: Expr, base: JSONSchemaProps, name: string, operand: Expr | undefined): Shape {
    const isRoot = this.resourceRoot && base === this.self && operand?.exprKind.case === 'identExpr';
    if (isRoot && (name === 'apiVersion' || name === 'kind')) return { type: 'string' };
    if (isRoot && name === 'metadata') return { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } };
    for (const [k, p] of Object.entries(base.properties ?? {})) if (escapeName(k) === name) return p;
    if (base['x-kubernetes-preserve-unknown-fields']) return 'dyn';
    if (typeof base.additionalProperties === 'object') return base.additionalProperties;
    this.error(e, `undefined field '${name}'`);
    return 'dyn';
  }

  private call(e: Expr, c: Extract<Expr['exprKind'], { case: 'callExpr' }>['value'], scope: Map<string, Shape>): { shape?: Shape; type?: string } {
    let fn = c.function;
    const target = c.target;
    if (target?.exprKind.case === 'identExpr' && NAMESPACES.has(target.exprKind.value.name) && !scope.has(target.exprKind.value.name)) {
      fn = `${target.exprKind.value.name}.${fn}`;
    } else if (target) this.walk(target, scope);
    const args = c.args.map((a) => this.walk(a, scope));
    if (/^[a-zA-Z]/.test(fn) && !env().funcs.find(fn)) {
      this.error(e, target && !fn.includes('.') ? `found no matching overload for '${fn}'` : `undeclared reference to '${fn}' (in container '')`);
    }
    if (fn === 'matches') {
      const p = c.args[0]?.exprKind;
      if (p?.case === 'constExpr' && p.value.constantKind.case === 'stringValue') {
        regexProbe ??= plan(env(), parse("''.matches(p)")) as Program;
        const r = regexProbe({ p: p.value.constantKind.value });
        if (isCelError(r)) this.error(c.args[0] as Expr, `invalid regular expression: ${r.message}`);
      }
    }
    if (fn === '_[_]') {
      const base = args[0]?.shape;
      if (base && base !== 'dyn' && !isDyn(base)) {
        if (base.type === 'array' && base.items) return { shape: base.items, type: schemaTypeName(base.items) };
        if (base.type === 'object' && typeof base.additionalProperties === 'object') return { shape: base.additionalProperties, type: schemaTypeName(base.additionalProperties) };
      }
      return {};
    }
    if (fn === '_?_:_') {
      const [, a, b] = args;
      return a?.type !== undefined && a.type === b?.type ? { type: a.type } : {};
    }
    if (BOOL_FUNCTIONS.has(fn)) return { type: 'bool' };
    if (ARITHMETIC.has(fn)) {
      // int + int is an int, string + string a string…; time arithmetic is left to run time.
      const t = args[0]?.type;
      return t !== undefined && !t.startsWith('google.protobuf.') ? { type: t } : {};
    }
    const t = NON_BOOL_FUNCTIONS[fn];
    return t === undefined ? {} : { type: t };
  }
}

/**
 * Rewrites every comprehension of an expression so that each iteration spends a unit of cost: the
 * loop condition `c` becomes `@kumo_tick(c)` (an identity function no rule can name).
 */
function instrument(e: Expr | undefined): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case 'comprehensionExpr': {
      const c = k.value;
      instrument(c.iterRange);
      instrument(c.accuInit);
      instrument(c.loopCondition);
      instrument(c.loopStep);
      instrument(c.result);
      if (c.loopCondition) {
        const cond = c.loopCondition;
        c.loopCondition = { ...cond, exprKind: { case: 'callExpr', value: { $typeName: 'cel.expr.Expr.Call', function: TICK, args: [cond] } } };
      }
      break;
    }
    case 'callExpr':
      instrument(k.value.target);
      k.value.args.forEach(instrument);
      break;
    case 'selectExpr':
      instrument(k.value.operand);
      break;
    case 'listExpr':
      k.value.elements.forEach(instrument);
      break;
    case 'structExpr':
      for (const x of k.value.entries) {
        if (x.keyKind.case === 'mapKey') instrument(x.keyKind.value);
        instrument(x.value);
      }
      break;
    default:
      break;
  }
}

interface Compiled {
  program?: Program;
  usesOldSelf: boolean;
  error?: CompileError;
}

function compileExpression(source: string, self: JSONSchemaProps, resourceRoot: boolean, want: 'bool' | 'string'): Compiled {
  try {
    return compileUnguarded(source, self, resourceRoot, want);
  } catch (e) {
    // e.g. an expression nested too deeply for the parser or the checks
    return { usesOldSelf: false, error: { detail: `compilation failed: ${e instanceof Error ? e.message : String(e)}` } };
  }
}

function compileUnguarded(source: string, self: JSONSchemaProps, resourceRoot: boolean, want: 'bool' | 'string'): Compiled {
  let parsed: Parsed;
  try {
    parsed = parse(source);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /^<input>:(\d+):(\d+): (.*)$/s.exec(msg);
    return { usesOldSelf: false, error: { detail: `compilation failed: ERROR: <input>:${m ? `${m[1]}:${m[2]}: Syntax error: ${m[3]}` : `1:1: Syntax error: ${msg}`}` } };
  }
  const checker = new Checker(source, parsed, self, resourceRoot);
  const result = checker.walk(parsed.expr, new Map());
  if (checker.errors.length > 0) return { usesOldSelf: checker.usesOldSelf, error: { detail: `compilation failed: ${checker.errors.join('\n')}` } };
  if (result.type !== undefined && result.type !== want) {
    return { usesOldSelf: checker.usesOldSelf, error: { detail: want === 'bool' ? 'cel expression must evaluate to a bool' : 'messageExpression must evaluate to a string' } };
  }
  instrument(parsed.expr);
  try {
    return { program: plan(env(), parsed) as Program, usesOldSelf: checker.usesOldSelf };
  } catch (e) {
    return { usesOldSelf: checker.usesOldSelf, error: { detail: `program instantiation failed: ${(e as Error).message}` } };
  }
}

// ---- fieldPath ----

/**
 * A rule's fieldPath (`.spec.foo`, `.labels['a.b']`) checked against the node's schema and
 * normalized to a field path suffix (`spec.foo`, `labels[a.b]`), or an error (kube's ValidFieldPath).
 */
export function validFieldPath(path: string, schema: JSONSchemaProps): { path: string } | { error: string } {
  const tokens: string[] = [];
  for (let i = 0; i < path.length; ) {
    const ch = path[i] as string;
    if (ch === '.' || ch === '[' || ch === ']') {
      tokens.push(ch);
      i++;
      continue;
    }
    let j = i;
    if (ch === "'") {
      j = i + 1;
      while (j < path.length && !(path[j] === "'" && path[j - 1] !== '\\')) j++;
      tokens.push(path.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    while (j < path.length && !'.[]'.includes(path[j] as string)) j++;
    tokens.push(path.slice(i, j));
    i = j;
  }
  let out = '';
  let s: JSONSchemaProps | undefined = schema;
  const step = (name: string): string | undefined => {
    if (!s) return 'does not refer to a valid field';
    if (s.properties) {
      out = child(out, name);
      s = s.properties[name];
      return s ? undefined : 'does not refer to a valid field';
    }
    if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
      out = key(out, name);
      s = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
      return undefined;
    }
    return 'does not refer to a valid field';
  };
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t] as string;
    if (tok === '.') {
      const name = tokens[++t];
      if (name === undefined) return { error: 'unexpected end of JSON path' };
      const err = step(name);
      if (err) return { error: err };
    } else if (tok === '[') {
      const q = tokens[++t];
      if (q === undefined) return { error: 'unexpected end of JSON path' };
      if (q.length < 2 || !q.startsWith("'") || !q.endsWith("'")) return { error: `expected single quoted string but got ${q}` };
      const name = q.slice(1, -1).replace(/\\(.)/g, '$1');
      const err = step(name);
      if (err) return { error: err };
      if (tokens[++t] !== ']') return { error: `expected ] but got ${tokens[t] ?? ''}` };
    } else return { error: `expected [ or . but got: ${tok}` };
  }
  return { path: out };
}

// ---- validators ----

interface CompiledRule {
  rule: ValidationRule;
  program?: Program;
  message?: Program;
  usesOldSelf: boolean;
  fieldPath?: string;
  error?: string;
}

interface NodeValidator {
  schema: JSONSchemaProps;
  resourceRoot: boolean;
  rules: CompiledRule[];
  properties?: Map<string, NodeValidator>;
  additionalProperties?: NodeValidator;
  items?: NodeValidator;
}

function compileRule(rule: ValidationRule, s: JSONSchemaProps, resourceRoot: boolean): CompiledRule {
  const out: CompiledRule = { rule, usesOldSelf: false };
  if (rule.rule.trim() === '') return out;
  const c = compileExpression(rule.rule, s, resourceRoot, 'bool');
  out.usesOldSelf = c.usesOldSelf;
  if (c.error) out.error = c.error.detail;
  else if (c.program) out.program = c.program;
  if (rule.messageExpression !== undefined && rule.messageExpression.trim() !== '') {
    const m = compileExpression(rule.messageExpression, s, resourceRoot, 'string');
    if (m.program) out.message = m.program;
  }
  if (rule.fieldPath !== undefined && rule.fieldPath.trim() !== '') {
    const fp = validFieldPath(rule.fieldPath.trim(), s);
    if ('path' in fp) out.fieldPath = fp.path;
  }
  return out;
}

function build(s: JSONSchemaProps, resourceRoot: boolean): NodeValidator | undefined {
  const node: NodeValidator = { schema: s, resourceRoot, rules: (s['x-kubernetes-validations'] ?? []).map((r) => compileRule(r, s, resourceRoot)) };
  let any = node.rules.length > 0;
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    const v = build(p, p['x-kubernetes-embedded-resource'] === true);
    if (!v) continue;
    node.properties ??= new Map();
    node.properties.set(k, v);
    any = true;
  }
  if (typeof s.additionalProperties === 'object') {
    const v = build(s.additionalProperties, s.additionalProperties['x-kubernetes-embedded-resource'] === true);
    if (v) {
      node.additionalProperties = v;
      any = true;
    }
  }
  if (s.items) {
    const v = build(s.items, s.items['x-kubernetes-embedded-resource'] === true);
    if (v) {
      node.items = v;
      any = true;
    }
  }
  return any ? node : undefined;
}

const validators = new WeakMap<JSONSchemaProps, NodeValidator | null>();

/** The compiled rules of a resource schema (cached per schema object), or undefined when it has none. */
function validatorOf(schema: JSONSchemaProps): NodeValidator | undefined {
  let v = validators.get(schema);
  if (v === undefined) {
    v = build(schema, true) ?? null;
    validators.set(schema, v);
  }
  return v ?? undefined;
}

/** Whether a resource schema has validation rules anywhere. */
export function hasRules(schema: JSONSchemaProps): boolean {
  return validatorOf(schema) !== undefined;
}

// ---- evaluation ----

interface RunState {
  remaining: number;
  deadline: number;
  perCallLimit: number;
  stopped: boolean;
  causes: ErrorCause[];
}

/** A cause at a node whose schema type is its "value", as kube reports rule failures. */
function typeCause(field: string, s: JSONSchemaProps, detail: string): ErrorCause {
  return invalid(field === '' ? '<nil>' : field, s.type ?? '', detail);
}

function ruleString(rule: ValidationRule): string {
  return rule.message !== undefined && rule.message.trim() !== '' ? rule.message.trim() : rule.rule.trim();
}

function messageOrDefault(rule: ValidationRule): string {
  return rule.message !== undefined && rule.message.trim() !== '' ? rule.message.trim() : `failed rule: ${rule.rule.trim()}`;
}

/** bufbuild's evaluation errors in cel-go's words, where they differ. */
function celGoError(msg: string): string {
  let m = /^field not found: (.*)$/.exec(msg);
  if (m) return `no such key: ${m[1]}`;
  m = /^index (-?\d+) out of bounds/.exec(msg);
  if (m) return `index out of bounds: ${m[1]}`;
  if (/divide by zero/.test(msg)) return 'division by zero';
  if (/modulus by zero/.test(msg)) return 'modulus by zero';
  if (/^(found )?no (matching|such) overload/.test(msg)) return 'no such overload';
  return msg;
}

function evaluate(program: Program, bindings: Record<string, unknown>, st: RunState): { value?: CelResult; exceeded?: 'call' | 'budget' | 'time' } {
  const perCall = Math.min(st.perCallLimit, st.remaining);
  const m = new Meter(perCall, st.perCallLimit <= st.remaining ? 'call' : 'budget', st.deadline);
  const outer = meter;
  meter = m;
  let value: CelResult;
  try {
    m.charge(1);
    value = program(bindings);
  } catch (e) {
    // The library returns errors as values; anything it throws is an evaluation error all the same.
    value = celError(e instanceof Error ? e.message : String(e));
  } finally {
    meter = outer;
  }
  st.remaining -= m.used;
  return m.exceeded ? { exceeded: m.exceeded } : { value };
}

function stopForCost(node: NodeValidator, field: string, rule: ValidationRule, exceeded: 'call' | 'budget' | 'time', st: RunState, what = 'rule'): void {
  st.stopped = true;
  if (exceeded === 'call') {
    const subject = what === 'rule' ? `rule: ${ruleString(rule)}` : `messageExpression: ${goQuote(rule.messageExpression ?? '')}`;
    st.causes.push(typeCause(field, node.schema, `'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for ${subject}`));
  } else {
    st.causes.push(typeCause(field, node.schema, 'validation failed due to running out of cost budget, no further validation rules will be run'));
  }
}

function messageOf(node: NodeValidator, field: string, c: CompiledRule, bindings: Record<string, unknown>, st: RunState): string | undefined {
  if (!c.message) return messageOrDefault(c.rule);
  const r = evaluate(c.message, bindings, st);
  if (r.exceeded) {
    stopForCost(node, field, c.rule, r.exceeded, st, 'messageExpression');
    return undefined;
  }
  const v = r.value;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t !== '' && t.length <= 5 * 1024 && !/[\n\r]/.test(t)) return t;
  }
  return messageOrDefault(c.rule);
}

function failure(field: string, s: JSONSchemaProps, c: CompiledRule, detail: string): ErrorCause {
  const at = c.fieldPath ? (c.fieldPath.startsWith('[') ? field + c.fieldPath : child(field, c.fieldPath)) : field;
  const f = at === '' ? '<nil>' : at;
  switch (c.rule.reason) {
    case 'FieldValueForbidden':
      return forbidden(f, detail);
    case 'FieldValueRequired':
      return required(f, detail);
    case 'FieldValueDuplicate':
      return duplicate(f, s.type ?? '');
    default:
      return invalid(f, s.type ?? '', detail);
  }
}

function runRules(node: NodeValidator, field: string, obj: unknown, old: unknown, st: RunState): void {
  let bindings: Record<string, unknown> | undefined;
  for (const c of node.rules) {
    if (st.stopped) return;
    if (c.error) {
      st.causes.push(typeCause(field, node.schema, `rule compile error: ${c.error}`));
      continue;
    }
    if (!c.program) continue;
    if (c.usesOldSelf && (old === undefined || old === null)) continue;
    if (!bindings) {
      bindings = { self: toCel(obj, node.schema, node.resourceRoot) };
      if (old !== undefined && old !== null) bindings.oldSelf = toCel(old, node.schema, node.resourceRoot);
    }
    if (st.remaining <= 0) {
      stopForCost(node, field, c.rule, 'budget', st);
      return;
    }
    const r = evaluate(c.program, bindings, st);
    if (r.exceeded) {
      stopForCost(node, field, c.rule, r.exceeded, st);
      return;
    }
    const v = r.value;
    if (v === true) continue;
    if (isCelError(v)) {
      const msg = celGoError(v.message);
      st.causes.push(
        typeCause(
          field,
          node.schema,
          msg === 'no such overload'
            ? `'no such overload': call arguments did not match a supported operator, function or macro signature for rule: ${ruleString(c.rule)}`
            : `${msg} evaluating rule: ${ruleString(c.rule)}`,
        ),
      );
      continue;
    }
    if (v !== false) {
      st.causes.push(typeCause(field, node.schema, `rule did not evaluate to a bool evaluating rule: ${ruleString(c.rule)}`));
      continue;
    }
    const detail = messageOf(node, field, c, bindings, st);
    if (detail === undefined) return;
    st.causes.push(failure(field, node.schema, c, detail));
  }
}

/** The old item of a list-type=map list with the same key values as `item`. */
function correlatedItem(s: JSONSchemaProps, item: unknown, old: unknown): unknown {
  if (s['x-kubernetes-list-type'] !== 'map' || !Array.isArray(old) || !isObj(item)) return undefined;
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  return old.find((o) => isObj(o) && keys.every((k) => JSON.stringify(o[k]) === JSON.stringify(item[k])));
}

function walk(node: NodeValidator, field: string, obj: unknown, old: unknown, st: RunState): void {
  if (obj === null || obj === undefined || st.stopped) return;
  runRules(node, field, obj, old, st);
  if (Array.isArray(obj)) {
    const itemsNode = node.items;
    if (!itemsNode) return;
    for (let i = 0; i < obj.length && !st.stopped; i++) walk(itemsNode, index(field, i), obj[i], correlatedItem(node.schema, obj[i], old), st);
    return;
  }
  if (!isObj(obj)) return;
  const oldObj = isObj(old) ? old : undefined;
  for (const [k, v] of Object.entries(obj)) {
    if (st.stopped) return;
    const p = node.properties?.get(k);
    if (p) walk(p, child(field, k), v, oldObj?.[k], st);
    else if (node.additionalProperties && !node.schema.properties?.[k]) walk(node.additionalProperties, key(field, k), v, oldObj?.[k], st);
  }
}

/**
 * The causes of an object's validation rules under its resource schema (`old` on update: transition
 * rules run only where an old value exists).
 */
export function validateRules(schema: JSONSchemaProps, obj: unknown, old?: unknown, limits: CelLimits = {}): ErrorCause[] {
  const v = validatorOf(schema);
  if (!v) return [];
  const st: RunState = {
    remaining: limits.costBudget ?? RUNTIME_COST_BUDGET,
    perCallLimit: limits.perCallLimit ?? PER_CALL_LIMIT,
    deadline: performance.now() + (limits.timeLimitMs ?? TIME_LIMIT_MS),
    stopped: false,
    causes: [],
  };
  walk(v, '', obj, old, st);
  return st.causes;
}

/** Schema causes that keep kube from running rules: a value of the wrong type or not among an enum's. */
export function blockingCause(causes: ErrorCause[]): ErrorCause | undefined {
  if (!causes.some((c) => c.reason === CauseReason.TypeInvalid || c.reason === CauseReason.NotSupported)) return undefined;
  return invalid('<nil>', null, 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation');
}

// ---- CRD checks ----

/** Go's %#v of an apiextensions.ValidationRule, the value kube prints for a rule that does not compile. */
function goRule(r: ValidationRule): string {
  const ptr = (set: boolean, type: string) => (set ? `(${type})(0xc000000000)` : `(${type})(nil)`);
  return (
    `apiextensions.ValidationRule{Rule:${goQuote(r.rule)}, Message:${goQuote(r.message ?? '')}, MessageExpression:${goQuote(r.messageExpression ?? '')}, ` +
    `Reason:${ptr(r.reason !== undefined, '*apiextensions.FieldValueErrorReason')}, FieldPath:${goQuote(r.fieldPath ?? '')}, OptionalOldSelf:${ptr(r.optionalOldSelf !== undefined, '*bool')}}`
  );
}

/**
 * The rules of a CRD version's schema that cannot be used (reason, fieldPath, messages, rules and
 * messageExpressions that do not compile, transition rules where old values cannot be correlated),
 * with kube's paths under `path` (e.g. `spec.versions[0].schema.openAPIV3Schema`).
 */
export function checkRules(schema: JSONSchemaProps, path: string): ErrorCause[] {
  const errs: ErrorCause[] = [];
  const visit = (s: JSONSchemaProps, p: string, resourceRoot: boolean, uncorrelatable: string | undefined): void => {
    (s['x-kubernetes-validations'] ?? []).forEach((r: ValidationRule, i) => {
      const at = index(child(p, 'x-kubernetes-validations'), i);
      if (typeof r.rule !== 'string' || r.rule.trim() === '') return; // reported by checkStructural
      const msg = r.message ?? '';
      if (msg.length > 2048) errs.push(invalid(child(at, 'message'), `${msg.slice(0, 10)}...`, 'message must have a maximum length of 2048 characters'));
      else if (/[\n\r]/.test(msg.trim())) errs.push(invalid(child(at, 'message'), msg, 'message must not contain line breaks'));
      else if (/[\n\r]/.test(r.rule.trim()) && msg.trim() === '') errs.push(required(child(at, 'message'), 'message must be specified if rule contains line breaks'));
      if (r.messageExpression !== undefined && r.messageExpression !== '' && r.messageExpression.trim() === '') {
        errs.push(required(child(at, 'messageExpression'), 'messageExpression must be non-empty if specified'));
      }
      if (r.reason !== undefined && !SUPPORTED_REASONS.includes(r.reason)) errs.push(notSupported(child(at, 'reason'), r.reason, SUPPORTED_REASONS));
      if (r.fieldPath !== undefined && r.fieldPath !== '') {
        const trimmed = r.fieldPath.trim();
        if (trimmed === '') errs.push(invalid(child(at, 'fieldPath'), r.fieldPath, 'fieldPath must be non-empty if specified'));
        if (/[\n\r]/.test(r.fieldPath)) errs.push(invalid(child(at, 'fieldPath'), r.fieldPath, 'fieldPath must not contain line breaks'));
        const fp = validFieldPath(trimmed, s);
        if ('error' in fp) errs.push(invalid(child(at, 'fieldPath'), r.fieldPath, `fieldPath must be a valid path: ${fp.error}`));
      }
      const c = compileExpression(r.rule, s, resourceRoot, 'bool');
      if (c.error) errs.push({ field: child(at, 'rule'), reason: CauseReason.Invalid, message: `Invalid value: ${goRule(r)}: ${c.error.detail}` });
      if (r.messageExpression !== undefined && r.messageExpression.trim() !== '') {
        const m = compileExpression(r.messageExpression, s, resourceRoot, 'string');
        if (m.error) errs.push({ field: child(at, 'messageExpression'), reason: CauseReason.Invalid, message: `Invalid value: ${goRule(r)}: ${m.error.detail}` });
      }
      if (c.usesOldSelf && uncorrelatable !== undefined) {
        errs.push(invalid(child(at, 'rule'), r.rule, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${uncorrelatable}`));
      }
    });
    for (const [k, v] of Object.entries(s.properties ?? {})) visit(v, key(child(p, 'properties'), k), v['x-kubernetes-embedded-resource'] === true, uncorrelatable);
    if (typeof s.additionalProperties === 'object') {
      const ap = s.additionalProperties;
      visit(ap, child(p, 'additionalProperties'), ap['x-kubernetes-embedded-resource'] === true, uncorrelatable);
    }
    if (s.items) {
      const listMap = s['x-kubernetes-list-type'] === 'map';
      visit(s.items, child(p, 'items'), s.items['x-kubernetes-embedded-resource'] === true, uncorrelatable ?? (listMap ? undefined : child(p, 'items')));
    }
  };
  visit(schema, path, true, undefined);
  return errs;
}
