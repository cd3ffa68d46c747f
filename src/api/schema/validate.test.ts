import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps } from '../types.js';
import { arr, bytes, int, intOrString, map, obj, quantity, str, time } from './dsl.js';
import { compileValidator } from './validate.js';

// A kind shaped like the CronTab of the Kubernetes CRD docs, plus the extensions Kumo's kinds use.
const schema: JSONSchemaProps = obj({
  apiVersion: str(),
  kind: str(),
  metadata: obj({ name: str(), labels: map(str()) }),
  spec: obj(
    {
      cronSpec: str({ pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' }),
      image: str({ maxLength: 20 }),
      replicas: int({ minimum: 1, maximum: 10 }),
      ratio: { type: 'number', maximum: 1, exclusiveMaximum: true },
      size: str({ enum: ['S', 'M', 'L'] }),
      note: str({ nullable: true }),
      port: intOrString(),
      memory: quantity(),
      data: bytes(),
      startAt: time(),
      tags: arr(str(), { set: true, maxItems: 3 }),
      hosts: arr(str(), { minItems: 1 }),
      ports: arr(obj({ name: str(), port: int() }, { required: ['port'] }), { mapKeys: ['name'] }),
      endpoints: arr(obj({ port: int(), protocol: str() }), { mapKeys: ['port', 'protocol'] }),
      containers: arr(obj({ name: str(), image: str() }, { required: ['name'] })),
      env: map(str()),
      strict: { type: 'object', properties: { a: str() }, additionalProperties: false },
      template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      big: { type: 'integer', format: 'int64' },
      choice: { anyOf: [{ type: 'string', pattern: '^a' }, { type: 'string', pattern: '^b' }] },
    },
    { required: ['cronSpec'] },
  ),
});

const valid = {
  apiVersion: 'stable.example.com/v1',
  kind: 'CronTab',
  metadata: { name: 'my-new-cron-object', labels: { app: 'cron' } },
  spec: {
    cronSpec: '* * * * */5',
    image: 'my-awesome-cron',
    replicas: 3,
    ratio: 0.5,
    size: 'M',
    note: null,
    port: 'http',
    memory: '512Mi',
    data: 'aGVsbG8=',
    startAt: '2024-05-01T10:00:00Z',
    tags: ['a', 'b'],
    hosts: ['x'],
    ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }],
    endpoints: [{ port: 80, protocol: 'TCP' }, { port: 80, protocol: 'UDP' }],
    containers: [{ name: 'c', image: 'i' }],
    env: { A: '1' },
    strict: { a: 'x' },
    template: { apiVersion: 'v1', kind: 'Pod', spec: { anything: true } },
    big: 5000000000,
    choice: 'abc',
  },
};

function withSpec(patch: Record<string, unknown>): unknown {
  const o = structuredClone(valid) as { spec: Record<string, unknown> };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete o.spec[k];
    else o.spec[k] = v;
  }
  return o;
}

interface Case {
  name: string;
  obj: unknown;
  want: { field: string; reason: string; message: string }[];
}

