// The rate-limited work queue of client-go (k8s.io/client-go/util/workqueue), over string keys:
// - an item is queued at most once (dedupe while queued);
// - an item is never handed to two workers at once: one added while it is processing is queued again
//   when its worker calls `done`;
// - `addAfter` delays an item (the earliest of several delays wins), `addRateLimited` delays it by the
//   rate limiter — per item exponential backoff (5 ms doubling to 1000 s) and an overall token bucket
//   (10/s, burst 100), whichever is longer, as client-go's default controller rate limiter —
//   and `forget` resets an item's backoff;
// - `shutDown` refuses new items and drops delayed ones; items already queued are still handed out,
//   then `get` returns undefined. `shutDownWithDrain` also waits until nothing is queued or processing.
// Queues hold keys, never events (STYLE.md practice 6).
import { realClock, type Clock, type TimerHandle } from './clock.js';

export interface RateLimiter {
  /** How long `item` should wait before its next try (and count this try). */
  when(item: string): number;
  /** Resets `item`'s history (it succeeded, or it is no longer wanted). */
  forget(item: string): void;
  /** Failures counted for `item` since it was last forgotten. */
  numRequeues(item: string): number;
}

/** base·2^failures, capped at max: 5 ms, 10 ms, 20 ms … 1000 s by default. */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1000 * 1000,
  ) {}
  when(item: string): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    // 2^n overflows to Infinity for large n: the cap handles it.
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n, 1024));
  }
  forget(item: string): void {
    this.failures.delete(item);
  }
  numRequeues(item: string): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket (golang.org/x/time/rate's reservation): `burst` tokens, refilled at `qps`
 * per second; a reservation without a token waits for the one it takes. Not per item.
 */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;
  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }
  when(_item: string): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
  forget(_item: string): void {}
  numRequeues(_item: string): number {
    return 0;
  }
}

/** The longest wait of several limiters. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];
  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }
  when(item: string): number {
    let ms = 0;
    for (const l of this.limiters) ms = Math.max(ms, l.when(item));
    return ms;
  }
  forget(item: string): void {
    for (const l of this.limiters) l.forget(item);
  }
  numRequeues(item: string): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.numRequeues(item));
    return n;
  }
}

/** client-go's DefaultControllerRateLimiter: max(per item 5 ms → 1000 s, overall 10 qps burst 100). */
export function defaultControllerRateLimiter(clock: Clock = realClock): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(5, 1000 * 1000), new BucketRateLimiter(10, 100, clock));
}

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
  clock?: Clock;
}

export interface WorkQueueMetrics {
  /** Items added (after dedupe: an add that changed nothing is not counted). */
  adds: number;
  /** `addRateLimited` calls. */
  retries: number;
  /** Items queued, ready for a worker. */
  depth: number;
  /** Items waiting for their delay. */
  waiting: number;
  /** Items a worker holds. */
  processing: number;
}

interface Waiting {
  at: number;
  item: string;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private queue: string[] = [];
  private head = 0;
  /** Items that need processing (queued, or re-added while processing). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly getters: ((item: string | undefined) => void)[] = [];
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  // Delayed items: the earliest time per item, a min-heap with stale entries skipped when popped.
  private readonly waitingAt = new Map<string, number>();
  private heap: Waiting[] = [];
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private adds = 0;
  private retries = 0;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter(this.clock);
  }

  /** Queues `item` unless it is queued already or the queue is shut down. */
  add(item: string): void {
    if (this.closed || this.dirty.has(item)) return;
    this.adds++;
    this.dirty.add(item);
    if (this.processing.has(item)) return; // queued again by `done`
    this.push(item);
  }

  /** Queues `item` after `ms` (at once when ms ≤ 0). Of several pending delays the earliest wins. */
  addAfter(item: string, ms: number): void {
    if (this.closed) return;
    if (!(ms > 0)) {
      this.add(item);
      return;
    }
    const at = this.clock.now() + ms;
    const cur = this.waitingAt.get(item);
    if (cur !== undefined && cur <= at) return;
    this.waitingAt.set(item, at);
    heapPush(this.heap, { at, item });
    this.schedule();
  }

