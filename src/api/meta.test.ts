import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { condition, conditions, labelSelector, listMeta, objectMeta, objectReference } from './meta.js';

describe('meta schemas', () => {
  it('ObjectMeta has upstream list semantics', () => {
    const m = objectMeta();
    const owners = m.properties?.['ownerReferences'];
    assert.equal(owners?.['x-kubernetes-list-type'], 'map');
    assert.deepEqual(owners?.['x-kubernetes-list-map-keys'], ['uid']);
    assert.equal(owners?.['x-kubernetes-patch-merge-key'], 'uid');
    assert.equal(owners?.['x-kubernetes-patch-strategy'], 'merge');
    assert.deepEqual(owners?.items?.required, ['apiVersion', 'kind', 'name', 'uid']);
    const finalizers = m.properties?.['finalizers'];
    assert.equal(finalizers?.['x-kubernetes-list-type'], 'set');
    assert.equal(finalizers?.['x-kubernetes-patch-strategy'], 'merge');
    const managed = m.properties?.['managedFields'];
    assert.equal(managed?.['x-kubernetes-list-type'], 'atomic');
    assert.equal(managed?.items?.properties?.['fieldsV1']?.['x-kubernetes-preserve-unknown-fields'], true);
    assert.equal(m.properties?.['generation']?.format, 'int64');
    assert.equal(m.properties?.['creationTimestamp']?.format, 'date-time');
    for (const k of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations']) {
      assert.ok(m.properties?.[k], k);
    }
  });

  it('ObjectMeta is a fresh object per call', () => {
    assert.notEqual(objectMeta(), objectMeta());
    assert.notEqual(objectMeta().properties?.['labels'], objectMeta().properties?.['labels']);
  });

  it('Condition is metav1.Condition', () => {
    const c = condition();
    assert.deepEqual(c.required, ['type', 'status', 'lastTransitionTime', 'reason', 'message']);
    assert.deepEqual(c.properties?.['status']?.enum, ['True', 'False', 'Unknown']);
    assert.equal(c.properties?.['observedGeneration']?.minimum, 0);
    const re = new RegExp(c.properties?.['reason']?.pattern ?? '');
    assert.ok(re.test('ProvisioningFailed') && !re.test('has space') && !re.test(''));
    const type = new RegExp(c.properties?.['type']?.pattern ?? '');
    assert.ok(type.test('Ready') && type.test('kumo.dev/Healthy') && !type.test('bad type'));
    const list = conditions();
    assert.deepEqual(list['x-kubernetes-list-map-keys'], ['type']);
    assert.equal(list['x-kubernetes-patch-merge-key'], 'type');
  });

  it('LabelSelector and ObjectReference are atomic structs', () => {
    assert.equal(labelSelector()['x-kubernetes-map-type'], 'atomic');
    assert.deepEqual(labelSelector().properties?.['matchExpressions']?.items?.required, ['key', 'operator']);
    assert.equal(objectReference()['x-kubernetes-map-type'], 'atomic');
    assert.deepEqual(Object.keys(objectReference().properties ?? {}), ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']);
    assert.deepEqual(Object.keys(listMeta().properties ?? {}), ['selfLink', 'resourceVersion', 'continue', 'remainingItemCount']);
  });
});
