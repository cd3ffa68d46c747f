// Background compaction of store history, like kube-apiserver's etcd compactor
// (k8s.io/apiserver/pkg/storage/etcd3/compact.go): every interval (jittered ±10 %) it compacts at the
// revision it recorded at the previous tick and records the current revision for the next one. Clients
// thus always keep at least one interval of history to resume a watch or a paginated list from; older
// resourceVersions read as Gone (410) and the client relists.
//
// Several replicas on one etcd may each run one: compacting at or below the store's compacted revision
// is a no-op in every backend, so they only overlap, never conflict. A failed tick is logged, counted
// and retried at the next tick; nothing is thrown out of the loop.
import type { Logger } from 'pino';
import { jittered, sleep, type Runnable } from '../lib/runnable.js';
import type { Store } from './types.js';

export const DEFAULT_COMPACTION_INTERVAL_MS = 5 * 60 * 1000;
/** setTimeout's limit (2^31-1 ms, about 24.8 days) less the jitter. */
export const MAX_COMPACTION_INTERVAL_MS = 20 * 24 * 3600 * 1000;

export interface CompactorOptions {
  /** Time between ticks, ms, before jitter. Default 5 minutes. */
  intervalMs?: number;
  /** Each wait is spread uniformly over ±this fraction of `intervalMs`. Default 0.1. */
  jitter?: number;
  /** Called after every tick, successful or not (tests, metrics); what it throws is logged. */
  onTick?: (stats: CompactorStats) => void;
}

export interface CompactorStats {
  /** Ticks run so far. */
  ticks: number;
  /** Compactions that succeeded. */
  compactions: number;
  /** Ticks that failed (reading the revision or compacting); each is retried at the next tick. */
  failures: number;
  /** The revision this compactor last compacted at (0: none yet). */
  lastCompactedRevision: number;
  /** The revision recorded at the last tick: the next tick compacts at it (0: nothing recorded). */
  nextCompactionRevision: number;
}

export class Compactor implements Runnable {
  readonly name = 'store-compactor';
  readonly intervalMs: number;
  private readonly jitter: number;
  private readonly onTick: ((stats: CompactorStats) => void) | undefined;
  private running = false;
  private ticks = 0;
  private compactions = 0;
  private failures = 0;
  private lastCompacted = 0;
  private recorded = 0;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    opts: CompactorOptions = {},
  ) {
    const interval = opts.intervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 1 || interval > MAX_COMPACTION_INTERVAL_MS) {
      throw new RangeError(`compaction interval must be between 1 ms and ${MAX_COMPACTION_INTERVAL_MS / (24 * 3600 * 1000)} days, got ${interval} ms`);
    }
    const jitter = opts.jitter ?? 0.1;
    if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`compaction jitter must be in [0, 1), got ${jitter}`);
    this.intervalMs = interval;
    this.jitter = jitter;
    this.onTick = opts.onTick;
  }

  stats(): CompactorStats {
    return {
      ticks: this.ticks,
      compactions: this.compactions,
      failures: this.failures,
      lastCompactedRevision: this.lastCompacted,
      nextCompactionRevision: this.recorded,
    };
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.running = true;
    try {
      while (await sleep(jittered(this.intervalMs, this.jitter), signal)) {
        await this.tick(signal);
        this.ticks++;
        try {
          this.onTick?.(this.stats());
        } catch (err) {
          this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'store compactor tick callback failed');
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async tick(signal: AbortSignal): Promise<void> {
    let current: number;
    try {
      current = await this.store.currentRevision({ signal });
    } catch (err) {
      if (!signal.aborted) this.failed(err, 'read the current revision', this.recorded);
      return;
    }
    const target = this.recorded;
    if (current < target) {
      // The store's revision went backwards (an etcd restored from an old snapshot): start over.
      this.log.warn({ store: this.store.name, recorded: target, current }, 'store revision went backwards; compaction restarts from the current revision');
      this.recorded = current;
      return;
    }
    if (target > this.lastCompacted) {
      const started = Date.now();
      try {
        // No signal: a compaction is let finish (bounded by the backend's own deadline/slicing), so
        // a stop never leaves one half done.
        await this.store.compact(target);
      } catch (err) {
        // Keep `recorded`: the next tick compacts at it again (kube-apiserver does the same).
        this.failed(err, 'compact', target);
        return;
      }
      this.compactions++;
      this.lastCompacted = target;
      this.log.debug({ store: this.store.name, revision: target, ms: Date.now() - started }, 'store compacted');
    }
    this.recorded = current;
  }

  private failed(err: unknown, step: string, revision: number): void {
    this.failures++;
    this.log.error(
      { store: this.store.name, step, revision, failures: this.failures, err: err instanceof Error ? err.message : String(err) },
      'store compaction failed; retrying at the next tick',
    );
  }
}
