// The garbage collector (kube-controller-manager's, in process): follows ownerReferences across every
// kind and logical cluster with ONE store watch over `/registry/`, and applies the decisions of
// graph.ts — background deletion of orphaned dependents, foreground deletion (`foregroundDeletion`
// finalizer) and orphaning (`orphan` finalizer). The graph is its informer (one watch of every kind is
// cheaper than an informer per kind); the uids to decide about go through the runtime's rate-limited
// WorkQueue, so a failing action is retried with per-item backoff and no uid is worked on twice at once.
import type { Logger } from 'pino';
import { isKumoError } from '../../lib/errors.js';
import { sleep, type Runnable } from '../../lib/runnable.js';
import { WorkQueue } from '../../runtime/workqueue.js';
import type { ApiEngine } from '../../apiserver/engine.js';
import { parseStorageKey, type LogicalCluster } from '../../apiserver/keys.js';
import type { ResourceStorage } from '../../apiserver/rest.js';
import type { KeyValue, Store } from '../../store/types.js';
import { decide, OwnerGraph, type Action, type Node } from './graph.js';

const PREFIX = '/registry/';

interface Meta {
  uid?: unknown;
  ownerReferences?: unknown;
  deletionTimestamp?: unknown;
  finalizers?: unknown;
}

function nodeOf(kv: KeyValue): Node | null {
  const parts = parseStorageKey(kv.key);
  if (!parts) return null;
  let obj: { metadata?: Meta };
  try {
    obj = JSON.parse(kv.value.toString('utf8')) as { metadata?: Meta };
  } catch {
    return null;
  }
  const m = obj.metadata ?? {};
  if (typeof m.uid !== 'string') return null;
  const owners = Array.isArray(m.ownerReferences)
    ? m.ownerReferences.flatMap((o: unknown) => {
        const r = o as { uid?: unknown; blockOwnerDeletion?: unknown };
        return typeof r.uid === 'string' ? [{ uid: r.uid, blockOwnerDeletion: r.blockOwnerDeletion === true }] : [];
      })
    : [];
  const ref: Node['ref'] = { group: parts.group, plural: parts.plural, cluster: parts.cluster, name: parts.name };
  if (parts.namespace !== undefined) ref.namespace = parts.namespace;
  return {
    uid: m.uid,
    ref,
    owners,
    deleting: typeof m.deletionTimestamp === 'string',
    finalizers: Array.isArray(m.finalizers) ? m.finalizers.filter((f): f is string => typeof f === 'string') : [],
  };
}

export class GarbageCollector implements Runnable {
  readonly name = 'garbage-collector';
  private readonly graph = new OwnerGraph();
  /** Owner uids to decide about: the runtime's rate-limited queue (a failed action retries with backoff). */
  private queue = new WorkQueue();
  /** Dependents of owners that were deleted in the foreground are deleted in the foreground too. */
  private readonly foregroundOwners = new Set<string>();
  /** Counters for metrics and tests. */
  readonly stats = { deletions: 0, orphaned: 0, finalizersRemoved: 0, errors: 0 };

  constructor(
    private readonly engine: ApiEngine,
    private readonly store: Store,
    private readonly log?: Logger,
  ) {}