const cases: Case[] = [
  {
    name: 'wrong type (the Kubernetes docs example)',
    obj: withSpec({ replicas: 'string' }),
    want: [{ field: 'spec.replicas', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"' }],
  },
  {
    name: 'a fraction is not an integer',
    obj: withSpec({ replicas: 1.5 }),
    want: [{ field: 'spec.replicas', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "number": spec.replicas in body must be of type integer: "number"' }],
  },
  {
    name: 'required field missing',
    obj: withSpec({ cronSpec: undefined }),
    want: [{ field: 'spec.cronSpec', reason: 'FieldValueRequired', message: 'Required value' }],
  },
  {
    name: 'pattern',
    obj: withSpec({ cronSpec: 'every minute' }),
    want: [
      {
        field: 'spec.cronSpec',
        reason: 'FieldValueInvalid',
        message: `Invalid value: "every minute": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'`,
      },
    ],
  },
  {
    name: 'maxLength',
    obj: withSpec({ image: 'x'.repeat(21) }),
    want: [{ field: 'spec.image', reason: 'FieldValueTooLong', message: 'Too long: may not be longer than 20' }],
  },
  {
    name: 'maximum',
    obj: withSpec({ replicas: 11 }),
    want: [{ field: 'spec.replicas', reason: 'FieldValueInvalid', message: 'Invalid value: 11: spec.replicas in body should be less than or equal to 10' }],
  },
  {
    name: 'minimum',
    obj: withSpec({ replicas: 0 }),
    want: [{ field: 'spec.replicas', reason: 'FieldValueInvalid', message: 'Invalid value: 0: spec.replicas in body should be greater than or equal to 1' }],
  },
  {
    name: 'exclusiveMaximum (OpenAPI v3.0 boolean form)',
    obj: withSpec({ ratio: 1 }),
    want: [{ field: 'spec.ratio', reason: 'FieldValueInvalid', message: 'Invalid value: 1: spec.ratio in body should be less than 1' }],
  },
  {
    name: 'enum',
    obj: withSpec({ size: 'XL' }),
    want: [{ field: 'spec.size', reason: 'FieldValueNotSupported', message: 'Unsupported value: "XL": supported values: "S", "M", "L"' }],
  },
  {
    name: 'null where not nullable',
    obj: withSpec({ image: null }),
    want: [{ field: 'spec.image', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "null": spec.image in body must be of type string: "null"' }],
  },
  {
    name: 'int-or-string',
    obj: withSpec({ port: true }),
    want: [{ field: 'spec.port', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"' }],
  },
  {
    name: 'quantity pattern',
    obj: withSpec({ memory: '2 GB' }),
    want: [{ field: 'spec.memory', reason: 'FieldValueInvalid', message: `Invalid value: "2 GB": spec.memory in body should match '${quantity().pattern ?? ''}'` }],
  },
  {
    name: 'format byte',
    obj: withSpec({ data: 'not base64!' }),
    want: [{ field: 'spec.data', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "not base64!": spec.data in body must be of type byte: "not base64!"' }],
  },
  {
    name: 'format date-time',
    obj: withSpec({ startAt: 'yesterday' }),
    want: [{ field: 'spec.startAt', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "yesterday": spec.startAt in body must be of type date-time: "yesterday"' }],
  },
  {
    name: 'format int32 range (built-in kinds)',
    obj: withSpec({ replicas: 3000000000 }),
    want: [
      { field: 'spec.replicas', reason: 'FieldValueInvalid', message: 'Invalid value: 3000000000: spec.replicas in body should be less than or equal to 10' },
      { field: 'spec.replicas', reason: 'FieldValueInvalid', message: 'Invalid value: 3000000000: spec.replicas in body should be less than or equal to 2147483647' },
    ],
  },
  {
    name: 'list-type set: the repeated item is a Duplicate value',
    obj: withSpec({ tags: ['a', 'b', 'a'] }),
    want: [{ field: 'spec.tags[2]', reason: 'FieldValueDuplicate', message: 'Duplicate value: "a"' }],
  },
  {
    name: 'maxItems',
    obj: withSpec({ tags: ['a', 'b', 'c', 'd'] }),
    want: [{ field: 'spec.tags', reason: 'FieldValueTooMany', message: 'Too many: 4: must have at most 3 items' }],
  },
  {
    name: 'minItems',
    obj: withSpec({ hosts: [] }),
    want: [{ field: 'spec.hosts', reason: 'FieldValueInvalid', message: 'Invalid value: 0: spec.hosts in body should have at least 1 items' }],
  },
  {
    name: 'list-type map: a repeated key',
    obj: withSpec({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 8080 }] }),
    want: [{ field: 'spec.ports[1]', reason: 'FieldValueDuplicate', message: 'Duplicate value: map[string]interface {}{"name":"http"}' }],
  },
  {
    name: 'list-type map: a repeated compound key',
    obj: withSpec({ endpoints: [{ port: 80, protocol: 'TCP' }, { port: 80, protocol: 'TCP' }] }),
    want: [{ field: 'spec.endpoints[1]', reason: 'FieldValueDuplicate', message: 'Duplicate value: map[string]interface {}{"port":80, "protocol":"TCP"}' }],
  },
  {
    name: 'list-type map: items must be objects',
    obj: withSpec({ ports: [{ name: 'a', port: 1 }, 'b'] }),
    want: [
      { field: 'spec.ports[1]', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec.ports[1] in body must be of type object: "string"' },
      { field: 'spec.ports[1]', reason: 'FieldValueInvalid', message: 'Invalid value: "b": must be an object for an array of list-type map' },
    ],
  },
  {
    name: 'list item field',
    obj: withSpec({ containers: [{ name: 'a' }, { image: 'x' }] }),
    want: [{ field: 'spec.containers[1].name', reason: 'FieldValueRequired', message: 'Required value' }],
  },
  {
    name: 'map value',
    obj: withSpec({ env: { A: 1 } }),
    want: [{ field: 'spec.env.A', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "integer": spec.env.A in body must be of type string: "integer"' }],
  },
  {
    name: 'additionalProperties: false',
    obj: withSpec({ strict: { a: 'x', b: 'y' } }),
    want: [{ field: 'spec.strict', reason: 'FieldValueInvalid', message: 'Invalid value: "b": spec.strict.b in body is a forbidden property' }],
  },
  {
    name: 'embedded resource needs apiVersion and kind',
    obj: withSpec({ template: { kind: 5, spec: {} } }),
    want: [
      { field: 'spec.template.apiVersion', reason: 'FieldValueRequired', message: 'Required value' },
      { field: 'spec.template.kind', reason: 'FieldValueInvalid', message: 'Invalid value: 5: must be a string' },
    ],
  },
  {
    name: 'anyOf: the composite error and the best branch',
    obj: withSpec({ choice: 'zzz' }),
    want: [
      { field: 'spec.choice', reason: 'FieldValueInvalid', message: `Invalid value: "zzz": spec.choice in body should match '^a'` },
      { field: 'spec.choice', reason: 'FieldValueInvalid', message: 'Invalid value: "": "spec.choice" must validate at least one schema (anyOf)' },
    ],
  },
  {
    name: 'metadata label value',
    obj: { ...(valid as object), metadata: { name: 'x', labels: { app: false } } },
    want: [{ field: 'metadata.labels.app', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "boolean": metadata.labels.app in body must be of type string: "boolean"' }],
  },
  {
    name: 'the body itself',
    obj: [],
    want: [{ field: '', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "array": in body must be of type object: "array"' }],
  },
];

describe('compileValidator', () => {
  const validate = compileValidator(schema);

  it('accepts a valid object', () => assert.deepEqual(validate(valid), []));
  it('accepts null where nullable and numbers written as floats', () => {
    assert.deepEqual(validate(withSpec({ note: null, replicas: 2.0, port: 8080 })), []);
  });

  for (const c of cases) {
    it(c.name, () => assert.deepEqual(validate(c.obj), c.want));
  }

  it('reports every problem at once', () => {
    const causes = validate(withSpec({ replicas: 'x', size: 'XL', cronSpec: undefined }));
    assert.deepEqual(causes.map((c) => c.field).sort(), ['spec.cronSpec', 'spec.replicas', 'spec.size']);
  });

  it('CRD semantics: int32/int64 formats are not checked, lenient date-times pass', () => {
    const crd = compileValidator(schema, { crd: true });
    assert.deepEqual(crd(withSpec({ replicas: 5, big: 1e19 })), []);
    assert.deepEqual(compileValidator(schema)(withSpec({ big: 1e19 })).map((c) => c.field), ['spec.big']);
    assert.deepEqual(crd(withSpec({ startAt: '2024-05-01T10:00' })), []);
    assert.equal(validate(withSpec({ startAt: '2024-05-01T10:00' })).length, 1);
  });

  it('a prefix moves cause fields, not the names inside messages', () => {
    const v = compileValidator(int({ maximum: 3 }));
    assert.deepEqual(v(4, 'x.properties[replicas].default'), [
      { field: 'x.properties[replicas].default', reason: 'FieldValueInvalid', message: 'Invalid value: 4: in body should be less than or equal to 3' },
    ]);
    assert.equal(compileValidator(schema)(withSpec({ replicas: 'x' }), 'root')[0]?.field, 'root.spec.replicas');
  });

  it('Go RE2 patterns: (?i) and patterns JavaScript cannot compile', () => {
    const v = compileValidator(obj({ a: str({ pattern: '(?i)^abc$' }), b: str({ pattern: '^(?P<first>[[:alpha:]])\\z' }), c: str({ pattern: 'x{2,1}' }) }));
    assert.deepEqual(v({ a: 'ABC', b: 'x', c: 'anything' }), []);
    assert.deepEqual(v({ a: 'abd', b: '1' }).map((c) => c.field), ['a', 'b']);
  });

  it('compiles once per schema and options', () => {
    assert.equal(compileValidator(schema), validate);
    assert.notEqual(compileValidator(schema, { crd: true }), validate);
    assert.notEqual(compileValidator(structuredClone(schema)), validate);
  });

  it('validates a small object in microseconds', () => {
    const small = { apiVersion: 'v1', kind: 'CronTab', metadata: { name: 'a' }, spec: { cronSpec: '* * * * *', replicas: 2, tags: ['a'] } };
    for (let i = 0; i < 1000; i++) validate(small);
    const n = 20000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) validate(small);
    const perOp = Number(process.hrtime.bigint() - t0) / n / 1000;
    assert.ok(perOp < 20, `${perOp.toFixed(2)} µs per validation`);
  });
});
