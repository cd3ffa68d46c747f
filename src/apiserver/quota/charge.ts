// Charging usage to a quota object (a Tenant or a ResourceQuota) with a compare-and-swap in the store,
// so concurrent writes — in this process or on other servers sharing the store — never take more
// than the quota allows:
// - the object is read, the charge checked against its limits and added to its usage, and the object
//   written back only if it is still the version read (ResourceStorage.guaranteedUpdate: update with
//   the read revision, re-read and re-check on conflict);
// - charges to one quota object from this process are batched (kube's quota evaluator does the same):
//   while one write is in flight the next charges queue, and are then checked in arrival order and
//   written together in one CAS; a charge that does not fit is refused, the others go on;
// - a quota whose usage does not name a limited resource yet (just created) has that usage counted
//   from the objects first, inside the same CAS;
// - a charge returns its undo: the storage gives the amount back when the write it was charged for
//   is not stored (and the quota controller recounts usage from the objects anyway).
// Every charge stamps CHARGED_AT_ANNOTATION, so a recount does not undo a charge whose object is
// still being written (see recount.ts).
import { setTimeout as delay } from 'node:timers/promises';
import { KumoError, isKumoError } from '../../lib/errors.js';
import { subtractQuantities, ZERO, type ResourceList } from '../../api/builtin/quantity.js';
import type { KObject } from '../../api/types.js';
import type { AdmitUndo, ResourceStorage, Scope } from '../rest.js';
import { stampChargedAt, type QuotaAccessor } from './objects.js';
import { addLists, exceededNames, maskList, withoutZeros } from './usage.js';

export interface ChargeTarget {
  /** The storage of the quota object's kind. */
  storage: ResourceStorage;
  /** Where the quota object is: its logical cluster (and namespace, for a ResourceQuota). */
  scope: Scope;
  name: string;
  accessor: QuotaAccessor;
  /** Counts the current usage of `names` from the objects (a quota's first use). */
  count(names: string[]): Promise<ResourceList>;
}

/** What a refused charge reports (kube's `exceeded quota: …` message, masked to the exceeded names). */
export interface Exceeded {
  quota: string;
  requested: ResourceList;
  used: ResourceList;
  limited: ResourceList;
}

export interface Charge {
  /** What the write adds; names the quota does not limit are ignored, zero and negative amounts too. */
  delta: ResourceList;
  /** Checked but not charged. */
  dryRun?: boolean;
  /** The error for a charge that would exceed the quota. */
  refuse(e: Exceeded): KumoError;
}

export interface ChargerOptions {
  now?: () => Date;
  /** A give-back (undo) that failed; the quota controller's recount repairs usage. */
  onReleaseError?: (err: unknown, target: { kind: string; name: string; namespace?: string }) => void;
  /** Rounds of conflicts (each already retried by guaranteedUpdate) before a charge fails. Default 20. */
  maxConflictRounds?: number;
}

type Item =
  | { kind: 'charge'; charge: Charge; resolve: (charged: ResourceList | undefined) => void; reject: (err: unknown) => void }
  | { kind: 'release'; amounts: ResourceList; resolve: () => void; reject: (err: unknown) => void };

interface Queue {
  target: ChargeTarget;
  items: Item[];
}

export class QuotaCharger {
  private readonly queues = new Map<string, Queue>();
  private readonly draining = new Set<string>();
  /** Counters for metrics and tests. */
  readonly stats = { writes: 0, conflicts: 0, charged: 0, refused: 0, released: 0 };

  constructor(private readonly opts: ChargerOptions = {}) {}

