import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCause } from '../../lib/errors.js';
import type { JSONSchemaProps, ResourceType } from '../types.js';
import { blockingCause, checkRules, escapeName, hasRules, validFieldPath, validateRules } from './cel.js';
import { schemaOps } from './ops.js';

type Rule = NonNullable<JSONSchemaProps['x-kubernetes-validations']>[number];

/** A Widget-like resource schema whose spec carries `rules`. */
function widget(rules: Rule[], extra: Record<string, JSONSchemaProps> = {}, rootRules: Rule[] = []): JSONSchemaProps {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object', properties: { name: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } } } },
      spec: {
        type: 'object',
        'x-kubernetes-validations': rules,
        properties: {
          minReplicas: { type: 'integer' },
          maxReplicas: { type: 'integer' },
          name: { type: 'string' },
          ratio: { type: 'number' },
          tags: { type: 'array', items: { type: 'string' } },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          ...extra,
        },
      },
    },
  };
  if (rootRules.length > 0) s['x-kubernetes-validations'] = rootRules;
  return s;
}

const obj = (spec: Record<string, unknown>, name = 'x') => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, labels: { a: 'b' } }, spec });

function msgs(causes: ErrorCause[]): string[] {
  return causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''} [${c.reason ?? ''}]`);
}

describe('validateRules', () => {
  const cases: { name: string; rules: Rule[]; spec: Record<string, unknown>; old?: Record<string, unknown>; want: string[] }[] = [
    { name: 'a true rule', rules: [{ rule: 'self.minReplicas <= self.maxReplicas' }], spec: { minReplicas: 1, maxReplicas: 3 }, want: [] },
    {
      name: 'a false rule with a message',
      rules: [{ rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not exceed maxReplicas' }],
      spec: { minReplicas: 5, maxReplicas: 3 },
      want: ['spec: Invalid value: "object": minReplicas must not exceed maxReplicas [FieldValueInvalid]'],
    },
    {
      name: 'a false rule without a message',
      rules: [{ rule: 'self.minReplicas <= self.maxReplicas' }],
      spec: { minReplicas: 5, maxReplicas: 3 },
      want: ['spec: Invalid value: "object": failed rule: self.minReplicas <= self.maxReplicas [FieldValueInvalid]'],
    },
    {
      name: 'messageExpression',
      rules: [{ rule: 'self.minReplicas <= self.maxReplicas', message: 'm', messageExpression: "'minReplicas ' + string(self.minReplicas) + ' exceeds ' + string(self.maxReplicas)" }],
      spec: { minReplicas: 5, maxReplicas: 3 },
      want: ['spec: Invalid value: "object": minReplicas 5 exceeds 3 [FieldValueInvalid]'],
    },
    {
      name: 'a messageExpression that yields an empty string falls back to the message',
      rules: [{ rule: 'false', message: 'plain', messageExpression: "'  '" }],
      spec: {},
      want: ['spec: Invalid value: "object": plain [FieldValueInvalid]'],
    },
    { name: 'reason Forbidden', rules: [{ rule: '!has(self.name)', message: 'name is not allowed', reason: 'FieldValueForbidden' }], spec: { name: 'a' }, want: ['spec: Forbidden: name is not allowed [FieldValueForbidden]'] },
    { name: 'reason Required', rules: [{ rule: 'has(self.name)', message: 'name is required', reason: 'FieldValueRequired' }], spec: {}, want: ['spec: Required value: name is required [FieldValueRequired]'] },
    { name: 'reason Duplicate', rules: [{ rule: 'false', reason: 'FieldValueDuplicate' }], spec: {}, want: ['spec: Duplicate value: "object" [FieldValueDuplicate]'] },
    {
      name: 'fieldPath',
      rules: [{ rule: 'self.minReplicas <= self.maxReplicas', message: 'too many', fieldPath: '.minReplicas' }],
      spec: { minReplicas: 5, maxReplicas: 3 },
      want: ['spec.minReplicas: Invalid value: "object": too many [FieldValueInvalid]'],
    },
    {
      name: "fieldPath into a map with ['key']",
      rules: [{ rule: "self.labels['a.b'] == 'x'", fieldPath: ".labels['a.b']" }],
      spec: { labels: { 'a.b': 'y' } },
      want: [`spec.labels[a.b]: Invalid value: "object": failed rule: self.labels['a.b'] == 'x' [FieldValueInvalid]`],
    },
    { name: 'a transition rule is skipped on create', rules: [{ rule: 'self.name == oldSelf.name', message: 'immutable' }], spec: { name: 'b' }, want: [] },
    {
      name: 'a transition rule on update',
      rules: [{ rule: 'self.name == oldSelf.name', message: 'name is immutable' }],
      spec: { name: 'b' },
      old: { name: 'a' },
      want: ['spec: Invalid value: "object": name is immutable [FieldValueInvalid]'],
    },
    { name: 'a transition rule that holds', rules: [{ rule: 'self.name == oldSelf.name' }], spec: { name: 'a', minReplicas: 2 }, old: { name: 'a' }, want: [] },
    {
      name: 'an evaluation error names the field',
      rules: [{ rule: 'self.name == "a"' }],
      spec: { minReplicas: 1 },
      want: ['spec: Invalid value: "object": no such key: name evaluating rule: self.name == "a" [FieldValueInvalid]'],
    },
    {
      name: 'division by zero',
      rules: [{ rule: 'self.minReplicas / self.maxReplicas > 0', message: 'ratio' }],
      spec: { minReplicas: 1, maxReplicas: 0 },
      want: ['spec: Invalid value: "object": division by zero evaluating rule: ratio [FieldValueInvalid]'],
    },
    {
      name: 'several rules, each reported',
      rules: [{ rule: 'self.minReplicas >= 0', message: 'a' }, { rule: 'self.maxReplicas <= 10', message: 'b' }, { rule: 'true' }],
      spec: { minReplicas: -1, maxReplicas: 11 },
      want: ['spec: Invalid value: "object": a [FieldValueInvalid]', 'spec: Invalid value: "object": b [FieldValueInvalid]'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = widget(c.rules);
      assert.deepEqual(msgs(validateRules(s, obj(c.spec), c.old ? obj(c.old) : undefined)), c.want);
    });
  }

  it('a rule at the root reports <nil>, and sees apiVersion, kind and metadata.name only', () => {
    const s = widget([], {}, [{ rule: "self.metadata.name.startsWith('w-') && self.kind == 'Widget'", message: 'name must start with w-' }]);
    assert.deepEqual(msgs(validateRules(s, obj({}, 'x'))), ['<nil>: Invalid value: "object": name must start with w- [FieldValueInvalid]']);
    assert.deepEqual(validateRules(s, obj({}, 'w-1')), []);
    const labels = widget([], {}, [{ rule: 'has(self.metadata.labels)' }]);
    assert.match(msgs(validateRules(labels, obj({})))[0] ?? '', /rule compile error: compilation failed: .*undefined field 'labels'/);
  });

  it('rules on list items and map values, with their paths', () => {
    const s = widget([], {
      ports: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, port: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'port is immutable' }] } },
          'x-kubernetes-validations': [{ rule: 'self.port > 0', message: 'port must be positive' }],
        },
      },
      env: { type: 'object', additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() < 5', message: 'too long' }] } },
    });
    const spec = { ports: [{ name: 'a', port: 0 }, { name: 'b', port: 81 }], env: { OK: 'x', BAD: 'toolong' } };
    // on create, item rules only; b's port changed on update (correlated by key), c is new.
    assert.deepEqual(msgs(validateRules(s, obj(spec))), ['spec.ports[0]: Invalid value: "object": port must be positive [FieldValueInvalid]', 'spec.env[BAD]: Invalid value: "string": too long [FieldValueInvalid]']);
    const updated = { ports: [{ name: 'c', port: 1 }, { name: 'b', port: 82 }] };
    assert.deepEqual(msgs(validateRules(s, obj(updated), obj(spec))), ['spec.ports[1].port: Invalid value: "integer": port is immutable [FieldValueInvalid]']);
  });

  it('schema types: int, double, timestamp, duration, bytes, escaped names, maps', () => {
    const s = widget(
      [
        { rule: 'self.minReplicas == 3 && type(self.minReplicas) == int', message: 'int' },
        { rule: 'self.ratio == 0.5 && type(self.ratio) == double', message: 'double' },
        { rule: "self.startAt < timestamp('2030-01-01T00:00:00Z') && self.startAt.getFullYear() == 2024", message: 'timestamp' },
        { rule: "self.timeout > duration('1m') && self.timeout < duration('2h')", message: 'duration' },
        { rule: 'size(self.data) == 3', message: 'bytes' },
        { rule: "self.foo__dash__bar == 'x' && self.__if__ == 1", message: 'escaped' },
        { rule: "self.labels['app.kubernetes.io/name'] == 'w' && 'app.kubernetes.io/name' in self.labels", message: 'map' },
        { rule: "has(self.name) == false && has(self.labels.missing) == false", message: 'has' },
        { rule: 'self.any.x == 1 && self.any.y == 1.5', message: 'preserved' },
      ],
      {
        startAt: { type: 'string', format: 'date-time' },
        timeout: { type: 'string', format: 'duration' },
        data: { type: 'string', format: 'byte' },
        'foo-bar': { type: 'string' },
        if: { type: 'integer' },
        any: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    );
    const spec = {
      minReplicas: 3,
      ratio: 0.5,
      startAt: '2024-05-01T10:00:00Z',
      timeout: '1h30m',
      data: 'YWJj',
      'foo-bar': 'x',
      if: 1,
      labels: { 'app.kubernetes.io/name': 'w' },
      any: { x: 1, y: 1.5 },
    };
    assert.deepEqual(validateRules(s, obj(spec)), []);
  });

  it("Kubernetes' libraries: lists, strings, sets, regex, macros", () => {
    const rules: Rule[] = [
      '[1, 2, 3].isSorted() && ![2, 1].isSorted()',
      '[1, 3].sum() == 4 && [1.0, 3.0].sum() == 4.0 && [].sum() == 0',
      '[1, 3].min() == 1 && [1, 3].max() == 3',
      "['a', 'b', 'a'].indexOf('a') == 0 && ['a', 'b', 'a'].lastIndexOf('a') == 2",
      "self.name.lowerAscii() == 'abc-def' && self.name.replace('-', '_') == 'ABC_DEF' && self.name.split('-').size() == 2",
      "self.name.startsWith('AB') && self.name.endsWith('EF') && self.name.contains('C-D') && self.name.matches('^[A-Z-]+$')",
      "self.name.substring(0, 3) == 'ABC' && self.name.indexOf('-') == 3 && 'x'.charAt(0) == 'x'",
      "sets.contains([1, 2, 3], [2]) && sets.intersects([1], [1, 2]) && sets.equivalent([1, 2], [2, 1])",
      "self.tags.all(t, t.size() > 0) && self.tags.exists(t, t == 'b') && self.tags.exists_one(t, t == 'a')",
      "self.tags.map(t, t + '!') == ['a!', 'b!'] && self.tags.filter(t, t != 'a') == ['b']",
      "size(self.tags) == 2 && self.tags.size() == 2",
    ].map((rule) => ({ rule }));
    assert.deepEqual(validateRules(widget(rules), obj({ name: 'ABC-DEF', tags: ['a', 'b'] })), []);
    const bad = widget([{ rule: '[].min() == 0' }]);
    assert.deepEqual(msgs(validateRules(bad, obj({}))), ['spec: Invalid value: "object": min called on empty list evaluating rule: [].min() == 0 [FieldValueInvalid]']);
  });

  it('int-or-string is dynamic: a wrong type at run time is no such overload', () => {
    const s = widget([{ rule: 'self.port > 0' }], { port: { 'x-kubernetes-int-or-string': true } });
    assert.deepEqual(validateRules(s, obj({ port: 80 })), []);
    assert.deepEqual(msgs(validateRules(s, obj({ port: 'http' }))), [
      `spec: Invalid value: "object": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self.port > 0 [FieldValueInvalid]`,
    ]);
  });

  describe('cost', () => {
    const list = { type: 'array', items: { type: 'integer' } } as JSONSchemaProps;
    const many = Array.from({ length: 400 }, (_, i) => i + 1);
    it('a rule over its per-call limit stops all further rules', () => {
      const s = widget([{ rule: 'self.nums.all(a, self.nums.all(b, a + b > 0))', message: 'n^2' }, { rule: 'false', message: 'not reached' }], { nums: list });
      const t0 = performance.now();
      const got = msgs(validateRules(s, obj({ nums: many })));
      assert.ok(performance.now() - t0 < 1000, 'stopped early');
      assert.deepEqual(got, [
        `spec: Invalid value: "object": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: n^2 [FieldValueInvalid]`,
      ]);
    });
    it('the per-object budget is shared by every rule', () => {
      const s = widget([{ rule: 'self.nums.all(a, a > 0)' }, { rule: 'self.nums.all(a, a > 0)' }, { rule: 'false', message: 'not reached' }], { nums: list });
      assert.deepEqual(msgs(validateRules(s, obj({ nums: many }), undefined, { costBudget: 700 })), [
        'spec: Invalid value: "object": validation failed due to running out of cost budget, no further validation rules will be run [FieldValueInvalid]',
      ]);
      assert.deepEqual(msgs(validateRules(s, obj({ nums: many }), undefined, { costBudget: 2000 })), ['spec: Invalid value: "object": not reached [FieldValueInvalid]']);
    });
    it('an error-absorbing || does not hide an exceeded limit', () => {
      const s = widget([{ rule: 'self.nums.all(a, self.nums.all(b, a + b > 0)) || true' }], { nums: list });
      assert.match(msgs(validateRules(s, obj({ nums: many })))[0] ?? '', /call cost exceeds limit/);
    });
    it('the wall-clock limit', () => {
      const s = widget([{ rule: 'self.nums.all(a, a > 0)' }], { nums: list });
      assert.match(msgs(validateRules(s, obj({ nums: many }), undefined, { timeLimitMs: -1 }))[0] ?? '', /running out of cost budget/);
    });
  });
});

describe('checkRules (CRD creation/update)', () => {
  const at = 'spec.versions[0].schema.openAPIV3Schema';
  const check = (rules: Rule[], extra: Record<string, JSONSchemaProps> = {}) => msgs(checkRules(widget(rules, extra), at));
  const spec = `${at}.properties[spec].x-kubernetes-validations[0]`;
  const ruleValue = (rule: string) => `apiextensions.ValidationRule{Rule:"${rule}", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}`;
  const cases: [string, Rule[], string[]][] = [
    ['valid rules', [{ rule: 'self.minReplicas <= self.maxReplicas' }, { rule: 'self.name == oldSelf.name', messageExpression: "'was ' + oldSelf.name" }], []],
    ['a syntax error', [{ rule: 'self.minReplicas <= ' }], [`${spec}.rule: Invalid value: ${ruleValue('self.minReplicas <= ')}: compilation failed: ERROR: <input>:1:18: Syntax error: found < but expecting end of input [FieldValueInvalid]`]],
    ['an undefined field', [{ rule: 'self.nope == 1' }], [`${spec}.rule: Invalid value: ${ruleValue('self.nope == 1')}: compilation failed: ERROR: <input>:1:5: undefined field 'nope' [FieldValueInvalid]`]],
    ['an undeclared reference', [{ rule: 'other > 1' }], [`${spec}.rule: Invalid value: ${ruleValue('other > 1')}: compilation failed: ERROR: <input>:1:1: undeclared reference to 'other' (in container '') [FieldValueInvalid]`]],
    ['a result that is not a bool', [{ rule: 'self.minReplicas + 1' }], [`${spec}.rule: Invalid value: ${ruleValue('self.minReplicas + 1')}: cel expression must evaluate to a bool [FieldValueInvalid]`]],
    ['field selection on a string', [{ rule: 'self.name.x == 1' }], [`${spec}.rule: Invalid value: ${ruleValue('self.name.x == 1')}: compilation failed: ERROR: <input>:1:10: type 'string' does not support field selection [FieldValueInvalid]`]],
    ['an unknown function', [{ rule: 'frob(self)' }], [`${spec}.rule: Invalid value: ${ruleValue('frob(self)')}: compilation failed: ERROR: <input>:1:1: undeclared reference to 'frob' (in container '') [FieldValueInvalid]`]],
    ['a bad regular expression', [{ rule: "self.name.matches('[')" }], [`${spec}.rule: Invalid value: ${ruleValue("self.name.matches('[')")}: compilation failed: ERROR: <input>:1:19: invalid regular expression: error parsing regexp: missing closing ]: \`[\` [FieldValueInvalid]`]],
    ['an unsupported reason', [{ rule: 'true', reason: 'Nope' }], [`${spec}.reason: Unsupported value: "Nope": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired" [FieldValueNotSupported]`]],
    ['a fieldPath that is not in the schema', [{ rule: 'true', fieldPath: '.nope' }], [`${spec}.fieldPath: Invalid value: ".nope": fieldPath must be a valid path: does not refer to a valid field [FieldValueInvalid]`]],
    ['a message with a line break', [{ rule: 'true', message: 'a\nb' }], [`${spec}.message: Invalid value: "a\\nb": message must not contain line breaks [FieldValueInvalid]`]],
  ];
  for (const [name, rules, want] of cases) it(name, () => assert.deepEqual(check(rules), want));

  it('an expression nested too deeply is a compile error, not a crash', () => {
    const deep = `${'('.repeat(20000)}true${')'.repeat(20000)}`;
    const got = check([{ rule: deep }]);
    assert.equal(got.length, 1);
    assert.match(got[0] ?? '', /x-kubernetes-validations\[0\]\.rule: Invalid value: .*compilation failed/);
  });

  it('a messageExpression that is not a string', () => {
    const got = check([{ rule: 'true', messageExpression: 'self.minReplicas' }]);
    assert.equal(got.length, 1);
    assert.match(got[0] ?? '', /^spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[0\]\.messageExpression: Invalid value: .*: messageExpression must evaluate to a string/);
  });

  it('oldSelf only where old values correlate (lists of type map)', () => {
    const item = { type: 'object', properties: { name: { type: 'string' } }, 'x-kubernetes-validations': [{ rule: 'self.name == oldSelf.name' }] } as JSONSchemaProps;
    assert.deepEqual(check([], { m: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: item } }), []);
    assert.deepEqual(check([], { a: { type: 'array', items: item } }), [
      `${at}.properties[spec].properties[a].items.x-kubernetes-validations[0].rule: Invalid value: "self.name == oldSelf.name": oldSelf cannot be used on the uncorrelatable portion of the schema within ${at}.properties[spec].properties[a].items [FieldValueInvalid]`,
    ]);
  });
});

