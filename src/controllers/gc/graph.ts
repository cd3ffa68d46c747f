// The garbage collector's view of the world: every object's identity by uid, and who owns whom.
// Pure data structure (no I/O), so the decisions of the collector can be tested without servers.

export interface Node {
  uid: string;
  /** Where the object lives: enough to fetch or delete it. */
  ref: { group: string; plural: string; cluster: string; namespace?: string; name: string };
  owners: { uid: string; blockOwnerDeletion: boolean }[];
  deleting: boolean;
  finalizers: string[];
}

/**
 * Most objects have no owners, no finalizers and are not being deleted: the graph only needs to know
 * they exist (an owner that exists is not gone) and where (to delete them as dependents). Those are
 * kept as one string, `group\0plural\0cluster\0namespace\0name`, and become a Node when read: the
 * graph holds every object of every kind, so this is most of its memory.
 */
type Stored = Node | string;

function pack(n: Node): Stored {
  if (n.owners.length > 0 || n.deleting || n.finalizers.length > 0) return n;
  const r = n.ref;
  return `${r.group}\0${r.plural}\0${r.cluster}\0${r.namespace ?? ''}\0${r.name}`;
}

function unpack(uid: string, s: Stored): Node {
  if (typeof s !== 'string') return s;
  const [group = '', plural = '', cluster = '', namespace = '', name = ''] = s.split('\0');
  const ref: Node['ref'] = { group, plural, cluster, name };
  if (namespace !== '') ref.namespace = namespace;
  return { uid, ref, owners: [], deleting: false, finalizers: [] };
}

export class OwnerGraph {
  private readonly nodes = new Map<string, Stored>();
  /** owner uid → dependent uids (the owner may not exist). */
  private readonly dependents = new Map<string, Set<string>>();

  get size(): number {
    return this.nodes.size;
  }

  get(uid: string): Node | undefined {
    const s = this.nodes.get(uid);
    return s === undefined ? undefined : unpack(uid, s);
  }

  private owners(uid: string): Node['owners'] {
    const s = this.nodes.get(uid);
    return s === undefined || typeof s === 'string' ? [] : s.owners;
  }

  has(uid: string): boolean {
    return this.nodes.has(uid);
  }

  upsert(node: Node): void {
    for (const o of this.owners(node.uid)) this.dependents.get(o.uid)?.delete(node.uid);
    this.nodes.set(node.uid, pack(node));
    for (const o of node.owners) {
      let set = this.dependents.get(o.uid);
      if (!set) this.dependents.set(o.uid, (set = new Set()));
      set.add(node.uid);
    }
  }

  remove(uid: string): Node | undefined {
    const prev = this.get(uid);
    if (!prev) return undefined;
    this.nodes.delete(uid);
    for (const o of prev.owners) {
      const set = this.dependents.get(o.uid);
      set?.delete(uid);
      if (set && set.size === 0) this.dependents.delete(o.uid);
    }
    return prev;
  }

  dependentsOf(uid: string): Node[] {
    return [...(this.dependents.get(uid) ?? [])].flatMap((d) => {
      const n = this.get(d);
      return n ? [n] : [];
    });
  }

  clear(): void {
    this.nodes.clear();
    this.dependents.clear();
  }
}

export type Action =
  | { kind: 'delete'; node: Node; policy: 'Background' | 'Foreground' }
  | { kind: 'removeOwnerRef'; node: Node; ownerUid: string }
  | { kind: 'removeFinalizer'; node: Node; finalizer: string };

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';

/**
 * What the collector must do about one object (kube's attemptToDelete/attemptToOrphan decisions):
 * - an object whose owners are all gone is deleted (background; foreground if an owner was being
 *   deleted in the foreground);
 * - an object being deleted with the `orphan` finalizer has its dependents' ownerReferences to it
 *   removed, then loses the finalizer;
 * - an object being deleted with `foregroundDeletion` has its dependents deleted; when none that
 *   block owner deletion remain, it loses the finalizer.
 */
export function decide(graph: OwnerGraph, uid: string, ownerWasForeground = false): Action[] {
  const n = graph.get(uid);
  if (!n) return [];
  const actions: Action[] = [];
  if (n.deleting && n.finalizers.includes(ORPHAN)) {
    for (const d of graph.dependentsOf(uid)) actions.push({ kind: 'removeOwnerRef', node: d, ownerUid: uid });
    if (actions.length === 0) actions.push({ kind: 'removeFinalizer', node: n, finalizer: ORPHAN });
    return actions;
  }
  if (n.deleting && n.finalizers.includes(FOREGROUND)) {
    const deps = graph.dependentsOf(uid);
    for (const d of deps) if (!d.deleting) actions.push({ kind: 'delete', node: d, policy: 'Foreground' });
    const blocking = deps.filter((d) => d.owners.some((o) => o.uid === uid && o.blockOwnerDeletion));
    if (blocking.length === 0) actions.push({ kind: 'removeFinalizer', node: n, finalizer: FOREGROUND });
    return actions;
  }
  if (!n.deleting && n.owners.length > 0 && n.owners.every((o) => !graph.has(o.uid))) {
    actions.push({ kind: 'delete', node: n, policy: ownerWasForeground ? 'Foreground' : 'Background' });
  }
  return actions;
}
