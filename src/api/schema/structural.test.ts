import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps } from '../types.js';
import { applyDefaults, checkStructural, prune } from './structural.js';

// The CronTab schema of the Kubernetes docs ("Specifying a structural schema", "Defaulting").
const cronTab: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', default: '5 0 * * *' },
        image: { type: 'string' },
        replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
      },
    },
  },
};

describe('prune', () => {
  const cases: { name: string; schema: JSONSchemaProps; obj: unknown; after: unknown; pruned: string[] }[] = [
    {
      name: 'unknown field in spec (docs "Field pruning")',
      schema: cronTab,
      obj: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'x' }, spec: { cronSpec: '* * * * */5', image: 'img', someRandomField: 42 } },
      after: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'x' }, spec: { cronSpec: '* * * * */5', image: 'img' } },
      pruned: ['spec.someRandomField'],
    },
    {
      name: 'unknown top-level fields, type and object meta kept at the root',
      schema: cronTab,
      obj: { apiVersion: 'v', kind: 'K', metadata: { name: 'x', anything: 1 }, zeta: 1, alpha: { deep: true } },
      after: { apiVersion: 'v', kind: 'K', metadata: { name: 'x', anything: 1 } },
      pruned: ['alpha', 'zeta'],
    },
    {
      name: 'x-kubernetes-preserve-unknown-fields keeps unknown fields but prunes inside specified ones (docs "Controlling pruning")',
      schema: {
        type: 'object',
        properties: {
          json: {
            type: 'object',
            'x-kubernetes-preserve-unknown-fields': true,
            properties: { spec: { type: 'object', properties: { foo: { type: 'string' }, bar: { type: 'string' } } } },
          },
        },
      },
      obj: { json: { spec: { foo: 'abc', bar: 'def', something: 'x' }, status: { something: 'x' } } },
      after: { json: { spec: { foo: 'abc', bar: 'def' }, status: { something: 'x' } } },
      pruned: ['json.spec.something'],
    },
    {
      name: 'x-kubernetes-embedded-resource keeps apiVersion, kind and metadata (docs "RawExtension")',
      schema: {
        type: 'object',
        properties: {
          foo: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } } },
        },
      },
      obj: { foo: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', extra: 1 }, spec: { a: 'x', b: 'y' }, other: 1 } },
      after: { foo: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', extra: 1 }, spec: { a: 'x' } } },
      pruned: ['foo.other', 'foo.spec.b'],
    },
    {
      name: 'array items and map values, with index and key paths',
      schema: {
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: {
              containers: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
              byName: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'integer' } } } },
              free: { type: 'object', additionalProperties: true },
              list: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
      obj: { spec: { containers: [{ name: 'a' }, { name: 'b', bogus: 1 }], byName: { x: { v: 1, w: 2 } }, free: { a: { b: 1 } }, list: ['a'] } },
      after: { spec: { containers: [{ name: 'a' }, { name: 'b' }], byName: { x: { v: 1 } }, free: { a: { b: 1 } }, list: ['a'] } },
      pruned: ['spec.byName.x.w', 'spec.containers[1].bogus'],
    },
    {
      name: 'a built-in kind spelling out metadata has unknown metadata fields pruned',
      schema: { type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } } } } } },
      obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { x: 'y' }, nmae: 'typo' } },
      after: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { x: 'y' } } },
      pruned: ['metadata.nmae'],
    },
    {
      name: 'nulls are dropped where not nullable and without a default, not reported',
      schema: {
        type: 'object',
        properties: { spec: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string', nullable: true }, c: { type: 'string', default: 'x' } } } },
      },
      obj: { spec: { a: null, b: null, c: null } },
      after: { spec: { b: null, c: null } },
      pruned: [],
    },
    {
      name: 'a whole unknown object is reported once',
      schema: cronTab,
      obj: { spec: { extra: { a: 1, b: { c: 2 } } } },
      after: { spec: {} },
      pruned: ['spec.extra'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const o = structuredClone(c.obj);
      assert.deepEqual(prune(o, c.schema), c.pruned);
      assert.deepEqual(o, c.after);
    });
  }

  it('resourceRoot: false prunes apiVersion, kind and metadata too', () => {
    const o = { kind: 'K', spec: {} };
    assert.deepEqual(prune(o, cronTab, { resourceRoot: false }), ['kind']);
    assert.deepEqual(o, { spec: {} });
  });
});

