import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineKind, map, obj, str } from '../schema/dsl.js';
import type { JSONSchemaProps } from '../types.js';
import { buildOpenAPIV2 } from './v2.js';
import { encodeOpenAPIV2Proto } from './v2proto.js';

// An independent protobuf wire-format reader (varint, fixed64, length-delimited).
interface Field {
  field: number;
  wire: number;
  varint?: bigint;
  bytes?: Uint8Array;
  double?: number;
}

function decode(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated varint');
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, varint: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated bytes');
      out.push({ field, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) {
      out.push({ field, wire, double: new DataView(buf.buffer, buf.byteOffset + i, 8).getFloat64(0, true) });
      i += 8;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
const all = (buf: Uint8Array, field: number): Field[] => decode(buf).filter((f) => f.field === field);
const one = (buf: Uint8Array, field: number): Field | undefined => all(buf, field)[0];
const msg = (buf: Uint8Array, field: number): Uint8Array => {
  const f = one(buf, field);
  assert.ok(f?.bytes, `field ${field} present`);
  return f.bytes;
};
/** The value of a NamedX entry (name = 1, value = 2) with the given name among `field` entries. */
function named(buf: Uint8Array, field: number, name: string): Uint8Array {
  for (const f of all(buf, field)) if (f.bytes && text(one(f.bytes, 1)?.bytes) === name) return msg(f.bytes, 2);
  throw new Error(`no entry ${name}`);
}
/** The YAML of a vendor extension (NamedAny → Any.yaml = 2). */
function extension(buf: Uint8Array, field: number, name: string): unknown {
  return JSON.parse(text(one(named(buf, field, name), 2)?.bytes)) as unknown;
}

const objectMeta: JSONSchemaProps = { ...obj({ name: str() }), 'x-kumo-ref': 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' };
const configMap = defineKind(
  {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    fields: {
      data: map(str()),
      strict: { type: 'object', properties: { a: str({ maxLength: 5 }) }, additionalProperties: false },
      ratio: { type: 'number', maximum: 1.5, default: 0.5, enum: [0.5, 1] },
    },
  },
  objectMeta,
);

describe('OpenAPI v2 as gnostic protobuf', () => {
  const doc = buildOpenAPIV2([configMap], { version: 'v1.33.0' }).doc;
  const pb = encodeOpenAPIV2Proto(doc);

  it('Document: swagger, info, security', () => {
    assert.equal(text(one(pb, 1)?.bytes), '2.0');
    const info = msg(pb, 2);
    assert.deepEqual([text(one(info, 1)?.bytes), text(one(info, 2)?.bytes)], ['Kubernetes', 'v1.33.0']);
    const secDef = named(msg(pb, 13), 1, 'BearerToken');
    const apiKey = msg(secDef, 2);
    assert.deepEqual([1, 2, 3].map((f) => text(one(apiKey, f)?.bytes)), ['apiKey', 'authorization', 'header']);
    const requirement = msg(pb, 12);
    assert.equal(text(one(named(requirement, 1, 'BearerToken'), 1)?.bytes), '');
  });

  it('definitions: type, properties, $ref, GVK extension, numbers and additionalProperties false', () => {
    const cm = named(msg(pb, 9), 1, 'io.k8s.api.core.v1.ConfigMap');
    assert.equal(text(one(msg(cm, 22), 1)?.bytes), 'object');
    const props = msg(cm, 25);
    assert.equal(text(one(named(props, 1, 'metadata'), 1)?.bytes), '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.deepEqual(extension(cm, 31, 'x-kubernetes-group-version-kind'), [{ group: '', kind: 'ConfigMap', version: 'v1' }]);
    const data = named(props, 1, 'data');
    const valueSchema = msg(msg(data, 21), 1);
    assert.equal(text(one(msg(valueSchema, 22), 1)?.bytes), 'string');
    const strict = named(props, 1, 'strict');
    const ap = msg(strict, 21);
    assert.deepEqual(decode(ap), [{ field: 2, wire: 0, varint: 0n }]);
    assert.equal(one(named(msg(strict, 25), 1, 'a'), 11)?.varint, 5n);
    const ratio = named(props, 1, 'ratio');
    assert.equal(one(ratio, 7)?.double, 1.5);
    assert.equal(text(one(msg(ratio, 5), 2)?.bytes).trim(), '0.5');
    assert.deepEqual(all(ratio, 20).map((f) => text(one(f.bytes as Uint8Array, 2)?.bytes).trim()), ['0.5', '1']);
  });

  it('paths: operations, parameters and extensions', () => {
    const item = named(msg(pb, 8), 2, '/api/v1/namespaces/{namespace}/configmaps/{name}');
    const patch = msg(item, 8);
    assert.equal(text(one(patch, 5)?.bytes), 'patchCoreV1NamespacedConfigMap');
    assert.equal(extension(patch, 13, 'x-kubernetes-action'), 'patch');
    assert.deepEqual(extension(patch, 13, 'x-kubernetes-group-version-kind'), { group: '', kind: 'ConfigMap', version: 'v1' });
    const params = all(patch, 8).map((f) => msg(f.bytes as Uint8Array, 1));
    const body = params.map((p) => one(p, 1)?.bytes).find((b) => b !== undefined);
    assert.ok(body);
    assert.equal(text(one(body, 2)?.bytes), 'body');
    assert.equal(one(body, 4)?.varint, 1n);
    const queryNames = params.flatMap((p) => (one(p, 2) ? [msg(msg(p, 2), 3)] : [])).map((q) => text(one(q, 4)?.bytes));
    assert.deepEqual(queryNames, ['dryRun', 'fieldManager', 'fieldValidation', 'force']);
    const pathParams = all(item, 9).map((f) => msg(f.bytes as Uint8Array, 1));
    // NonBodyParameter.path_parameter_sub_schema = 4 (query ones are 3).
    const pathSubSchemas = pathParams.flatMap((p) => {
      const sub = one(msg(p, 2), 4)?.bytes;
      return sub ? [sub] : [];
    });
    assert.equal(pathSubSchemas.length, 2);
    const name = pathSubSchemas[0] ?? new Uint8Array();
    assert.deepEqual([one(name, 1)?.varint, text(one(name, 2)?.bytes), text(one(name, 4)?.bytes), text(one(name, 5)?.bytes)], [1n, 'path', 'name', 'string']);
    const responses = msg(patch, 9);
    const ok = msg(named(responses, 1, '200'), 1);
    assert.equal(text(one(ok, 1)?.bytes), 'OK');
    assert.equal(text(one(msg(msg(ok, 2), 1), 1)?.bytes), '#/definitions/io.k8s.api.core.v1.ConfigMap');
  });

  it('encodes every definition and path of the JSON document', () => {
    assert.equal(all(msg(pb, 9), 1).length, Object.keys(doc.definitions as object).length);
    assert.equal(all(msg(pb, 8), 2).length, Object.keys(doc.paths as object).length);
  });
});
