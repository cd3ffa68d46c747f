// In-process watch fan-out over any Store: watchers of the same prefix share one upstream watch.
// A backend's own watch stays 1:1 with the database (thin backends); this decorator keeps 1,000
// controllers watching one prefix from becoming 1,000 database watches.
//
// Per prefix, a Feed holds one upstream watch and a ring of its recent events. A new watcher whose
// start revision is inside the ring gets the ring's events after it, then the live ones, in one
// synchronous step (nothing missed, nothing twice); an older start falls back to a direct upstream
// watch of its own, which is always correct.
//
// Compaction: a watcher's start revision is checked against the store's compacted revision before it
// may create or join a feed, so one stale watcher (which must get Gone) never starts the shared
// upstream at a compacted revision and takes every other watcher of the prefix down with it. If the
// running upstream still ends with Gone (compacted under it while it reconnected, or it fell behind),
// only the watchers whose start is below the compacted revision get Gone; the feed resumes upstream
// from where it was (or from the compacted revision, if that is later) and keeps the others.
import { KumoError, isKumoError } from '../lib/errors.js';
import { WatchChannel } from './channel.js';
import { gone, validatePrefix, validateRevision } from './common.js';
import type {
  CallOptions,
  CountResult,
  DeleteResult,
  GetOptions,
  GetResult,
  ListOptions,
  ListResult,
  Store,
  WatchEvent,
  WatchMessage,
  WatchOptions,
  WriteOptions,
  WriteResult,
} from './types.js';

export interface FanoutOptions {
  /** Recent events kept per prefix for watchers that start slightly in the past. */
  ringSize?: number;
  /** Events a watcher may have buffered before it is closed with Gone. */
  maxWatcherBacklog?: number;
  /** Progress interval of the shared upstream watch, ms. */
  upstreamProgressMs?: number;
  /**
   * The prefix whose shared feed serves a watch of `prefix` (default: itself). The API server maps
   * every watch of a resource (any namespace, any logical cluster) to the resource's prefix, so one
   * upstream watch per resource serves them all; each watcher gets only its own prefix's events.
   */
  feedPrefix?: (prefix: string) => string;
}

interface Sub {
  channel: WatchChannel;
  /** This watcher's own prefix (a sub-prefix of the feed's, or the same). */
  prefix: string;
  /** Events at or below this revision are not for this watcher (it asked to start after it). */
  after: number;
  lastSent: number;
}

class Feed {
  readonly subs = new Set<Sub>();
  private ring: WatchEvent[] = [];
  /** The ring holds every event under the prefix with revision > ringStart (up to lastRev). */
  ringStart: number;
  /** Every event up to this revision has been received from upstream and pushed to subscribers. */
  lastRev: number;
  /** Upstream watches started so far (1 + restarts after Gone), for tests. */
  upstreamStarts = 0;
  private readonly ac = new AbortController();

  constructor(
    private readonly inner: Store,
    readonly prefix: string,
    startAfter: number,
    private readonly ringSize: number,
    private readonly progressMs: number,
    private readonly onDone: (f: Feed) => void,
  ) {
    this.ringStart = startAfter;
    this.lastRev = startAfter;
    void this.run();
  }

  private get stopped(): boolean {
    return this.ac.signal.aborted;
  }

  /** Keeps one upstream watch running from `lastRev`; restarts it after a Gone the subscribers survive. */
  private async run(): Promise<void> {
    // Gones in a row with nothing received in between: a bound, so an upstream that keeps failing
    // without making progress cannot spin.
    let barren = 0;
    for (;;) {
      let received = false;
      try {
        this.upstreamStarts++;
        const upstream = this.inner.watch(this.prefix, this.lastRev, { signal: this.ac.signal, progressIntervalMs: this.progressMs });
        for await (const m of upstream) {
          received = true;
          if (m.kind === 'progress') {
            this.lastRev = Math.max(this.lastRev, m.revision);
            continue;
          }
          this.append(m.events);
          const msg: WatchMessage = { kind: 'events', events: m.events };
          for (const s of this.subs) this.send(s, msg);
        }
        if (!this.stopped) this.failAll(new KumoError('Unavailable', 'store: shared watch ended unexpectedly; watch again'));
        return;
      } catch (err) {
        if (this.stopped) return;
        if (!isKumoError(err, 'Gone')) {
          this.failAll(isKumoError(err) ? err : new KumoError('Internal', `store: shared watch failed: ${String(err)}`));
          return;
        }
        barren = received ? 1 : barren + 1;
        if (barren > 3) {
          this.failAll(err);
          return;
        }
        if (!(await this.recoverFromGone(err))) return;
      }
    }
  }

