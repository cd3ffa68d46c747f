import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError } from '../lib/errors.js';
import type { KObject } from '../api/types.js';
import {
  EVERYTHING,
  NOTHING,
  escapeFieldValue,
  exactNameFromFieldSelector,
  fieldGetter,
  fieldMatcher,
  labelMatcher,
  labelSelectorFromObject,
  parseFieldSelector,
  parseLabelSelector,
  supportedFieldLabels,
  unescapeFieldValue,
} from './selectors.js';

function badRequest(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isKumoError(e, 'BadRequest'), `not a BadRequest: ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

const QNAME_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('parseLabelSelector: matching', () => {
  const L = { app: 'web', tier: 'front', n: '5', empty: '' };
  // [selector, labels, matches]
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ['', L, true],
    ['   ', undefined, true],
    ['app=web', L, true],
    ['app==web', L, true],
    ['app=db', L, false],
    ['app!=db', L, true],
    ['app!=web', L, false],
    ['missing!=x', L, true],
    ['app', L, true],
    ['missing', L, false],
    ['!missing', L, true],
    ['!app', L, false],
    ['app in (web,db)', L, true],
    ['app in (db)', L, false],
    ['missing in (a)', L, false],
    ['app notin (db)', L, true],
    ['app notin (web)', L, false],
    ['missing notin (a)', L, true],
    ['app=web,tier=front', L, true],
    ['app=web,tier=back', L, false],
    ['app = web , tier in ( front , back )', L, true],
    ['app\t=\nweb', L, true],
    ['empty=', L, true],
    ['empty==', L, true],
    ['empty in ()', L, true],
    ['empty in (,a)', L, true],
    ['app in (web,)', L, true],
    ['n>4', L, true],
    ['n>5', L, false],
    ['n<6', L, true],
    ['app>1', L, false],
    ['missing<1', L, false],
    ['app', undefined, false],
    ['!app', undefined, true],
    ['app notin (x)', undefined, true],
    ['in in (in)', { in: 'in' }, true],
    ['notin notin (notin)', { notin: 'x' }, true],
    ['example.com/app=web', { 'example.com/app': 'web' }, true],
    ['x in (a,b,a)', { x: 'b' }, true],
  ];
  for (const [sel, labels, want] of cases) {
    it(`${JSON.stringify(sel)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(labels)}`, () => assert.equal(parseLabelSelector(sel).matches(labels), want));
  }
});

describe('parseLabelSelector: errors (kube wording)', () => {
  const cases: [string, string][] = [
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    ['a,,b', "found ',', expected: identifier after ','"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a=b=c', "found '=', expected: ',' or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['!,a', "unable to parse requirement: found ',', expected: identifier"],
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['a in (b c)', "unable to parse requirement: found 'c', expected: ',' or ')'"],
    ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['a in (b,=)', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a=(', "unable to parse requirement: found '(', expected: identifier"],
    ['A_', `unable to parse requirement: <nil>: Invalid value: "A_": ${QNAME_NAME_MSG}`],
    ['a=-b', `unable to parse requirement: values[0][a]: Invalid value: "-b": ${LABEL_VALUE_MSG}`],
    ['a in (ok,-b)', `unable to parse requirement: values[0][a]: Invalid value: "-b": ${LABEL_VALUE_MSG}`],
    ['a>b', `unable to parse requirement: values[0]: Invalid value: "b": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['a>-1', `unable to parse requirement: values[0][a]: Invalid value: "-1": ${LABEL_VALUE_MSG}`],
    [
      'a>_x',
      `unable to parse requirement: [values[0]: Invalid value: "_x": for 'Gt', 'Lt' operators, the value must be an integer, values[0][a]: Invalid value: "_x": ${LABEL_VALUE_MSG}]`,
    ],
    [`${'k'.repeat(64)}`, `unable to parse requirement: <nil>: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`],
  ];
  for (const [sel, msg] of cases) it(JSON.stringify(sel.slice(0, 30)), () => badRequest(() => parseLabelSelector(sel), msg));
});

describe('parseLabelSelector: introspection', () => {
  it('prints kube\'s canonical form (sorted by key, values sorted)', () => {
    assert.equal(parseLabelSelector('z=1, a in (c,b), !m, e, x!=y, n>3, o<2, d==4').toString(), 'a in (b,c),d==4,e,!m,n>3,o<2,x!=y,z=1');
  });
  it('requiresExactMatch', () => {
    const s = parseLabelSelector('a=1,b in (2),c in (3,4),d!=5');
    assert.equal(s.requiresExactMatch('a'), '1');
    assert.equal(s.requiresExactMatch('b'), '2');
    assert.equal(s.requiresExactMatch('c'), undefined);
    assert.equal(s.requiresExactMatch('d'), undefined);
    assert.equal(s.requiresExactMatch('zz'), undefined);
  });
  it('empty selects everything', () => {
    assert.equal(parseLabelSelector('').empty, true);
    assert.equal(parseLabelSelector('a').empty, false);
    assert.equal(labelMatcher(''), undefined);
    assert.equal(labelMatcher(undefined), undefined);
    assert.equal(labelMatcher(null), undefined);
    const m = labelMatcher('a=b');
    assert.ok(m);
    assert.equal(m({ a: 'b' }), true);
    assert.equal(m({ a: 'c' }), false);
  });
});

