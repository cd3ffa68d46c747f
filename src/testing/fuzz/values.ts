// Values and mutations for the API fuzzer: strings, numbers and structures at the edges (wrong types,
// nulls, huge strings, unicode, deep nesting, numbers JSON.parse turns into Infinity), and the
// mutators that put them into otherwise valid objects. Values that JSON.stringify cannot produce
// (a 100,000-deep array, `1e400`, duplicate keys) are `Raw` JSON text spliced in when serialized.
import { MAX_BODY_DEPTH } from '../../apiserver/bodylimits.js';
import type { Rng } from './rng.js';

/** JSON text inserted verbatim where the value stands. */
export class Raw {
  constructor(readonly text: string) {}
}

export type Json = null | boolean | number | string | Raw | Json[] | { [k: string]: Json };

/** Serializes a value that may hold Raw parts (never recursing into them). */
export function toJsonText(v: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Raw) {
      raws.push(x.text);
      return `__FZRAW_${raws.length - 1}__`;
    }
    return x;
  });
  if (text === undefined) return '';
  if (raws.length === 0) return text;
  return text.replace(/"__FZRAW_(\d+)__"/g, (_m, i: string) => raws[Number(i)] ?? 'null');
}

/** True when the value holds a Raw part (YAML cannot carry it; it is sent as JSON text then). */
export function hasRaw(v: unknown, depth = 0): boolean {
  if (v instanceof Raw) return true;
  if (depth > 64 || v === null || typeof v !== 'object') return false;
  for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) if (hasRaw(x, depth + 1)) return true;
  return false;
}

// ---- strings ----------------------------------------------------------------------------------------

