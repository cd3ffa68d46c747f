// Integration tests of the REST engine in process, on a real temp SQLite store (the envtest tier).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinResourceTypes } from '../api/index.js';
import { schemaOps } from '../api/schema/ops.js';
import type { ResourceType } from '../api/types.js';
import { isKumoError } from '../lib/errors.js';
import { openStore } from '../store/registry.js';
import type { Store } from '../store/types.js';
import { ApiEngine } from './engine.js';
import { ROOT_CLUSTER } from './keys.js';

const cluster = ROOT_CLUSTER;

describe('ApiEngine (in process, SQLite)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-engine-test-'));
  let store: Store;
  let engine: ApiEngine;
  const rt = (group: string, plural: string): ResourceType => {
    const found = engine.resourceTypes().find((r) => r.group === group && r.plural === plural);
    assert.ok(found, `${plural}.${group} served`);
    return found;
  };
  before(async () => {
    store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`, {});
    engine = new ApiEngine({ store, resourceTypes: builtinResourceTypes(), schema: schemaOps, serverAddress: () => '127.0.0.1:0', eventTtlSeconds: 1 });
    await engine.ensureSystemNamespaces();
  });
  after(async () => {
    await engine?.stop();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('expires Events after the event TTL', async () => {
    const events = engine.storage(rt('', 'events'));
    await events.create(
      { cluster, namespace: 'default' },
      { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1' }, involvedObject: { kind: 'ConfigMap', name: 'x', namespace: 'default' }, reason: 'Test', message: 'hello', type: 'Normal' },
    );
    assert.equal((await events.get({ cluster, namespace: 'default' }, 'e1')).reason, 'Test');
    const deadline = Date.now() + 6000;
    for (;;) {
      try {
        await events.get({ cluster, namespace: 'default' }, 'e1');
      } catch (err) {
        assert.ok(isKumoError(err, 'NotFound'));
        break;
      }
      assert.ok(Date.now() < deadline, 'the event outlived its TTL');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('bumps generation only on spec changes; status changes only through /status', async () => {
    const clusters = engine.storage(rt('kumo.dev', 'clusters'));
    const scope = { cluster, namespace: 'default' };
    const created = await clusters.create(scope, { apiVersion: 'kumo.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'c1' }, spec: {}, status: { phase: 'Ready' } });
    assert.equal((created.metadata as { generation: number }).generation, 1);
    assert.equal(created.status, undefined, 'create cannot set status');
    const labelled = await clusters.update(scope, 'c1', { ...created, metadata: { ...(created.metadata as object), labels: { a: 'b' } } });
    assert.equal((labelled.metadata as { generation: number }).generation, 1, 'metadata changes keep the generation');
    const withStatus = await clusters.update(scope, 'c1', { ...labelled, status: { phase: 'Provisioning' } }, { subresource: 'status' });
    assert.deepEqual(withStatus.status, { phase: 'Provisioning' });
    assert.equal((withStatus.metadata as { generation: number }).generation, 1);
    const ignored = await clusters.update(scope, 'c1', { ...withStatus, status: { phase: 'Hacked' } });
    assert.deepEqual(ignored.status, { phase: 'Provisioning' }, 'the main resource ignores status');
    const spec = ignored.spec as Record<string, unknown>;
    const bumped = await clusters.update(scope, 'c1', { ...ignored, spec: { ...spec, controlPlane: { replicas: 1 }, backup: { schedule: '0 3 * * *' } } });
    assert.equal((bumped.metadata as { generation: number }).generation, 2);
  });

  it('rejects a stale resourceVersion with Conflict and keeps the stored object', async () => {
    const cms = engine.storage(rt('', 'configmaps'));
    const scope = { cluster, namespace: 'default' };
    const a = await cms.create(scope, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cas' }, data: { v: '1' } });
    await cms.update(scope, 'cas', { ...a, data: { v: '2' } });
    await assert.rejects(cms.update(scope, 'cas', { ...a, data: { v: 'stale' } }), (e: unknown) => isKumoError(e, 'Conflict') && /the object has been modified/.test(e.message));
    assert.deepEqual((await cms.get(scope, 'cas')).data, { v: '2' });
  });

  it('keeps an object with finalizers until they are removed', async () => {
    const cms = engine.storage(rt('', 'configmaps'));
    const scope = { cluster, namespace: 'default' };
    await cms.create(scope, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
    const r = await cms.delete(scope, 'fin');
    assert.equal(r.deleted, false);
    const held = await cms.get(scope, 'fin');
    assert.match(String((held.metadata as { deletionTimestamp?: string }).deletionTimestamp), /^\d{4}-\d\d-\d\dT/);
    await cms.update(scope, 'fin', { ...held, metadata: { ...(held.metadata as object), finalizers: [] } });
    await assert.rejects(cms.get(scope, 'fin'), (e: unknown) => isKumoError(e, 'NotFound'));
  });

  it('a patch with an unknown field under fieldValidation=Strict is refused before anything is written', async () => {
    const cms = engine.storage(rt('', 'configmaps'));
    const scope = { cluster, namespace: 'default' };
    const created = await cms.create(scope, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict' }, data: { a: '1' } });
    const rev = await store.currentRevision();
    await assert.rejects(
      cms.patch({ ...scope, fieldValidation: 'Strict' }, 'strict', (cur) => ({ ...cur, data: { a: '2' }, bogus: true })),
      (e: unknown) => isKumoError(e, 'BadRequest') && /unknown field "bogus"/.test(e.message),
    );
    assert.equal(await store.currentRevision(), rev);
    const warnings: string[] = [];
    const patched = await cms.patch({ ...scope, fieldValidation: 'Warn', warnings }, 'strict', (cur) => ({ ...cur, data: { a: '2' }, bogus: true }));
    assert.deepEqual(patched.data, { a: '2' });
    assert.equal(patched.bogus, undefined, 'pruned');
    assert.deepEqual(warnings, ['unknown field "bogus"']);
    assert.equal((patched.metadata as { uid: string }).uid, (created.metadata as { uid: string }).uid);
  });

  it('dry-run writes nothing', async () => {
    const cms = engine.storage(rt('', 'configmaps'));
    const scope = { cluster, namespace: 'default' };
    const rev = await store.currentRevision();
    await cms.create({ ...scope, dryRun: true }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' } });
    assert.equal(await store.currentRevision(), rev);
    await assert.rejects(cms.get(scope, 'dry'), (e: unknown) => isKumoError(e, 'NotFound'));
  });
});

describe('ApiEngine watch errors', () => {
  it('ends a watch with an ERROR event carrying the failure as a Status (store closed → 503)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-engine-watch-'));
    const store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`, {});
    try {
      const engine = new ApiEngine({ store, resourceTypes: builtinResourceTypes(), schema: schemaOps, serverAddress: () => '127.0.0.1:0' });
      await engine.ensureSystemNamespaces();
      const cm = engine.resourceTypes().find((r) => r.group === '' && r.plural === 'configmaps');
      assert.ok(cm);
      const ac = new AbortController();
      const rv = String(await store.currentRevision());
      const events: { type: string; object: Record<string, unknown> }[] = [];
      const done = (async () => {
        for await (const ev of engine.storage(cm).watch({ cluster, namespace: 'default', resourceVersion: rv, signal: ac.signal })) events.push(ev);
      })();
      await new Promise((r) => setTimeout(r, 50));
      await store.close();
      await done;
      const last = events[events.length - 1];
      assert.equal(last?.type, 'ERROR');
      assert.equal(last?.object.code, 503);
      assert.equal(last?.object.reason, 'ServiceUnavailable');
      ac.abort();
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ApiEngine object cache', () => {
  it('serves lists at resourceVersion "0" from memory, current with writes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-engine-cache-'));
    const store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`, {});
    const engine = new ApiEngine({ store, resourceTypes: builtinResourceTypes(), schema: schemaOps, serverAddress: () => '127.0.0.1:0' });
    try {
      await engine.ensureSystemNamespaces();
      const cm = engine.resourceTypes().find((r) => r.group === '' && r.plural === 'configmaps');
      assert.ok(cm);
      const s = engine.storage(cm);
      const scope = { cluster, namespace: 'default' };
      for (const n of ['b', 'a']) await s.create(scope, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, labels: { n } } });
      const first = await s.list(scope, { resourceVersion: '0' });
      assert.deepEqual(first.items.map((o) => (o.metadata as { name: string }).name), ['a', 'b']);
      assert.equal(engine.cachedObjects(), 2);
      await s.create(scope, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
      await s.delete(scope, 'a');
      const deadline = Date.now() + 3000;
      let names: string[] = [];
      while (Date.now() < deadline) {
        names = (await s.list(scope, { resourceVersion: '0' })).items.map((o) => (o.metadata as { name: string }).name);
        if (names.join() === 'b,c') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(names, ['b', 'c'], 'the cache follows creates and deletes');
      const labelled = await s.list(scope, { resourceVersion: '0', labelMatch: (l) => l?.n === 'b' });
      assert.deepEqual(labelled.items.map((o) => (o.metadata as { name: string }).name), ['b']);
      const other = await s.list({ cluster, namespace: 'kube-system' }, { resourceVersion: '0' });
      assert.deepEqual(other.items, [], 'a namespace sees only its own objects');
    } finally {
      await engine.stop();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
