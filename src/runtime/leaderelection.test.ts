import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KumoError } from '../lib/errors.js';
import { ROOT_CLUSTER } from '../apiserver/keys.js';
import type { Client } from '../client/client.js';
import { LEASE_RESOURCE, LeaderElector, type LeaderElectionOptions } from './leaderelection.js';
import { startTestEnv, type TestEnv } from './testenv.js';
import { eventually as waitFor } from '../testing/wait.js';

/** Every call fails with Unavailable while `down` (a network partition between one candidate and the API). */
function partitionable(inner: Client): Client & { down: boolean } {
  const state = { down: false };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'down') return state.down;
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (state.down) return Promise.reject(new KumoError('Unavailable', 'partitioned by the test'));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    set(_t, prop, value) {
      if (prop !== 'down') return false;
      state.down = value === true;
      return true;
    },
  }) as Client & { down: boolean };
}

interface Candidate {
  id: string;
  elector: LeaderElector;
  client: Client & { down: boolean };
  started: number[];
  stopped: number[];
  stop(): Promise<void>;
}

describe('leader election over a Lease', () => {
  let env: TestEnv;
  const running: Candidate[] = [];
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    for (const c of running) await c.stop();
    await env.stop();
  });

  /** Tracks how many candidates lead at once across every candidate of a test. */
  const leading = { now: 0, max: 0 };

  function candidate(id: string, lease: string, extra: Partial<LeaderElectionOptions> = {}): Candidate {
    const client = partitionable(env.client);
    const c: Candidate = { id, client, started: [], stopped: [], elector: undefined as unknown as LeaderElector, stop: () => Promise.resolve() };
    c.elector = new LeaderElector({
      client,
      identity: id,
      lease: { cluster: ROOT_CLUSTER, namespace: 'kube-system', name: lease },
      log: env.log,
      leaseDurationMs: 1000,
      renewDeadlineMs: 600,
      retryPeriodMs: 100,
      callbacks: {
        onStartedLeading: (signal) => {
          c.started.push(Date.now());
          leading.now++;
          leading.max = Math.max(leading.max, leading.now);
          return new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => {
              leading.now--;
              resolve();
            }),
          );
        },
        onStoppedLeading: () => c.stopped.push(Date.now()),
      },
      ...extra,
    });
    const ac = new AbortController();
    const done = c.elector.start(ac.signal);
    c.stop = async () => {
      ac.abort();
      await done;
    };
    running.push(c);
    return c;
  }

  async function holder(lease: string): Promise<Record<string, unknown>> {
    const l = await env.client.get(LEASE_RESOURCE, { cluster: ROOT_CLUSTER, namespace: 'kube-system' }, lease);
    return l.spec as Record<string, unknown>;
  }

  it('two candidates: exactly one leads and keeps renewing; when it stops it releases and the other takes over at once', async () => {
    leading.now = 0;
    leading.max = 0;
    const a = candidate('a', 'one');
    const b = candidate('b', 'one');
    await waitFor('a leader', () => a.elector.isLeader() || b.elector.isLeader());
    // Several renew periods: still exactly one.
    await new Promise((r) => setTimeout(r, 400));
    const [first, second] = a.elector.isLeader() ? [a, b] : [b, a];
    assert.equal(first.elector.isLeader(), true);
    assert.equal(second.elector.isLeader(), false);
    assert.equal(leading.max, 1);
    assert.ok(first.elector.stats().renewals >= 2, JSON.stringify(first.elector.stats()));
    assert.equal(second.elector.leader(), first.id, 'the other knows who leads');
    const spec = await holder('one');
    assert.equal(spec.holderIdentity, first.id);
    assert.equal(spec.leaseDurationSeconds, 1);
    assert.equal(spec.leaseTransitions, 0);
    assert.match(String(spec.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const t = Date.now();
    await first.stop();
    assert.deepEqual([first.started.length, first.stopped.length], [1, 1]);
    await waitFor('the other leads', () => second.elector.isLeader());
    const took = Date.now() - t;
    assert.ok(took < 900, `took over in ${took} ms: sooner than the lease duration, thanks to the release`);
    assert.equal(leading.max, 1);
    const after = await holder('one');
    assert.equal(after.holderIdentity, second.id);
    assert.equal(after.leaseTransitions, 1);
    await second.stop();
    assert.equal((await holder('one')).holderIdentity, '', 'released on stop');
  });

  it('a leader cut off from the API steps down after renewDeadline; the other takes over only once the lease expired', async () => {
    leading.now = 0;
    leading.max = 0;
    const a = candidate('a', 'two');
    await waitFor('a leads', () => a.elector.isLeader());
    const b = candidate('b', 'two');
    await waitFor('b has seen the lease', () => b.elector.leader() === 'a');
    const cut = Date.now();
    a.client.down = true;
    await waitFor('a steps down', () => !a.elector.isLeader());
    const stepDown = a.stopped[0] ?? 0;
    assert.ok(stepDown - cut >= 450 && stepDown - cut < 1000, `a stepped down ${stepDown - cut} ms after the cut (renewDeadline 600 ms from its last renewal)`);
    assert.equal(a.elector.stats().losses, 1);
    await waitFor('b leads', () => b.elector.isLeader(), 5000);
    const takeover = b.started[0] ?? 0;
    assert.ok(takeover > stepDown, 'never two leaders: a stopped before b started');
    assert.ok(takeover - cut >= 800, `b waited for the lease to expire (${takeover - cut} ms after a's last chance to renew)`);
    assert.equal(leading.max, 1);
    assert.equal((await holder('two')).leaseTransitions, 1);
    // a's network comes back: it sees b's lease and does not lead.
    a.client.down = false;
    await waitFor('a sees b', () => a.elector.leader() === 'b');
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(a.elector.isLeader(), false);
    assert.equal(b.elector.isLeader(), true);
  });

  it('a crashed leader (no release) is replaced after the lease duration', async () => {
    leading.now = 0;
    leading.max = 0;
    const a = candidate('a', 'three', { releaseOnCancel: false });
    await waitFor('a leads', () => a.elector.isLeader());
    const b = candidate('b', 'three');
    await waitFor('b has seen the lease', () => b.elector.leader() === 'a');
    const t = Date.now();
    await a.stop();
    assert.equal((await holder('three')).holderIdentity, 'a', 'not released');
    await waitFor('b leads', () => b.elector.isLeader());
    assert.ok(Date.now() - t >= 700, `b waited ${Date.now() - t} ms`);
  });

  it('rejects timing that cannot be safe', () => {
    const base = { client: env.client, identity: 'x', lease: { cluster: ROOT_CLUSTER, namespace: 'kube-system', name: 'x' }, log: env.log, callbacks: { onStartedLeading: () => undefined } };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 1000, renewDeadlineMs: 1000 }), /greater than renewDeadlineMs/);
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 500, renewDeadlineMs: 400, retryPeriodMs: 100 }), /at least 1000/);
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 2000, renewDeadlineMs: 1000, retryPeriodMs: 900 }), /1.2/);
    assert.throws(() => new LeaderElector({ ...base, identity: '' }), /identity/);
  });
});
