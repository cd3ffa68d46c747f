// Events in both shapes kube-apiserver serves: core/v1 Event (what `kubectl get events` and client-go's
// legacy recorder use) and events.k8s.io/v1 Event (the newer shape: regarding, note,
// reportingController, deprecated* fields). Checks follow pkg/apis/core/validation/events.go.
import type { ErrorCause } from '../../lib/errors.js';
import { CORE_V1, named, objectMeta, objectReference } from '../meta.js';
import { defineKind, int, microTime, obj, str, time } from '../schema/dsl.js';
import type { KObject, ResourceType } from '../types.js';
import { since, strAt } from './print.js';
import { invalid, recordAt, required } from './validation.js';

const LIMITS = { reportingInstance: 128, action: 128, reason: 128, note: 1024 } as const;
const EVENT_TYPES = ['Normal', 'Warning'];

function eventSource(): ReturnType<typeof obj> {
  return named(`${CORE_V1}.EventSource`, obj(
    {
      component: str({ description: 'Component from which the event is generated.' }),
      host: str({ description: 'Node name on which the event is generated.' }),
    },
    { description: 'EventSource contains information for an event.' },
  ));
}

/** The parts of either Event shape the printer and the checks need, under core/v1's names. */
interface EventView {
  namespace: string | undefined;
  involvedObject: Record<string, unknown>;
  reason: string;
  message: string;
  type: string;
  action: string;
  firstTimestamp: string;
  lastTimestamp: string;
  eventTime: string;
  count: number;
  series: Record<string, unknown> | undefined;
  sourceComponent: string;
  sourceHost: string;
  reportingController: string;
  reportingInstance: string;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function coreView(o: KObject): EventView {
  const ns = recordAt(o, 'metadata')?.['namespace'];
  return {
    namespace: typeof ns === 'string' ? ns : undefined,
    involvedObject: recordAt(o, 'involvedObject') ?? {},
    reason: strAt(o, 'reason'),
    message: strAt(o, 'message'),
    type: strAt(o, 'type'),
    action: strAt(o, 'action'),
    firstTimestamp: strAt(o, 'firstTimestamp'),
    lastTimestamp: strAt(o, 'lastTimestamp'),
    eventTime: strAt(o, 'eventTime'),
    count: num(o['count']),
    series: recordAt(o, 'series'),
    sourceComponent: strAt(o, 'source.component'),
    sourceHost: strAt(o, 'source.host'),
    reportingController: strAt(o, 'reportingComponent'),
    reportingInstance: strAt(o, 'reportingInstance'),
  };
}

function eventsV1View(o: KObject): EventView {
  const ns = recordAt(o, 'metadata')?.['namespace'];
  return {
    namespace: typeof ns === 'string' ? ns : undefined,
    involvedObject: recordAt(o, 'regarding') ?? {},
    reason: strAt(o, 'reason'),
    message: strAt(o, 'note'),
    type: strAt(o, 'type'),
    action: strAt(o, 'action'),
    firstTimestamp: strAt(o, 'deprecatedFirstTimestamp'),
    lastTimestamp: strAt(o, 'deprecatedLastTimestamp'),
    eventTime: strAt(o, 'eventTime'),
    count: num(o['deprecatedCount']),
    series: recordAt(o, 'series'),
    sourceComponent: strAt(o, 'deprecatedSource.component'),
    sourceHost: strAt(o, 'deprecatedSource.host'),
    reportingController: strAt(o, 'reportingController'),
    reportingInstance: strAt(o, 'reportingInstance'),
  };
}

/** Cells as kube-apiserver's event printer fills them (wide columns included). */
function eventRow(e: EventView, now = Date.now()): unknown[] {
  let first = since(e.firstTimestamp, now);
  if (e.firstTimestamp === '') first = since(e.eventTime, now);
  let last = e.lastTimestamp === '' ? first : since(e.lastTimestamp, now);
  let count = e.count;
  if (e.series) {
    last = since(e.series['lastObservedTime'], now);
    count = num(e.series['count']);
  } else if (count === 0) {
    count = 1;
  }
  const kind = typeof e.involvedObject['kind'] === 'string' ? e.involvedObject['kind'].toLowerCase() : '';
  const name = typeof e.involvedObject['name'] === 'string' ? e.involvedObject['name'] : '';
  const target = name ? `${kind}/${name}` : kind;
  const component = e.sourceComponent || e.reportingController;
  const instance = e.sourceHost || e.reportingInstance;
  const source = component === '' && instance === '' ? '' : instance ? `${component}, ${instance}` : component;
  const fieldPath = typeof e.involvedObject['fieldPath'] === 'string' ? e.involvedObject['fieldPath'] : '';
  return [last, e.type, e.reason, target, fieldPath, source, e.message.trim(), first, count];
}

const EVENT_COLUMNS = (paths: { last: string; object: string; subobject: string; source: string; message: string; first: string; count: string }) => [
  { name: 'Last Seen', type: 'string' as const, jsonPath: paths.last, description: 'Time since the event was last observed.' },
  { name: 'Type', type: 'string' as const, jsonPath: '.type', description: 'Normal or Warning.' },
  { name: 'Reason', type: 'string' as const, jsonPath: '.reason', description: 'Why the action was taken.' },
  { name: 'Object', type: 'string' as const, jsonPath: paths.object, description: 'The object the event is about.' },
  { name: 'Subobject', type: 'string' as const, jsonPath: paths.subobject, priority: 1, description: 'The part of the object the event is about.' },
  { name: 'Source', type: 'string' as const, jsonPath: paths.source, priority: 1, description: 'The component that reported the event.' },
  { name: 'Message', type: 'string' as const, jsonPath: paths.message, description: 'Human-readable description.' },
  { name: 'First Seen', type: 'string' as const, jsonPath: paths.first, priority: 1, description: 'Time since the event was first observed.' },
  { name: 'Count', type: 'integer' as const, jsonPath: paths.count, priority: 1, description: 'How many times the event occurred.' },
];

/**
 * pkg/apis/core/validation legacyValidateEvent (both shapes) and, for `strict` (events.k8s.io
 * creates), ValidateEventCreate's extra rules. `names` maps core/v1 field names to the shape's own.
 */
function validateEvent(e: EventView, strict: boolean, names: Record<string, string>): ErrorCause[] {
  const errs: ErrorCause[] = [];
  const n = (f: string): string => names[f] ?? f;
  const objNs = typeof e.involvedObject['namespace'] === 'string' ? e.involvedObject['namespace'] : '';
  if (e.eventTime === '') {
    // Old-style event: its namespace and the involved object's must agree (or "default" for cluster-scoped).
    if (e.namespace !== undefined) {
      const ok = objNs === '' ? e.namespace === '' || e.namespace === 'default' : e.namespace === objNs;
      if (!ok) errs.push(invalid(`${n('involvedObject')}.namespace`, objNs, 'does not match event.namespace'));
    }
  } else {
    if (objNs === '' && e.namespace !== undefined && e.namespace !== 'default' && e.namespace !== 'kube-system') {
      errs.push(invalid(`${n('involvedObject')}.namespace`, objNs, 'does not match event.namespace'));
    }
    if (e.reportingController === '') errs.push(required(n('reportingController')));
    if (e.reportingInstance === '') errs.push(required('reportingInstance'));
    else if (e.reportingInstance.length > LIMITS.reportingInstance) {
      errs.push(invalid('reportingInstance', '', `can have at most ${LIMITS.reportingInstance} characters`));
    }
    if (e.action === '') errs.push(required('action'));
    else if (e.action.length > LIMITS.action) errs.push(invalid('action', '', `can have at most ${LIMITS.action} characters`));
    if (e.reason === '') errs.push(required('reason'));
    else if (e.reason.length > LIMITS.reason) errs.push(invalid('reason', '', `can have at most ${LIMITS.reason} characters`));
    if (e.message.length > LIMITS.note) errs.push(invalid(n('message'), '', `can have at most ${LIMITS.note} characters`));
  }
  if (!strict) return errs;
  if (e.eventTime === '') errs.push(required('eventTime'));
  if (!EVENT_TYPES.includes(e.type)) errs.push(invalid('type', '', `has invalid value: ${e.type}`));
  if (e.firstTimestamp !== '') errs.push(invalid(n('firstTimestamp'), '', 'needs to be unset'));
  if (e.lastTimestamp !== '') errs.push(invalid(n('lastTimestamp'), '', 'needs to be unset'));
  if (e.count !== 0) errs.push(invalid(n('count'), '', 'needs to be unset'));
  if (e.sourceComponent !== '' || e.sourceHost !== '') errs.push(invalid(n('source'), '', 'needs to be unset'));
  if (e.series) {
    if (num(e.series['count']) < 2) errs.push(invalid('series.count', '', 'should be at least 2'));
    if (typeof e.series['lastObservedTime'] !== 'string' || e.series['lastObservedTime'] === '') errs.push(required('series.lastObservedTime'));
  }
  return errs;
}

/** Field-selector values of a core/v1 Event that are not a plain path: `source` (kube: source.component, else reportingComponent). */
export function coreEventFieldValues(o: KObject): Record<string, string> {
  const source = strAt(o, 'source.component') || strAt(o, 'reportingComponent');
  return { source };
}

export function coreEvent(): ResourceType {
  const rt = defineKind(
    {
      group: '',
      version: 'v1',
      kind: 'Event',
      plural: 'events',
      namespaced: true,
      shortNames: ['ev'],
      description: 'Event is a report of an event somewhere in the cluster.',
      required: ['metadata', 'involvedObject'],
      fields: {
        involvedObject: objectReference(),
        reason: str({ description: 'Short, machine-understandable reason for the transition (CamelCase).' }),
        message: str({ description: 'Human-readable description of the status of this operation.' }),
        source: eventSource(),
        firstTimestamp: time({ description: 'When the event was first recorded.' }),
        lastTimestamp: time({ description: 'When the most recent occurrence of this event was recorded.' }),
        count: int({ description: 'The number of times this event has occurred.' }),
        type: str({ description: 'Type of this event (Normal, Warning); new types may be added.' }),
        eventTime: microTime({ description: 'When this event was first observed.' }),
        series: named(`${CORE_V1}.EventSeries`, obj(
          {
            count: int({ description: 'Number of occurrences in this series up to the last heartbeat.' }),
            lastObservedTime: microTime({ description: 'When the last occurrence was observed.' }),
          },
          { description: 'Data about the series this event represents; absent for a singleton event.' },
        )),
        action: str({ description: 'What action was taken or failed regarding the involved object.' }),
        related: objectReference(),
        reportingComponent: str({ description: 'Name of the controller that emitted this event, e.g. kubernetes.io/kubelet.' }),
        reportingInstance: str({ description: 'ID of the controller instance, e.g. kubelet-xyzf.' }),
      },
      // The fields kube-apiserver lets `--field-selector` use on events (source is computed: see fieldValues).
      selectableFields: [
        'involvedObject.kind',
        'involvedObject.namespace',
        'involvedObject.name',
        'involvedObject.uid',
        'involvedObject.apiVersion',
        'involvedObject.resourceVersion',
        'involvedObject.fieldPath',
        'reason',
        'reportingComponent',
        'source',
        'type',
      ],
      printerColumns: EVENT_COLUMNS({
        last: '.lastTimestamp',
        object: '.involvedObject.name',
        subobject: '.involvedObject.fieldPath',
        source: '.source.component',
        message: '.message',
        first: '.firstTimestamp',
        count: '.count',
      }),
      printRow: (o) => printCoreEvent(o),
      strategy: {
        validate: (o) => validateEvent(coreView(o), false, { reportingController: 'reportingComponent' }),
      },
    },
    objectMeta(),
  );
  rt.fieldValues = coreEventFieldValues;
  return rt;
}

export function eventsV1Event(): ResourceType {
  const v1Names = {
    involvedObject: 'regarding',
    message: 'note',
    firstTimestamp: 'deprecatedFirstTimestamp',
    lastTimestamp: 'deprecatedLastTimestamp',
    count: 'deprecatedCount',
    source: 'deprecatedSource',
  };
  return defineKind(
    {
      group: 'events.k8s.io',
      version: 'v1',
      kind: 'Event',
      plural: 'events',
      namespaced: true,
      description: 'Event is a report of an event somewhere in the cluster; best-effort, informative data with a limited retention time.',
      required: ['eventTime'],
      fields: {
        eventTime: microTime({ description: 'When this event was first observed. Required.' }),
        series: named('io.k8s.api.events.v1.EventSeries', obj(
          {
            count: int({ description: 'Number of occurrences in this series up to the last heartbeat.' }),
            lastObservedTime: microTime({ description: 'When the last occurrence was observed.' }),
          },
          { description: 'Data about the series this event represents; absent for a singleton event.', required: ['count', 'lastObservedTime'] },
        )),
        reportingController: str({ description: 'Name of the controller that emitted this event, e.g. kubernetes.io/kubelet. Required for new events.' }),
        reportingInstance: str({ description: 'ID of the controller instance, e.g. kubelet-xyzf. Required for new events; at most 128 characters.' }),
        action: str({ description: 'What action was taken or failed regarding the regarding object; at most 128 characters.' }),
        reason: str({ description: 'Why the action was taken; at most 128 characters.' }),
        regarding: objectReference(),
        related: objectReference(),
        note: str({ description: 'Human-readable description of the status of this operation; at most 1 kB.' }),
        type: str({ description: 'Type of this event: Normal or Warning.' }),
        deprecatedSource: eventSource(),
        deprecatedFirstTimestamp: time({ description: 'Deprecated field for backward compatibility with core/v1 Event.' }),
        deprecatedLastTimestamp: time({ description: 'Deprecated field for backward compatibility with core/v1 Event.' }),
        deprecatedCount: int({ description: 'Deprecated field for backward compatibility with core/v1 Event.' }),
      },
      selectableFields: [
        'regarding.kind',
        'regarding.namespace',
        'regarding.name',
        'regarding.uid',
        'regarding.apiVersion',
        'regarding.resourceVersion',
        'regarding.fieldPath',
        'reason',
        'reportingController',
        'type',
      ],
      printerColumns: EVENT_COLUMNS({
        last: '.deprecatedLastTimestamp',
        object: '.regarding.name',
        subobject: '.regarding.fieldPath',
        source: '.reportingController',
        message: '.note',
        first: '.eventTime',
        count: '.deprecatedCount',
      }),
      printRow: (o) => printEventsV1Event(o),
      strategy: {
        validate: (o, old) => validateEvent(eventsV1View(o), old === undefined, v1Names),
      },
    },
    objectMeta(),
  );
}

/** The Table cells of a core/v1 Event (wide columns included). */
export function printCoreEvent(o: KObject, now = Date.now()): unknown[] {
  return eventRow(coreView(o), now);
}

/** The Table cells of an events.k8s.io/v1 Event (wide columns included). */
export function printEventsV1Event(o: KObject, now = Date.now()): unknown[] {
  return eventRow(eventsV1View(o), now);
}