const SHORT_STRINGS = [
  '',
  ' ',
  'a',
  'A',
  'x-y.z',
  '-lead',
  'trail-',
  'UPPER',
  'dots..dots',
  '.',
  '..',
  '../../etc/passwd',
  'a/b',
  'a\\b',
  'a:b',
  'a@b',
  'a b',
  'a%2Fb',
  '%00',
  '%',
  '\u0000',
  '\u0000\u0001\u0002',
  'line\nbreak',
  '\r\n',
  '\t',
  '日本語',
  'Ünïcödé',
  '🦄🔥',
  '\u202eevil',
  'a\u0301',
  '\u200b',
  '\ufeff',
  '\uffff',
  '\ud800',
  '\udfff',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  'null',
  'true',
  '0',
  '-1',
  '1e309',
  '0x10',
  'NaN',
  'Infinity',
  '2024-01-01T00:00:00Z',
  '2024-01-01T00:00:00.000000Z',
  '2024-13-45T99:99:99Z',
  '0000-00-00T00:00:00Z',
  'yesterday',
  '1Gi',
  '1.5',
  '100m',
  '1e3',
  '-1Gi',
  '999999999999999999999999999999Gi',
  '0.0000000001',
  '1Q',
  '50%',
  '101%',
  '@daily',
  '* * * * *',
  'v1.33',
  'v1.99',
  'v1.33.999999999999999999999',
  '10.0.0.0/8',
  '300.1.2.3/33',
  'kubernetes.io/foo',
  'a'.repeat(63),
  'a'.repeat(64),
  `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
  'a'.repeat(254),
];

/** A string from the edge cases, or a long one. */
export function nastyString(rng: Rng): string {
  switch (rng.int(6)) {
    case 0:
      return 'x'.repeat(rng.pick([255, 256, 1024, 4096, 65536, 262145]));
    case 1:
      return rng.pick(['🦄', 'é', '日', '\u0000', 'a\u0301']).repeat(rng.range(1, 3000));
    default:
      return rng.pick(SHORT_STRINGS);
  }
}

// ---- numbers ----------------------------------------------------------------------------------------

const NUMBERS: readonly (number | Raw)[] = [
  0,
  1,
  -1,
  2,
  3,
  5,
  7,
  100,
  0.5,
  1.5,
  -0.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1e308,
  -1e308,
  5e-324,
  new Raw('-0'),
  new Raw('-0.0'),
  new Raw('1.0'),
  new Raw('1E5'),
  new Raw('1e400'),
  new Raw('-1e400'),
  new Raw('123456789012345678901234567890'),
  new Raw('0.00000000000000000000000000000000001'),
  new Raw('9223372036854775807'),
  new Raw('9223372036854775808'),
  new Raw('-9223372036854775809'),
];

export function nastyNumber(rng: Rng): number | Raw {
  return rng.pick(NUMBERS);
}

// ---- structures -------------------------------------------------------------------------------------

/** Nesting depths: shallow, around Kumo's body limit (1,000), around kube's (10,000), and far beyond. */
export const DEPTHS = [16, 100, MAX_BODY_DEPTH - 2, MAX_BODY_DEPTH - 1, MAX_BODY_DEPTH, MAX_BODY_DEPTH + 1, 5000, 9999, 10001, 100000];

/** A value nested `depth` levels deep, as JSON text (arrays, objects, or both). */
export function deepValue(rng: Rng, depth: number): Raw {
  switch (rng.int(3)) {
    case 0:
      return new Raw('['.repeat(depth) + ']'.repeat(depth));
    case 1:
      return new Raw('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    default:
      return new Raw('[{"a":'.repeat(depth >> 1) + 'null' + '}]'.repeat(depth >> 1));
  }
}

/** A wide value: many keys, many items, or many items with merge keys (`name`, `type`, `uid`: the keyed lists of patches and apply). */
export function wideValue(rng: Rng): Raw {
  const n = rng.pick([1000, 10000, 100000]);
  switch (rng.int(3)) {
    case 0:
      return new Raw('[' + Array.from({ length: n }, (_, i) => String(i)).join(',') + ']');
    case 1:
      return new Raw('{' + Array.from({ length: n }, (_, i) => `"k${i}":"v"`).join(',') + '}');
    default: {
      const key = rng.pick(['name', 'type', 'uid']);
      return new Raw('[' + Array.from({ length: Math.min(n, 30000) }, (_, i) => `{"${key}":"w${i % 20000}","port":${i % 65536}}`).join(',') + ']');
    }
  }
}

/** Any value: the wrong type for most places. */
export function nastyValue(rng: Rng): Json {
  switch (rng.int(14)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
    case 3:
      return nastyNumber(rng);
    case 4:
    case 5:
    case 6:
      return nastyString(rng);
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return rng.pick<Json>([[null], [1, 'a', null, {}], ['a', 'a'], [{ name: 'a' }, { name: 'a' }], { '': '' }, { '$patch': 'delete' }, { a: { b: { c: null } } }]);
    case 10:
      return rng.chance(0.6) ? deepValue(rng, rng.pick(DEPTHS.slice(0, 6))) : deepValue(rng, rng.pick(DEPTHS));
    case 11:
      return rng.chance(0.2) ? wideValue(rng) : { [nastyString(rng).slice(0, 300)]: nastyString(rng).slice(0, 300) };
    case 12:
      return new Raw(rng.pick(['NaN', 'Infinity', 'undefined', "'single'", '0x10', '01', '+1', '.5', '"\\uZZZZ"', '"\\ud800"', '"unterminated', '[1,]', '{"a":1,}', '{a:1}', '"\t"']));
    default:
      return { [`unknown${rng.int(100)}`]: nastyString(rng) };
  }
}

// ---- mutation ---------------------------------------------------------------------------------------

type Path = (string | number)[];

function isPlainObject(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw);
}

/** Every path into `v` (objects and arrays), at most `limit` of them. */
export function pathsOf(v: Json, limit = 400): Path[] {
  const out: Path[] = [];
  const walk = (x: Json, p: Path): void => {
    if (out.length >= limit) return;
    if (p.length > 0) out.push(p);
    if (Array.isArray(x)) x.forEach((y, i) => walk(y, [...p, i]));
    else if (isPlainObject(x)) for (const [k, y] of Object.entries(x)) walk(y, [...p, k]);
  };
  walk(v, []);
  return out;
}

export function getAt(root: Json, path: Path): Json | undefined {
  let x: Json | undefined = root;
  for (const seg of path) {
    if (Array.isArray(x) && typeof seg === 'number') x = x[seg];
    else if (isPlainObject(x) && typeof seg === 'string') x = x[seg];
    else return undefined;
  }
  return x;
}

/** Sets (or with `undefined` deletes) the value at `path`, creating objects on the way. */
export function setAt(root: Json, path: Path, value: Json | undefined): void {
  let x: Json = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i] as string | number;
    let next: Json | undefined = Array.isArray(x) && typeof seg === 'number' ? x[seg] : isPlainObject(x) ? x[String(seg)] : undefined;
    if (next === undefined || next === null || typeof next !== 'object' || next instanceof Raw) {
      next = {};
      if (Array.isArray(x) && typeof seg === 'number') x[seg] = next;
      else if (isPlainObject(x)) x[String(seg)] = next;
      else return;
    }
    x = next;
  }
  const last = path[path.length - 1];
  if (last === undefined) return;
  if (Array.isArray(x) && typeof last === 'number') {
    if (value === undefined) x.splice(last, 1);
    else x[last] = value;
  } else if (isPlainObject(x)) {
    if (value === undefined) delete x[String(last)];
    else x[String(last)] = value;
  }
}

/** Paths the generic mutators leave alone: the object's identity, which the fuzzer tracks by name. */
const IDENTITY = new Set(['metadata.name', 'metadata.generateName', 'metadata.namespace', 'metadata']);

export function isIdentityPath(p: Path): boolean {
  return IDENTITY.has(p.join('.'));
}

/**
 * Applies `count` random mutations to `obj` in place: a value replaced by a nasty one, a field
 * removed, an unknown field added, a known-but-absent field (from `extraPaths`) set, a list emptied
 * or duplicated. The object's name, generateName and namespace are never touched here.
 */
export function mutate(rng: Rng, obj: Json, count: number, extraPaths: readonly Path[] = []): void {
  for (let n = 0; n < count; n++) {
    const paths = pathsOf(obj).filter((p) => !isIdentityPath(p));
    const op = rng.int(10);
    if ((op <= 3 || paths.length === 0) && extraPaths.length > 0 && op !== 0) {
      const p = rng.pick(extraPaths);
      if (!isIdentityPath(p)) setAt(obj, p, rng.chance(0.3) ? plausibleValue(rng) : nastyValue(rng));
      continue;
    }
    if (paths.length === 0) {
      setAt(obj, [`unknown${rng.int(10)}`], nastyValue(rng));
      continue;
    }
    const p = rng.pick(paths);
    switch (op) {
      case 0:
      case 4:
      case 5:
        setAt(obj, p, nastyValue(rng));
        break;
      case 6:
        setAt(obj, p, undefined);
        break;
      case 7: {
        const parent = getAt(obj, p.slice(0, -1));
        if (isPlainObject(parent)) parent[`zz${nastyString(rng).slice(0, 40)}`] = nastyValue(rng);
        else setAt(obj, p, plausibleValue(rng));
        break;
      }
      case 8: {
        const v = getAt(obj, p);
        if (Array.isArray(v) && v.length > 0) v.push(...v);
        else setAt(obj, p, plausibleValue(rng));
        break;
      }
      default:
        setAt(obj, p, plausibleValue(rng));
    }
  }
}

/** A value of the right kind of shape for many fields (so that some mutations still validate). */
export function plausibleValue(rng: Rng): Json {
  return rng.pick<Json>(['a', 'value-1', 1, 0, 3, true, false, [], {}, ['a'], { a: 'b' }, '1Gi', '2024-01-01T00:00:00Z', 'small', 'v1.33', 'local']);
}

// ---- names ------------------------------------------------------------------------------------------

/**
 * The token every fresh name of request `index` carries (`fz-<index>-`): an object holding it in its
 * name, namespace or logical cluster can only come from that request.
 */
export function token(index: number): string {
  return `fz-${index}-`;
}

export const TOKEN_RE = /fz-(\d+)-/gi;

/** The request indexes whose tokens `s` holds. */
export function tokensIn(s: string): number[] {
  return [...s.matchAll(TOKEN_RE)].map((m) => Number(m[1]));
}

/** A name that still carries the token but may be invalid (too long, uppercase, dots, unicode…). */
export function mutatedName(rng: Rng, base: string): Json {
  switch (rng.int(12)) {
    case 0:
      return base.toUpperCase();
    case 1:
      return `${base}${'a'.repeat(rng.pick([40, 200, 250, 300, 10000]))}`;
    case 2:
      return `${base}..x`;
    case 3:
      return `${base}/x`;
    case 4:
      return `${base}%2F`;
    case 5:
      return `${base}${rng.pick(['日本', '🦄', '\u0000', ' ', '\n', ':', '_', '@', '.', '-'])}`;
    case 6:
      return `.${base}`;
    case 7:
      return `${base}.`;
    case 8:
      return rng.pick<Json>([null, 5, true, [], {}, [base]]);
    case 9:
      return '';
    default:
      return `${base}${rng.pick(['x', 'a.b', 'a-b', '0'])}`;
  }
}
