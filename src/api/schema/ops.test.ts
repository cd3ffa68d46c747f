import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps, KObject, ResourceType } from '../types.js';
import { defineKind, int, map, obj, str } from './dsl.js';
import { crdResourceSchema, schemaOps } from './ops.js';

const objectMeta: JSONSchemaProps = obj({ name: str(), namespace: str(), labels: map(str()) });

const widget: ResourceType = defineKind(
  {
    group: 'example.com',
    version: 'v1',
    kind: 'Widget',
    plural: 'widgets',
    namespaced: true,
    fields: { spec: obj({ size: int({ default: 1, maximum: 5 }), color: str() }) },
    strategy: { validate: (o) => ((o.spec as { color?: string } | undefined)?.color === 'red' ? [{ field: 'spec.color', reason: 'FieldValueForbidden', message: 'Forbidden: no red' }] : []) },
  },
  objectMeta,
);

describe('schemaOps', () => {
  it('normalize prunes, reports and defaults', () => {
    const o: KObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', bogus: 1 }, spec: { extra: true } };
    assert.deepEqual(schemaOps.normalize(widget, o), ['metadata.bogus', 'spec.extra']);
    assert.deepEqual(o, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } });
  });
  it('validate returns schema causes then strategy causes', () => {
    const o: KObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 9, color: 'red' } };
    assert.deepEqual(
      schemaOps.validate(widget, o, undefined).map((c) => `${c.field ?? ''} ${c.reason ?? ''}`),
      ['spec.size FieldValueInvalid', 'spec.color FieldValueForbidden'],
    );
  });
});

describe('crdResourceSchema', () => {
  it('spells out apiVersion, kind and metadata and keeps the name restriction', () => {
    const s = crdResourceSchema(
      { type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 5 } } }, spec: { type: 'object' } } },
      objectMeta,
    );
    assert.deepEqual(Object.keys(s.properties ?? {}).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
    const rt: ResourceType = { ...widget, schema: s, source: 'crd' };
    const o: KObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'toolong', nope: 1 }, spec: {} };
    assert.deepEqual(schemaOps.normalize(rt, o), ['metadata.nope']);
    assert.deepEqual(schemaOps.validate(rt, o, undefined).map((c) => c.field), ['metadata.name']);
  });
});
