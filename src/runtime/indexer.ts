// An informer's cache (client-go's thread-safe store + indexer): objects by key
// (`<cluster>/<namespace>/<name>`, see client/keys.ts) plus named secondary indexes, each a function
// from an object to the index values it is found under (e.g. the uids of its owners).
//
// Cached objects are frozen: they are shared with every handler and lister, so a reconciler that
// wants to change one copies it first (`structuredClone`); mutating one throws instead of silently
// corrupting the cache.
import type { KObject } from '../api/types.js';

/** The values `obj` is indexed under (empty: not in this index). */
export type IndexFunc = (obj: KObject) => string[];

/** The index of objects by the uid of each of their ownerReferences. */
export const OWNER_UID_INDEX = 'ownerUid';

export const indexByOwnerUid: IndexFunc = (obj) => {
  const refs = obj.metadata?.ownerReferences;
  if (!Array.isArray(refs)) return [];
  const out: string[] = [];
  for (const r of refs as unknown[]) {
    const uid = typeof r === 'object' && r !== null ? (r as Record<string, unknown>).uid : undefined;
    if (typeof uid === 'string' && uid !== '') out.push(uid);
  }
  return out;
};

/** Read access to a cache, as listers and reconcilers get it. */
export interface CacheReader {
  get(key: string): KObject | undefined;
  list(): KObject[];
  keys(): string[];
  /** Objects with `value` among their values of index `index` (Internal error for an unknown index). */
  byIndex(index: string, value: string): KObject[];
  readonly size: number;
}

export class Indexer implements CacheReader {
  private items = new Map<string, KObject>();
  /** index name → value → keys. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  private readonly indexers = new Map<string, IndexFunc>();

  constructor(indexers: Readonly<Record<string, IndexFunc>> = {}) {
    this.addIndexers(indexers);
  }

  /** Adds indexes (names already present are kept as they are) and indexes what is cached. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) continue;
      const values = new Map<string, Map<string, string[]>>();
      for (const [k, o] of this.items) values.set(k, new Map([[name, fn(o)]]));
      this.indexers.set(name, fn);
      this.indices.set(name, new Map());
      for (const [k, v] of values) this.index(k, v);
    }
  }

  /** Names of the indexes. */
  indexNames(): string[] {
    return [...this.indexers.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): KObject | undefined {
    return this.items.get(key);
  }

  list(): KObject[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  byIndex(index: string, value: string): KObject[] {
    const idx = this.indices.get(index);
    if (!idx) throw new Error(`no index named ${JSON.stringify(index)}`);
    const out: KObject[] = [];
    for (const k of idx.get(value) ?? []) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** Adds or replaces `key`; returns the object it replaced. `obj` is frozen. */
  upsert(key: string, obj: KObject): KObject | undefined {
    const values = this.values(obj); // before any change: an index function that throws changes nothing
    deepFreeze(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    this.index(key, values);
    return old;
  }

  /** Removes `key`; returns the object it held. */
  remove(key: string): KObject | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  /** Replaces the whole content at once (a relist); returns the previous content. */
  replace(items: Map<string, KObject>): Map<string, KObject> {
    const values = new Map<string, Map<string, string[]>>();
    for (const [k, o] of items) values.set(k, this.values(o));
    const old = this.items;
    for (const o of items.values()) deepFreeze(o);
    this.items = items;
    for (const name of this.indices.keys()) this.indices.set(name, new Map());
    for (const [k, v] of values) this.index(k, v);
    return old;
  }

  private values(obj: KObject): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [name, fn] of this.indexers) out.set(name, fn(obj));
    return out;
  }

  private index(key: string, values: Map<string, string[]>): void {
    for (const [name, vs] of values) {
      const idx = this.indices.get(name);
      if (!idx) continue;
      for (const v of vs) {
        let keys = idx.get(v);
        if (!keys) idx.set(v, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  private unindex(key: string, obj: KObject): void {
    for (const [name, fn] of this.indexers) {
      const idx = this.indices.get(name);
      if (!idx) continue;
      for (const v of fn(obj)) {
        const keys = idx.get(v);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) idx.delete(v);
      }
    }
  }
}

function deepFreeze(v: unknown): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}