describe('helpers', () => {
  it('escapeName', () => {
    assert.equal(escapeName('foo-bar'), 'foo__dash__bar');
    assert.equal(escapeName('a.b/c'), 'a__dot__b__slash__c');
    assert.equal(escapeName('x__y'), 'x__underscores__y');
    assert.equal(escapeName('in'), '__in__');
    assert.equal(escapeName('9lives'), undefined);
  });
  it('validFieldPath', () => {
    const s = widget([]).properties?.spec as JSONSchemaProps;
    assert.deepEqual(validFieldPath('.minReplicas', s), { path: 'minReplicas' });
    assert.deepEqual(validFieldPath(".labels['a.b']", s), { path: 'labels[a.b]' });
    assert.deepEqual(validFieldPath('.tags[0]', s), { error: 'expected single quoted string but got 0' });
    assert.deepEqual(validFieldPath('.', s), { error: 'unexpected end of JSON path' });
  });
  it('hasRules and blockingCause', () => {
    assert.equal(hasRules(widget([])), false);
    assert.equal(hasRules(widget([{ rule: 'true' }])), true);
    assert.equal(blockingCause([{ field: 'spec.x', reason: 'FieldValueInvalid', message: '' }]), undefined);
    assert.deepEqual(blockingCause([{ field: 'spec.x', reason: 'FieldValueTypeInvalid', message: '' }]), {
      field: '<nil>',
      reason: 'FieldValueInvalid',
      message: 'Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    });
  });
});

describe('schemaOps.validate runs rules', () => {
  const rt = { kind: 'Widget', group: 'example.com', version: 'v1', source: 'crd', schema: widget([{ rule: 'self.minReplicas <= self.maxReplicas', message: 'min > max' }]) } as unknown as ResourceType;
  it('after schema validation', () => {
    assert.deepEqual(msgs(schemaOps.validate(rt, obj({ minReplicas: 2, maxReplicas: 1 }), undefined)), ['spec: Invalid value: "object": min > max [FieldValueInvalid]']);
  });
  it('not when a value has the wrong type', () => {
    const got = msgs(schemaOps.validate(rt, obj({ minReplicas: 'two', maxReplicas: 1 }), undefined));
    assert.equal(got.length, 2);
    assert.match(got[0] ?? '', /^spec\.minReplicas: Invalid value: "string"/);
    assert.match(got[1] ?? '', /^<nil>: Invalid value: null: some validation rules were not checked/);
  });
});
