import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../types.js';
import { coreEvent, eventsV1Event, printCoreEvent, printEventsV1Event } from './events.js';

const now = Date.parse('2026-01-01T12:00:00Z');
const ago = (minutes: number): string => new Date(now - minutes * 60_000).toISOString();

describe('core/v1 Event', () => {
  const rt = coreEvent();

  it('has the columns of kube-apiserver\'s event printer', () => {
    assert.deepEqual(
      rt.printerColumns.map((c) => `${c.name}${c.priority ? '*' : ''}`),
      ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*'],
    );
    assert.deepEqual(rt.schema.required, ['metadata', 'involvedObject']);
  });

  it('prints a legacy event like kubectl shows it', () => {
    const e: KObject = {
      metadata: { namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
      type: 'Warning',
      reason: 'BackOff',
      message: ' Back-off restarting \n',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: ago(30),
      lastTimestamp: ago(2),
      count: 7,
    };
    assert.deepEqual(printCoreEvent(e, now), ['2m', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{web}', 'kubelet, node-1', 'Back-off restarting', '30m', 7]);
  });

  it('prints a new-style event from eventTime and series, count 1 for singletons', () => {
    const e: KObject = { involvedObject: { kind: 'Node' }, eventTime: ago(5), reportingComponent: 'kumo', reportingInstance: 'kumo-0' };
    assert.deepEqual(printCoreEvent(e, now), ['5m', '', '', 'node', '', 'kumo, kumo-0', '', '5m', 1]);
    e['series'] = { count: 4, lastObservedTime: ago(1) };
    assert.deepEqual(printCoreEvent(e, now).slice(0, 1).concat(printCoreEvent(e, now).slice(8)), ['60s', 4]);
  });

  it('selects by kube\'s event fields; source is computed', () => {
    assert.ok(rt.selectableFields.includes('involvedObject.uid') && rt.selectableFields.includes('source'));
    assert.deepEqual(rt.fieldValues?.({ source: { component: 'kubelet' } }), { source: 'kubelet' });
    assert.deepEqual(rt.fieldValues?.({ reportingComponent: 'kumo' }), { source: 'kumo' });
  });

  it('checks namespaces and, for new-style events, the reporting fields (legacyValidateEvent)', () => {
    const v = (o: KObject): (string | undefined)[] => (rt.strategy?.validate?.(o, undefined) ?? []).map((c) => c.field);
    assert.deepEqual(v({ metadata: { namespace: 'a' }, involvedObject: { namespace: 'a' } }), []);
    assert.deepEqual(v({ metadata: { namespace: 'default' }, involvedObject: { kind: 'Node' } }), []);
    assert.deepEqual(v({ metadata: { namespace: 'a' }, involvedObject: { namespace: 'b' } }), ['involvedObject.namespace']);
    assert.deepEqual(v({ metadata: { namespace: 'a' }, involvedObject: { namespace: 'a' }, eventTime: ago(0) }), [
      'reportingComponent',
      'reportingInstance',
      'action',
      'reason',
    ]);
  });
});

describe('events.k8s.io/v1 Event', () => {
  const rt = eventsV1Event();

  it('requires eventTime and selects by regarding.*', () => {
    assert.deepEqual(rt.schema.required, ['eventTime']);
    assert.ok(rt.selectableFields.includes('regarding.name') && rt.selectableFields.includes('reportingController'));
    assert.deepEqual(rt.shortNames, []);
  });

  it('validates creates strictly, in its own field names', () => {
    const good: KObject = {
      metadata: { namespace: 'a' },
      regarding: { kind: 'Pod', namespace: 'a', name: 'p' },
      eventTime: ago(0),
      reportingController: 'kumo.dev/cluster-controller',
      reportingInstance: 'kumo-0',
      action: 'Provision',
      reason: 'Created',
      type: 'Normal',
      note: 'ok',
    };
    assert.deepEqual(rt.strategy?.validate?.(good, undefined), []);
    const bad = { ...good, type: 'Info', deprecatedCount: 3, note: 'x'.repeat(1025), series: { count: 1, lastObservedTime: ago(0) } };
    assert.deepEqual((rt.strategy?.validate?.(bad, undefined) ?? []).map((c) => c.field), ['note', 'type', 'deprecatedCount', 'series.count']);
    assert.deepEqual((rt.strategy?.validate?.(bad, good) ?? []).map((c) => c.field), ['note'], 'updates get the legacy checks only');
  });

  it('prints like core events', () => {
    const e: KObject = { regarding: { kind: 'Cluster', name: 'c1' }, eventTime: ago(3), type: 'Normal', reason: 'Ready', note: 'up', reportingController: 'kumo' };
    assert.deepEqual(printEventsV1Event(e, now), ['3m', 'Normal', 'Ready', 'cluster/c1', '', 'kumo', 'up', '3m', 1]);
  });
});
