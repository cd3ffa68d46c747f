// What the fuzzed server stored, read straight from its SQLite file (read-only, beside the running
// server: WAL lets a reader in), and the checks on it: every revision written is a valid object of
// its kind under the key it belongs to, and no object exists that only a rejected request named.
import Database from 'better-sqlite3';
import { builtinResourceTypes } from '../../api/index.js';
import { schemaOps } from '../../api/schema/ops.js';
import type { KObject, ResourceType } from '../../api/types.js';
import { crdResourceTypes, crdSchemaCauses } from '../../apiserver/crds.js';
import { parseStorageKey } from '../../apiserver/keys.js';
import { validateObjectMetaNames } from '../../apiserver/names.js';
import { tokensIn } from './values.js';

export interface StoredRow {
  key: string;
  rev: number;
  type: 'create' | 'update' | 'delete';
  value: Buffer | null;
}

export interface StoreSnapshot {
  /** Live keys and their values. */
  live: Map<string, { rev: number; value: Buffer }>;
  /** Every revision in the log after `sinceRev`. */
  log: StoredRow[];
  revision: number;
}

const TYPES = ['create', 'update', 'delete'] as const;

/** Reads the live keys and the log (after `sinceRev`) of a Kumo SQLite store file. */
export function readStore(file: string, sinceRev = 0): StoreSnapshot {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const live = new Map<string, { rev: number; value: Buffer }>();
    for (const row of db.prepare('SELECT key, mod_rev, value FROM kv').iterate() as Iterable<{ key: string; mod_rev: number; value: Buffer }>) {
      live.set(row.key, { rev: row.mod_rev, value: row.value });
    }
    const log: StoredRow[] = [];
    for (const row of db.prepare('SELECT rev, key, type, value FROM log WHERE rev > ? ORDER BY rev').iterate(sinceRev) as Iterable<{ rev: number; key: string; type: number; value: Buffer | null }>) {
      log.push({ key: row.key, rev: row.rev, type: TYPES[row.type] ?? 'update', value: row.value });
    }
    const revision = (db.prepare('SELECT MAX(rev) AS r FROM log').get() as { r: number | null }).r ?? 0;
    return { live, log, revision };
  } finally {
    db.close();
  }
}

export interface StoredProblem {
  key: string;
  rev: number;
  problem: string;
}

/**
 * Checks one stored value as the server's own write path would on an update to itself: it decodes,
 * it is of the kind its key says, under its key's name and namespace, with valid names, no field
 * its schema does not know, and no schema or semantic cause. CRs are checked against their CRD as
 * stored in the same logical cluster.
 */
export class StoredValidator {
  private readonly builtin = new Map<string, ResourceType>();
  private readonly crds = new Map<string, ResourceType>();

  constructor(live: StoreSnapshot['live']) {
    for (const rt of builtinResourceTypes()) this.builtin.set(`${rt.group}/${rt.plural}`, rt);
    for (const [key, { value }] of live) {
      const parts = parseStorageKey(key);
      if (!parts || parts.group !== 'apiextensions.k8s.io' || parts.plural !== 'customresourcedefinitions') continue;
      try {
        const crd = JSON.parse(value.toString('utf8')) as KObject;
        const rts = crdResourceTypes(crd);
        const storage = rts.find((rt) => rt.storageVersion === undefined || rt.storageVersion === rt.version) ?? rts[0];
        if (storage) this.crds.set(`${parts.cluster}/${storage.group}/${storage.plural}`, storage);
      } catch {
        // An undecodable CRD is reported by check() on its own key.
      }
    }
  }

