// Time as the runtime sees it (STYLE.md practice 9): queues, rate limiters and leader election take a
// `Clock`, so their timing is tested by advancing a `FakeClock` instead of sleeping.

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private next = 1;
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    this.timers.set(id, t);
    return { id };
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    clearTimeout(this.timers.get(handle.id));
    this.timers.delete(handle.id);
  }
}

/** The wall clock and Node's timers. */
export const realClock: Clock = new RealClock();

/** A clock that moves only when told to: `advance(ms)` fires the timers that came due, in time order. */
export class FakeClock implements Clock {
  private t: number;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return { id };
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }
  /** Timers not yet fired. */
  pending(): number {
    return this.timers.size;
  }
  /** Moves time forward by `ms`, firing every timer due by then (timers set while firing included). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (due === undefined || e[1].at < due[1].at || (e[1].at === due[1].at && e[0] < due[0]))) due = e;
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = end;
  }
}
