import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject, ResourceType } from '../types.js';
import { configMap, MAX_DATA_BYTES, namespace, secret, serviceAccount } from './core.js';

function validate(rt: ResourceType, o: KObject, old?: KObject): { field?: string; message: string }[] {
  return rt.strategy?.validate?.(o, old) ?? [];
}
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('Namespace', () => {
  const rt = namespace();

  it('is a cluster-scoped dns-label kind with STATUS from status.phase', () => {
    assert.equal(rt.namespaced, false);
    assert.equal(rt.nameFormat, 'dns-label');
    assert.deepEqual(rt.shortNames, ['ns']);
    assert.deepEqual(rt.printerColumns.map((c) => [c.name, c.jsonPath]), [['Status', '.status.phase']]);
    assert.deepEqual(rt.schema.properties?.['status']?.properties?.['phase']?.enum, ['Active', 'Terminating']);
  });

  it('starts Active with the kubernetes finalizer and the name label, as kube-apiserver', () => {
    const o: KObject = { metadata: { name: 'team-a', labels: { x: 'y' } }, spec: { finalizers: ['other'] }, status: { phase: 'Terminating' } };
    rt.strategy?.prepareForCreate?.(o);
    assert.deepEqual(o['status'], { phase: 'Active' });
    assert.deepEqual(o['spec'], { finalizers: ['other', 'kubernetes'] });
    assert.deepEqual(o.metadata?.['labels'], { x: 'y', 'kubernetes.io/metadata.name': 'team-a' });
    const empty: KObject = { metadata: { name: 'b' } };
    rt.strategy?.prepareForCreate?.(empty);
    assert.deepEqual(empty['spec'], { finalizers: ['kubernetes'] });
  });

  it('puts the name label back on update', () => {
    const o: KObject = { metadata: { name: 'team-a', labels: {} } };
    rt.strategy?.prepareForUpdate?.(o, o);
    assert.deepEqual(o.metadata?.['labels'], { 'kubernetes.io/metadata.name': 'team-a' });
  });
});

describe('ConfigMap', () => {
  const rt = configMap();

  it('types data as map[string]string and binaryData as map of base64 bytes', () => {
    const data = rt.schema.properties?.['data'];
    assert.equal(data?.type, 'object');
    assert.equal(typeof data?.additionalProperties === 'object' && data.additionalProperties.type, 'string');
    const bin = rt.schema.properties?.['binaryData']?.additionalProperties;
    assert.ok(typeof bin === 'object' && bin.format === 'byte');
    // A value like 5 or true does not match `type: string`: the schema validator rejects it.
    assert.notEqual(typeof data?.additionalProperties === 'object' && data.additionalProperties.type, 'integer');
  });

  it('prints DATA as the number of data and binaryData keys', () => {
    assert.deepEqual(rt.printRow?.({ data: { a: '1', b: '2' }, binaryData: { c: b64('x') } }), [3]);
    assert.deepEqual(rt.printRow?.({}), [0]);
  });

  it('checks keys, duplicates across data and binaryData, and the 1 MiB limit', () => {
    assert.deepEqual(validate(rt, { data: { 'ok.key_1-A': 'v' } }), []);
    const bad = validate(rt, { data: { 'bad key': 'v', '..x': 'v', dup: 'v' }, binaryData: { dup: b64('v') } });
    assert.deepEqual(bad.map((c) => c.field), ['data[bad key]', 'data[..x]', 'data[dup]']);
    assert.match(bad[0]?.message ?? '', /^Invalid value: "bad key": a valid config key must consist of alphanumeric characters/);
    assert.match(bad[2]?.message ?? '', /duplicate of key present in binaryData/);
    const big = validate(rt, { data: { a: 'x'.repeat(MAX_DATA_BYTES / 2) }, binaryData: { b: Buffer.alloc(MAX_DATA_BYTES / 2 + 1).toString('base64') } });
    assert.deepEqual(big, [{ field: '[]', reason: 'FieldValueTooLong', message: 'Too long: may not be more than 1048576 bytes' }]);
  });

  it('freezes data once immutable', () => {
    const old = { immutable: true, data: { a: '1' } };
    assert.deepEqual(validate(rt, { immutable: true, data: { a: '1' } }, old), []);
    const errs = validate(rt, { data: { a: '2' } }, old);
    assert.deepEqual(errs.map((c) => c.field), ['immutable', 'data']);
    assert.match(errs[0]?.message ?? '', /^Forbidden: field is immutable when `immutable` is set$/);
    assert.deepEqual(validate(rt, { immutable: true, data: { a: '2' } }, { data: { a: '1' } }), [], 'may become immutable with a change');
  });
});

