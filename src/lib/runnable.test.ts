import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jittered, launch, sleep, type Runnable } from './runnable.js';

describe('runnable', () => {
  it('launch: stop aborts the signal and waits for start to resolve; stop is idempotent', async () => {
    let sawAbort = false;
    const r: Runnable = {
      name: 'loop',
      async start(signal) {
        while (await sleep(1000, signal));
        sawAbort = signal.aborted;
      },
    };
    const errors: unknown[] = [];
    const l = launch(r, (e) => errors.push(e));
    assert.equal(l.name, 'loop');
    const first = l.stop(1000);
    assert.equal(l.stop(1000), first);
    assert.equal(await first, 'stopped');
    assert.equal(sawAbort, true);
    assert.deepEqual(errors, []);
  });

  it('launch: a runnable that ignores its signal is left behind after the grace period', async () => {
    let release = (): void => undefined;
    const r: Runnable = { name: 'stuck', start: () => new Promise<void>((resolve) => (release = resolve)) };
    const l = launch(r, () => undefined);
    const t0 = Date.now();
    assert.equal(await l.stop(50), 'timeout');
    assert.ok(Date.now() - t0 < 1000);
    release();
  });

  it('launch: a start that rejects (or throws) is reported once through onError; stop still resolves', async () => {
    const errors: unknown[] = [];
    const boom = new Error('boom');
    const l = launch({ name: 'bad', start: () => Promise.reject(boom) }, (e) => errors.push(e));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([...errors], [boom]);
    assert.equal(await l.stop(100), 'stopped');
    const sync = launch(
      {
        name: 'sync',
        start: () => {
          throw boom;
        },
      },
      (e) => errors.push(e),
    );
    assert.equal(await sync.stop(100), 'stopped');
    assert.deepEqual(errors, [boom, boom]);
  });

  it('sleep resolves true after the time, false at once on abort', async () => {
    const ac = new AbortController();
    assert.equal(await sleep(5, ac.signal), true);
    const p = sleep(60_000, ac.signal);
    ac.abort();
    assert.equal(await p, false);
    assert.equal(await sleep(60_000, ac.signal), false);
  });

  it('jittered spreads over ±fraction', () => {
    assert.equal(jittered(1000, 0.1, () => 0), 900);
    assert.equal(jittered(1000, 0.1, () => 0.5), 1000);
    assert.equal(jittered(1000, 0.1, () => 0.999999), 1100);
    assert.equal(jittered(1000, 0), 1000);
    for (let i = 0; i < 1000; i++) {
      const v = jittered(300_000, 0.1);
      assert.ok(v >= 270_000 && v <= 330_000, String(v));
    }
  });
});
