import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError } from '../lib/errors.js';
import type { KObject, ResourceType } from '../api/types.js';
import {
  CREATION_TIMESTAMP_DESCRIPTION,
  NAME_DESCRIPTION,
  ageCell,
  compileJSONPath,
  convertResult,
  goJSON,
  goNumber,
  humanDuration,
  jsonPathText,
  listTable,
  objectTable,
  parseIncludeObject,
  partialObjectMetadata,
  partialObjectMetadataList,
  tablePrinter,
  watchTableEncoder,
  type Table,
} from './table.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;

function rt(over: Partial<ResourceType>): ResourceType {
  return {
    group: 'example.com',
    version: 'v1',
    kind: 'Widget',
    listKind: 'WidgetList',
    plural: 'widgets',
    singular: 'widget',
    shortNames: [],
    categories: [],
    namespaced: true,
    schema: {},
    subresources: {},
    printerColumns: [],
    selectableFields: [],
    verbs: [],
    source: 'crd',
    ...over,
  };
}

describe('compileJSONPath', () => {
  const obj = {
    metadata: { name: 'w', labels: { app: 'web', 'app.kubernetes.io/name': 'web2' }, annotations: { 'example.com/x': 'ann' } },
    spec: { replicas: 3, list: [{ name: 'a', n: 1 }, { name: 'b', n: 2 }, { name: 'c', n: 3 }], empty: [], flag: false, nil: null },
    status: {
      conditions: [
        { type: 'Synced', status: 'True' },
        { type: 'Ready', status: 'False', reason: 'Waiting' },
        { status: 'Unknown' },
      ],
    },
  };
  const cases: [string, unknown[]][] = [
    ['.spec.replicas', [3]],
    ['{.spec.replicas}', [3]],
    ['$.spec.replicas', [3]],
    ['spec.replicas', [3]],
    ['.metadata.labels.app', ['web']],
    ['.metadata.labels.missing', []],
    ['.metadata.annotations.example\\.com/x', ['ann']],
    [".metadata.labels['app.kubernetes.io/name']", ['web2']],
    ['.metadata.labels["app.kubernetes.io/name"]', ['web2']],
    ['.spec.list[0].name', ['a']],
    ['.spec.list[-1].name', ['c']],
    ['.spec.list[5].name', []],
    ['.spec.list[*].name', ['a', 'b', 'c']],
    ['.spec.list[1:].name', ['b', 'c']],
    ['.spec.list[:2].name', ['a', 'b']],
    ['.spec.list.name', []],
    ['.metadata.labels.*', ['web', 'web2']],
    ['.status.conditions[?(@.type=="Ready")].status', ['False']],
    [".status.conditions[?(@.type=='Ready')].reason", ['Waiting']],
    ['.status.conditions[?(@.type!="Ready")].status', ['True']],
    ['.status.conditions[?(@.reason)].type', ['Ready']],
    ['.spec.list[?(@.n>1)].name', ['b', 'c']],
    ['.spec.list[?(@.n<=2)].name', ['a', 'b']],
    ['.spec.list[?(@.n=="1")].name', []], // unlike types: client-go fails the whole path
    ['.spec.replicas[?(@.x==1)]', []], // filtering a non-list fails too
    ['.spec.flag', [false]],
    ['.spec.nil', [null]],
    ['.spec.empty', [[]]],
    ['.', [obj]],
  ];
  for (const [path, want] of cases) it(path, () => assert.deepEqual(compileJSONPath(path).find(obj), want));
  for (const bad of ['..spec', '.spec[', '.spec[?(x)]', '.spec[a b]', '.spec.a b']) {
    it(`rejects ${bad}`, () => assert.throws(() => compileJSONPath(bad), /unrecognized JSONPath/));
  }
});

