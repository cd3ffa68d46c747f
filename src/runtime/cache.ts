// Shared informers (controller-runtime's cache): one informer per ResourceType, shared by every
// controller that reads or watches the type, started together as one runnable. The lifecycle order
// of STYLE.md practice 7 — caches, wait for sync, then controllers — is: start the cache, and each
// controller waits for its own informers before its workers run.
//
// A cache covers one logical cluster for now (an informer is per (type, cluster); see informer.ts).
import type { Logger } from 'pino';
import type { Runnable } from '../lib/runnable.js';
import { ROOT_CLUSTER, type LogicalCluster } from '../apiserver/keys.js';
import type { Client, ClientResource } from '../client/client.js';
import type { IndexFunc } from './indexer.js';
import { Informer, type InformerOptions, type InformerStats } from './informer.js';

export interface InformerCacheOptions {
  client: Client;
  log: Logger;
  /** Default ROOT_CLUSTER (the management plane). */
  cluster?: LogicalCluster;
  /** Settings every informer gets (backoff, timeouts, page size). */
  informer?: Pick<InformerOptions, 'backoff' | 'idleTimeoutMs' | 'watchTimeoutSeconds' | 'listPageSize' | 'random'>;
}

export class InformerCache implements Runnable {
  readonly name = 'informer-cache';
  private readonly informers = new Map<string, Informer>();
  private signal: AbortSignal | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly opts: InformerCacheOptions) {}

  get cluster(): LogicalCluster {
    return this.opts.cluster ?? ROOT_CLUSTER;
  }

  /** The shared informer of `rt` (created on first use; started at once if the cache runs). */
  informer(rt: ClientResource, indexers: Record<string, IndexFunc> = {}): Informer {
    const id = `${rt.group}/${rt.version}/${rt.plural}`;
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new Informer({ ...this.opts.informer, client: this.opts.client, rt, cluster: this.cluster, log: this.opts.log, indexers });
      this.informers.set(id, inf);
      if (this.signal && !this.signal.aborted) this.run(inf, this.signal);
    } else {
      inf.addIndexers(indexers);
    }
    return inf;
  }

  /** Runs every informer, present and future, until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.signal) throw new Error(`${this.name} is already running`);
    this.signal = signal;
    for (const inf of this.informers.values()) this.run(inf, signal);
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    this.signal = undefined;
  }

  /** True once every informer created so far has synced, false if `signal` aborts first. */
  async waitForSync(signal: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  stats(): Record<string, InformerStats> {
    const out: Record<string, InformerStats> = {};
    for (const [id, inf] of this.informers) out[id] = inf.stats();
    return out;
  }

  private run(inf: Informer, signal: AbortSignal): void {
    const p = inf
      .start(signal)
      .catch((err: unknown) => this.opts.log.error({ informer: inf.name, err: err instanceof Error ? err.message : String(err) }, 'informer stopped with an error'))
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }
}
