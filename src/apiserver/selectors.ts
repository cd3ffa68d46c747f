// Label and field selectors as kube-apiserver parses and matches them (k8s.io/apimachinery
// pkg/labels/selector.go, pkg/fields/selector.go, metav1.LabelSelectorAsSelector), error texts
// included, so `kubectl get -l …` / `--field-selector …` fail against Kumo the way they fail against
// kube-apiserver. Parse once per request; the returned matchers are cheap to call per object.
import { KumoError } from '../lib/errors.js';
import type { KObject, ResourceType } from '../api/types.js';
import { goQuote, isQualifiedName, isValidLabelValue, isValidPathSegmentName } from './names.js';

// =====================================================================================
// Label selectors
// =====================================================================================

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'gt' | 'lt' | 'exists' | '!';
export type Labels = Record<string, string> | undefined | null;

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and de-duplicated for parsed selectors (kube's sets.String). */
  values: string[];
}

export interface LabelSelector {
  /** ANDed; sorted by key. */
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector selects everything (`""`). */
  readonly empty: boolean;
  /** False for `Nothing()` (a nil metav1.LabelSelector). */
  matches(labels: Labels): boolean;
  /** The value a selector requires for `key` (`key=v`, `key==v`, `key in (v)`), else undefined. */
  requiresExactMatch(key: string): string | undefined;
  /** kube's canonical text (`a=b,c in (d,e),!f`). */
  toString(): string;
}

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

enum Tok {
  Error,
  EndOfString,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const STRING_TO_TOKEN: Record<string, Tok> = {
  ')': Tok.ClosedPar,
  ',': Tok.Comma,
  '!': Tok.DoesNotExist,
  '==': Tok.DoubleEquals,
  '=': Tok.Equals,
  '>': Tok.GreaterThan,
  in: Tok.In,
  '<': Tok.LessThan,
  '!=': Tok.NotEquals,
  notin: Tok.NotIn,
  '(': Tok.OpenPar,
};

interface Item {
  tok: Tok;
  lit: string;
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isSpecialSymbol(ch: string): boolean {
  return ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';
}

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos] ?? '')) pos++;
    if (pos >= s.length) {
      items.push({ tok: Tok.EndOfString, lit: '' });
      return items;
    }
    const ch = s[pos] ?? '';
    if (isSpecialSymbol(ch)) {
      // Longest run of special symbols that is still a token (`!=`, `==`), then stop.
      let buf = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecialSymbol(s[pos] ?? '')) {
        buf += s[pos];
        const tok = STRING_TO_TOKEN[buf];
        if (tok !== undefined) {
          last = { tok, lit: buf };
          pos++;
        } else {
          break;
        }
      }
      items.push(last ?? { tok: Tok.Error, lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    let buf = '';
    while (pos < s.length && !isSpecialSymbol(s[pos] ?? '') && !isWhitespace(s[pos] ?? '')) buf += s[pos++];
    const tok = STRING_TO_TOKEN[buf];
    items.push({ tok: tok ?? Tok.Identifier, lit: buf });
  }
}

class Parser {
  private pos = 0;
  constructor(private readonly items: Item[]) {}

  /** In a values context `in` and `notin` are plain identifiers (`x in (in)`). */
  private peek(values: boolean): Item {
    const it = this.items[this.pos] ?? { tok: Tok.EndOfString, lit: '' };
    return values && (it.tok === Tok.In || it.tok === Tok.NotIn) ? { tok: Tok.Identifier, lit: it.lit } : it;
  }

  private next(values: boolean): Item {
    const it = this.peek(values);
    this.pos++;
    return it;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek(true);
      switch (tok) {
        case Tok.Identifier:
        case Tok.DoesNotExist: {
          let r: LabelRequirement;
          try {
            r = this.parseRequirement();
          } catch (e) {
            if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
            throw e;
          }
          reqs.push(r);
          const t = this.next(true);
          if (t.tok === Tok.EndOfString) return reqs;
          if (t.tok === Tok.Comma) {
            const t2 = this.peek(true);
            if (t2.tok !== Tok.Identifier && t2.tok !== Tok.DoesNotExist) throw new SelectorError(`found '${t2.lit}', expected: identifier after ','`);
            break;
          }
          throw new SelectorError(`found '${t.lit}', expected: ',' or 'end of string'`);
        }
        case Tok.EndOfString:
          return reqs;
        default:
          throw new SelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    let { tok, lit } = this.next(true);
    let doesNotExist = false;
    if (tok === Tok.DoesNotExist) {
      doesNotExist = true;
      ({ tok, lit } = this.next(true));
    }
    if (tok !== Tok.Identifier) throw new SelectorError(`found '${lit}', expected: identifier`);
    const key = lit;
    const keyErrs = isQualifiedName(key);
    // The parser validates the key with a nil field path: Go prints it as `<nil>`.
    if (keyErrs.length > 0) throw new SelectorError(`<nil>: Invalid value: ${goQuote(key)}: ${keyErrs.join('; ')}`);
    const after = this.peek(true).tok;
    if (after === Tok.EndOfString || after === Tok.Comma) return newRequirement(key, doesNotExist ? '!' : 'exists', [], '');
    if (doesNotExist) return newRequirement(key, '!', [], '');
    const op = this.parseOperator();
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, op, [...values].sort(), '');
  }

