// Backends register by URL scheme: `sqlite:` (DATA/kumo.db), `sqlite:PATH`, `etcd://h1:p1,h2:p2`.
import path from 'node:path';
import { KumoError } from '../lib/errors.js';
import type { Store } from './types.js';

export interface OpenOptions {
  /** Directory for relative/empty sqlite paths (the server's --data-dir). */
  dataDir?: string;
  /** Deadline for every call, ms (default StoreLimits.defaultDeadlineMs). */
  deadlineMs?: number;
  /**
   * Whether this process deletes expired TTL keys (default true). False for a store only read from,
   * e.g. the source of `kumo store migrate`, so it is not written to meanwhile. SQLite only: etcd
   * expires leases itself whatever its clients do.
   */
  sweepTtl?: boolean;
}

export type BackendKind = 'sqlite' | 'etcd';

export interface ParsedStoreUrl {
  kind: BackendKind;
  /** sqlite: absolute file path; etcd: host:port endpoints. */
  sqlitePath?: string;
  endpoints?: string[];
}

export function parseStoreUrl(url: string, dataDir = '.'): ParsedStoreUrl {
  if (url.startsWith('sqlite:')) {
    const p = url.slice('sqlite:'.length);
    return { kind: 'sqlite', sqlitePath: path.resolve(dataDir, p === '' ? 'kumo.db' : p) };
  }
  if (url.startsWith('etcd://')) {
    const endpoints = url.slice('etcd://'.length).split(',').map((s) => s.trim()).filter((s) => s !== '');
    const bad = endpoints.find((e) => !/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(e));
    if (endpoints.length === 0 || bad !== undefined) {
      throw new KumoError('Invalid', `--store: etcd URL must be etcd://host:port[,host:port…], got ${JSON.stringify(url)}`);
    }
    return { kind: 'etcd', endpoints };
  }
  throw new KumoError('Invalid', `--store: unknown store ${JSON.stringify(url)} (use sqlite:, sqlite:PATH or etcd://host:port,…)`);
}

export async function openStore(url: string, opts: OpenOptions = {}): Promise<Store> {
  const parsed = parseStoreUrl(url, opts.dataDir);
  if (parsed.kind === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite/backend.js');
    // ttlSweepMs 0: no sweeper at all.
    return openSqliteStore(parsed.sqlitePath ?? '', { deadlineMs: opts.deadlineMs, ...(opts.sweepTtl === false ? { ttlSweepMs: 0 } : {}) });
  }
  const { openEtcdStore } = await import('./etcd/backend.js');
  // etcd's watch is 1:1 with the server; share one upstream watch per prefix in process.
  const { FanoutStore } = await import('./fanout.js');
  return new FanoutStore(await openEtcdStore(parsed.endpoints ?? [], { deadlineMs: opts.deadlineMs }));
}
