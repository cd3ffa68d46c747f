import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../api/types.js';
import { conditionStatus, deleteCondition, getCondition, getConditions, isFalse, isTrue, isUpToDate, markFalse, markTrue, markUnknown, setCondition, setSummary } from './conditions.js';

const t0 = new Date('2026-03-01T10:00:00.123Z');
const t1 = new Date('2026-03-01T10:05:00Z');
const t2 = new Date('2026-03-01T10:09:00Z');

function machine(generation = 3): KObject {
  return { apiVersion: 'kumo.dev/v1alpha1', kind: 'Machine', metadata: { name: 'm', generation } };
}

describe('conditions', () => {
  it('a missing condition is Unknown', () => {
    const m = machine();
    assert.equal(conditionStatus(m, 'Ready'), 'Unknown');
    assert.equal(isTrue(m, 'Ready'), false);
    assert.equal(isFalse(m, 'Ready'), false);
    assert.equal(getCondition(m, 'Ready'), undefined);
    assert.deepEqual(getConditions({ status: { conditions: 'junk' } }), []);
  });

  it('set stamps observedGeneration and lastTransitionTime (second precision), in metav1.Condition field order', () => {
    const m = machine();
    assert.equal(markTrue(m, 'Ready', 'AsExpected', '', t0), true);
    assert.deepEqual(getConditions(m), [{ type: 'Ready', status: 'True', observedGeneration: 3, lastTransitionTime: '2026-03-01T10:00:00Z', reason: 'AsExpected', message: '' }]);
    assert.deepEqual(Object.keys(getConditions(m)[0] ?? {}), ['type', 'status', 'observedGeneration', 'lastTransitionTime', 'reason', 'message']);
    assert.ok(isTrue(m, 'Ready'));
    assert.ok(isUpToDate(m, 'Ready'));
  });

  const table: { name: string; from: [string, string, string]; to: [string, string, string]; moves: boolean; changed: boolean }[] = [
    { name: 'same status, reason, message: nothing changes', from: ['True', 'AsExpected', ''], to: ['True', 'AsExpected', ''], moves: false, changed: false },
    { name: 'same status, new reason/message: updated, time kept', from: ['False', 'Provisioning', 'waiting for the VM'], to: ['False', 'Booting', 'the VM boots'], moves: false, changed: true },
    { name: 'status change True→False moves the time', from: ['True', 'AsExpected', ''], to: ['False', 'Unreachable', 'node agent silent for 5m'], moves: true, changed: true },
    { name: 'status change False→Unknown moves the time', from: ['False', 'Unreachable', 'x'], to: ['Unknown', 'Checking', 'probe running'], moves: true, changed: true },
  ];
  for (const c of table) {
    it(`transition: ${c.name}`, () => {
      const m = machine();
      setCondition(m, { type: 'Ready', status: c.from[0] as 'True', reason: c.from[1], message: c.from[2] }, t0);
      const changed = setCondition(m, { type: 'Ready', status: c.to[0] as 'True', reason: c.to[1], message: c.to[2] }, t1);
      assert.equal(changed, c.changed);
      const got = getCondition(m, 'Ready');
      assert.equal(got?.lastTransitionTime, c.moves ? '2026-03-01T10:05:00Z' : '2026-03-01T10:00:00Z');
      assert.deepEqual([got?.status, got?.reason, got?.message], c.to);
      assert.equal(getConditions(m).length, 1);
    });
  }

  it('a new generation re-stamps observedGeneration without moving the time', () => {
    const m = machine(1);
    markTrue(m, 'Ready', 'AsExpected', '', t0);
    assert.equal(isUpToDate(m, 'Ready'), true);
    (m.metadata as Record<string, unknown>).generation = 2;
    assert.equal(isUpToDate(m, 'Ready'), false);
    assert.equal(markTrue(m, 'Ready', 'AsExpected', '', t1), true);
    assert.deepEqual([getCondition(m, 'Ready')?.observedGeneration, getCondition(m, 'Ready')?.lastTransitionTime], [2, '2026-03-01T10:00:00Z']);
  });

  it('refuses False without a message, any condition without a CamelCase reason, and bad types', () => {
    const m = machine();
    assert.throws(() => markFalse(m, 'Ready', 'Broken', '', t0), /needs a message/);
    assert.throws(() => markFalse(m, 'Ready', 'Broken', '   ', t0), /needs a message/);
    assert.throws(() => markTrue(m, 'Ready', '', '', t0), /reason/);
    assert.throws(() => markUnknown(m, 'Ready', 'not camel', '', t0), /reason/);
    assert.throws(() => setCondition(m, { type: 'has space', status: 'True', reason: 'Ok' }, t0), /not a valid condition type/);
    assert.throws(() => setCondition(m, { type: 'Ready', status: 'Maybe' as 'True', reason: 'Ok' }, t0), /status/);
    assert.equal(getConditions(m).length, 0, 'nothing was written');
    markTrue(m, 'example.com/Ready', 'Ok', '', t0);
  });

  it('conditions of other types are kept; delete removes one', () => {
    const m = machine();
    markTrue(m, 'ControlPlaneReady', 'AsExpected', '', t0);
    markFalse(m, 'NodesReady', 'NodesNotReady', '2 of 3 nodes not ready: n-1, n-2', t0);
    assert.deepEqual(getConditions(m).map((c) => c.type), ['ControlPlaneReady', 'NodesReady']);
    assert.equal(deleteCondition(m, 'NodesReady'), true);
    assert.equal(deleteCondition(m, 'NodesReady'), false);
    assert.deepEqual(getConditions(m).map((c) => c.type), ['ControlPlaneReady']);
  });

  it('summary: False with the reason and messages of the False ones; else Unknown (missing = NotYetReported); else True', () => {
    const m = machine();
    const types = ['ControlPlaneReady', 'DatastoreHealthy', 'NodesReady'];
    setSummary(m, 'Ready', types, t0);
    let r = getCondition(m, 'Ready');
    assert.deepEqual([r?.status, r?.reason], ['Unknown', 'NotYetReported']);
    assert.match(r?.message ?? '', /ControlPlaneReady: not yet reported/);
    markTrue(m, 'ControlPlaneReady', 'AsExpected', '', t0);
    markFalse(m, 'DatastoreHealthy', 'EtcdMemberDown', 'etcd-2 unreachable since 10:01', t0);
    markFalse(m, 'NodesReady', 'NodesNotReady', 'n-1 not ready', t0);
    setSummary(m, 'Ready', types, t1);
    r = getCondition(m, 'Ready');
    assert.deepEqual([r?.status, r?.reason, r?.message, r?.lastTransitionTime], ['False', 'EtcdMemberDown', 'DatastoreHealthy: etcd-2 unreachable since 10:01; NodesReady: n-1 not ready', '2026-03-01T10:05:00Z']);
    markTrue(m, 'DatastoreHealthy', 'AsExpected', '', t2);
    markTrue(m, 'NodesReady', 'AsExpected', '', t2);
    assert.equal(setSummary(m, 'Ready', types, t2), true);
    r = getCondition(m, 'Ready');
    assert.deepEqual([r?.status, r?.reason, r?.lastTransitionTime], ['True', 'AsExpected', '2026-03-01T10:09:00Z']);
    assert.equal(setSummary(m, 'Ready', types, new Date('2026-03-02T00:00:00Z')), false, 'no change, no write');
  });

  it('a frozen (cached) object cannot be changed in place', () => {
    const m = Object.freeze(machine());
    assert.throws(() => markTrue(m, 'Ready', 'AsExpected', '', t0), TypeError);
  });
});
