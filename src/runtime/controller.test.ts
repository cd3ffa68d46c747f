import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KumoError, isKumoError } from '../lib/errors.js';
import type { KObject } from '../api/types.js';
import { ROOT_CLUSTER, parseLogicalCluster } from '../apiserver/keys.js';
import { formatKey, type ObjectKey } from '../client/keys.js';
import { InformerCache } from './cache.js';
import { FakeClock } from './clock.js';
import { getCondition, markFalse, markTrue } from './conditions.js';
import { Controller, ControllerBuilder, TerminalError, isTerminalError, mapHandler, ownerKeys, type Reconciler, type Result } from './controller.js';
import { startTestEnv, type TestEnv } from './testenv.js';
import { eventually as waitFor } from '../testing/wait.js';

const inDefault = { cluster: ROOT_CLUSTER, namespace: 'default' };

/** A reconciler driven by a function, recording every call. */
function recorder(fn: (key: ObjectKey, n: number, signal: AbortSignal) => Promise<Result | void> | Result | void = () => undefined): Reconciler & { calls: string[]; count(key: string): number } {
  const calls: string[] = [];
  return {
    calls,
    count: (key) => calls.filter((k) => k === key).length,
    async reconcile(key, signal) {
      const k = formatKey(key);
      calls.push(k);
      return fn(key, calls.filter((c) => c === k).length, signal);
    },
  };
}

