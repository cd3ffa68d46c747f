import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../types.js';
import { importToken, machine, nodePool } from './nodes.js';

describe('NodePool', () => {
  const rt = nodePool();
  const spec = rt.schema.properties?.['spec'];

  it('requires a cluster and defaults replicas, flavor and auto-healing', () => {
    assert.deepEqual(spec?.required, ['cluster']);
    assert.equal(spec?.properties?.['replicas']?.default, 1);
    assert.deepEqual(spec?.properties?.['template']?.default, {});
    assert.equal(spec?.properties?.['template']?.properties?.['flavor']?.default, 'small');
    assert.equal(spec?.properties?.['autoHeal']?.default !== undefined, true);
  });

  it('has a scale subresource over spec.replicas/status.replicas', () => {
    assert.deepEqual(rt.subresources, { status: true, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } });
    assert.deepEqual(rt.shortNames, ['np']);
  });

  it('cannot move to another cluster', () => {
    const errs = rt.strategy?.validate?.({ spec: { cluster: 'b' } }, { spec: { cluster: 'a' } }) ?? [];
    assert.deepEqual(errs, [{ field: 'spec.cluster', reason: 'FieldValueInvalid', message: 'Invalid value: "b": field is immutable' }]);
    assert.deepEqual(rt.strategy?.validate?.({ spec: { cluster: 'a', replicas: 5 } }, { spec: { cluster: 'a' } }), []);
  });

  it('limits maxUnhealthy to a count or a percentage', () => {
    const re = new RegExp(spec?.properties?.['autoHeal']?.properties?.['maxUnhealthy']?.pattern ?? '');
    for (const ok of ['40%', '0%', '100%', '3']) assert.ok(re.test(ok), ok);
    for (const bad of ['101%', '40 %', 'forty', '-1']) assert.ok(!re.test(bad), bad);
    assert.equal(spec?.properties?.['autoHeal']?.properties?.['maxUnhealthy']?.default, '40%');
    assert.equal(spec?.properties?.['autoHeal']?.properties?.['enabled']?.default, true);
  });
});

describe('Machine', () => {
  const rt = machine();
  const v = (o: KObject, old?: KObject): (string | undefined)[] => (rt.strategy?.validate?.(o, old) ?? []).map((c) => c.field);

  it('keeps its pool and flavor, and its providerID once set', () => {
    const old: KObject = { spec: { cluster: 'c', nodePool: 'p', flavor: 'small' } };
    assert.deepEqual(v({ spec: { cluster: 'c', nodePool: 'p', flavor: 'small', providerID: 'local://m1' } }, old), []);
    const set: KObject = { spec: { cluster: 'c', nodePool: 'p', flavor: 'small', providerID: 'local://m1' } };
    assert.deepEqual(v({ spec: { cluster: 'c', nodePool: 'q', flavor: 'large', providerID: 'local://m2' } }, set), ['spec.nodePool', 'spec.flavor', 'spec.providerID']);
    assert.deepEqual(rt.selectableFields, ['spec.cluster', 'spec.nodePool']);
  });
});

describe('ImportToken', () => {
  const rt = importToken();

  it('expires 24 hours after creation unless told otherwise', () => {
    const before = Date.now();
    const o: KObject = { spec: { cluster: 'c' } };
    rt.strategy?.prepareForCreate?.(o);
    const expires = Date.parse((o['spec'] as Record<string, string>)['expiresAt'] ?? '');
    assert.ok(expires >= before + 24 * 3600_000 - 1000 && expires <= Date.now() + 24 * 3600_000);
    assert.match((o['spec'] as Record<string, string>)['expiresAt'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const given: KObject = { spec: { cluster: 'c', expiresAt: '2030-01-01T00:00:00Z' } };
    rt.strategy?.prepareForCreate?.(given);
    assert.equal((given['spec'] as Record<string, string>)['expiresAt'], '2030-01-01T00:00:00Z');
    assert.equal(rt.schema.properties?.['spec']?.properties?.['maxUses']?.default, 1);
  });
});
