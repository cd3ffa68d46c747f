// Leader election over a coordination.k8s.io/v1 Lease (client-go's leaderelection with a LeaseLock):
// - a candidate takes the Lease when it is free (no holder) or its holder has not renewed it for
//   leaseDurationSeconds *as observed by this candidate's own clock* (the time it last saw the record
//   change), so clocks of different hosts need not agree;
// - every write is an update with the read's resourceVersion (optimistic concurrency): of two
//   candidates racing for one Lease exactly one wins, the other gets Conflict and tries again later;
// - the leader renews every retryPeriod; if it cannot renew within renewDeadline (< leaseDuration)
//   it stops leading — its signal aborts — before anyone else may take over;
// - on stop, a leader releases the Lease (empty holder) so the next one takes over at once instead of
//   after leaseDuration.
// The elector is a Runnable: after losing the lease it campaigns again until its signal aborts.
import type { Logger } from 'pino';
import { isKumoError } from '../lib/errors.js';
import { sleep, type Runnable } from '../lib/runnable.js';
import type { KObject } from '../api/types.js';
import type { LogicalCluster } from '../apiserver/keys.js';
import type { Client, ClientResource, Scope } from '../client/client.js';

export const LEASE_RESOURCE: ClientResource = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true };

export interface LeaderCallbacks {
  /** Runs while this candidate leads; `signal` aborts when leadership ends. Should settle soon after. */
  onStartedLeading(signal: AbortSignal): Promise<void> | void;
  /** Called after leading ended (lost, or stopped) and onStartedLeading's work has settled. */
  onStoppedLeading?(): void;
  /** The holder changed (another candidate, this one, or '' when released). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionOptions {
  client: Client;
  /** Where the Lease lives. */
  lease: { cluster: LogicalCluster; namespace: string; name: string };
  /** Unique per candidate (host name + random suffix). */
  identity: string;
  callbacks: LeaderCallbacks;
  log: Logger;
  /** How long a lease is good for without renewal; whole seconds in the Lease. Default 15 s. */
  leaseDurationMs?: number;
  /** A leader that cannot renew for this long steps down. Default 10 s. */
  renewDeadlineMs?: number;
  /** Time between tries (acquire and renew). Default 2 s. */
  retryPeriodMs?: number;
  /** Give the lease up when stopped (default true). */
  releaseOnCancel?: boolean;
  now?: () => number;
  random?: () => number;
}

interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

function recordOf(lease: KObject): LeaseRecord {
  const spec = (typeof lease.spec === 'object' && lease.spec !== null ? lease.spec : {}) as Record<string, unknown>;
  const r: LeaseRecord = {
    holderIdentity: typeof spec.holderIdentity === 'string' ? spec.holderIdentity : '',
    leaseDurationSeconds: typeof spec.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : 0,
    leaseTransitions: typeof spec.leaseTransitions === 'number' ? spec.leaseTransitions : 0,
  };
  if (typeof spec.acquireTime === 'string') r.acquireTime = spec.acquireTime;
  if (typeof spec.renewTime === 'string') r.renewTime = spec.renewTime;
  return r;
}