  /**
   * After the upstream ended with Gone: fails the subscribers that need history below the compacted
   * revision, and moves the restart point to it if it is past everything received. False if the feed
   * is done (no subscriber left, stopped, or the compacted revision could not be read).
   */
  private async recoverFromGone(err: KumoError): Promise<boolean> {
    let compacted: number;
    try {
      compacted = await this.inner.compactRevision({ signal: this.ac.signal });
    } catch {
      if (!this.stopped) this.failAll(err);
      return false;
    }
    if (this.stopped) return false;
    // Subscribers that joined while compactRevision ran are judged by the same rule.
    for (const s of [...this.subs]) {
      if (s.after < compacted) s.channel.fail(gone(s.after + 1, compacted));
    }
    // Failing the last subscriber stopped the feed.
    if (this.stopped) return false;
    if (compacted > this.lastRev) {
      // The events in (lastRev, compacted] are gone, and every remaining subscriber starts at or after
      // `compacted`: resume there with an empty ring (a watcher starting below it is served directly).
      this.ring = [];
      this.ringStart = compacted;
      this.lastRev = compacted;
    }
    return true;
  }

  private append(events: WatchEvent[]): void {
    for (const e of events) this.ring.push(e);
    const last = events[events.length - 1];
    if (last) this.lastRev = Math.max(this.lastRev, last.kv.modRevision);
    if (this.ring.length > this.ringSize) {
      const drop = this.ring.length - this.ringSize;
      this.ringStart = this.ring[drop - 1]?.kv.modRevision ?? this.ringStart;
      this.ring = this.ring.slice(drop);
    }
  }

  private send(s: Sub, msg: WatchMessage & { kind: 'events' }): void {
    let events = msg.events;
    const first = events[0];
    const narrower = s.prefix !== this.prefix;
    if (narrower || (first && first.kv.modRevision <= s.after)) {
      events = events.filter((e) => e.kv.modRevision > s.after && (!narrower || e.kv.key.startsWith(s.prefix)));
      if (events.length === 0) return;
      msg = { kind: 'events', events };
    }
    s.lastSent = Date.now();
    s.channel.push(msg);
  }

  /** Adds a watcher starting after `after` (must be >= ringStart): ring events first, then live. */
  subscribe(s: Sub): void {
    const backlog = this.ring.filter((e) => e.kv.modRevision > s.after && e.kv.key.startsWith(s.prefix));
    if (backlog.length > 0) {
      s.lastSent = Date.now();
      s.channel.push({ kind: 'events', events: backlog });
    }
    this.subs.add(s);
  }

  unsubscribe(s: Sub): void {
    this.subs.delete(s);
    if (this.subs.size === 0) this.stop();
  }

  failAll(err: KumoError): void {
    this.stop();
    for (const s of [...this.subs]) s.channel.fail(err);
  }

  stop(): void {
    this.ac.abort();
    this.onDone(this);
  }
}

export class FanoutStore implements Store {
  readonly name: string;
  private readonly feeds = new Map<string, Feed>();
  private readonly ringSize: number;
  private readonly maxBacklog: number;
  private readonly upstreamProgressMs: number;

  constructor(
    readonly inner: Store,
    opts: FanoutOptions = {},
  ) {
    this.name = inner.name;
    this.ringSize = opts.ringSize ?? 10_000;
    this.maxBacklog = opts.maxWatcherBacklog ?? 100_000;
    this.upstreamProgressMs = opts.upstreamProgressMs ?? 1000;
    this.feedPrefix = opts.feedPrefix ?? ((p) => p);
  }

  private readonly feedPrefix: (prefix: string) => string;

  watch(prefix: string, afterRevision: number, opts: WatchOptions): AsyncIterable<WatchMessage> {
    validatePrefix(prefix);
    validateRevision(afterRevision, 'afterRevision');
    return this.watchChecked(prefix, afterRevision, opts);
  }