describe('controller against a real engine', () => {
  let env: TestEnv;
  const stops: (() => Promise<void>)[] = [];
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    for (const s of stops.splice(0).reverse()) await s();
    await env.stop();
  });

  /** Cache first, then the controller (STYLE 7); both stopped at the end, in reverse. */
  function start(cache: InformerCache, c: Controller): { stop: () => Promise<void> } {
    const cacheAc = new AbortController();
    const cacheDone = cache.start(cacheAc.signal);
    const ac = new AbortController();
    const done = c.start(ac.signal);
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopped ??= (async () => {
        ac.abort();
        await done;
        cacheAc.abort();
        await cacheDone;
      })());
    stops.push(stop);
    return { stop };
  }

  function cache(): InformerCache {
    return new InformerCache({ client: env.client, log: env.log, informer: { backoff: { initialMs: 10, maxMs: 40 } } });
  }

  it('reconciles existing objects after sync, retries a throwing reconcile with backoff, then succeeds', async () => {
    const CM = env.resource('configmaps');
    await env.client.create(CM, inDefault, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'flaky' } });
    const rec = recorder((key, n) => {
      if (key.name === 'flaky' && n <= 3) throw new Error(`not yet (${n})`);
    });
    const ic = cache();
    const c = new ControllerBuilder('flaky', { cache: ic, log: env.log }).for(CM).complete(rec);
    const { stop } = start(ic, c);
    await waitFor('4 reconciles of flaky', () => rec.count('root/default/flaky') === 4);
    await waitFor('the success counted', () => c.metrics().successes >= 1);
    const m = c.metrics();
    assert.equal(m.errors, 3);
    assert.equal(m.terminalErrors, 0);
    assert.equal(c.queue.numRequeues('root/default/flaky'), 0, 'forgotten after success');
    await stop();
    await env.client.delete(CM, inDefault, 'flaky');
  });

  it('on a fake clock: errors back off 5, 10, 20 ms; TerminalError is not retried; requeueAfter comes back after exactly its delay', async () => {
    const S = env.resource('secrets');
    const clock = new FakeClock();
    const rec = recorder((key, n) => {
      if (key.name === 'err') throw new KumoError('Conflict', `conflict ${n}`);
      if (key.name === 'terminal') throw new Error('wrapped', { cause: new TerminalError('spec.flavor: no such flavor') });
      if (key.name === 'later') return { requeueAfter: 1000 };
    });
    const ic = cache();
    const c = new ControllerBuilder('clocked', { cache: ic, log: env.log, clock }).for(S).withWorkers(2).complete(rec);
    start(ic, c);
    for (const name of ['err', 'terminal', 'later']) await env.client.create(S, inDefault, { apiVersion: 'v1', kind: 'Secret', metadata: { name } });
    await waitFor('first passes', () => rec.count('root/default/err') === 1 && rec.count('root/default/terminal') === 1 && rec.count('root/default/later') === 1);
    await waitFor('settled', () => c.metrics().active === 0 && c.metrics().queueWaiting === 2);
    assert.equal(c.metrics().terminalErrors, 1);

    const step = async (ms: number, err: number, later: number): Promise<void> => {
      clock.advance(ms);
      await waitFor(`err ${err}, later ${later}`, () => rec.count('root/default/err') === err && rec.count('root/default/later') === later && c.metrics().active === 0);
    };
    await step(4, 1, 1);
    await step(1, 2, 1); // 5 ms
    await step(9, 2, 1);
    await step(1, 3, 1); // 10 ms later
    await step(20, 4, 1); // 20 ms later
    await step(1000 - 35 - 1, 5, 1); // the next error retry (40 ms after the 4th) came; requeueAfter not yet
    await step(1, 5, 2); // requeueAfter: 1000 ms after the first pass
    assert.equal(rec.count('root/default/terminal'), 1, 'never retried');
    const m = c.metrics();
    assert.equal(m.errors, 5);
    assert.equal(m.requeuesAfter, 2);
    assert.equal(m.terminalErrors, 1);
    assert.equal(isTerminalError(new TerminalError('x')), true);
    assert.equal(isTerminalError(new Error('x')), false);
  });

  it('owns(): a change to an owned object reconciles its controller owner; watches(): keys from a map function', async () => {
    const S = env.resource('secrets');
    const CM = env.resource('configmaps');
    const NS = env.resource('namespaces');
    const owner = await env.client.create(S, inDefault, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'owner' } });
    const rec = recorder();
    const ic = cache();
    const c = new ControllerBuilder('owner', { cache: ic, log: env.log })
      .for(S)
      .owns(CM)
      .watches(NS, (ns) => (ns.metadata?.name === 'kube-public' ? [{ cluster: ROOT_CLUSTER, namespace: 'default', name: 'from-map' }] : []))
      .complete(rec);
    start(ic, c);
    await waitFor('the owner and the mapped key reconciled', () => rec.count('root/default/owner') === 1 && rec.count('root/default/from-map') === 1);
    const ref = { apiVersion: 'v1', kind: 'Secret', name: 'owner', uid: owner.metadata?.uid, controller: true };
    await env.client.create(CM, inDefault, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'child', ownerReferences: [ref] } });
    await waitFor('the owner reconciled for its child', () => rec.count('root/default/owner') === 2);
    assert.equal(rec.count('root/default/child'), 0, 'owned objects are not reconciled themselves');
    await env.client.patch(CM, inDefault, 'child', { data: { x: 'y' } });
    await waitFor('again on update', () => rec.count('root/default/owner') === 3);
    await env.client.delete(CM, inDefault, 'child');
    await waitFor('again on delete', () => rec.count('root/default/owner') === 4);
    await env.client.delete(S, inDefault, 'owner');
    await waitFor('and for its own delete', () => rec.count('root/default/owner') === 5);
  });

  it('ownerKeys: only the controller reference of the owner kind counts; cluster-scoped owners have no namespace', () => {
    const c = parseLogicalCluster('c1');
    const NP = { group: 'kumo.dev', version: 'v1alpha1', kind: 'NodePool', plural: 'nodepools', namespaced: true };
    const T = { group: 'kumo.dev', version: 'v1alpha1', kind: 'Tenant', plural: 'tenants', namespaced: false };
    const obj = (refs: unknown[]): KObject => ({ metadata: { name: 'm', namespace: 'ns', ownerReferences: refs } });
    assert.deepEqual(ownerKeys(obj([{ apiVersion: 'kumo.dev/v1alpha1', kind: 'NodePool', name: 'np', uid: 'u', controller: true }]), NP, c), [{ cluster: 'c1', namespace: 'ns', name: 'np' }]);
    assert.deepEqual(ownerKeys(obj([{ apiVersion: 'kumo.dev/v1beta1', kind: 'NodePool', name: 'np', uid: 'u', controller: true }]), NP, c), [{ cluster: 'c1', namespace: 'ns', name: 'np' }], 'another version of the group');
    assert.deepEqual(ownerKeys(obj([{ apiVersion: 'kumo.dev/v1alpha1', kind: 'NodePool', name: 'np', uid: 'u' }]), NP, c), [], 'not the controller');
    assert.deepEqual(ownerKeys(obj([{ apiVersion: 'other.io/v1', kind: 'NodePool', name: 'np', uid: 'u', controller: true }]), NP, c), [], 'another group');
    assert.deepEqual(ownerKeys(obj([{ apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', name: 't', uid: 'u', controller: true }]), T, c), [{ cluster: 'c1', name: 't' }]);
    assert.deepEqual(ownerKeys({ metadata: { name: 'x' } }, NP, c), []);
  });

  it('mapHandler enqueues each key once per update (old and new owners both, the same one once)', () => {
    const got: string[] = [];
    const h = mapHandler((o) => [String(o.metadata?.name)], { enqueue: (k) => void got.push(typeof k === 'string' ? k : formatKey(k)) });
    h.onUpdate?.({ metadata: { name: 'a' } }, { metadata: { name: 'a' } });
    assert.deepEqual(got, ['a']);
    h.onUpdate?.({ metadata: { name: 'a' } }, { metadata: { name: 'b' } });
    assert.deepEqual(got, ['a', 'a', 'b']);
  });

  it('one key is never reconciled by two workers at once; changes while it runs coalesce into one more pass', async () => {
    const CM = env.resource('configmaps');
    const running = new Map<string, number>();
    let maxSame = 0;
    let maxAll = 0;
    const gates: (() => void)[] = [];
    const rec = recorder(async (key, _n, signal) => {
      if (key.namespace !== 'kube-system') return;
      const k = formatKey(key);
      running.set(k, (running.get(k) ?? 0) + 1);
      maxSame = Math.max(maxSame, running.get(k) ?? 0);
      maxAll = Math.max(maxAll, [...running.values()].reduce((a, b) => a + b, 0));
      await new Promise<void>((r) => {
        gates.push(r);
        signal.addEventListener('abort', () => r());
      });
      running.set(k, (running.get(k) ?? 1) - 1);
    });
    const ic = new InformerCache({ client: env.client, log: env.log, cluster: ROOT_CLUSTER });
    const c = new ControllerBuilder('serial', { cache: ic, log: env.log, workers: 4 }).for(CM).complete(rec);
    start(ic, c);
    for (const n of ['s1', 's2']) await env.client.create(CM, { cluster: ROOT_CLUSTER, namespace: 'kube-system' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n } });
    await waitFor('both running', () => gates.length === 2);
    for (let i = 0; i < 5; i++) await env.client.patch(CM, { cluster: ROOT_CLUSTER, namespace: 'kube-system' }, 's1', { data: { i: String(i) } });
    // Wait until the informer has seen the last patch (it enqueues s1 while s1 is processing): later
    // deliveries would otherwise start a third pass after the gates below are released.
    const seenLast = (): boolean => (ic.informer(CM).store.get('root/kube-system/s1')?.data as Record<string, string> | undefined)?.i === '4';
    await waitFor('s1 queued again', () => c.queue.metrics().adds >= 3 && seenLast());
    assert.equal(c.queue.len(), 0, 'not handed to another worker while processing');
    for (const g of gates.splice(0)) g();
    await waitFor('one more pass for s1', () => gates.length === 1);
    for (const g of gates.splice(0)) g();
    await waitFor('idle', () => c.metrics().active === 0);
    assert.equal(rec.count('root/kube-system/s1'), 2);
    assert.equal(rec.count('root/kube-system/s2'), 1);
    assert.equal(maxSame, 1);
    assert.equal(maxAll, 2);
    for (const n of ['s1', 's2']) await env.client.delete(CM, { cluster: ROOT_CLUSTER, namespace: 'kube-system' }, n);
  });

  it('stop aborts the signal of a reconcile in flight and resolves after it returns', async () => {
    const CM = env.resource('configmaps');
    let sawAbort = false;
    let entered = false;
    const rec = recorder(
      (_key, _n, signal) =>
        new Promise<void>((resolve) => {
          entered = true;
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve();
          });
        }),
    );
    const ic = cache();
    const c = new ControllerBuilder('stopper', { cache: ic, log: env.log }).for(CM).complete(rec);
    await env.client.create(CM, inDefault, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stop-me' } });
    const { stop } = start(ic, c);
    await waitFor('in flight', () => entered);
    await stop();
    assert.equal(sawAbort, true);
    assert.equal(c.metrics().errors, 0, 'an aborted reconcile is not an error');
    await env.client.delete(CM, inDefault, 'stop-me');
  });

  it('a reconciler in the house style: fetch, decide, write status once with conditions', async () => {
    const T = env.resource('tenants', 'kumo.dev');
    const now = new Date('2026-01-01T00:00:00Z');
    const rec: Reconciler = {
      async reconcile(key, signal) {
        let t: KObject;
        try {
          t = await env.client.get(T, { cluster: key.cluster }, key.name, { signal });
        } catch (err) {
          if (isKumoError(err, 'NotFound')) return;
          throw err;
        }
        const next = structuredClone(t);
        const members = (next.spec as { members?: unknown[] } | undefined)?.members ?? [];
        if (members.length === 0) markFalse(next, 'Ready', 'NoMembers', 'the tenant has no members: add one under spec.members', now);
        else markTrue(next, 'Ready', 'AsExpected', '', now);
        await env.client.updateStatus(T, { cluster: key.cluster }, next, { signal });
      },
    };
    const ic = cache();
    const c = new ControllerBuilder('tenant', { cache: ic, log: env.log }).for(T).complete(rec);
    start(ic, c);
    await env.client.create(T, { cluster: ROOT_CLUSTER }, { apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'acme' }, spec: {} });
    const ready = async (): Promise<ReturnType<typeof getCondition>> => getCondition(await env.client.get(T, { cluster: ROOT_CLUSTER }, 'acme'), 'Ready');
    await waitFor('Ready False', () => c.metrics().successes >= 2);
    const f = await ready();
    assert.deepEqual({ status: f?.status, reason: f?.reason, observedGeneration: f?.observedGeneration }, { status: 'False', reason: 'NoMembers', observedGeneration: 1 });
    await env.client.patch(T, { cluster: ROOT_CLUSTER }, 'acme', { spec: { members: [{ kind: 'User', name: 'ann', role: 'admin' }] } });
    let t: Awaited<ReturnType<typeof ready>>;
    for (let i = 0; i < 500 && (t = await ready())?.status !== 'True'; i++) await new Promise((r) => setTimeout(r, 5));
    t = await ready();
    assert.deepEqual({ status: t?.status, reason: t?.reason, observedGeneration: t?.observedGeneration }, { status: 'True', reason: 'AsExpected', observedGeneration: 2 });
    assert.equal(c.metrics().errors, 0);
  });
});
