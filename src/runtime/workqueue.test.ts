import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from './clock.js';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, WorkQueue, defaultControllerRateLimiter } from './workqueue.js';

/**
 * Steps of a little script run against one queue on a fake clock:
 *   add X | after X MS | rl X (addRateLimited) | forget X | get X (the next item is X) | get - (undefined)
 *   done X | len N | waiting N | tick MS | shutdown | requeues X N
 */
async function run(steps: string[], q = new WorkQueue({ clock: new FakeClock(), rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) })): Promise<void> {
  const clock = (q as unknown as { clock: FakeClock }).clock;
  for (const [i, step] of steps.entries()) {
    const [op = '', a = '', b = ''] = step.split(' ');
    const where = `step ${i + 1} "${step}"`;
    switch (op) {
      case 'add':
        q.add(a);
        break;
      case 'after':
        q.addAfter(a, Number(b));
        break;
      case 'rl':
        q.addRateLimited(a);
        break;
      case 'forget':
        q.forget(a);
        break;
      case 'get': {
        if (a !== '-') assert.ok(q.len() > 0, `${where}: nothing queued`);
        assert.equal(await q.get(), a === '-' ? undefined : a, where);
        break;
      }
      case 'done':
        q.done(a);
        break;
      case 'len':
        assert.equal(q.len(), Number(a), where);
        break;
      case 'waiting':
        assert.equal(q.metrics().waiting, Number(a), where);
        break;
      case 'tick':
        clock.advance(Number(a));
        break;
      case 'shutdown':
        q.shutDown();
        break;
      case 'requeues':
        assert.equal(q.numRequeues(a), Number(b), where);
        break;
      default:
        throw new Error(`unknown step ${step}`);
    }
  }
}

const cases: { name: string; steps: string[] }[] = [
  { name: 'FIFO', steps: ['add a', 'add b', 'add c', 'get a', 'get b', 'get c', 'len 0'] },
  { name: 'dedupe while queued', steps: ['add a', 'add b', 'add a', 'len 2', 'get a', 'get b', 'len 0'] },
  { name: 'never twice concurrently: re-added while processing waits for done', steps: ['add a', 'get a', 'add a', 'len 0', 'add a', 'len 0', 'done a', 'len 1', 'get a', 'done a', 'len 0'] },
  { name: 'done without a re-add does not queue again', steps: ['add a', 'get a', 'done a', 'len 0', 'done a', 'len 0'] },
  { name: 'others proceed while one is processing', steps: ['add a', 'add b', 'get a', 'add a', 'get b', 'len 0', 'done b', 'done a', 'get a'] },
  { name: 'addAfter waits exactly its delay', steps: ['after a 100', 'len 0', 'waiting 1', 'tick 99', 'len 0', 'tick 1', 'len 1', 'waiting 0', 'get a'] },
  { name: 'addAfter: the earliest of several delays wins, once', steps: ['after a 100', 'after a 50', 'after a 200', 'tick 50', 'len 1', 'get a', 'done a', 'tick 200', 'len 0'] },
  { name: 'addAfter ≤ 0 adds at once', steps: ['after a 0', 'after b -5', 'len 2'] },
  { name: 'delays in time order across items', steps: ['after a 30', 'after b 10', 'after c 20', 'tick 30', 'get b', 'get c', 'get a'] },
  { name: 'addAfter of a queued item does not duplicate it', steps: ['add a', 'after a 10', 'tick 10', 'len 1', 'get a', 'len 0'] },
  {
    name: 'per item exponential backoff 5, 10, 20 ms; forget resets',
    steps: ['rl a', 'tick 4', 'len 0', 'tick 1', 'get a', 'done a', 'rl a', 'tick 9', 'len 0', 'tick 1', 'get a', 'done a', 'rl a', 'tick 19', 'len 0', 'tick 1', 'len 1', 'requeues a 3', 'forget a', 'requeues a 0', 'get a', 'done a', 'rl a', 'tick 5', 'len 1'],
  },
  { name: 'backoff is per item', steps: ['rl a', 'tick 5', 'get a', 'done a', 'rl a', 'rl b', 'tick 5', 'get b', 'len 0', 'tick 5', 'get a'] },
  { name: 'backoff is capped', steps: [...Array.from({ length: 20 }, () => 'rl a'), 'requeues a 20', 'tick 1000', 'len 1'] },
  { name: 'shutdown: adds ignored, delayed dropped, queued still handed out, then undefined', steps: ['add a', 'after b 10', 'shutdown', 'add c', 'rl d', 'tick 100', 'len 1', 'waiting 0', 'get a', 'get -', 'get -'] },
  { name: 'shutdown: an item re-added before shutdown is still handed out after done', steps: ['add a', 'get a', 'add a', 'shutdown', 'done a', 'get a', 'get -'] },
];