describe('Go formatting of cell values', () => {
  const numbers: [number, string][] = [
    [0, '0'],
    [3, '3'],
    [-7, '-7'],
    [1.5, '1.5'],
    [-2.5, '-2.5'],
    [123456.5, '123456.5'],
    [1234567.5, '1.2345675e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1e21, '1e+21'],
    [2 ** 63, '9.223372036854776e+18'],
    [9007199254740991, '9007199254740991'],
  ];
  for (const [n, want] of numbers) it(`goNumber(${n})`, () => assert.equal(goNumber(n), want));
  it('goJSON sorts keys and escapes HTML', () => {
    assert.equal(goJSON({ b: 1, a: ['<x>', { d: null, c: true }] }), '{"a":["\\u003cx\\u003e",{"c":true,"d":null}],"b":1}');
    assert.equal(goJSON('a&b'), '"a\\u0026b"');
  });
  it('jsonPathText prints like client-go', () => {
    assert.equal(jsonPathText('x'), 'x');
    assert.equal(jsonPathText(2), '2');
    assert.equal(jsonPathText(true), 'true');
    assert.equal(jsonPathText(null), '<nil>');
    assert.equal(jsonPathText({ b: 'y', a: 'x' }), '{"a":"x","b":"y"}');
    assert.equal(jsonPathText(['a', 1]), '["a",1]');
  });
});

describe('humanDuration (duration.HumanDuration)', () => {
  const cases: [number, string][] = [
    [-2 * S, '<invalid>'],
    [-1 * S, '0s'],
    [-500, '0s'],
    [0, '0s'],
    [1 * S, '1s'],
    [70 * S, '70s'],
    [119 * S, '119s'],
    [120 * S, '2m'],
    [190 * S, '3m10s'],
    [10 * M, '10m'],
    [70 * M, '70m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [3 * H + 30 * M, '3h30m'],
    [8 * H + 5 * M, '8h'],
    [47 * H, '47h'],
    [48 * H, '2d'],
    [49 * H, '2d1h'],
    [(8 * 24 + 2) * H, '8d'],
    [367 * 24 * H, '367d'],
    [(365 * 2 * 24 + 25) * H, '2y1d'],
    [365 * 2 * 24 * H, '2y'],
    [(365 * 8 * 24 + 2) * H, '8y'],
  ];
  for (const [ms, want] of cases) it(`${ms}ms → ${want}`, () => assert.equal(humanDuration(ms), want));
  it('ageCell', () => {
    assert.equal(ageCell('2026-01-01T11:55:00Z', NOW), '5m');
    assert.equal(ageCell('2026-01-01T11:55:00.123456Z', NOW), '4m59s');
    assert.equal(ageCell('2026-01-01T12:55:00+01:00', NOW), '5m');
    assert.equal(ageCell(undefined, NOW), '<unknown>');
    assert.equal(ageCell('', NOW), '<unknown>');
    assert.equal(ageCell('yesterday', NOW), '<invalid>');
    assert.equal(ageCell('2026-01-01', NOW), '<invalid>');
  });
});

const created = '2026-01-01T11:55:00Z';
function widget(name: string, spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name, namespace: 'default', resourceVersion: '7', uid: `uid-${name}`, creationTimestamp: created, labels: { app: name } },
    spec,
    status,
  };
}

describe('Table: custom resources (apiextensions tableconvertor)', () => {
  const crd = rt({
    printerColumns: [
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio', priority: 1 },
      { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'ready?' },
      { name: 'Labels', type: 'string', jsonPath: '.metadata.labels' },
      { name: 'Started', type: 'date', jsonPath: '.status.startTime', format: 'date-time' },
    ],
  });
  it('columns: Name, then the declared ones; no Age when columns are declared', () => {
    assert.deepEqual(tablePrinter(crd).columns, [
      { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 },
      { name: 'Replicas', type: 'integer', format: '', description: '', priority: 0 },
      { name: 'Ratio', type: 'number', format: '', description: '', priority: 1 },
      { name: 'Paused', type: 'boolean', format: '', description: '', priority: 0 },
      { name: 'Ready', type: 'string', format: '', description: 'ready?', priority: 0 },
      { name: 'Labels', type: 'string', format: '', description: '', priority: 0 },
      { name: 'Started', type: 'date', format: 'date-time', description: '', priority: 0 },
    ]);
  });
  it('cells are typed; missing or mistyped values are null', () => {
    const full = widget('a', { replicas: 2.7, ratio: 0.5, paused: true }, { conditions: [{ type: 'Ready', status: 'True' }], startTime: '2026-01-01T10:00:00Z' });
    assert.deepEqual(tablePrinter(crd).cells(full, NOW), ['a', 2, 0.5, true, 'True', '{"app":"a"}', '120m']);
    const bare = widget('b', { replicas: 'three', ratio: 'x', paused: 'no' }, { startTime: 'soon' });
    assert.deepEqual(tablePrinter(crd).cells(bare, NOW), ['b', null, null, null, null, '{"app":"b"}', '<invalid>']);
  });
  it('a CRD without columns gets Age as a date column', () => {
    const p = tablePrinter(rt({}));
    assert.deepEqual(p.columns.map((c) => [c.name, c.type, c.description]), [
      ['Name', 'string', NAME_DESCRIPTION],
      ['Age', 'date', CREATION_TIMESTAMP_DESCRIPTION],
    ]);
    assert.deepEqual(p.cells(widget('x'), NOW), ['x', '5m']);
  });
  it('the printer is compiled once per ResourceType', () => assert.equal(tablePrinter(crd), tablePrinter(crd)));
  it('a broken JSONPath is an Internal error when the type is first printed', () => {
    assert.throws(() => tablePrinter(rt({ printerColumns: [{ name: 'X', type: 'string', jsonPath: '..x' }] })), (e: unknown) => isKumoError(e, 'Internal'));
  });
});

