// Controllers of one shape (STYLE.md practice 6, controller-runtime's reconcile + builder):
// - a reconciler gets only a key and returns `{ requeueAfter? }`; it reads what it needs itself;
// - it throws to be retried with backoff (per key, 5 ms doubling to 1000 s, plus an overall token
//   bucket) and throws a `TerminalError` when retrying cannot help (logged, counted, not retried);
// - the queue holds keys, never events: many changes to one object while it waits are one reconcile,
//   and no key is reconciled by two workers at once;
// - the builder wires the three handlers: `for(rt)` (the object itself), `owns(rt)` (the object's
//   controller owner, from ownerReferences) and `watches(rt, map)` (any keys a function names).
import type { Logger } from 'pino';
import type { Runnable } from '../lib/runnable.js';
import type { KObject } from '../api/types.js';
import type { LogicalCluster } from '../apiserver/keys.js';
import type { ClientResource } from '../client/client.js';
import { formatKey, keyOf, parseKey, type ObjectKey } from '../client/keys.js';
import type { Clock } from './clock.js';
import type { InformerCache } from './cache.js';
import type { EventHandler, Informer } from './informer.js';
import { WorkQueue, type RateLimiter } from './workqueue.js';

export interface Result {
  /** Reconcile this key again after this many ms (and reset its error backoff). */
  requeueAfter?: number;
}

export interface Reconciler {
  /**
   * Brings the world in line with the object named by `key` (which may no longer exist). `signal`
   * aborts when the controller stops.
   */
  reconcile(key: ObjectKey, signal: AbortSignal): Promise<Result | void>;
}

/** An error retrying cannot fix (bad spec, missing permission): logged and counted, never retried. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Whether `err`, or an error in its cause chain, is a TerminalError. */
export function isTerminalError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) if (e instanceof TerminalError) return true;
  return false;
}

export interface ControllerMetrics {
  /** Reconciles started. */
  reconciles: number;
  /** Reconciles that returned without `requeueAfter`. */
  successes: number;
  /** Reconciles that returned `requeueAfter`. */
  requeuesAfter: number;
  /** Reconciles that threw (retried with backoff). */
  errors: number;
  /** Reconciles that threw a TerminalError (not retried). */
  terminalErrors: number;
  /** Keys ready for a worker. */
  queueDepth: number;
  /** Keys waiting for a delay (requeueAfter or backoff). */
  queueWaiting: number;
  /** Reconciles running now. */
  active: number;
  workers: number;
}

export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  log: Logger;
  /** Informers to wait for before the workers start. */
  informers?: Informer[];
  /** Concurrent reconciles (distinct keys). Default 1. */
  workers?: number;
  rateLimiter?: RateLimiter;
  clock?: Clock;
}

export class Controller implements Runnable {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly log: Logger;
  private readonly informers: Informer[];
  private readonly workers: number;
  private running = false;
  private m = { reconciles: 0, successes: 0, requeuesAfter: 0, errors: 0, terminalErrors: 0, active: 0 };