describe('applyDefaults', () => {
  const cases: { name: string; schema: JSONSchemaProps; obj: unknown; after: unknown; pruneFirst?: boolean }[] = [
    {
      name: 'missing fields in an existing object (docs "Defaulting")',
      schema: cronTab,
      obj: { spec: { image: 'my-awesome-cron-image' } },
      after: { spec: { image: 'my-awesome-cron-image', cronSpec: '5 0 * * *', replicas: 1 } },
    },
    {
      name: 'objects that do not exist are not created',
      schema: cronTab,
      obj: { metadata: { name: 'x' } },
      after: { metadata: { name: 'x' } },
    },
    {
      name: 'given values are kept',
      schema: cronTab,
      obj: { spec: { replicas: 3, cronSpec: '* * * * *' } },
      after: { spec: { replicas: 3, cronSpec: '* * * * *' } },
    },
    {
      name: 'nullable (docs "Defaulting and Nullable"): foo defaulted, bar kept null, baz pruned',
      schema: {
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: { foo: { type: 'string', nullable: false, default: 'default' }, bar: { type: 'string', nullable: true }, baz: { type: 'string' } },
          },
        },
      },
      obj: { spec: { foo: null, bar: null, baz: null } },
      after: { spec: { foo: 'default', bar: null } },
      pruneFirst: true,
    },
    {
      name: 'array items and their fields',
      schema: {
        type: 'object',
        properties: {
          ports: { type: 'array', items: { type: 'object', default: { protocol: 'TCP' }, properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } } } },
        },
      },
      obj: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }, null] },
      after: { ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }, { protocol: 'TCP' }] },
    },
    {
      name: 'map values',
      schema: {
        type: 'object',
        properties: { pools: { type: 'object', additionalProperties: { type: 'object', properties: { replicas: { type: 'integer', default: 1 } } } } },
      },
      obj: { pools: { a: {}, b: { replicas: 5 } } },
      after: { pools: { a: { replicas: 1 }, b: { replicas: 5 } } },
    },
    {
      name: 'defaults inside a defaulted object',
      schema: {
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: {
              datastore: { type: 'object', default: {}, properties: { type: { type: 'string', default: 'sqlite' }, replicas: { type: 'integer' } } },
            },
          },
        },
      },
      obj: { spec: {} },
      after: { spec: { datastore: { type: 'sqlite' } } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const o = structuredClone(c.obj);
      if (c.pruneFirst) prune(o, c.schema);
      applyDefaults(o, c.schema);
      assert.deepEqual(o, c.after);
    });
  }

  it('copies default values', () => {
    const schema: JSONSchemaProps = { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' }, default: ['a'] } } };
    const o1: { tags?: string[] } = {};
    applyDefaults(o1, schema);
    o1.tags?.push('b');
    const o2: { tags?: string[] } = {};
    applyDefaults(o2, schema);
    assert.deepEqual(o2.tags, ['a']);
  });
});

