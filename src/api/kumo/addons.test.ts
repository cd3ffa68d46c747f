import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addon, addonDefinition, parseVersionRange, versionInRange } from './addons.js';
import { etcdRestore, etcdSnapshot } from './etcd.js';

describe('version ranges of AddonDefinition manifests', () => {
  it('parses "*" and comparators', () => {
    assert.deepEqual(parseVersionRange('*'), []);
    assert.deepEqual(parseVersionRange('>=v1.31 <v1.33'), [{ op: '>=', minor: 31 }, { op: '<', minor: 33 }]);
    assert.deepEqual(parseVersionRange('v1.32.4'), [{ op: '=', minor: 32, patch: 4 }]);
    for (const bad of ['', '>= v1.31', '~1.31', 'v2.0', '>=v1.31,<v1.33']) assert.equal(parseVersionRange(bad), null, bad);
  });

  it('matches cluster versions', () => {
    assert.ok(versionInRange('v1.31', '>=v1.31 <v1.33'));
    assert.ok(versionInRange('v1.32.9', '>=v1.31 <v1.33'));
    assert.ok(!versionInRange('v1.33', '>=v1.31 <v1.33'));
    assert.ok(versionInRange('v1.33.2', 'v1.33'));
    assert.ok(versionInRange('v1.33.2', '>v1.33.1'));
    assert.ok(!versionInRange('v1.33.1', '>v1.33.1'));
    assert.ok(versionInRange('v1.31', '*'));
    assert.ok(!versionInRange('garbage', '*'));
  });

  it('rejects definitions with malformed ranges', () => {
    const rt = addonDefinition();
    assert.equal(rt.namespaced, false);
    const errs = rt.strategy?.validate?.({ spec: { manifests: [{ kubernetesVersions: '*', manifest: '' }, { kubernetesVersions: '1.x', manifest: '' }] } }, undefined);
    assert.deepEqual(errs?.map((c) => c.field), ['spec.manifests[1].kubernetesVersions']);
  });
});

describe('Addon, EtcdSnapshot, EtcdRestore', () => {
  it('print their condition-derived status', () => {
    assert.deepEqual(addon().printRow?.({ spec: { cluster: 'c', definition: 'monitoring' } }), ['c', 'monitoring', 'Unknown']);
    const done = { spec: { cluster: 'c' }, status: { size: 2048, conditions: [{ type: 'Complete', status: 'True' }] } };
    assert.deepEqual(etcdSnapshot().printRow?.(done), ['c', 'Complete', 2048]);
    assert.deepEqual(etcdSnapshot().printRow?.({ spec: { cluster: 'c' } }), ['c', 'InProgress', null]);
    const failed = { spec: { cluster: 'c', snapshot: 's1' }, status: { conditions: [{ type: 'Failed', status: 'True' }] } };
    assert.deepEqual(etcdRestore().printRow?.(failed), ['c', 's1', 'Failed']);
  });

  it('are one-shot: a restore keeps its snapshot, an addon its definition', () => {
    assert.deepEqual(etcdRestore().strategy?.validate?.({ spec: { cluster: 'c', snapshot: 'b' } }, { spec: { cluster: 'c', snapshot: 'a' } }).map((c) => c.field), ['spec.snapshot']);
    assert.deepEqual(addon().strategy?.validate?.({ spec: { cluster: 'd', definition: 'x' } }, { spec: { cluster: 'c', definition: 'y' } }).map((c) => c.field), ['spec.cluster', 'spec.definition']);
  });
});
