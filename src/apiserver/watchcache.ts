// The object cache of one resource (all namespaces, all logical clusters): a list, then one store
// watch keeping it current. It answers lists at resourceVersion "0" ("any version is fine", which
// client-go informers ask for when they start) from memory, as kube-apiserver's watch cache does.
// Objects are kept as their stored JSON text (compact one-byte strings in V8, cheaper than a Buffer
// each), decoded only when served.
import type { KeyValue, Store } from '../store/types.js';

/** One cached object: its stored JSON and revisions. */
export interface CachedObject {
  key: string;
  json: string;
  modRevision: number;
  createRevision: number;
}

function entry(kv: KeyValue): CachedObject {
  return { key: kv.key, json: kv.value.toString('utf8'), modRevision: kv.modRevision, createRevision: kv.createRevision };
}

export class ObjectCache {
  private readonly state = new Map<string, CachedObject>();
  private revision = 0;
  private synced: Promise<void>;
  private markSynced: () => void = () => undefined;

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.synced = new Promise((r) => (this.markSynced = r));
  }

  /** Objects held (for metrics and benchmarks). */
  get size(): number {
    return this.state.size;
  }

  /** Lists, then follows the store until `signal`; relists after any watch failure. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const fresh = new Map<string, CachedObject>();
        let cont: string | undefined;
        let rev = 0;
        do {
          const page = await this.store.list(this.prefix, { limit: 1000, ...(cont ? { continue: cont } : {}), signal });
          rev = page.revision;
          for (const kv of page.kvs) fresh.set(kv.key, entry(kv));
          cont = page.continue;
        } while (cont);
        this.state.clear();
        for (const [k, v] of fresh) this.state.set(k, v);
        this.revision = rev;
        this.markSynced();
        for await (const msg of this.store.watch(this.prefix, rev, { signal, progressIntervalMs: 5000 })) {
          if (msg.kind === 'progress') {
            this.revision = Math.max(this.revision, msg.revision);
            continue;
          }
          for (const e of msg.events) {
            if (e.type === 'delete') this.state.delete(e.kv.key);
            else this.state.set(e.kv.key, entry(e.kv));
            this.revision = Math.max(this.revision, e.kv.modRevision);
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        this.onError(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** The cached objects under `subPrefix` in key order, and the revision they are current to. */
  async list(subPrefix: string, signal?: AbortSignal): Promise<{ objects: CachedObject[]; revision: number }> {
    if (signal) {
      await Promise.race([this.synced, new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))]);
    } else {
      await this.synced;
    }
    const objects: CachedObject[] = [];
    for (const [k, v] of this.state) if (k.startsWith(subPrefix)) objects.push(v);
    objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { objects, revision: this.revision };
  }
}