  /**
   * Lists and watches every object into the owner graph; a worker decides per uid. On a failed watch
   * the graph is rebuilt with a fresh queue and worker: no decision is taken while the graph is being
   * (re)built, since an owner not listed yet would look gone and its dependents would be deleted.
   */
  async start(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const queue = (this.queue = new WorkQueue());
      let worker: Promise<void> | undefined;
      try {
        this.graph.clear();
        const attention: string[] = [];
        let rev = 0;
        let cont: string | undefined;
        do {
          const page = await this.store.list(PREFIX, { limit: 1000, ...(cont ? { continue: cont } : {}), signal });
          rev = page.revision;
          for (const kv of page.kvs) {
            const n = nodeOf(kv);
            if (!n) continue;
            this.graph.upsert(n);
            if (n.owners.length > 0 || n.deleting) attention.push(n.uid);
          }
          cont = page.continue;
        } while (cont);
        // Everything with owners or being deleted may need attention after a (re)list.
        for (const uid of attention) queue.add(uid);
        worker = this.work(queue, signal);
        for await (const msg of this.store.watch(PREFIX, rev, { signal })) {
          if (msg.kind !== 'events') continue;
          for (const e of msg.events) this.observe(e.type, e.kv, e.prev);
        }
      } catch (err) {
        if (signal.aborted) break;
        this.stats.errors++;
        this.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'garbage collector relisting');
      } finally {
        queue.shutDown();
        await worker;
      }
      await sleep(500, signal);
    }
  }

  private observe(type: 'create' | 'update' | 'delete', kv: KeyValue, prev: KeyValue | undefined): void {
    const q = this.queue;
    if (type === 'delete') {
      const gone = prev ? nodeOf(prev) : null;
      if (!gone) return;
      this.graph.remove(gone.uid);
      // Its dependents may now be orphans; the owners it blocked may now finish.
      for (const d of this.graph.dependentsOf(gone.uid)) q.add(d.uid);
      for (const o of gone.owners) q.add(o.uid);
      return;
    }
    const n = nodeOf(kv);
    if (!n) return;
    // Owners this object no longer names may be waiting for it (orphaning, foreground deletion).
    const before = this.graph.get(n.uid);
    for (const o of before?.owners ?? []) if (!n.owners.some((x) => x.uid === o.uid)) q.add(o.uid);
    this.graph.upsert(n);
    if (n.owners.length > 0 || n.deleting) q.add(n.uid);
    if (n.deleting) for (const o of n.owners) q.add(o.uid);
  }

  private async work(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const uid = await queue.get(signal);
      if (uid === undefined) return;
      try {
        const n = this.graph.get(uid);
        if (n?.deleting && n.finalizers.includes('foregroundDeletion')) this.foregroundOwners.add(uid);
        const foreground = n ? n.owners.some((o) => this.foregroundOwners.has(o.uid)) : false;
        let failed = false;
        for (const a of decide(this.graph, uid, foreground)) {
          try {
            await this.apply(a);
          } catch (err) {
            if (isKumoError(err, 'NotFound') || isKumoError(err, 'Conflict')) continue;
            failed = true;
            this.stats.errors++;
            this.log?.warn({ err: err instanceof Error ? err.message : String(err), action: a.kind, name: a.node.ref.name }, 'garbage collector action failed; retrying');
          }
        }
        if (failed) queue.addRateLimited(uid);
        else queue.forget(uid);
      } finally {
        queue.done(uid);
      }
    }
  }

  private storageFor(node: Node): ResourceStorage | undefined {
    const rt = this.engine.resourceTypes(node.ref.cluster as LogicalCluster).find((r) => r.group === node.ref.group && r.plural === node.ref.plural);
    return rt ? this.engine.storage(rt) : undefined;
  }

  private async apply(a: Action): Promise<void> {
    const s = this.storageFor(a.node);
    if (!s) return;
    const scope = { cluster: a.node.ref.cluster as LogicalCluster, ...(a.node.ref.namespace !== undefined ? { namespace: a.node.ref.namespace } : {}) };
    switch (a.kind) {
      case 'delete':
        await s.delete(scope, a.node.ref.name, { propagationPolicy: a.policy, preconditions: { uid: a.node.uid } });
        this.stats.deletions++;
        return;
      case 'removeOwnerRef':
        await s.guaranteedUpdate(scope, a.node.ref.name, (obj) => {
          const m = obj.metadata as { ownerReferences?: { uid?: string }[] } | undefined;
          if (!m?.ownerReferences) return null;
          m.ownerReferences = m.ownerReferences.filter((o) => o.uid !== a.ownerUid);
          if (m.ownerReferences.length === 0) delete m.ownerReferences;
          return obj;
        });
        this.stats.orphaned++;
        return;
      case 'removeFinalizer':
        await s.guaranteedUpdate(scope, a.node.ref.name, (obj) => {
          const m = obj.metadata as { finalizers?: string[] } | undefined;
          if (!m?.finalizers?.includes(a.finalizer)) return null;
          m.finalizers = m.finalizers.filter((f) => f !== a.finalizer);
          if (m.finalizers.length === 0) delete m.finalizers;
          return obj;
        });
        this.stats.finalizersRemoved++;
        this.foregroundOwners.delete(a.node.uid);
        return;
    }
  }
}