  /**
   * Charges `charge` to `target`: resolves with the undo (undefined when nothing was charged — the quota
   * does not limit what the write consumes, or a dry run), or rejects with the refusal.
   */
  async charge(target: ChargeTarget, charge: Charge): Promise<AdmitUndo | undefined> {
    const charged = await new Promise<ResourceList | undefined>((resolve, reject) => this.enqueue(target, { kind: 'charge', charge, resolve, reject }));
    if (!charged || charged.size === 0) return undefined;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.release(target, charged);
    };
  }

  /** Gives `amounts` back (usage never goes below zero); failures are reported, not thrown. */
  async release(target: ChargeTarget, amounts: ResourceList): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => this.enqueue(target, { kind: 'release', amounts, resolve, reject }));
      this.stats.released++;
    } catch (err) {
      const t = { kind: target.accessor.kind, name: target.name, ...(target.scope.namespace ? { namespace: target.scope.namespace } : {}) };
      this.opts.onReleaseError?.(err, t);
    }
  }

  private enqueue(target: ChargeTarget, item: Item): void {
    const key = `${target.storage.rt.group}/${target.storage.rt.plural}/${target.scope.cluster}/${target.scope.namespace ?? ''}/${target.name}`;
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = { target, items: [] }));
    q.items.push(item);
    if (!this.draining.has(key)) void this.drain(key);
  }

  private async drain(key: string): Promise<void> {
    this.draining.add(key);
    try {
      for (;;) {
        const q = this.queues.get(key);
        if (!q || q.items.length === 0) {
          this.queues.delete(key);
          return;
        }
        this.queues.delete(key);
        await this.run(q.target, q.items);
      }
    } finally {
      this.draining.delete(key);
    }
  }

  /** One batch: CAS rounds until written (or nothing to write), then each item is answered. */
  private async run(target: ChargeTarget, items: Item[]): Promise<void> {
    const acc = target.accessor;
    const counted: ResourceList = new Map();
    const outcome = new Map<Item, { charged?: ResourceList; error?: KumoError }>();
    const maxRounds = this.opts.maxConflictRounds ?? 20;
    try {
      for (let round = 0; ; round++) {
        let need: string[] = [];
        let wrote = false;
        try {
          await target.storage.guaranteedUpdate({ cluster: target.scope.cluster, ...(target.scope.namespace ? { namespace: target.scope.namespace } : {}) }, target.name, (old: KObject) => {
            outcome.clear();
            need = [];
            wrote = false;
            const hard = acc.hard(old);
            let used = acc.used(old);
            // Limited names a charge here needs that usage does not have yet: counted first.
            const missing = new Set<string>();
            for (const it of items) {
              if (it.kind !== 'charge') continue;
              for (const [k, v] of it.charge.delta) if (v.nano > 0n && hard.has(k) && !used.has(k)) missing.add(k);
            }
            let changed = false;
            if (missing.size > 0) {
              need = [...missing].filter((k) => !counted.has(k));
              if (need.length > 0) return null;
              for (const k of missing) used.set(k, counted.get(k) ?? ZERO);
              changed = true;
            }
            let charged = false;
            for (const it of items) {
              if (it.kind === 'release') {
                for (const [k, v] of it.amounts) {
                  const u = used.get(k);
                  if (!u) continue;
                  const d = subtractQuantities(u, v);
                  used.set(k, d.nano < 0n ? { nano: 0n, format: u.format } : d);
                  changed = true;
                }
                outcome.set(it, {});
                continue;
              }
              const positive: ResourceList = new Map([...it.charge.delta].filter(([, v]) => v.nano > 0n));
              const requested = withoutZeros(maskList(positive, hard.keys()));
              if (requested.size === 0) {
                outcome.set(it, {});
                continue;
              }
              const next = addLists(used, requested);
              const over = exceededNames(maskList(next, requested.keys()), hard);
              if (over.length > 0) {
                outcome.set(it, { error: it.charge.refuse({ quota: target.name, requested: maskList(requested, over), used: maskList(used, over), limited: maskList(hard, over) }) });
                continue;
              }
              if (it.charge.dryRun) {
                outcome.set(it, {});
                continue;
              }
              used = next;
              changed = charged = true;
              outcome.set(it, { charged: requested });
            }
            if (!changed) return null;
            acc.setUsed(old, used);
            if (charged) stampChargedAt(old, this.opts.now ? this.opts.now() : new Date());
            wrote = true;
            return old;
          });
        } catch (err) {
          if (isKumoError(err, 'Conflict') && round < maxRounds) {
            this.stats.conflicts++;
            await delay(Math.floor(Math.random() * (5 + round * 5)));
            continue;
          }
          if (isKumoError(err, 'NotFound')) {
            // The quota object is gone: nothing limits these writes any more.
            for (const it of items) if (it.kind === 'charge') it.resolve(undefined);
            else it.resolve();
            return;
          }
          throw err;
        }
        if (need.length > 0) {
          for (const [k, v] of await target.count(need)) counted.set(k, v);
          for (const k of need) if (!counted.has(k)) counted.set(k, ZERO);
          continue;
        }
        if (wrote) this.stats.writes++;
        break;
      }
    } catch (err) {
      for (const it of items) it.reject(err);
      return;
    }
    for (const it of items) {
      const o = outcome.get(it) ?? {};
      if (it.kind === 'release') {
        it.resolve();
      } else if (o.error) {
        this.stats.refused++;
        it.reject(o.error);
      } else {
        if (o.charged) this.stats.charged++;
        it.resolve(o.charged);
      }
    }
  }
}

/** kube's message: `exceeded quota: <name>, requested: a=1, used: a=3, limited: a=3`. */
export function exceededMessage(e: Exceeded, pretty: (l: ResourceList) => string): string {
  return `exceeded quota: ${e.quota}, requested: ${pretty(e.requested)}, used: ${pretty(e.used)}, limited: ${pretty(e.limited)}`;
}