describe('Table: built-in kinds (pkg/printers)', () => {
  const configmaps = rt({
    group: '',
    kind: 'ConfigMap',
    listKind: 'ConfigMapList',
    source: 'builtin',
    printerColumns: [{ name: 'Data', type: 'integer', jsonPath: '.data' }],
    printRow: (o) => [Object.keys((o['data'] as Record<string, string> | undefined) ?? {}).length],
  });
  const cm: KObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default', creationTimestamp: created, resourceVersion: '12' }, data: { a: '1', b: '2' } };
  it('Name, the printer\'s columns, then Age as a preformatted string', () => {
    const t = objectTable(configmaps, cm, { now: NOW });
    assert.deepEqual(t.columnDefinitions?.map((c) => [c.name, c.type, c.format]), [
      ['Name', 'string', 'name'],
      ['Data', 'integer', ''],
      ['Age', 'string', ''],
    ]);
    assert.deepEqual(t.rows[0]?.cells, ['cfg', 2, '5m']);
    assert.deepEqual(t.metadata, { resourceVersion: '12' });
  });
  it('built-ins without printRow read their columns by JSONPath', () => {
    const leases = rt({ group: 'coordination.k8s.io', kind: 'Lease', source: 'builtin', printerColumns: [{ name: 'Holder', type: 'string', jsonPath: '.spec.holderIdentity' }] });
    const lease: KObject = { metadata: { name: 'l', creationTimestamp: created }, spec: { holderIdentity: 'node-1' } };
    assert.deepEqual(tablePrinter(leases).cells(lease, NOW), ['l', 'node-1', '5m']);
  });
  it('an explicit Age column is not doubled', () => {
    const withAge = rt({ source: 'builtin', printerColumns: [{ name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' }] });
    assert.deepEqual(tablePrinter(withAge).columns.map((c) => c.name), ['Name', 'AGE']);
    assert.deepEqual(tablePrinter(withAge).cells(widget('w'), NOW), ['w', '5m']);
  });
  it('a printRow of the wrong length is an Internal error', () => {
    const broken = rt({ source: 'builtin', printerColumns: [{ name: 'A', type: 'string', jsonPath: '.a' }], printRow: () => [] });
    assert.throws(() => objectTable(broken, widget('x'), { now: NOW }), (e: unknown) => isKumoError(e, 'Internal'));
  });
});

describe('Table: rows, objects, list metadata', () => {
  const plain = rt({});
  const items = [widget('a'), widget('b')];
  it('includeObject=Metadata (default) carries PartialObjectMetadata', () => {
    const t = listTable(plain, items, { resourceVersion: '42', continue: 'tok', remainingItemCount: 3 }, { now: NOW });
    assert.equal(t.kind, 'Table');
    assert.equal(t.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(t.metadata, { resourceVersion: '42', continue: 'tok', remainingItemCount: 3 });
    assert.deepEqual(t.rows.map((r) => r.cells), [['a', '5m'], ['b', '5m']]);
    assert.deepEqual(t.rows[0]?.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: items[0]?.metadata });
  });
  it('includeObject=Object and None; v1beta1', () => {
    const t = listTable(plain, items, {}, { includeObject: 'Object', version: 'v1beta1', now: NOW });
    assert.equal(t.apiVersion, 'meta.k8s.io/v1beta1');
    assert.equal(t.rows[1]?.object, items[1]);
    assert.deepEqual(t.metadata, {});
    const n = listTable(plain, items, {}, { includeObject: 'None', now: NOW });
    assert.deepEqual(n.rows.map((r) => r.object), [null, null]);
  });
  it('an empty list has rows [] and still its columns', () => {
    const t = listTable(plain, [], { resourceVersion: '1' }, { now: NOW });
    assert.deepEqual(t.rows, []);
    assert.equal(t.columnDefinitions?.length, 2);
  });
  it('serializes like kube (columnDefinitions null without headers, object null for None)', () => {
    const t = listTable(plain, [widget('a')], {}, { noHeaders: true, includeObject: 'None', now: NOW });
    assert.equal(JSON.stringify(t), '{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{},"columnDefinitions":null,"rows":[{"cells":["a","5m"],"object":null}]}');
  });
  it('watch tables send the column definitions once', () => {
    const enc = watchTableEncoder(plain, { now: () => NOW });
    const first: Table = enc(widget('a'));
    const second: Table = enc(widget('b'));
    assert.equal(first.columnDefinitions?.length, 2);
    assert.equal(second.columnDefinitions, null);
    assert.deepEqual(second.rows[0]?.cells, ['b', '5m']);
    assert.deepEqual(second.metadata, { resourceVersion: '7' });
  });
});

describe('parseIncludeObject', () => {
  const ok: [string, string][] = [
    ['', 'Metadata'],
    ['includeObject=', 'Metadata'],
    ['includeObject=Metadata', 'Metadata'],
    ['includeObject=Object', 'Object'],
    ['includeObject=None', 'None'],
  ];
  for (const [q, want] of ok) it(q || '(none)', () => assert.equal(parseIncludeObject(new URLSearchParams(q)), want));
  it('anything else is kube\'s BadRequest', () => {
    assert.throws(
      () => parseIncludeObject(new URLSearchParams('includeObject=object')),
      (e: unknown) =>
        isKumoError(e, 'BadRequest') && e.message === `Unable to convert to Table as requested: includeObject: Invalid value: "object": must be 'Metadata', 'Object', 'None', or empty`,
    );
  });
});

describe('PartialObjectMetadata and convertResult', () => {
  const crd = rt({});
  const builtin = rt({ group: '', kind: 'ConfigMap', listKind: 'ConfigMapList', source: 'builtin' });
  const w = widget('a');
  it('partialObjectMetadata keeps the whole metadata and nothing else', () => {
    assert.deepEqual(partialObjectMetadata(w), { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: w.metadata });
    assert.notEqual(partialObjectMetadata(w).metadata, w.metadata);
    assert.deepEqual(partialObjectMetadata({}, 'v1beta1'), { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1beta1', metadata: {} });
  });
  it('partialObjectMetadataList', () => {
    assert.deepEqual(partialObjectMetadataList([w], { resourceVersion: '9', continue: '' }), {
      kind: 'PartialObjectMetadataList',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: '9' },
      items: [{ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: w.metadata }],
    });
    assert.deepEqual(partialObjectMetadataList([], {}).items, []);
  });
  it('dispatches on the conversion and the shape', () => {
    assert.equal((convertResult(crd, { type: 'object', object: w }, 'Table', { now: NOW }) as Table).rows.length, 1);
    assert.equal((convertResult(crd, { type: 'list', items: [w, w], metadata: {} }, 'Table', { now: NOW }) as Table).rows.length, 2);
    assert.equal(convertResult(crd, { type: 'object', object: w }, 'PartialObjectMetadata').kind, 'PartialObjectMetadata');
    assert.equal(convertResult(crd, { type: 'list', items: [w], metadata: {} }, 'PartialObjectMetadataList').kind, 'PartialObjectMetadataList');
  });
  it('the wrong shape is 406 with kube\'s wording', () => {
    const is406 = (msg: string) => (e: unknown) => isKumoError(e, 'NotAcceptable') && e.message === msg;
    assert.throws(
      () => convertResult(crd, { type: 'list', items: [], metadata: {} }, 'PartialObjectMetadata'),
      is406('you requested PartialObjectMetadata, but the requested object is a list (*unstructured.UnstructuredList)'),
    );
    assert.throws(
      () => convertResult(builtin, { type: 'object', object: w }, 'PartialObjectMetadataList'),
      is406('you requested PartialObjectMetadataList, but the requested object is not a list (*core.ConfigMap)'),
    );
  });
  it('a Status passes through', () => {
    const status: KObject = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410 };
    assert.equal(convertResult(crd, { type: 'object', object: status }, 'Table'), status);
  });
});
