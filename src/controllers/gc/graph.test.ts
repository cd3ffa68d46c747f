import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, FOREGROUND, ORPHAN, OwnerGraph, type Node } from './graph.js';

function node(uid: string, opts: Partial<Node> = {}): Node {
  return { uid, ref: { group: '', plural: 'configmaps', cluster: 'root', namespace: 'default', name: uid }, owners: [], deleting: false, finalizers: [], ...opts };
}

function graph(...nodes: Node[]): OwnerGraph {
  const g = new OwnerGraph();
  for (const n of nodes) g.upsert(n);
  return g;
}

const summary = (actions: ReturnType<typeof decide>): string[] =>
  actions.map((a) => (a.kind === 'delete' ? `delete ${a.node.uid} ${a.policy}` : a.kind === 'removeOwnerRef' ? `unown ${a.node.uid} from ${a.ownerUid}` : `unfinalize ${a.node.uid} ${a.finalizer}`));

describe('garbage collector decisions', () => {
  it('leaves a dependent whose owner exists', () => {
    const g = graph(node('owner'), node('dep', { owners: [{ uid: 'owner', blockOwnerDeletion: false }] }));
    assert.deepEqual(summary(decide(g, 'dep')), []);
  });

  it('deletes a dependent whose owners are all gone (background; foreground when the owner was)', () => {
    const g = graph(node('dep', { owners: [{ uid: 'gone1', blockOwnerDeletion: false }, { uid: 'gone2', blockOwnerDeletion: true }] }));
    assert.deepEqual(summary(decide(g, 'dep')), ['delete dep Background']);
    assert.deepEqual(summary(decide(g, 'dep', true)), ['delete dep Foreground']);
  });

  it('keeps a dependent while one of its owners still exists', () => {
    const g = graph(node('alive'), node('dep', { owners: [{ uid: 'gone', blockOwnerDeletion: false }, { uid: 'alive', blockOwnerDeletion: false }] }));
    assert.deepEqual(summary(decide(g, 'dep')), []);
  });

  it('foreground: deletes the dependents, and releases the owner only when no blocking dependent is left', () => {
    const owner = node('owner', { deleting: true, finalizers: [FOREGROUND] });
    const blocking = node('b', { owners: [{ uid: 'owner', blockOwnerDeletion: true }] });
    const free = node('f', { owners: [{ uid: 'owner', blockOwnerDeletion: false }] });
    assert.deepEqual(summary(decide(graph(owner, blocking, free), 'owner')).sort(), ['delete b Foreground', 'delete f Foreground']);
    assert.deepEqual(summary(decide(graph(owner, free), 'owner')).sort(), ['delete f Foreground', `unfinalize owner ${FOREGROUND}`]);
    assert.deepEqual(summary(decide(graph(owner), 'owner')), [`unfinalize owner ${FOREGROUND}`]);
  });

  it('orphan: removes the ownerReferences first, then the finalizer', () => {
    const owner = node('owner', { deleting: true, finalizers: [ORPHAN] });
    const dep = node('dep', { owners: [{ uid: 'owner', blockOwnerDeletion: true }] });
    assert.deepEqual(summary(decide(graph(owner, dep), 'owner')), ['unown dep from owner']);
    assert.deepEqual(summary(decide(graph(owner), 'owner')), [`unfinalize owner ${ORPHAN}`]);
  });

  it('keeps the owner → dependents index right across updates and removals', () => {
    const g = graph(node('a'), node('b'), node('dep', { owners: [{ uid: 'a', blockOwnerDeletion: false }] }));
    assert.deepEqual(g.dependentsOf('a').map((n) => n.uid), ['dep']);
    g.upsert(node('dep', { owners: [{ uid: 'b', blockOwnerDeletion: false }] }));
    assert.deepEqual(g.dependentsOf('a'), []);
    assert.deepEqual(g.dependentsOf('b').map((n) => n.uid), ['dep']);
    g.remove('dep');
    assert.deepEqual(g.dependentsOf('b'), []);
    assert.equal(g.size, 2);
  });
});