describe('checkStructural', () => {
  const root = 'spec.versions[0].schema.openAPIV3Schema';
  const cases: { name: string; schema: JSONSchemaProps; want: { field: string; reason: string; message: string }[] }[] = [
    { name: 'the docs CronTab schema is structural', schema: cronTab, want: [] },
    {
      name: 'int-or-string forms are allowed',
      schema: {
        type: 'object',
        properties: {
          a: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
          b: { 'x-kubernetes-int-or-string': true, allOf: [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }, { pattern: '^[0-9]+%?$' }] },
          c: { 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
      want: [],
    },
    {
      name: 'a field without type',
      schema: { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } },
      want: [{ field: `${root}.properties[spec].type`, reason: 'FieldValueRequired', message: 'Required value: must not be empty for specified object fields' }],
    },
    {
      name: 'no type at the root',
      schema: { properties: { spec: { type: 'object' } } },
      want: [{ field: `${root}.type`, reason: 'FieldValueRequired', message: 'Required value: must not be empty at the root' }],
    },
    {
      name: 'array items without type, and an array without items',
      schema: { type: 'object', properties: { a: { type: 'array', items: {} }, b: { type: 'array' } } },
      want: [
        { field: `${root}.properties[a].items.type`, reason: 'FieldValueRequired', message: 'Required value: must not be empty for specified array items' },
        { field: `${root}.properties[b].items`, reason: 'FieldValueRequired', message: 'Required value: must be specified' },
      ],
    },
    {
      name: 'additionalProperties with properties',
      schema: { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } } } },
      want: [{ field: `${root}.properties[spec].additionalProperties`, reason: 'FieldValueForbidden', message: 'Forbidden: additionalProperties and properties are mutual exclusive' }],
    },
    {
      name: 'additionalProperties at the root',
      schema: { type: 'object', additionalProperties: { type: 'string' } },
      want: [{ field: `${root}.additionalProperties`, reason: 'FieldValueForbidden', message: 'Forbidden: must not be used at the root' }],
    },
    {
      name: 'uniqueItems',
      schema: { type: 'object', properties: { a: { type: 'array', items: { type: 'string' }, uniqueItems: true } } },
      want: [
        { field: `${root}.properties[a].uniqueItems`, reason: 'FieldValueForbidden', message: 'Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic' },
      ],
    },
    {
      name: 'value validations may not carry structure',
      schema: { type: 'object', properties: { a: { type: 'string', anyOf: [{ type: 'string', description: 'x' }, { pattern: '^a' }] } } },
      want: [
        { field: `${root}.properties[a].anyOf[0].type`, reason: 'FieldValueForbidden', message: 'Forbidden: must be empty to be structural' },
        { field: `${root}.properties[a].anyOf[0].description`, reason: 'FieldValueForbidden', message: 'Forbidden: must be empty to be structural' },
      ],
    },
    {
      name: 'a field named only in a value validation',
      schema: { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' } }, oneOf: [{ required: ['a'] }, { properties: { b: { pattern: 'x' } } }] } } },
      want: [
        { field: `${root}.properties[spec].properties[b]`, reason: 'FieldValueRequired', message: `Required value: because it is defined in ${root}.properties[spec].oneOf[1].properties[b]` },
      ],
    },
    {
      name: 'root metadata may only restrict name and generateName',
      schema: { type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string' }, labels: { type: 'object' } } } } },
      want: [
        {
          field: `${root}.properties[metadata]`,
          reason: 'FieldValueForbidden',
          message: 'Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified',
        },
      ],
    },
    {
      name: 'embedded resource must be an object with properties or preserve-unknown-fields',
      schema: { type: 'object', properties: { t: { type: 'string', 'x-kubernetes-embedded-resource': true } } },
      want: [
        { field: `${root}.properties[t].type`, reason: 'FieldValueInvalid', message: 'Invalid value: "string": must be object if x-kubernetes-embedded-resource is true' },
        {
          field: `${root}.properties[t].properties`,
          reason: 'FieldValueRequired',
          message: 'Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
        },
      ],
    },
    {
      name: 'x-kubernetes-preserve-unknown-fields: false',
      schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false },
      want: [{ field: `${root}.x-kubernetes-preserve-unknown-fields`, reason: 'FieldValueInvalid', message: 'Invalid value: false: must be true or undefined' }],
    },
    {
      name: 'list-type map needs keys that are item properties',
      schema: {
        type: 'object',
        properties: {
          a: { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object', properties: { name: { type: 'string' } } } },
          b: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'], items: { type: 'object', properties: { name: { type: 'string' } } } },
          c: { type: 'string', 'x-kubernetes-list-type': 'set' },
        },
      },
      want: [
        { field: `${root}.properties[a].x-kubernetes-list-map-keys`, reason: 'FieldValueRequired', message: 'Required value: must not be empty if x-kubernetes-list-type is map' },
        {
          field: `${root}.properties[b].x-kubernetes-list-map-keys`,
          reason: 'FieldValueInvalid',
          message: 'Invalid value: []interface {}{"id"}: entries must all be names of item properties',
        },
        { field: `${root}.properties[c].type`, reason: 'FieldValueInvalid', message: 'Invalid value: "string": must be array if x-kubernetes-list-type is specified' },
      ],
    },
    {
      name: 'an invalid pattern',
      schema: { type: 'object', properties: { a: { type: 'string', pattern: 'x{2,1}' } } },
      want: [
        {
          field: `${root}.properties[a].pattern`,
          reason: 'FieldValueInvalid',
          message: `Invalid value: "x{2,1}": must be a valid regular expression, but isn't: Invalid regular expression: /x{2,1}/: numbers out of order in {} quantifier`,
        },
      ],
    },
    {
      name: 'a default that does not validate',
      schema: { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer', maximum: 10, default: 'one' } } } } },
      want: [
        {
          field: `${root}.properties[spec].properties[replicas].default`,
          reason: 'FieldValueTypeInvalid',
          message: 'Invalid value: "string": in body must be of type integer: "string"',
        },
      ],
    },
    {
      name: 'a default with unknown fields',
      schema: { type: 'object', properties: { spec: { type: 'object', default: { a: 'x', b: 'y' }, properties: { a: { type: 'string' } } } } },
      want: [{ field: `${root}.properties[spec].default`, reason: 'FieldValueInvalid', message: 'Invalid value: map[string]interface {}{"a":"x", "b":"y"}: must not have unknown fields' }],
    },
    {
      name: 'a nested default that fails a nested rule',
      schema: { type: 'object', properties: { spec: { type: 'object', default: { n: 20 }, properties: { n: { type: 'integer', maximum: 10 } } } } },
      want: [
        { field: `${root}.properties[spec].default.n`, reason: 'FieldValueInvalid', message: 'Invalid value: 20: n in body should be less than or equal to 10' },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(checkStructural(c.schema, root), c.want));
  }
});