  /** Queues `item` after the rate limiter's delay: the retry of a failure. */
  addRateLimited(item: string): void {
    if (this.closed) return;
    this.retries++;
    this.addAfter(item, this.limiter.when(item));
  }

  /** Ends `item`'s backoff: call it when the item succeeded (or will never be retried). */
  forget(item: string): void {
    this.limiter.forget(item);
  }

  numRequeues(item: string): number {
    return this.limiter.numRequeues(item);
  }

  /**
   * The next item, which the caller must pass to `done` when finished. Waits while the queue is
   * empty; undefined once shut down and empty, or when `signal` aborts.
   */
  get(signal?: AbortSignal): Promise<string | undefined> {
    const item = this.take();
    if (item !== undefined || this.closed) return Promise.resolve(item);
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const i = this.getters.indexOf(getter);
        if (i >= 0) this.getters.splice(i, 1);
        resolve(undefined);
      };
      const getter = (it: string | undefined): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(it);
      };
      this.getters.push(getter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Marks `item` finished; if it was added meanwhile it is queued again now. */
  done(item: string): void {
    if (!this.processing.delete(item)) return;
    if (this.dirty.has(item)) this.push(item);
    this.checkDrained();
  }

  /** Items ready for a worker. */
  len(): number {
    return this.queue.length - this.head;
  }

  shuttingDown(): boolean {
    return this.closed;
  }

  /** Refuses new items and drops delayed ones; queued items are still handed out, then `get` returns undefined. */
  shutDown(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.heap = [];
    this.waitingAt.clear();
    for (const g of this.getters.splice(0)) g(undefined);
    this.checkDrained();
  }

  /** `shutDown`, then waits until no item is queued or processing (or `signal` aborts). */
  async shutDownWithDrain(signal?: AbortSignal): Promise<void> {
    this.shutDown();
    if (this.drained() || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const onAbort = (): void => resolve();
      this.drainWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  metrics(): WorkQueueMetrics {
    return { adds: this.adds, retries: this.retries, depth: this.len(), waiting: this.waitingAt.size, processing: this.processing.size };
  }

  private push(item: string): void {
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(item);
      this.processing.add(item);
      getter(item);
      return;
    }
    this.queue.push(item);
  }

  private take(): string | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head++] as string;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.dirty.delete(item);
    this.processing.add(item);
    return item;
  }

  private drained(): boolean {
    return this.len() === 0 && this.processing.size === 0;
  }

  private checkDrained(): void {
    if (!this.closed || !this.drained()) return;
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private schedule(): void {
    const first = this.heap[0];
    if (!first || first.at >= this.timerAt) return;
    this.clock.clearTimeout(this.timer);
    this.timerAt = first.at;
    this.timer = this.clock.setTimeout(() => this.fire(), first.at - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    for (let top = this.heap[0]; top && top.at <= now; top = this.heap[0]) {
      heapPop(this.heap);
      if (this.waitingAt.get(top.item) !== top.at) continue; // superseded by an earlier delay
      this.waitingAt.delete(top.item);
      this.add(top.item);
    }
    this.schedule();
  }
}

function heapPush(h: Waiting[], w: Waiting): void {
  h.push(w);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if ((h[p] as Waiting).at <= w.at) break;
    h[i] = h[p] as Waiting;
    i = p;
  }
  h[i] = w;
}

function heapPop(h: Waiting[]): Waiting | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length === 0 || last === undefined) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const r = l + 1;
    const c = r < h.length && (h[r] as Waiting).at < (h[l] as Waiting).at ? r : l;
    if ((h[c] as Waiting).at >= last.at) break;
    h[i] = h[c] as Waiting;
    i = c;
  }
  h[i] = last;
  return top;
}