describe('labelSelectorFromObject (metav1.LabelSelector)', () => {
  it('nil selects nothing, {} everything', () => {
    assert.equal(labelSelectorFromObject(null), NOTHING);
    assert.equal(labelSelectorFromObject(undefined).matches({}), false);
    assert.equal(labelSelectorFromObject({}), EVERYTHING);
    assert.equal(labelSelectorFromObject({ matchLabels: {}, matchExpressions: [] }).matches(undefined), true);
  });
  it('matchLabels and matchExpressions are ANDed', () => {
    const s = labelSelectorFromObject({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['front', 'edge'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'team', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    assert.equal(s.matches({ app: 'web', tier: 'edge', team: 'a' }), true);
    assert.equal(s.matches({ app: 'web', tier: 'edge', team: 'a', env: 'prod' }), false);
    assert.equal(s.matches({ app: 'web', tier: 'edge' }), false);
    assert.equal(s.matches({ app: 'web', tier: 'edge', team: 'a', legacy: '' }), false);
    assert.equal(s.toString(), 'app=web,env notin (prod),!legacy,team,tier in (edge,front)');
  });
  const bad: [Parameters<typeof labelSelectorFromObject>[0], string][] = [
    [{ matchExpressions: [{ key: 'a', operator: 'Foo' }] }, '"Foo" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, `values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist`],
    [{ matchLabels: { 'A_': 'x' } }, `key: Invalid value: "A_": ${QNAME_NAME_MSG}`],
    [{ matchLabels: { a: '-x' } }, `values[0][a]: Invalid value: "-x": ${LABEL_VALUE_MSG}`],
  ];
  for (const [ls, msg] of bad) it(`rejects ${JSON.stringify(ls)}`, () => badRequest(() => labelSelectorFromObject(ls), msg));
});

describe('parseFieldSelector', () => {
  const get = (m: Record<string, string>) => (p: string) => m[p];
  const cases: [string, Record<string, string>, boolean][] = [
    ['', {}, true],
    ['metadata.name=a', { 'metadata.name': 'a' }, true],
    ['metadata.name==a', { 'metadata.name': 'a' }, true],
    ['metadata.name=a', { 'metadata.name': 'b' }, false],
    ['metadata.name!=a', { 'metadata.name': 'b' }, true],
    ['metadata.name!=a', { 'metadata.name': 'a' }, false],
    ['metadata.name=a,metadata.namespace=n', { 'metadata.name': 'a', 'metadata.namespace': 'n' }, true],
    ['metadata.name=a,metadata.namespace=n', { 'metadata.name': 'a', 'metadata.namespace': 'm' }, false],
    ['spec.x=', {}, true],
    ['spec.x!=', {}, false],
    ['spec.x=', { 'spec.x': 'v' }, false],
    ['spec.x=a\\,b', { 'spec.x': 'a,b' }, true],
    ['spec.x=a\\=b', { 'spec.x': 'a=b' }, true],
    ['spec.x=a\\\\b', { 'spec.x': 'a\\b' }, true],
    ['spec.x=a,', { 'spec.x': 'a' }, true],
    [',,spec.x=a', { 'spec.x': 'a' }, true],
    ['spec.x= a', { 'spec.x': ' a' }, true],
  ];
  for (const [sel, fields, want] of cases) {
    it(`${JSON.stringify(sel)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(fields)}`, () => assert.equal(parseFieldSelector(sel).matches(get(fields)), want));
  }
  const bad: [string, string][] = [
    ['a', "invalid selector: 'a'; can't understand 'a'"],
    ['b=1,a', "invalid selector: 'b=1,a'; can't understand 'a'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a=b\\,c,d=e,f', "invalid selector: 'a=b\\,c,d=e,f'; can't understand 'f'"],
    ['a=\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=x\\', 'invalid field selector: invalid escape sequence: \\'],
  ];
  for (const [sel, msg] of bad) it(`rejects ${JSON.stringify(sel)}`, () => badRequest(() => parseFieldSelector(sel), msg));

  it('splits on the first operator; the field cannot be escaped', () => {
    const s = parseFieldSelector('a!=b');
    assert.deepEqual(s.terms, [{ field: 'a', operator: '!=', value: 'b' }]);
    assert.deepEqual(parseFieldSelector('a==b').terms, [{ field: 'a', operator: '=', value: 'b' }]);
    assert.deepEqual(parseFieldSelector('a=!b').terms, [{ field: 'a', operator: '=', value: '!b' }]);
  });
  it('prints escaped, sorted terms; requiresExactMatch', () => {
    const s = parseFieldSelector('z!=1,metadata.name==a\\,b');
    assert.equal(s.toString(), 'metadata.name=a\\,b,z!=1');
    assert.equal(s.requiresExactMatch('metadata.name'), 'a,b');
    assert.equal(s.requiresExactMatch('z'), undefined);
  });
  it('escape/unescape round trip', () => {
    for (const v of ['', 'plain', 'a,b', 'a=b', 'a\\b', '\\,=']) assert.equal(unescapeFieldValue(escapeFieldValue(v)), v);
  });
});

describe('field labels per resource type', () => {
  const configmaps = { namespaced: true, selectableFields: [], source: 'builtin' as const };
  const namespacesRt = { namespaced: false, selectableFields: ['status.phase'], source: 'builtin' as const };
  const crdNamespaced = { namespaced: true, selectableFields: ['spec.color', 'spec.size'], source: 'crd' as const };
  const crdCluster = { namespaced: false, selectableFields: [], source: 'crd' as const };
  it('supported labels', () => {
    assert.deepEqual(supportedFieldLabels(configmaps), ['metadata.name', 'metadata.namespace']);
    assert.deepEqual(supportedFieldLabels(namespacesRt), ['metadata.name', 'metadata.namespace', 'status.phase']);
    assert.deepEqual(supportedFieldLabels(crdNamespaced), ['metadata.name', 'metadata.namespace', 'spec.color', 'spec.size']);
    assert.deepEqual(supportedFieldLabels(crdCluster), ['metadata.name']);
  });
  it('unsupported fields are a BadRequest with kube\'s text (first in sorted order)', () => {
    badRequest(() => parseFieldSelector('spec.foo=bar', configmaps), 'field label not supported: spec.foo');
    badRequest(() => parseFieldSelector('z.z=1,spec.foo=bar', configmaps), 'field label not supported: spec.foo');
    badRequest(() => parseFieldSelector('metadata.namespace=x', crdCluster), 'field label not supported: metadata.namespace');
    assert.ok(parseFieldSelector('metadata.namespace=x', namespacesRt));
    assert.ok(parseFieldSelector('spec.color=red', crdNamespaced));
  });
  it('syntax errors come before unsupported fields', () => {
    badRequest(() => parseFieldSelector('spec.foo=bar,x', configmaps), "invalid selector: 'spec.foo=bar,x'; can't understand 'x'");
  });

  const obj: KObject = {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w1', namespace: 'ns1' },
    spec: { color: 'red', size: 3, big: 12345678901234567890, on: true, nested: { x: 1 }, list: [1], nil: null },
  };
  it('fieldGetter reads strings, integers and booleans', () => {
    const get = fieldGetter(obj);
    assert.equal(get('metadata.name'), 'w1');
    assert.equal(get('metadata.namespace'), 'ns1');
    assert.equal(get('spec.color'), 'red');
    assert.equal(get('spec.size'), '3');
    assert.equal(get('spec.big'), '12345678901234567168');
    assert.equal(get('spec.on'), 'true');
    assert.equal(get('spec.nested'), undefined);
    assert.equal(get('spec.list'), undefined);
    assert.equal(get('spec.nil'), undefined);
    assert.equal(get('spec.missing.deep'), undefined);
  });
  it('fieldMatcher over objects', () => {
    const m = fieldMatcher('spec.size=3,metadata.name=w1', crdNamespaced);
    assert.ok(m);
    assert.equal(m(obj), true);
    assert.equal(fieldMatcher('spec.color!=red', crdNamespaced)?.(obj), false);
    assert.equal(fieldMatcher('metadata.namespace=', configmaps)?.({ metadata: { name: 'x' } }), true);
    assert.equal(fieldMatcher('', crdNamespaced), undefined);
    assert.equal(fieldMatcher(undefined, crdNamespaced), undefined);
  });
  it('exactNameFromFieldSelector (requestinfo narrowing)', () => {
    assert.equal(exactNameFromFieldSelector('metadata.name=foo'), 'foo');
    assert.equal(exactNameFromFieldSelector('metadata.name==foo,spec.x=y'), 'foo');
    assert.equal(exactNameFromFieldSelector('metadata.name!=foo'), undefined);
    assert.equal(exactNameFromFieldSelector('metadata.name=a\\,/b'), undefined);
    assert.equal(exactNameFromFieldSelector('broken'), undefined);
    assert.equal(exactNameFromFieldSelector(undefined), undefined);
  });
});
