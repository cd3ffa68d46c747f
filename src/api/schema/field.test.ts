import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CauseReason, OMIT, child, duplicate, errorBody, forbidden, goFloat, goFloat64, goQuote, goSyntax, goValue, index, invalid, jsonTypeOf, key, notSupported, required, tooLong, tooMany, typeInvalid } from './field.js';

describe('field paths', () => {
  it('print like field.Path.String()', () => {
    assert.equal(child('', 'spec'), 'spec');
    assert.equal(child(child('', 'spec'), 'replicas'), 'spec.replicas');
    assert.equal(child(index(child('spec', 'containers'), 0), 'name'), 'spec.containers[0].name');
    assert.equal(key(child('metadata', 'labels'), 'app'), 'metadata.labels[app]');
    assert.equal(child(key(child('x', 'properties'), 'spec'), 'type'), 'x.properties[spec].type');
  });
});

describe('Go value printing', () => {
  const cases: [unknown, string][] = [
    [null, 'null'],
    ['x', '"x"'],
    ['a"b\\c\n\t', '"a\\"b\\\\c\\n\\t"'],
    ['\u0001\u007f', '"\\x01\\x7f"'],
    ['héllo ✓', '"héllo ✓"'],
    [5, '5'],
    [-3, '-3'],
    [3000000000, '3000000000'],
    [1.5, '1.5'],
    [123456.5, '123456.5'],
    [1234567.5, '1.2345675e+06'],
    [0.00001, '1e-05'],
    [true, 'true'],
    [{ port: 80, name: 'a' }, 'map[string]interface {}{"name":"a", "port":80}'],
    [['a', 1, null], '[]interface {}{"a", 1, interface {}(nil)}'],
    [{}, 'map[string]interface {}{}'],
  ];
  for (const [v, want] of cases) {
    it(`${JSON.stringify(v)} → ${want}`, () => assert.equal(goValue(v), want));
  }
  it('goQuote, goFloat and goSyntax agree with goValue', () => {
    assert.equal(goQuote('x'), goValue('x'));
    assert.equal(goFloat(2.25), goValue(2.25));
    // Schema limits are float64: whole numbers print in %e form from 1e6 on, unlike int64 values.
    assert.deepEqual([10, 123456, 1e7, 0.5].map(goFloat64), ['10', '123456', '1e+07', '0.5']);
    assert.equal(goFloat(1e7), '10000000');
    assert.equal(goSyntax({ a: [1] }), 'map[string]interface {}{"a":[]interface {}{1}}');
  });
  it('JSON type names as kube-openapi reports them', () => {
    assert.deepEqual([null, 'a', 1, 1.5, true, [], {}].map(jsonTypeOf), ['null', 'string', 'integer', 'number', 'boolean', 'array', 'object']);
  });
});

describe('causes', () => {
  const cases: [string, ReturnType<typeof required>, { field: string; reason: string; message: string }][] = [
    ['required', required('spec.name'), { field: 'spec.name', reason: 'FieldValueRequired', message: 'Required value' }],
    ['required with detail', required('x.items', 'must be specified'), { field: 'x.items', reason: 'FieldValueRequired', message: 'Required value: must be specified' }],
    ['invalid', invalid('spec.n', 3, 'too big'), { field: 'spec.n', reason: 'FieldValueInvalid', message: 'Invalid value: 3: too big' }],
    [
      'type invalid',
      typeInvalid('spec.replicas', 'string', 'spec.replicas in body must be of type integer: "string"'),
      { field: 'spec.replicas', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"' },
    ],
    ['not supported', notSupported('spec.size', 'XL', ['S', 'M']), { field: 'spec.size', reason: 'FieldValueNotSupported', message: 'Unsupported value: "XL": supported values: "S", "M"' }],
    ['duplicate', duplicate('spec.tags[2]', 'a'), { field: 'spec.tags[2]', reason: 'FieldValueDuplicate', message: 'Duplicate value: "a"' }],
    ['forbidden', forbidden('x.uniqueItems', 'no'), { field: 'x.uniqueItems', reason: 'FieldValueForbidden', message: 'Forbidden: no' }],
    ['too long hides the value', tooLong('spec.name', 5), { field: 'spec.name', reason: 'FieldValueTooLong', message: 'Too long: may not be longer than 5' }],
    ['too many', tooMany('spec.list', 4, 3), { field: 'spec.list', reason: 'FieldValueTooMany', message: 'Too many: 4: must have at most 3 items' }],
  ];
  for (const [name, got, want] of cases) it(name, () => assert.deepEqual(got, want));
  it('an omitted value prints only the type', () => {
    assert.equal(errorBody(CauseReason.Invalid, OMIT, 'detail'), 'Invalid value: detail');
    assert.equal(errorBody(CauseReason.TooMany, OMIT, ''), 'Too many');
  });
});
