// `kumo store migrate`: copies every key of one store into another, empty one.
//
// What is copied: the latest value of every key under "/" as one snapshot of the source (a paginated
// list at a single revision). What is not: history and leases. The target assigns its own revisions,
// but first its revision counter is advanced past the source's and compacted there, so revisions
// (resourceVersions) only grow across the migration and every revision a client still holds from the
// source reads as compacted on the target: a watch or list from it gets Gone (410) and the client
// relists, never a silent wait or a wrong answer. See docs/server.md ("Migrating the store").
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
  /** The target revision compacted before copying (>= sourceRevision); all copied keys are newer. */
  targetCompactedAt: number;
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
  const targetCompactedAt = await advanceRevision(to, sourceRevision, concurrency);
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
  return { keys, withTtl, sourceRevision, targetRevisionBefore, targetCompactedAt, targetRevisionAfter: await to.currentRevision(), ms: Date.now() - started };
}

const BUMP_PREFIX = '/kumo/migrate/bump/';

/**
 * Writes throwaway keys until the target's revision is past `atLeast`, removes them, and compacts the
 * target at its then-current revision. A store's revision only moves by writing, so this costs one
 * write per revision of the gap (grouped by the backend: tens of thousands per second on SQLite,
 * thousands on etcd). Returns the compacted revision.
 */
async function advanceRevision(to: Store, atLeast: number, concurrency: number): Promise<number> {
  let rev = await to.currentRevision();
  if (rev <= atLeast) {
    const workers = Array.from({ length: Math.max(1, Math.min(concurrency, atLeast - rev + 1)) }, async (_, i) => {
      const key = `${BUMP_PREFIX}${i}`;
      let mod = (await to.create(key, Buffer.from('bump'))).revision;
      rev = Math.max(rev, mod);
      while (rev <= atLeast) {
        mod = (await to.update(key, Buffer.from('bump'), mod)).revision;
        rev = Math.max(rev, mod);
      }
      await to.delete(key, mod);
    });
    await Promise.all(workers);
  }
  const compactAt = await to.currentRevision();
  await to.compact(compactAt);
  return compactAt;
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