describe('workqueue', () => {
  for (const c of cases) it(c.name, () => run(c.steps));

  it('a waiting get receives the next add; an aborted get resolves undefined and takes nothing', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const ac = new AbortController();
    const aborted = q.get(ac.signal);
    const waiting = q.get();
    ac.abort();
    assert.equal(await aborted, undefined);
    q.add('x');
    assert.equal(await waiting, 'x');
    assert.equal(q.metrics().processing, 1);
    assert.equal(q.len(), 0);
  });

  it('shutdown wakes waiting getters; shutDownWithDrain waits for items in flight', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.add('a');
    assert.equal(await waiting, 'a');
    q.add('b');
    const waiter = q.get();
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    // Queued items are still handed out after shutdown; the drain waits for them too.
    assert.equal(await waiter, 'b');
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    q.done('a');
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false, 'b is still processing');
    q.done('b');
    await drain;
    assert.equal(drained, true);
    assert.equal(await q.get(), undefined);
  });

  it('shutDownWithDrain gives up when its signal aborts', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    const ac = new AbortController();
    const p = q.shutDownWithDrain(ac.signal);
    ac.abort();
    await p;
    assert.equal(q.metrics().processing, 1);
  });

  it('rate limiters: client-go default = max(5 ms·2^n up to 1000 s, 10 qps bucket of 100)', () => {
    const exp = new ItemExponentialFailureRateLimiter();
    assert.deepEqual(Array.from({ length: 5 }, () => exp.when('a')), [5, 10, 20, 40, 80]);
    for (let i = 0; i < 40; i++) exp.when('a');
    assert.equal(exp.when('a'), 1_000_000);
    assert.equal(exp.numRequeues('a'), 46);
    exp.forget('a');
    assert.equal(exp.when('a'), 5);

    const clock = new FakeClock();
    const bucket = new BucketRateLimiter(10, 3, clock);
    assert.deepEqual([bucket.when('a'), bucket.when('b'), bucket.when('c')], [0, 0, 0], 'the burst is free');
    assert.equal(bucket.when('d'), 100, 'then one token per 100 ms');
    assert.equal(bucket.when('e'), 200);
    clock.advance(1000);
    assert.equal(bucket.when('f'), 0, 'refilled over time');

    const def = defaultControllerRateLimiter(new FakeClock());
    const first = Array.from({ length: 100 }, (_, i) => def.when(`k${i}`));
    assert.ok(first.every((ms) => ms === 5), 'within the burst the per item backoff decides');
    assert.equal(def.when('k100'), 100, 'past the burst the bucket decides');
    assert.equal(def.numRequeues('k0'), 1);

    const max = new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(1, 100), new ItemExponentialFailureRateLimiter(3, 100));
    assert.deepEqual([max.when('a'), max.when('a')], [3, 6]);
    max.forget('a');
    assert.equal(max.numRequeues('a'), 0);
  });

  it('metrics count adds, retries, depth, waiting and processing', () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('a');
    q.addRateLimited('b');
    assert.deepEqual(q.metrics(), { adds: 1, retries: 1, depth: 1, waiting: 1, processing: 0 });
  });

  it('many delayed items come out in time order (heap)', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const delays = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 200) + 1);
    delays.forEach((d, i) => q.addAfter(`i${i}`, d));
    clock.advance(500);
    const out: number[] = [];
    while (q.len() > 0) {
      const k = (await q.get()) ?? '';
      out.push(delays[Number(k.slice(1))] ?? -1);
      q.done(k);
    }
    assert.equal(out.length, 200);
    assert.deepEqual(out, [...out].sort((a, b) => a - b));
  });
});