  constructor(private readonly opts: ControllerOptions) {
    this.name = `controller:${opts.name}`;
    this.log = opts.log.child({ controller: opts.name });
    this.informers = opts.informers ?? [];
    this.workers = Math.max(1, Math.floor(opts.workers ?? 1));
    this.queue = new WorkQueue({ ...(opts.rateLimiter ? { rateLimiter: opts.rateLimiter } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
  }

  /** Queues a reconcile of `key` (deduplicated with any already queued). */
  enqueue(key: ObjectKey | string): void {
    this.queue.add(typeof key === 'string' ? key : formatKey(key));
  }

  metrics(): ControllerMetrics {
    const q = this.queue.metrics();
    return { ...this.m, queueDepth: q.depth, queueWaiting: q.waiting, workers: this.workers };
  }

  /** Waits for the informers to sync, then runs the workers until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.running = true;
    const onAbort = (): void => this.queue.shutDown();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (const inf of this.informers) {
        if (!(await inf.waitForSync(signal))) return;
      }
      this.log.info({ workers: this.workers }, 'controller started');
      await Promise.all(Array.from({ length: this.workers }, () => this.worker(signal)));
      this.log.info({}, 'controller stopped');
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.queue.shutDown();
    }
  }

  private async worker(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const key = await this.queue.get(signal);
      if (key === undefined) return;
      try {
        await this.process(key, signal);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async process(key: string, signal: AbortSignal): Promise<void> {
    this.m.reconciles++;
    this.m.active++;
    let result: Result | void;
    try {
      result = await this.opts.reconciler.reconcile(parseKey(key), signal);
    } catch (err) {
      if (signal.aborted) return; // stopping: the key is dropped with the queue
      if (isTerminalError(err)) {
        this.m.terminalErrors++;
        this.queue.forget(key);
        this.log.error({ key, err: errText(err) }, 'reconcile failed terminally; not retrying');
        return;
      }
      this.m.errors++;
      this.queue.addRateLimited(key);
      this.log.warn({ key, requeues: this.queue.numRequeues(key), err: errText(err) }, 'reconcile failed; retrying with backoff');
      return;
    } finally {
      this.m.active--;
    }
    this.queue.forget(key);
    const after = result?.requeueAfter;
    if (after !== undefined && after > 0) {
      this.m.requeuesAfter++;
      this.queue.addAfter(key, after);
    } else {
      this.m.successes++;
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Maps an object of a watched type to the keys to reconcile. */
export type MapFunc = (obj: KObject, cluster: LogicalCluster) => (ObjectKey | string)[];

export interface BuilderOptions {
  cache: InformerCache;
  log: Logger;
  workers?: number;
  rateLimiter?: RateLimiter;
  clock?: Clock;
}

/**
 * Wires a reconciler to informers: `new ControllerBuilder('machine', opts).for(machines)
 * .owns(secrets).watches(nodePools, mapFn).complete(reconciler)`. Handlers are registered on
 * `complete`, so the informers' initial lists enqueue every existing object.
 */
export class ControllerBuilder {
  private forRt: ClientResource | undefined;
  private readonly owned: ClientResource[] = [];
  private readonly watched: { rt: ClientResource; map: MapFunc }[] = [];
  private workerCount: number | undefined;

  constructor(
    private readonly name: string,
    private readonly opts: BuilderOptions,
  ) {}

  /** The kind this controller reconciles: every change to one enqueues its own key. */
  for(rt: ClientResource): this {
    if (this.forRt) throw new Error(`controller ${this.name}: for() may be called once`);
    this.forRt = rt;
    return this;
  }

  /** A kind the controller's objects own: a change enqueues the owner named by its controller ownerReference. */
  owns(rt: ClientResource): this {
    this.owned.push(rt);
    return this;
  }

  /** Any kind: a change enqueues the keys `map` returns (for the old and the new object on update). */
  watches(rt: ClientResource, map: MapFunc): this {
    this.watched.push({ rt, map });
    return this;
  }

  withWorkers(n: number): this {
    this.workerCount = n;
    return this;
  }

  complete(reconciler: Reconciler): Controller {
    const forRt = this.forRt;
    if (!forRt) throw new Error(`controller ${this.name}: for() is required`);
    const { cache } = this.opts;
    const informers: Informer[] = [];
    const inf = (rt: ClientResource): Informer => {
      const i = cache.informer(rt);
      if (!informers.includes(i)) informers.push(i);
      return i;
    };
    const workers = this.workerCount ?? this.opts.workers;
    const c = new Controller({
      name: this.name,
      reconciler,
      log: this.opts.log,
      informers,
      ...(workers !== undefined ? { workers } : {}),
      ...(this.opts.rateLimiter ? { rateLimiter: this.opts.rateLimiter } : {}),
      ...(this.opts.clock ? { clock: this.opts.clock } : {}),
    });
    const forInf = inf(forRt);
    forInf.addEventHandler(mapHandler((o) => [keyOf(forInf.clusterOf(o), o)], c));
    for (const rt of this.owned) {
      const i = inf(rt);
      i.addEventHandler(mapHandler((o) => ownerKeys(o, forRt, i.clusterOf(o)), c));
    }
    for (const { rt, map } of this.watched) {
      const i = inf(rt);
      i.addEventHandler(mapHandler((o) => map(o, i.clusterOf(o)), c));
    }
    return c;
  }
}

/**
 * An event handler that enqueues what `keys` names for every add, update and delete. On update the
 * keys of the old and the new object are enqueued once each (a key handed to an idle worker by the
 * first add would otherwise count as re-added while processing, and run twice).
 */
export function mapHandler(keys: (obj: KObject) => (ObjectKey | string)[], c: Pick<Controller, 'enqueue'>): EventHandler {
  const enqueue = (...objs: KObject[]): void => {
    const seen = new Set<string>();
    for (const o of objs) for (const k of keys(o)) seen.add(typeof k === 'string' ? k : formatKey(k));
    for (const k of seen) c.enqueue(k);
  };
  return {
    onAdd: (o) => enqueue(o),
    onUpdate: (oldObj, newObj) => enqueue(oldObj, newObj),
    onDelete: (o) => enqueue(o),
  };
}

/** The key of `obj`'s controller owner when that owner is of kind `owner` (same namespace, same cluster). */
export function ownerKeys(obj: KObject, owner: ClientResource, cluster: LogicalCluster): ObjectKey[] {
  const refs = obj.metadata?.ownerReferences;
  if (!Array.isArray(refs)) return [];
  const apiVersion = owner.group === '' ? owner.version : `${owner.group}/${owner.version}`;
  const group = (av: string): string => (av.includes('/') ? av.slice(0, av.indexOf('/')) : '');
  for (const r of refs as unknown[]) {
    if (typeof r !== 'object' || r === null) continue;
    const ref = r as Record<string, unknown>;
    if (ref.controller !== true || ref.kind !== owner.kind || typeof ref.name !== 'string' || typeof ref.apiVersion !== 'string') continue;
    // Any version of the owner's group names the same object.
    if (ref.apiVersion !== apiVersion && group(ref.apiVersion) !== owner.group) continue;
    const ns = obj.metadata?.namespace;
    if (owner.namespaced && typeof ns === 'string' && ns !== '') return [{ cluster, namespace: ns, name: ref.name }];
    if (!owner.namespaced) return [{ cluster, name: ref.name }];
  }
  return [];
}