  /** Checks the start against the compacted revision first, then joins (or starts) the shared feed. */
  private async *watchChecked(prefix: string, afterRevision: number, opts: WatchOptions): AsyncGenerator<WatchMessage, void, undefined> {
    if (opts.signal.aborted) return;
    let compacted: number;
    try {
      compacted = await this.inner.compactRevision({ signal: opts.signal });
    } catch (err) {
      if (opts.signal.aborted) return; // the owner ended the watch before it started
      throw err;
    }
    if (opts.signal.aborted) return;
    yield* this.attach(prefix, afterRevision, compacted, opts);
  }

  private attach(prefix: string, afterRevision: number, compacted: number, opts: WatchOptions): AsyncIterable<WatchMessage> {
    const mapped = this.feedPrefix(prefix);
    const feedKey = prefix.startsWith(mapped) ? mapped : prefix;
    let feed = this.feeds.get(feedKey);
    if (afterRevision < compacted || (feed && afterRevision < feed.ringStart)) {
      // Compacted (the backend reports Gone), or older than the shared history (a watch of its own
      // replays it): never the shared feed, whose other watchers this start must not affect.
      return this.inner.watch(prefix, afterRevision, opts);
    }
    if (!feed) {
      const f: Feed = new Feed(this.inner, feedKey, afterRevision, this.ringSize, this.upstreamProgressMs, (done) => {
        if (this.feeds.get(feedKey) === done) this.feeds.delete(feedKey);
      });
      this.feeds.set(feedKey, f);
      feed = f;
    }
    const owner = feed;
    let timer: NodeJS.Timeout | undefined = undefined;
    const sub: Sub = {
      prefix,
      after: afterRevision,
      lastSent: Date.now(),
      channel: new WatchChannel(this.maxBacklog, opts.signal, () => {
        clearInterval(timer);
        owner.unsubscribe(sub);
      }),
    };
    if (sub.channel.closed) {
      if (owner.subs.size === 0) owner.stop();
      return sub.channel;
    }
    owner.subscribe(sub);
    const interval = opts.progressIntervalMs ?? 5000;
    timer = setInterval(() => {
      if (Date.now() - sub.lastSent >= interval) {
        sub.lastSent = Date.now();
        sub.channel.push({ kind: 'progress', revision: Math.max(owner.lastRev, sub.after) });
      }
    }, Math.max(10, Math.min(interval, 1000)));
    timer.unref();
    return sub.channel;
  }

  /** Number of shared upstream watches (for metrics and tests). */
  sharedWatches(): number {
    return this.feeds.size;
  }

  /** Upstream watches the shared feed of `prefix` has started (1 + restarts after Gone); 0 without a feed. For tests. */
  upstreamStarts(prefix: string): number {
    return this.feeds.get(prefix)?.upstreamStarts ?? 0;
  }

  get(key: string, opts?: GetOptions): Promise<GetResult> {
    return this.inner.get(key, opts);
  }
  list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    return this.inner.list(prefix, opts);
  }
  count(prefix: string, opts?: CallOptions): Promise<CountResult> {
    return this.inner.count(prefix, opts);
  }
  create(key: string, value: Buffer, opts?: WriteOptions): Promise<WriteResult> {
    return this.inner.create(key, value, opts);
  }
  update(key: string, value: Buffer, expectedModRevision: number, opts?: WriteOptions): Promise<WriteResult> {
    return this.inner.update(key, value, expectedModRevision, opts);
  }
  delete(key: string, expectedModRevision?: number, opts?: CallOptions): Promise<DeleteResult> {
    return this.inner.delete(key, expectedModRevision, opts);
  }
  compact(revision: number, opts?: CallOptions): Promise<void> {
    return this.inner.compact(revision, opts);
  }
  currentRevision(opts?: CallOptions): Promise<number> {
    return this.inner.currentRevision(opts);
  }
  compactRevision(opts?: CallOptions): Promise<number> {
    return this.inner.compactRevision(opts);
  }
  checkHealth(opts?: CallOptions): Promise<void> {
    return this.inner.checkHealth(opts);
  }
  async close(): Promise<void> {
    const closed = new KumoError('Unavailable', `store: ${this.name} is closed`);
    for (const f of [...this.feeds.values()]) f.failAll(closed);
    await this.inner.close();
  }
}