  private parseOperator(): LabelOperator {
    const { tok, lit } = this.next(false);
    switch (tok) {
      case Tok.In: return 'in';
      case Tok.Equals: return '=';
      case Tok.DoubleEquals: return '==';
      case Tok.GreaterThan: return 'gt';
      case Tok.LessThan: return 'lt';
      case Tok.NotIn: return 'notin';
      case Tok.NotEquals: return '!=';
      default: throw new SelectorError(`found '${lit}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.next(true);
    if (open.tok !== Tok.OpenPar) throw new SelectorError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.peek(true);
    switch (tok) {
      case Tok.Identifier:
      case Tok.Comma: {
        const s = this.parseIdentifiersList();
        if (this.next(true).tok !== Tok.ClosedPar) throw new SelectorError(`found '${lit}', expected: ')'`);
        return s;
      }
      case Tok.ClosedPar:
        this.next(true);
        return new Set(['']);
      default:
        throw new SelectorError(`found '${lit}', expected: ',', ')' or identifier`);
    }
  }

  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const { tok, lit } = this.next(true);
      switch (tok) {
        case Tok.Identifier: {
          s.add(lit);
          const t2 = this.peek(true);
          if (t2.tok === Tok.Comma) continue;
          if (t2.tok === Tok.ClosedPar) return s;
          throw new SelectorError(`found '${t2.lit}', expected: ',' or ')'`);
        }
        case Tok.Comma: {
          if (s.size === 0) s.add(''); // `(,`
          const t2 = this.peek(true).tok;
          if (t2 === Tok.ClosedPar) {
            s.add(''); // `,)`
            return s;
          }
          if (t2 === Tok.Comma) {
            this.next(true);
            s.add(''); // `,,`
          }
          continue;
        }
        default:
          throw new SelectorError(`found '${lit}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const t = this.peek(true).tok;
    if (t === Tok.EndOfString || t === Tok.Comma) return new Set(['']);
    const { tok, lit } = this.next(true);
    if (tok === Tok.Identifier) return new Set([lit]);
    throw new SelectorError(`found '${lit}', expected: identifier`);
  }
}

class SelectorError extends Error {}

/**
 * labels.NewRequirement's checks. `path` is the field path kube prefixes its messages with: ''
 * for a parsed selector (Go's nil path), e.g. `spec.selector.matchExpressions[0]` otherwise.
 */
function newRequirement(key: string, operator: LabelOperator, values: string[], path: string): LabelRequirement {
  const errs: string[] = [];
  const at = (child: string): string => (path === '' ? child : `${path}.${child}`);
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length > 0) errs.push(`${at('key')}: Invalid value: ${goQuote(key)}: ${keyErrs.join('; ')}`);
  const valuesPath = at('values');
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(`${valuesPath}: Invalid value: ${goSlice(values)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(`${valuesPath}: Invalid value: ${goSlice(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(`${valuesPath}: Invalid value: ${goSlice(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(`${valuesPath}: Invalid value: ${goSlice(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(`${valuesPath}[${i}]: Invalid value: ${goQuote(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
  }
  values.forEach((v, i) => {
    const msgs = isValidLabelValue(v);
    if (msgs.length > 0) errs.push(`${valuesPath}[${i}][${key}]: Invalid value: ${goQuote(v)}: ${msgs.join('; ')}`);
  });
  if (errs.length > 0) {
    const unique = [...new Set(errs)];
    throw new SelectorError(unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`);
  }
  return { key, operator, values };
}

/** Go's `%#v` of a []string. */
function goSlice(values: string[]): string {
  return `[]string{${values.map(goQuote).join(', ')}}`;
}

/** strconv.ParseInt(s, 10, 64), as a bigint (undefined when not an int64). */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v >= -(2n ** 63n) && v < 2n ** 63n ? v : undefined;
}

function matchRequirement(r: LabelRequirement, labels: Labels): boolean {
  const has = labels !== undefined && labels !== null && Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value ?? '');
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value ?? '');
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const lv = parseInt64(value ?? '');
      const rv = parseInt64(r.values[0] ?? '');
      if (lv === undefined || rv === undefined) return false;
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
}

function requirementText(r: LabelRequirement): string {
  const vals = [...r.values].sort();
  switch (r.operator) {
    case 'exists': return r.key;
    case '!': return `!${r.key}`;
    case 'in': return `${r.key} in (${vals.join(',')})`;
    case 'notin': return `${r.key} notin (${vals.join(',')})`;
    case 'gt': return `${r.key}>${vals.join(',')}`;
    case 'lt': return `${r.key}<${vals.join(',')}`;
    default: return `${r.key}${r.operator}${vals.join(',')}`;
  }
}

function makeLabelSelector(requirements: LabelRequirement[], nothing = false): LabelSelector {
  const reqs = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    requirements: reqs,
    empty: !nothing && reqs.length === 0,
    matches: nothing ? () => false : (labels) => reqs.every((r) => matchRequirement(r, labels)),
    requiresExactMatch(key) {
      for (const r of reqs) {
        if (r.key !== key) continue;
        if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
        return undefined;
      }
      return undefined;
    },
    toString: () => reqs.map(requirementText).join(','),
  };
}

/** Selects every object. */
export const EVERYTHING: LabelSelector = makeLabelSelector([]);
/** Selects nothing (a nil metav1.LabelSelector). */
export const NOTHING: LabelSelector = makeLabelSelector([], true);

/**
 * labels.Parse: `a=b`, `a==b`, `a!=b`, `a in (b,c)`, `a notin (b)`, `a`, `!a`, `a>1`, `a<1`, joined by
 * commas (AND). A malformed selector is a BadRequest with kube's message, e.g. `unable to parse
 * requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`.
 */
export function parseLabelSelector(selector: string): LabelSelector {
  try {
    return makeLabelSelector(new Parser(lex(selector)).parse());
  } catch (e) {
    if (e instanceof SelectorError) throw new KumoError('BadRequest', e.message);
    throw e;
  }
}

/** The `labelSelector` query parameter as a matcher; undefined when it selects everything. */
export function labelMatcher(selector: string | null | undefined): ((labels: Labels) => boolean) | undefined {
  if (selector === null || selector === undefined) return undefined;
  const s = parseLabelSelector(selector);
  return s.empty ? undefined : (labels) => s.matches(labels);
}

/** metav1.LabelSelector (the object form controllers and workload specs use). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null;
}

/**
 * metav1.LabelSelectorAsSelector: `null`/`undefined` selects nothing, `{}` everything. An invalid
 * selector is a BadRequest whose message names the offending part (`key: Invalid value: …`,
 * `"Foo" is not a valid label selector operator`).
 */
export function labelSelectorFromObject(ls: LabelSelectorObject | null | undefined): LabelSelector {
  if (ls === null || ls === undefined) return NOTHING;
  const matchLabels = ls.matchLabels ?? {};
  const matchExpressions = ls.matchExpressions ?? [];
  if (Object.keys(matchLabels).length + matchExpressions.length === 0) return EVERYTHING;
  const reqs: LabelRequirement[] = [];
  try {
    for (const [k, v] of Object.entries(matchLabels)) reqs.push(newRequirement(k, '=', [v], ''));
    for (const expr of matchExpressions) {
      let op: LabelOperator;
      switch (expr.operator) {
        case 'In': op = 'in'; break;
        case 'NotIn': op = 'notin'; break;
        case 'Exists': op = 'exists'; break;
        case 'DoesNotExist': op = '!'; break;
        default: throw new SelectorError(`${goQuote(expr.operator)} is not a valid label selector operator`);
      }
      reqs.push(newRequirement(expr.key, op, [...(expr.values ?? [])], ''));
    }
  } catch (e) {
    if (e instanceof SelectorError) throw new KumoError('BadRequest', e.message);
    throw e;
  }
  return makeLabelSelector(reqs);
}

// =====================================================================================
// Field selectors
// =====================================================================================

export interface FieldTerm {
  field: string;
  operator: '=' | '!=';
  /** Unescaped. */
  value: string;
}

/** How a field selector reads an object: the field's value as a string, undefined when absent. */
export type FieldGetter = (path: string) => string | undefined;

export interface FieldSelector {
  /** ANDed, in kube's (sorted) order. */
  readonly terms: readonly FieldTerm[];
  readonly empty: boolean;
  /** An absent field reads as `""` (kube's fields.Set.Get). */
  matches(get: FieldGetter): boolean;
  /** The value `field=v` / `field==v` requires (e.g. `metadata.name` for a single-object watch). */
  requiresExactMatch(field: string): string | undefined;
  toString(): string;
}

/** What field selectors need of a resource type. */
export type FieldResource = Pick<ResourceType, 'namespaced' | 'selectableFields'> & Partial<Pick<ResourceType, 'source'>>;

function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const TERM_OPERATORS = ['!=', '==', '='] as const;

function splitTerm(term: string): { lhs: string; op: (typeof TERM_OPERATORS)[number]; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** fields.UnescapeValue: `\\`, `\,`, `\=` are the only escapes; a bare `,` or `=` is an error. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw new SelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    // Go prints the rune with %v: its code point as a number.
    else if (c === ',' || c === '=') throw new SelectorError(`invalid field selector: unescaped character in value: ${c.codePointAt(0) ?? 0}`);
    else out += c;
  }
  if (inSlash) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** fields.EscapeValue. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** The field labels a resource type supports: metadata.name, metadata.namespace, its selectableFields. */
export function supportedFieldLabels(rt: FieldResource): string[] {
  const out = ['metadata.name'];
  // Built-in kinds accept metadata.namespace even when cluster-scoped; CRDs only when namespaced.
  if (rt.namespaced || rt.source !== 'crd') out.push('metadata.namespace');
  for (const f of rt.selectableFields) if (!out.includes(f)) out.push(f);
  return out;
}

/**
 * fields.ParseAndTransformSelector: `a=b`, `a==b`, `a!=b` joined by commas; values escape `\,`,
 * `\=`, `\\`. With `rt`, a field the type does not support is a BadRequest `field label not
 * supported: X` (kube's text). Errors are reported for the first bad term in sorted order, as kube does.
 */
export function parseFieldSelector(selector: string, rt?: FieldResource): FieldSelector {
  const terms: FieldTerm[] = [];
  try {
    const parts = splitTerms(selector).sort();
    for (const part of parts) {
      if (part === '') continue;
      const t = splitTerm(part);
      if (t === undefined) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
      terms.push({ field: t.lhs, operator: t.op === '!=' ? '!=' : '=', value: unescapeFieldValue(t.rhs) });
    }
  } catch (e) {
    if (e instanceof SelectorError) throw new KumoError('BadRequest', e.message);
    throw e;
  }
  if (rt !== undefined) {
    const supported = supportedFieldLabels(rt);
    for (const t of terms) {
      if (!supported.includes(t.field)) throw new KumoError('BadRequest', `field label not supported: ${t.field}`);
    }
  }
  return {
    terms,
    empty: terms.length === 0,
    matches: (get) => terms.every((t) => ((get(t.field) ?? '') === t.value) === (t.operator === '=')),
    requiresExactMatch(field) {
      for (const t of terms) if (t.field === field && t.operator === '=') return t.value;
      return undefined;
    },
    toString: () => terms.map((t) => `${t.field}${t.operator}${escapeFieldValue(t.value)}`).join(','),
  };
}

/**
 * Reads the fields a field selector may name: metadata.name, metadata.namespace and the type's
 * selectableFields (dotted paths). Strings as they are, integers in decimal, booleans as
 * `true`/`false` (kube's CRD selectable field types); anything else reads as absent.
 */
export function fieldGetter(obj: KObject, _rt?: FieldResource): FieldGetter {
  return (path) => {
    let cur: unknown = obj;
    for (const part of path.split('.')) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    if (typeof cur === 'string') return cur;
    if (typeof cur === 'number' && Number.isFinite(cur)) return Number.isInteger(cur) ? BigInt(cur).toString() : String(cur);
    if (typeof cur === 'boolean') return cur ? 'true' : 'false';
    return undefined;
  };
}

/** The `fieldSelector` query parameter as an object matcher; undefined when it selects everything. */
export function fieldMatcher(selector: string | null | undefined, rt: FieldResource): ((obj: KObject) => boolean) | undefined {
  if (selector === null || selector === undefined) return undefined;
  const s = parseFieldSelector(selector, rt);
  return s.empty ? undefined : (obj) => s.matches(fieldGetter(obj, rt));
}

/**
 * The name a list/watch is narrowed to by `fieldSelector=metadata.name=X` (requestinfo's rule: only a
 * valid path segment counts); undefined when there is none or the selector does not parse.
 */
export function exactNameFromFieldSelector(selector: string | null | undefined): string | undefined {
  if (!selector) return undefined;
  try {
    const name = parseFieldSelector(selector).requiresExactMatch('metadata.name');
    return name !== undefined && isValidPathSegmentName(name).length === 0 ? name : undefined;
  } catch {
    return undefined;
  }
}