  /** The problems of one stored value (empty when it is fine); `undefined` when its kind is not known here. */
  check(key: string, value: Buffer): string[] | undefined {
    const parts = parseStorageKey(key);
    if (!parts) return key.startsWith('/registry/') ? [`malformed key`] : undefined;
    const rt = this.builtin.get(`${parts.group}/${parts.plural}`) ?? this.crds.get(`${parts.cluster}/${parts.group}/${parts.plural}`);
    if (!rt) return undefined;
    let obj: KObject;
    try {
      obj = JSON.parse(value.toString('utf8')) as KObject;
    } catch (err) {
      return [`value does not decode: ${err instanceof Error ? err.message : String(err)}`];
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return ['value is not an object'];
    const problems: string[] = [];
    const gv = rt.group === '' ? rt.version : `${rt.group}/${rt.storageVersion ?? rt.version}`;
    if (obj.kind !== rt.kind) problems.push(`kind ${JSON.stringify(obj.kind)}, expected ${rt.kind}`);
    if (rt.source === 'builtin' && obj.apiVersion !== gv) problems.push(`apiVersion ${JSON.stringify(obj.apiVersion)}, expected ${gv}`);
    const m = obj.metadata;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return [...problems, 'metadata is not an object'];
    if (m.name !== parts.name) problems.push(`metadata.name ${JSON.stringify(m.name)} under key name ${JSON.stringify(parts.name)}`);
    if ((m.namespace ?? undefined) !== parts.namespace) problems.push(`metadata.namespace ${JSON.stringify(m.namespace)} under key namespace ${JSON.stringify(parts.namespace)}`);
    const causes = [...validateObjectMetaNames({ ...m, generateName: undefined }, rt)];
    if (rt.group === 'apiextensions.k8s.io' && rt.plural === 'customresourcedefinitions') causes.push(...crdSchemaCauses(obj));
    causes.push(...schemaOps.validate(rt, obj, obj));
    for (const c of causes.slice(0, 5)) problems.push(`invalid: ${c.field ?? ''}: ${c.message.slice(0, 300)}`);
    const copy = JSON.parse(JSON.stringify(obj)) as KObject;
    const unknown = schemaOps.normalize(rt, copy);
    if (unknown.length > 0) problems.push(`fields its schema does not know: ${unknown.slice(0, 5).join(', ')}`);
    return problems;
  }
}

/** The outcome of each request, as far as the store checks need it. */
export interface RequestOutcome {
  status: number;
  dryRun: boolean;
  method: string;
}

/**
 * Keys that hold a request's token although that request did not succeed for real (it failed, was a
 * dry run, or could not have created anything): an object that failed validation, stored anyway.
 */
export function keysOfRejectedRequests(
  keys: Iterable<string>,
  outcomes: ReadonlyMap<number, RequestOutcome>,
  createdByASuccess: ReadonlySet<string> = new Set(),
): { key: string; index: number; why: string }[] {
  const out: { key: string; index: number; why: string }[] = [];
  for (const key of keys) {
    // Created by a request that succeeded (its answer carried the key's create revision): a corrupted
    // protobuf body may turn one request's name into another's token (fz-12-3 → fz-13-3).
    if (createdByASuccess.has(key)) continue;
    for (const index of new Set(tokensIn(key))) {
      const o = outcomes.get(index);
      if (!o) continue; // a token of a request outside this run (setup uses none)
      if (o.status < 200 || o.status >= 300) out.push({ key, index, why: `request ${index} was answered ${o.status}` });
      else if (o.dryRun) out.push({ key, index, why: `request ${index} was a dry run` });
      else if (o.method === 'GET' || o.method === 'HEAD') out.push({ key, index, why: `request ${index} was a ${o.method}` });
    }
  }
  return out;
}

/**
 * The keys whose every creation during the run was answered to a successful, non-dry-run request
 * (the answer's resourceVersion is the create's revision): `rvs` maps a revision to the request that
 * got it in a 2xx answer.
 */
export function keysCreatedBySuccesses(log: readonly StoredRow[], rvs: ReadonlyMap<string, number>): Set<string> {
  const creates = new Map<string, number[]>();
  for (const row of log) if (row.type === 'create') creates.set(row.key, [...(creates.get(row.key) ?? []), row.rev]);
  const out = new Set<string>();
  for (const [key, revs] of creates) if (revs.every((r) => rvs.has(String(r)))) out.add(key);
  return out;
}