function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord): boolean {
  return (
    a !== undefined &&
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

export interface LeaderElectorStats {
  /** Times this candidate became leader. */
  acquisitions: number;
  /** Successful renewals. */
  renewals: number;
  /** Times leadership ended other than by stopping. */
  losses: number;
  /** Failed tries (conflicts, errors). */
  failures: number;
}

export class LeaderElector implements Runnable {
  readonly name: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: Logger;
  private observed: LeaseRecord | undefined;
  private observedTime = 0;
  private leading = false;
  private running = false;
  private s: LeaderElectorStats = { acquisitions: 0, renewals: 0, losses: 0, failures: 0 };

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs >= 1000)) throw new RangeError('leaseDurationMs must be at least 1000 (the Lease counts whole seconds)');
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new RangeError('leaseDurationMs must be greater than renewDeadlineMs');
    if (!(this.renewDeadlineMs > this.retryPeriodMs * 1.2)) throw new RangeError('renewDeadlineMs must be greater than 1.2 × retryPeriodMs');
    if (opts.identity === '') throw new RangeError('identity must not be empty');
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.name = `leader-election:${opts.lease.namespace}/${opts.lease.name}`;
    this.log = opts.log.child({ lease: `${opts.lease.cluster}/${opts.lease.namespace}/${opts.lease.name}`, identity: opts.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder this candidate last saw ('' when free or not yet read). */
  leader(): string {
    return this.observed?.holderIdentity ?? '';
  }

  stats(): LeaderElectorStats {
    return { ...this.s };
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.running = true;
    try {
      while (!signal.aborted) {
        if (!(await this.acquire(signal))) break;
        await this.lead(signal);
      }
    } finally {
      this.running = false;
    }
  }

  private scope(): Scope {
    return { cluster: this.opts.lease.cluster, namespace: this.opts.lease.namespace };
  }

  /** Tries every retryPeriod (jittered up to 2.2×) until this candidate holds the lease; false when stopped. */
  private async acquire(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      if (await this.tryAcquireOrRenew(signal)) {
        this.s.acquisitions++;
        this.log.info({}, 'became leader');
        return true;
      }
      if (!(await sleep(Math.round(this.retryPeriodMs * (1 + 1.2 * this.random())), signal))) return false;
    }
  }

  private async lead(signal: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.leading = true;
    const work = (async (): Promise<void> => {
      try {
        await this.opts.callbacks.onStartedLeading(ac.signal);
      } catch (err) {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'onStartedLeading failed');
      }
    })();
    try {
      await this.renewLoop(ac.signal, signal);
    } finally {
      this.leading = false;
      ac.abort();
      signal.removeEventListener('abort', onAbort);
      await work;
      if (signal.aborted && this.opts.releaseOnCancel !== false) await this.release();
      this.log.info({ stopping: signal.aborted }, 'stopped leading');
      try {
        this.opts.callbacks.onStoppedLeading?.();
      } catch (err) {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'onStoppedLeading failed');
      }
    }
  }

  /** Renews every retryPeriod; returns when a renewal could not succeed within renewDeadline, or on stop. */
  private async renewLoop(leading: AbortSignal, stop: AbortSignal): Promise<void> {
    let lastRenew = this.now();
    while (await sleep(this.retryPeriodMs, leading)) {
      for (;;) {
        if (stop.aborted) return;
        if (await this.tryAcquireOrRenew(leading, this.renewDeadlineMs - (this.now() - lastRenew))) {
          lastRenew = this.now();
          this.s.renewals++;
          break;
        }
        const left = this.renewDeadlineMs - (this.now() - lastRenew);
        if (left <= 0) {
          this.s.losses++;
          this.log.warn({ renewDeadlineMs: this.renewDeadlineMs }, 'failed to renew the lease within the renew deadline; leadership lost');
          return;
        }
        if (!(await sleep(Math.min(this.retryPeriodMs, left), leading))) return;
      }
    }
  }

  /** One try: create the lease, renew it, or take it over when free or expired. */
  private async tryAcquireOrRenew(signal: AbortSignal, budgetMs = this.renewDeadlineMs): Promise<boolean> {
    if (budgetMs <= 0) return false;
    const { client } = this.opts;
    const { name, namespace } = this.opts.lease;
    const callSignal = AbortSignal.any([signal, AbortSignal.timeout(budgetMs)]);
    const now = this.now();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    try {
      let lease: KObject;
      try {
        lease = await client.get(LEASE_RESOURCE, this.scope(), name, { signal: callSignal });
      } catch (err) {
        if (!isKumoError(err, 'NotFound')) throw err;
        const record: LeaseRecord = { holderIdentity: this.opts.identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
        await client.create(LEASE_RESOURCE, this.scope(), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { ...record } }, { signal: callSignal });
        this.observe(record, now);
        return true;
      }
      const old = recordOf(lease);
      if (!sameRecord(this.observed, old)) this.observe(old, now);
      const mine = old.holderIdentity === this.opts.identity;
      const expiresAt = this.observedTime + old.leaseDurationSeconds * 1000;
      if (old.holderIdentity !== '' && !mine && expiresAt > now) return false;
      const record: LeaseRecord = {
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine && old.acquireTime ? old.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: mine ? old.leaseTransitions : old.leaseTransitions + 1,
      };
      const next = structuredClone(lease);
      next.spec = { ...(typeof lease.spec === 'object' && lease.spec !== null ? lease.spec : {}), ...record };
      await client.update(LEASE_RESOURCE, this.scope(), next, { signal: callSignal });
      this.observe(record, now);
      return true;
    } catch (err) {
      if (signal.aborted) return false;
      this.s.failures++;
      const level = isKumoError(err, 'Conflict') || isKumoError(err, 'AlreadyExists') ? 'debug' : 'warn';
      this.log[level]({ err: err instanceof Error ? err.message : String(err) }, 'lease acquire/renew failed');
      return false;
    }
  }

  /** Gives the lease up (holder '') if this candidate still holds it, so the next one need not wait. */
  private async release(): Promise<void> {
    const { client } = this.opts;
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    try {
      const lease = await client.get(LEASE_RESOURCE, this.scope(), this.opts.lease.name, { signal });
      const old = recordOf(lease);
      if (old.holderIdentity !== this.opts.identity) return;
      const now = this.now();
      const record: LeaseRecord = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: old.leaseTransitions };
      const next = structuredClone(lease);
      next.spec = { ...(typeof lease.spec === 'object' && lease.spec !== null ? lease.spec : {}), ...record };
      await client.update(LEASE_RESOURCE, this.scope(), next, { signal });
      this.observe(record, now);
      this.log.info({}, 'released the lease');
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'failed to release the lease; others take over when it expires');
    }
  }

  private observe(record: LeaseRecord, now: number): void {
    const changedHolder = this.observed?.holderIdentity !== record.holderIdentity;
    this.observed = record;
    this.observedTime = now;
    if (changedHolder) {
      try {
        this.opts.callbacks.onNewLeader?.(record.holderIdentity);
      } catch (err) {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'onNewLeader failed');
      }
    }
  }
}