describe('Secret', () => {
  const rt = secret();

  it('defaults type to Opaque and prints TYPE and DATA', () => {
    assert.equal(rt.schema.properties?.['type']?.default, 'Opaque');
    assert.deepEqual(rt.printRow?.({ type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }), ['kubernetes.io/tls', 2]);
    assert.deepEqual(rt.selectableFields, ['type']);
  });

  it('merges stringData into data (base64, stringData wins) and drops it', () => {
    const o: KObject = { data: { a: b64('old'), b: b64('keep') }, stringData: { a: 'new', c: 'ü' } };
    rt.strategy?.prepareForCreate?.(o);
    assert.deepEqual(o, { data: { a: b64('new'), b: b64('keep'), c: b64('ü') } });
    const u: KObject = { stringData: { x: 'y' } };
    rt.strategy?.prepareForUpdate?.(u, {});
    assert.deepEqual(u, { data: { x: b64('y') } });
    const wrong: KObject = { stringData: { x: 5 } };
    rt.strategy?.prepareForCreate?.(wrong);
    assert.deepEqual(wrong, { stringData: { x: 5 } }, 'left for schema validation to reject');
  });

  it('requires the keys of its type', () => {
    const fields = (o: KObject): (string | undefined)[] => validate(rt, o).map((c) => c.field);
    assert.deepEqual(fields({ type: 'kubernetes.io/tls', data: {} }), ['data[tls.crt]', 'data[tls.key]']);
    assert.deepEqual(fields({ type: 'kubernetes.io/basic-auth', data: { password: '' } }), []);
    assert.deepEqual(fields({ type: 'kubernetes.io/basic-auth' }), ['data[username]', 'data[password]']);
    assert.deepEqual(fields({ type: 'kubernetes.io/ssh-auth', data: { 'ssh-privatekey': '' } }), ['data[ssh-privatekey]']);
    assert.deepEqual(fields({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('[1]') } }), ['data[.dockerconfigjson]']);
    assert.deepEqual(fields({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths":{}}') } }), []);
    assert.deepEqual(fields({ type: 'kubernetes.io/service-account-token' }), ['metadata.annotations[kubernetes.io/service-account.name]']);
    assert.deepEqual(fields({ type: 'example.com/custom', data: {} }), []);
  });

  it('limits data to 1 MiB decoded and keeps type and immutable data', () => {
    assert.deepEqual(validate(rt, { data: { a: Buffer.alloc(MAX_DATA_BYTES + 1).toString('base64') } }).map((c) => c.field), ['data']);
    assert.deepEqual(validate(rt, { data: { a: Buffer.alloc(MAX_DATA_BYTES).toString('base64') } }), []);
    assert.deepEqual(validate(rt, { type: 'a' }, { type: 'b' }).map((c) => c.message), ['Invalid value: "a": field is immutable']);
    assert.deepEqual(validate(rt, {}, {}), [], 'absent type is Opaque on both sides');
    assert.deepEqual(validate(rt, { immutable: true, data: { a: b64('2') } }, { immutable: true, data: { a: b64('1') } }).map((c) => c.field), ['data']);
  });
});

describe('ServiceAccount', () => {
  const rt = serviceAccount();

  it('merges secrets by name (no list type, as upstream) and prints SECRETS', () => {
    const secrets = rt.schema.properties?.['secrets'];
    assert.equal(secrets?.['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(secrets?.['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(secrets?.['x-kubernetes-list-type'], undefined);
    assert.deepEqual(rt.printRow?.({ secrets: [{ name: 'a' }, { name: 'b' }] }), [2]);
    assert.deepEqual(rt.shortNames, ['sa']);
  });
});
