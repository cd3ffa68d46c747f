// `kumo store migrate`: copies every key of one store into another, empty one.
//
// What is copied: the latest value of every key under "/" as one snapshot of the source (a paginated
// list at a single revision). What is not: history, revisions and leases. The target assigns its own
// revisions (createRevision = modRevision = the revision of the copy), so every object's
// resourceVersion changes and clients must relist; see docs/server.md ("Migrating the store").
import { KumoError } from '../lib/errors.js';
import type { KeyValue, Store } from '../store/types.js';

export interface MigrateOptions {
  /** Keys per source list page. Default 500. */
  pageSize?: number;
  /** Creates in flight at once. Default 32. */
  concurrency?: number;
  /** TTL given to keys that had one in the source (the remaining time is not part of the store contract). Default 3600 s. */
  ttlSeconds?: number;
  onProgress?: (copied: number) => void;
}

export interface MigrateResult {
  keys: number;
  /** Keys that had a TTL in the source (copied with `ttlSeconds`). */
  withTtl: number;
  /** The source snapshot revision that was copied. */
  sourceRevision: number;
  targetRevisionBefore: number;
  targetRevisionAfter: number;
  ms: number;
}

export async function migrateStore(from: Store, to: Store, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const started = Date.now();
  const pageSize = opts.pageSize ?? 500;
  const concurrency = opts.concurrency ?? 32;
  const ttl = opts.ttlSeconds ?? 3600;

  const existing = await to.count('/');
  if (existing.count > 0) {
    throw new KumoError('Conflict', `target store ${to.name} already holds ${existing.count} keys under "/"; migrate only into an empty store`);
  }
  const targetRevisionBefore = await to.currentRevision();

  let keys = 0;
  let withTtl = 0;
  let page = await from.list('/', { limit: pageSize });
  const sourceRevision = page.revision;
  for (;;) {
    await forEachLimited(page.kvs, concurrency, async (kv: KeyValue) => {
      await to.create(kv.key, kv.value, kv.lease !== 0 ? { ttl } : {});
      if (kv.lease !== 0) withTtl++;
      keys++;
    });
    opts.onProgress?.(keys);
    if (page.continue === undefined) break;
    page = await from.list('/', { limit: pageSize, continue: page.continue });
  }

  const copied = await to.count('/');
  if (copied.count !== keys) {
    throw new KumoError('Internal', `after copying ${keys} keys the target store ${to.name} holds ${copied.count}; was it written to during the migration?`);
  }
  return { keys, withTtl, sourceRevision, targetRevisionBefore, targetRevisionAfter: await to.currentRevision(), ms: Date.now() - started };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first failure. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
