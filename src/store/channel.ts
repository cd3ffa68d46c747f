// A bounded async queue that turns pushed watch messages into an AsyncIterable. Both backends feed
// their watchers through it, so "too far behind" and cancellation behave the same everywhere.
import { KumoError } from '../lib/errors.js';
import type { WatchMessage } from './types.js';

export class WatchChannel implements AsyncIterable<WatchMessage> {
  private readonly queue: WatchMessage[] = [];
  private pendingEvents = 0;
  private waiter: (() => void) | null = null;
  private done = false;
  private error: KumoError | null = null;
  /**
   * Kept so that every way the watch ends (Gone, break, close, failure) removes it again: the caller's
   * signal often outlives the watch (one per controller or request), and a listener left on it would
   * keep this channel, its queue and its owner alive for as long as the signal lives.
   */
  private readonly onAbort = (): void => this.end();

  constructor(
    /** Events buffered beyond this end the watch with Gone: the consumer must re-list. */
    private readonly maxPendingEvents: number,
    private readonly signal: AbortSignal,
    private readonly onClose: () => void,
  ) {
    if (signal.aborted) this.done = true;
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  get closed(): boolean {
    return this.done || this.error !== null;
  }

  push(msg: WatchMessage): void {
    if (this.closed) return;
    if (msg.kind === 'events') {
      if (msg.events.length === 0) return;
      this.pendingEvents += msg.events.length;
      if (this.pendingEvents > this.maxPendingEvents) {
        this.fail(new KumoError('Gone', `store: watcher fell more than ${this.maxPendingEvents} events behind; re-list and watch again`));
        return;
      }
    } else {
      // Progress notices coalesce: only the newest matters.
      const last = this.queue[this.queue.length - 1];
      if (last?.kind === 'progress') {
        last.revision = msg.revision;
        return;
      }
    }
    this.queue.push(msg);
    this.wake();
  }

  fail(err: KumoError): void {
    if (this.closed) return;
    this.error = err;
    this.queue.length = 0;
    this.closing();
  }

  end(): void {
    if (this.closed) return;
    this.done = true;
    this.queue.length = 0;
    this.closing();
  }

  /** Runs once, when the channel first closes. */
  private closing(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.wake();
    this.onClose();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchMessage> {
    try {
      for (;;) {
        const msg = this.queue.shift();
        if (msg !== undefined) {
          if (msg.kind === 'events') this.pendingEvents -= msg.events.length;
          yield msg;
          continue;
        }
        if (this.error) throw this.error;
        if (this.done) return;
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      this.end();
    }
  }
}
