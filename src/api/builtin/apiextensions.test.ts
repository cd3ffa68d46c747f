import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../types.js';
import { customResourceDefinition } from './apiextensions.js';

function crd(): KObject {
  return {
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { plural: 'widgets', kind: 'Widget' },
      scope: 'Namespaced',
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        { name: 'v1beta1', served: true, storage: false },
      ],
    },
  };
}

describe('CustomResourceDefinition', () => {
  const rt = customResourceDefinition();

  it('keeps openAPIV3Schema as given and prints CREATED AT', () => {
    const version = rt.schema.properties?.['spec']?.properties?.['versions']?.items;
    assert.equal(version?.properties?.['schema']?.properties?.['openAPIV3Schema']?.['x-kubernetes-preserve-unknown-fields'], true);
    assert.deepEqual(rt.printerColumns.map((c) => [c.name, c.type, c.jsonPath]), [['Created At', 'date', '.metadata.creationTimestamp']]);
    assert.deepEqual(rt.shortNames, ['crd', 'crds']);
    assert.deepEqual(rt.categories, ['api-extensions']);
  });

  it('defaults singular, listKind and conversion, and records the storage version', () => {
    const o = crd();
    rt.strategy?.prepareForCreate?.(o);
    const spec = o['spec'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(spec['names'], { plural: 'widgets', kind: 'Widget', singular: 'widget', listKind: 'WidgetList' });
    assert.deepEqual(spec['conversion'], { strategy: 'None' });
    assert.deepEqual(o['status'], { storedVersions: ['v1'] });
    // A new storage version is added; old ones stay until a migration removes them.
    (spec['versions'] as unknown as Record<string, unknown>[]).forEach((v) => (v['storage'] = v['name'] === 'v1beta1'));
    rt.strategy?.prepareForUpdate?.(o, o);
    assert.deepEqual(o['status'], { storedVersions: ['v1', 'v1beta1'] });
  });

  it('requires the name <plural>.<group> and exactly one storage version', () => {
    assert.deepEqual(rt.strategy?.validate?.(crd(), undefined), []);
    const o = crd();
    (o.metadata as Record<string, unknown>)['name'] = 'gadgets.example.com';
    ((o['spec'] as Record<string, unknown>)['versions'] as Record<string, unknown>[]).forEach((v) => (v['storage'] = true));
    (o['spec'] as Record<string, unknown>)['preserveUnknownFields'] = true;
    assert.deepEqual((rt.strategy?.validate?.(o, undefined) ?? []).map((c) => c.field), ['metadata.name', 'spec.versions', 'spec.preserveUnknownFields']);
  });
});

describe('CustomResourceDefinition update', () => {
  it('does not edit the stored object\'s status when it records a new storage version', () => {
    const rt = customResourceDefinition();
    const old = crd();
    old['status'] = { storedVersions: ['v1'] };
    const next = structuredClone(old);
    next['status'] = old['status']; // the apiserver carries the stored status over by reference
    ((next['spec'] as Record<string, unknown>)['versions'] as Record<string, unknown>[]).forEach((v) => (v['storage'] = v['name'] === 'v1beta1'));
    rt.strategy?.prepareForUpdate?.(next, old);
    assert.deepEqual(old['status'], { storedVersions: ['v1'] });
    assert.deepEqual(next['status'], { storedVersions: ['v1', 'v1beta1'] });
  });
});
