import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError } from '../lib/errors.js';
import { PROTOBUF_MAGIC, decodeProtobufObject, isProtobuf, protobufRoot } from './protobuf.js';

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const CORE = 'k8s.io.api.core.v1';

/** Encodes a message with the same definitions the decoder uses. */
function encodeMessage(message: string, obj: Record<string, unknown>): Uint8Array {
  const type = protobufRoot().lookupType(message);
  const err = type.verify(obj);
  assert.equal(err, null, `${message}: ${err}`);
  return type.encode(type.fromObject(obj)).finish();
}

/** kube's envelope: magic, then runtime.Unknown{typeMeta, raw}. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array, extra: Record<string, unknown> = {}): Buffer {
  const unk = encodeMessage('k8s.io.apimachinery.pkg.runtime.Unknown', { typeMeta: { apiVersion, kind }, raw, ...extra });
  return Buffer.concat([PROTOBUF_MAGIC, unk]);
}

function body(apiVersion: string, kind: string, message: string, obj: Record<string, unknown>): Buffer {
  return envelope(apiVersion, kind, encodeMessage(message, obj));
}

/** What gogo writes for an ObjectMeta with only a name: every non-pointer field, zero or not. */
const KUBECTL_META = { name: 'x', generateName: '', namespace: '', selfLink: '', uid: '', resourceVersion: '', generation: 0, creationTimestamp: {} };

function fails(fn: () => unknown, code: string, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isKumoError(e), `not a KumoError: ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

// Hand-written wire bytes: tag(field, wireType), varint, length-delimited.
function tag(field: number, wt: number): number[] {
  return varint((field << 3) | wt);
}
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
function ld(field: number, bytes: number[] | Uint8Array): number[] {
  return [...tag(field, 2), ...varint(bytes.length), ...bytes];
}
function str(field: number, s: string): number[] {
  return ld(field, [...Buffer.from(s, 'utf8')]);
}

describe('isProtobuf', () => {
  it('recognizes kube protobuf, parameters and case aside', () => {
    assert.equal(isProtobuf('application/vnd.kubernetes.protobuf'), true);
    assert.equal(isProtobuf('application/vnd.kubernetes.protobuf; charset=utf-8'), true);
    assert.equal(isProtobuf('Application/Vnd.Kubernetes.Protobuf'), true);
    assert.equal(isProtobuf(' application/vnd.kubernetes.protobuf '), true);
    assert.equal(isProtobuf('application/vnd.kubernetes.protobuf;stream=watch'), true);
  });
  it('is false for everything else', () => {
    for (const ct of [undefined, '', 'application/json', 'application/yaml', 'application/protobuf', 'application/vnd.kubernetes.protobuf+json', 'application/vnd.kubernetes.protobuf;;x', 'application/cbor', 'protobuf']) {
      assert.equal(isProtobuf(ct), false, String(ct));
    }
  });
});

describe('decodeProtobufObject: core/v1', () => {
  it('ConfigMap: data, binaryData as base64, immutable false kept (a pointer), kubectl-style empty fields left out', () => {
    const obj = decodeProtobufObject(
      body('v1', 'ConfigMap', `${CORE}.ConfigMap`, {
        metadata: { ...KUBECTL_META, name: 'cm', namespace: 'ns' },
        immutable: false,
        data: { b: '2', a: '1' },
        binaryData: { 'bin.dat': Buffer.from([0, 1, 2, 0xff]) },
      }),
    );
    assert.equal(
      JSON.stringify(obj),
      JSON.stringify({
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name: 'cm', namespace: 'ns', creationTimestamp: null },
        immutable: false,
        data: { a: '1', b: '2' },
        binaryData: { 'bin.dat': 'AAEC/w==' },
      }),
    );
  });

  it('map keys that are Object.prototype names stay plain own keys', () => {
    const obj = decodeProtobufObject(body('v1', 'ConfigMap', `${CORE}.ConfigMap`, { data: JSON.parse('{"__proto__":"x","constructor":"y","a":"b"}') as Record<string, string> }));
    assert.equal(JSON.stringify(obj.data), '{"__proto__":"x","a":"b","constructor":"y"}');
    assert.deepEqual(obj.data, JSON.parse('{"__proto__":"x","a":"b","constructor":"y"}'));
    assert.equal(Object.getPrototypeOf(obj.data), Object.prototype);
  });

  it('ConfigMap with nothing set is just kind, apiVersion and metadata (as encoding/json writes it)', () => {
    assert.deepEqual(decodeProtobufObject(envelope('v1', 'ConfigMap', new Uint8Array(0))), {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { creationTimestamp: null },
    });
  });

  it('Secret: data bytes as base64 (empty value is ""), stringData, type', () => {
    const obj = decodeProtobufObject(
      body('v1', 'Secret', `${CORE}.Secret`, {
        metadata: { name: 's' },
        data: { k: Buffer.from('v'), empty: Buffer.alloc(0), bin: Buffer.from([0xfb, 0xff]) },
        stringData: { plain: 'text' },
        type: 'kubernetes.io/basic-auth',
        immutable: true,
      }),
    );
    assert.deepEqual(obj, {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 's', creationTimestamp: null },
      immutable: true,
      data: { bin: '+/8=', empty: '', k: 'dg==' },
      stringData: { plain: 'text' },
      type: 'kubernetes.io/basic-auth',
    });
  });

  it('Namespace: spec and status always written (struct values), conditions with their always-written fields', () => {
    assert.deepEqual(decodeProtobufObject(body('v1', 'Namespace', `${CORE}.Namespace`, { metadata: { name: 'n' } })), {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'n', creationTimestamp: null },
      spec: {},
      status: {},
    });
    const obj = decodeProtobufObject(
      body('v1', 'Namespace', `${CORE}.Namespace`, {
        metadata: { name: 'n' },
        spec: { finalizers: ['kubernetes'] },
        status: {
          phase: 'Terminating',
          conditions: [
            { type: 'NamespaceDeletionContentFailure', status: 'False', lastTransitionTime: { seconds: 1700000000 }, reason: 'ContentDeleted', message: 'done' },
            { type: '', status: '' },
          ],
        },
      }),
    );
    assert.deepEqual(obj.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(obj.status, {
      phase: 'Terminating',
      conditions: [
        { type: 'NamespaceDeletionContentFailure', status: 'False', lastTransitionTime: '2023-11-14T22:13:20Z', reason: 'ContentDeleted', message: 'done' },
        { type: '', status: '', lastTransitionTime: null },
      ],
    });
  });

  it('ServiceAccount: secrets, imagePullSecrets, automountServiceAccountToken false kept', () => {
    assert.deepEqual(
      decodeProtobufObject(
        body('v1', 'ServiceAccount', `${CORE}.ServiceAccount`, {
          metadata: { name: 'sa', namespace: 'default' },
          secrets: [{ name: 'tok', kind: '', namespace: '' }],
          imagePullSecrets: [{ name: 'reg' }, {}],
          automountServiceAccountToken: false,
        }),
      ),
      {
        kind: 'ServiceAccount',
        apiVersion: 'v1',
        metadata: { name: 'sa', namespace: 'default', creationTimestamp: null },
        secrets: [{ name: 'tok' }],
        imagePullSecrets: [{ name: 'reg' }, {}],
        automountServiceAccountToken: false,
      },
    );
  });

  it('core Event: every field, Time/MicroTime formats, struct values always written, pointers only when set', () => {
    const full = decodeProtobufObject(
      body('v1', 'Event', `${CORE}.Event`, {
        metadata: { name: 'pod.17a', namespace: 'default' },
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'p', uid: 'u-1', apiVersion: 'v1', resourceVersion: '42', fieldPath: 'spec.containers{c}' },
        reason: 'Started',
        message: 'Started container c',
        source: { component: 'kubelet', host: 'node-1' },
        firstTimestamp: { seconds: 1700000000 },
        lastTimestamp: { seconds: 1700000060, nanos: 999999999 },
        count: 3,
        type: 'Normal',
        eventTime: { seconds: 1700000000, nanos: 123456789 },
        series: { count: 2, lastObservedTime: { seconds: 1700000001, nanos: 1000 } },
        action: 'Start',
        related: { kind: 'Node', name: 'node-1' },
        reportingComponent: 'kubelet',
        reportingInstance: 'node-1',
      }),
    );
    assert.equal(
      JSON.stringify(full),
      JSON.stringify({
        kind: 'Event',
        apiVersion: 'v1',
        metadata: { name: 'pod.17a', namespace: 'default', creationTimestamp: null },
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'p', uid: 'u-1', apiVersion: 'v1', resourceVersion: '42', fieldPath: 'spec.containers{c}' },
        reason: 'Started',
        message: 'Started container c',
        source: { component: 'kubelet', host: 'node-1' },
        firstTimestamp: '2023-11-14T22:13:20Z',
        lastTimestamp: '2023-11-14T22:14:20Z',
        count: 3,
        type: 'Normal',
        eventTime: '2023-11-14T22:13:20.123456Z',
        series: { count: 2, lastObservedTime: '2023-11-14T22:13:21.000001Z' },
        action: 'Start',
        related: { kind: 'Node', name: 'node-1' },
        reportingComponent: 'kubelet',
        reportingInstance: 'node-1',
      }),
    );
    assert.deepEqual(decodeProtobufObject(body('v1', 'Event', `${CORE}.Event`, { metadata: { name: 'e' } })), {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { name: 'e', creationTimestamp: null },
      involvedObject: {},
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    });
  });
});

describe('decodeProtobufObject: ObjectMeta', () => {
  it('every field, maps sorted, owner references, managed fields with FieldsV1 as JSON', () => {
    const obj = decodeProtobufObject(
      body('v1', 'ConfigMap', `${CORE}.ConfigMap`, {
        metadata: {
          name: '',
          generateName: 'cm-',
          namespace: 'ns',
          selfLink: '',
          uid: '6f1c4a2e-0000-4000-8000-000000000001',
          resourceVersion: '17',
          generation: 3,
          creationTimestamp: { seconds: 1609459200 },
          deletionTimestamp: { seconds: 1609459260 },
          deletionGracePeriodSeconds: 0,
          labels: { 'z/last': '1', app: 'web', 'a.b/c': '' },
          annotations: { note: 'x' },
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u-rs', controller: true, blockOwnerDeletion: false },
            { apiVersion: '', kind: '', name: '', uid: '' },
          ],
          finalizers: ['kumo.dev/a', 'kumo.dev/b'],
          managedFields: [
            {
              manager: 'kubectl-client-side-apply',
              operation: 'Update',
              apiVersion: 'v1',
              time: { seconds: 1609459200 },
              fieldsType: 'FieldsV1',
              fieldsV1: { Raw: Buffer.from('{"f:data":{".":{},"f:a":{}}}') },
              subresource: '',
            },
            { manager: 'm', fieldsV1: {} },
          ],
        },
      }),
    );
    assert.equal(
      JSON.stringify(obj.metadata),
      JSON.stringify({
        generateName: 'cm-',
        namespace: 'ns',
        uid: '6f1c4a2e-0000-4000-8000-000000000001',
        resourceVersion: '17',
        generation: 3,
        creationTimestamp: '2021-01-01T00:00:00Z',
        deletionTimestamp: '2021-01-01T00:01:00Z',
        deletionGracePeriodSeconds: 0,
        labels: { 'a.b/c': '', app: 'web', 'z/last': '1' },
        annotations: { note: 'x' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u-rs', controller: true, blockOwnerDeletion: false },
          { apiVersion: '', kind: '', name: '', uid: '' },
        ],
        finalizers: ['kumo.dev/a', 'kumo.dev/b'],
        managedFields: [
          { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2021-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:a': {} } } },
          { manager: 'm', fieldsV1: null },
        ],
      }),
    );
  });

  it('skips fields it does not know (ObjectMeta.clusterName = 15 of old clients, future fields, groups)', () => {
    const meta = [...str(1, 'cm'), ...str(15, 'old-cluster'), ...tag(99, 0), ...varint(7), ...tag(98, 5), 1, 2, 3, 4, ...tag(97, 1), 1, 2, 3, 4, 5, 6, 7, 8, ...tag(96, 3), ...str(1, 'in group'), ...tag(96, 4)];
    const raw = Uint8Array.from([...ld(1, meta), ...tag(50, 0), 1]);
    assert.deepEqual(decodeProtobufObject(envelope('v1', 'ConfigMap', raw)), { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm', creationTimestamp: null } });
  });

  it('int64 beyond 32 bits and negative values', () => {
    const obj = decodeProtobufObject(body('v1', 'ConfigMap', `${CORE}.ConfigMap`, { metadata: { name: 'x', generation: 2 ** 40 + 1, deletionGracePeriodSeconds: -1 } }));
    assert.deepEqual(obj.metadata, { name: 'x', generation: 2 ** 40 + 1, creationTimestamp: null, deletionGracePeriodSeconds: -1 });
  });

  it('a map entry with no value decodes as the zero value, a repeated key keeps the last', () => {
    const entry = (k: string, v?: string): number[] => ld(11, [...str(1, k), ...(v === undefined ? [] : str(2, v))]);
    const meta = [...str(1, 'x'), ...entry('a'), ...entry('b', '1'), ...entry('b', '2')];
    const obj = decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from(ld(1, meta))));
    assert.deepEqual((obj.metadata as Record<string, unknown>).labels, { a: '', b: '2' });
  });
});

describe('decodeProtobufObject: times', () => {
  const at = (t: Record<string, unknown>): unknown =>
    (decodeProtobufObject(body('v1', 'Namespace', `${CORE}.Namespace`, { metadata: { name: 'n', creationTimestamp: t } })).metadata as Record<string, unknown>).creationTimestamp;
  const micro = (t: Record<string, unknown>): unknown =>
    (decodeProtobufObject(body('coordination.k8s.io/v1', 'Lease', 'k8s.io.api.coordination.v1.Lease', { spec: { renewTime: t } })).spec as Record<string, unknown>).renewTime;

  it('Time: RFC 3339 in UTC, seconds only (kube drops the nanos)', () => {
    assert.equal(at({ seconds: 0 }), '1970-01-01T00:00:00Z');
    assert.equal(at({ seconds: 1700000000, nanos: 999999999 }), '2023-11-14T22:13:20Z');
    assert.equal(at({ seconds: -1 }), '1969-12-31T23:59:59Z');
    assert.equal(at({ seconds: 253402300799 }), '9999-12-31T23:59:59Z');
    assert.equal(at({ nanos: 5 }), '1970-01-01T00:00:00Z');
  });
  it('Time: empty message or Go zero time → null', () => {
    assert.equal(at({}), null);
    assert.equal(at({ seconds: -62135596800 }), null);
    assert.equal(at({ seconds: -62135596799 }), '0001-01-01T00:00:01Z');
  });
  it('MicroTime: microseconds, truncated; nanos outside [0, 1e9) normalized as time.Unix does', () => {
    assert.equal(micro({ seconds: 1700000000, nanos: 123456789 }), '2023-11-14T22:13:20.123456Z');
    assert.equal(micro({ seconds: 1700000000 }), '2023-11-14T22:13:20.000000Z');
    assert.equal(micro({ seconds: 1700000000, nanos: 999 }), '2023-11-14T22:13:20.000000Z');
    assert.equal(micro({ seconds: 1700000000, nanos: -1000 }), '2023-11-14T22:13:19.999999Z');
    assert.equal(micro({ seconds: 1700000000, nanos: 1500000000 }), '2023-11-14T22:13:21.500000Z');
    assert.equal(micro({}), null);
    assert.equal(micro({ seconds: -62135596800 }), null);
  });
  it('a time too far out for a date is a BadRequest', () => {
    fails(() => at({ seconds: 9e15 }), 'BadRequest', /time .* is out of range/);
  });
});

describe('decodeProtobufObject: authentication, rbac, coordination, events, DeleteOptions', () => {
  it('TokenRequest: audiences/expirationSeconds/boundObjectRef are null when unset, status always written', () => {
    assert.equal(
      JSON.stringify(decodeProtobufObject(body('authentication.k8s.io/v1', 'TokenRequest', 'k8s.io.api.authentication.v1.TokenRequest', {}))),
      '{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"audiences":null,"expirationSeconds":null,"boundObjectRef":null},"status":{"token":"","expirationTimestamp":null}}',
    );
    const obj = decodeProtobufObject(
      body('authentication.k8s.io/v1', 'TokenRequest', 'k8s.io.api.authentication.v1.TokenRequest', {
        spec: { audiences: ['https://kumo'], expirationSeconds: 0, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'u-p' } },
      }),
    );
    assert.deepEqual(obj.spec, { audiences: ['https://kumo'], expirationSeconds: 0, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'u-p' } });
  });

  it('Role and ClusterRole: rules null when empty, verbs always written, aggregationRule with selectors', () => {
    assert.equal(
      JSON.stringify(decodeProtobufObject(body('rbac.authorization.k8s.io/v1', 'Role', 'k8s.io.api.rbac.v1.Role', { metadata: { name: 'r' }, rules: [{ resources: ['pods'] }] }))),
      '{"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"r","creationTimestamp":null},"rules":[{"verbs":null,"resources":["pods"]}]}',
    );
    const cr = decodeProtobufObject(
      body('rbac.authorization.k8s.io/v1', 'ClusterRole', 'k8s.io.api.rbac.v1.ClusterRole', {
        metadata: { name: 'agg' },
        aggregationRule: {
          clusterRoleSelectors: [{ matchLabels: { 'rbac.kumo.dev/aggregate': 'true' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'Exists' }] }, {}],
        },
      }),
    );
    assert.equal(
      JSON.stringify(cr),
      JSON.stringify({
        kind: 'ClusterRole',
        apiVersion: 'rbac.authorization.k8s.io/v1',
        metadata: { name: 'agg', creationTimestamp: null },
        rules: null,
        aggregationRule: {
          clusterRoleSelectors: [{ matchLabels: { 'rbac.kumo.dev/aggregate': 'true' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'Exists' }] }, {}],
        },
      }),
    );
    const rules = decodeProtobufObject(
      body('rbac.authorization.k8s.io/v1', 'ClusterRole', 'k8s.io.api.rbac.v1.ClusterRole', {
        rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }],
      }),
    );
    assert.deepEqual(rules.rules, [
      { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] },
      { verbs: ['get'], nonResourceURLs: ['/healthz'] },
    ]);
  });

  it('RoleBinding and ClusterRoleBinding: roleRef always written, subject kind/name always written', () => {
    for (const kind of ['RoleBinding', 'ClusterRoleBinding']) {
      assert.deepEqual(decodeProtobufObject(body('rbac.authorization.k8s.io/v1', kind, `k8s.io.api.rbac.v1.${kind}`, { metadata: { name: 'b' }, subjects: [{ namespace: 'ns' }] })), {
        kind,
        apiVersion: 'rbac.authorization.k8s.io/v1',
        metadata: { name: 'b', creationTimestamp: null },
        subjects: [{ kind: '', name: '', namespace: 'ns' }],
        roleRef: { apiGroup: '', kind: '', name: '' },
      });
    }
  });

  it('Lease: every spec field is a pointer, so zero values that were set stay', () => {
    const obj = decodeProtobufObject(
      body('coordination.k8s.io/v1', 'Lease', 'k8s.io.api.coordination.v1.Lease', {
        metadata: { name: 'kumo-controller', namespace: 'kube-system' },
        spec: { holderIdentity: '', leaseDurationSeconds: 15, acquireTime: { seconds: 1700000000, nanos: 5000 }, renewTime: { seconds: 1700000010 }, leaseTransitions: 0, strategy: 'OldestEmulationVersion', preferredHolder: 'b' },
      }),
    );
    assert.deepEqual(obj.spec, {
      holderIdentity: '',
      leaseDurationSeconds: 15,
      acquireTime: '2023-11-14T22:13:20.000005Z',
      renewTime: '2023-11-14T22:13:30.000000Z',
      leaseTransitions: 0,
      strategy: 'OldestEmulationVersion',
      preferredHolder: 'b',
    });
    assert.deepEqual(decodeProtobufObject(body('coordination.k8s.io/v1', 'Lease', 'k8s.io.api.coordination.v1.Lease', {})).spec, {});
  });

  it('events.k8s.io/v1 Event: eventTime always written, series count always written, deprecated fields', () => {
    const obj = decodeProtobufObject(
      body('events.k8s.io/v1', 'Event', 'k8s.io.api.events.v1.Event', {
        metadata: { name: 'e1', namespace: 'default' },
        eventTime: { seconds: 1700000000, nanos: 1000 },
        series: { count: 0, lastObservedTime: { seconds: 1700000005 } },
        reportingController: 'kumo.dev/gc',
        reportingInstance: 'kumo-1',
        action: 'Deleting',
        reason: 'Orphaned',
        regarding: { kind: 'ConfigMap', namespace: 'default', name: 'cm' },
        related: { kind: 'ConfigMap', name: 'owner' },
        note: 'owner is gone',
        type: 'Normal',
        deprecatedSource: { component: 'gc' },
        deprecatedFirstTimestamp: { seconds: 1700000000 },
        deprecatedLastTimestamp: { seconds: 1700000001 },
        deprecatedCount: 2,
      }),
    );
    assert.equal(
      JSON.stringify(obj),
      JSON.stringify({
        kind: 'Event',
        apiVersion: 'events.k8s.io/v1',
        metadata: { name: 'e1', namespace: 'default', creationTimestamp: null },
        eventTime: '2023-11-14T22:13:20.000001Z',
        series: { count: 0, lastObservedTime: '2023-11-14T22:13:25.000000Z' },
        reportingController: 'kumo.dev/gc',
        reportingInstance: 'kumo-1',
        action: 'Deleting',
        reason: 'Orphaned',
        regarding: { kind: 'ConfigMap', namespace: 'default', name: 'cm' },
        related: { kind: 'ConfigMap', name: 'owner' },
        note: 'owner is gone',
        type: 'Normal',
        deprecatedSource: { component: 'gc' },
        deprecatedFirstTimestamp: '2023-11-14T22:13:20Z',
        deprecatedLastTimestamp: '2023-11-14T22:13:21Z',
        deprecatedCount: 2,
      }),
    );
    assert.deepEqual(decodeProtobufObject(body('events.k8s.io/v1', 'Event', 'k8s.io.api.events.v1.Event', {})), {
      kind: 'Event',
      apiVersion: 'events.k8s.io/v1',
      metadata: { creationTimestamp: null },
      eventTime: null,
      regarding: {},
      deprecatedSource: {},
      deprecatedFirstTimestamp: null,
      deprecatedLastTimestamp: null,
    });
  });

  it('DeleteOptions: pointers kept when set (gracePeriodSeconds 0, orphanDependents false), in any group at v1', () => {
    const opts = { gracePeriodSeconds: 0, preconditions: { uid: 'u-1', resourceVersion: '7' }, orphanDependents: false, propagationPolicy: 'Foreground', dryRun: ['All'], ignoreStoreReadErrorWithClusterBreakingPotential: false };
    for (const apiVersion of ['v1', 'meta.k8s.io/v1', 'rbac.authorization.k8s.io/v1', 'kumo.dev/v1']) {
      assert.deepEqual(decodeProtobufObject(body(apiVersion, 'DeleteOptions', `${META}.DeleteOptions`, opts)), { kind: 'DeleteOptions', apiVersion, ...opts });
    }
    assert.deepEqual(decodeProtobufObject(body('v1', 'DeleteOptions', `${META}.DeleteOptions`, { preconditions: {} })), { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: {} });
    fails(() => decodeProtobufObject(body('meta.k8s.io/v1beta1', 'DeleteOptions', `${META}.DeleteOptions`, {})), 'UnsupportedMediaType', /unknown format/);
  });
});

describe('decodeProtobufObject: envelope', () => {
  const raw = encodeMessage(`${CORE}.ConfigMap`, { metadata: { name: 'cm' } });

  it('fills an empty kind or version from the endpoint, as kube does', () => {
    assert.equal(decodeProtobufObject(envelope('', '', raw), { apiVersion: 'v1', kind: 'ConfigMap' }).kind, 'ConfigMap');
    assert.equal(decodeProtobufObject(envelope('v1', '', raw), { apiVersion: 'v1', kind: 'ConfigMap' }).apiVersion, 'v1');
    const noTypeMeta = Buffer.concat([PROTOBUF_MAGIC, Uint8Array.from(ld(2, raw))]);
    assert.deepEqual(decodeProtobufObject(noTypeMeta, { apiVersion: 'v1', kind: 'ConfigMap' }), { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm', creationTimestamp: null } });
    // A kind that is set wins over the endpoint's (the engine then compares, as for JSON).
    assert.equal(decodeProtobufObject(envelope('v1', 'Secret', new Uint8Array(0)), { apiVersion: 'v1', kind: 'ConfigMap' }).kind, 'Secret');
  });

  it('missing kind or apiVersion without defaults is a BadRequest in kube words', () => {
    fails(() => decodeProtobufObject(envelope('v1', '', raw)), 'BadRequest', `the body of the request could not be decoded: Object 'Kind' is missing in 'runtime.TypeMeta{APIVersion:"v1", Kind:""}'`);
    fails(() => decodeProtobufObject(envelope('', 'ConfigMap', raw)), 'BadRequest', `the body of the request could not be decoded: Object 'apiVersion' is missing in 'runtime.TypeMeta{APIVersion:"", Kind:"ConfigMap"}'`);
    fails(() => decodeProtobufObject(envelope('apps/', 'ConfigMap', raw)), 'BadRequest', /Object 'apiVersion' is missing/);
  });

  it('kinds with no protobuf form here answer 415 as kube does for custom resources', () => {
    const msg = 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml';
    for (const [apiVersion, kind] of [
      ['apps/v1', 'Deployment'],
      ['v1', 'Pod'],
      ['kumo.dev/v1alpha1', 'Tenant'],
      ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
      ['rbac.authorization.k8s.io/v1beta1', 'Role'],
      ['events.k8s.io/v1beta1', 'Event'],
      ['v1', 'constructor'],
      ['v1', '__proto__'],
    ] as const) {
      fails(() => decodeProtobufObject(envelope(apiVersion, kind, raw)), 'UnsupportedMediaType', msg);
    }
  });

  it('contentEncoding and contentType in the envelope are ignored, as kube ignores them', () => {
    assert.equal(decodeProtobufObject(envelope('v1', 'ConfigMap', raw, { contentEncoding: '', contentType: 'application/vnd.kubernetes.protobuf' })).kind, 'ConfigMap');
  });

  it('no magic, magic only, empty: BadRequest with kube serializer messages', () => {
    fails(() => decodeProtobufObject(Buffer.alloc(0)), 'BadRequest', 'the body of the request could not be decoded: empty data');
    fails(() => decodeProtobufObject(Buffer.from(PROTOBUF_MAGIC)), 'BadRequest', 'the body of the request could not be decoded: empty body');
    fails(() => decodeProtobufObject(Buffer.from('{"kind":"ConfigMap"}')), 'BadRequest', 'the body of the request could not be decoded: provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
    fails(() => decodeProtobufObject(Buffer.from('k8s')), 'BadRequest', /expected prefix/);
  });

  it('truncated or mistyped bytes are a BadRequest, not a crash or a half object', () => {
    const good = envelope('v1', 'ConfigMap', encodeMessage(`${CORE}.ConfigMap`, { metadata: { name: 'cm', labels: { a: 'b' } }, data: { k: 'v' } }));
    // Every cut but the one between the envelope's typeMeta and raw fields (a valid, raw-less Unknown).
    const boundary = PROTOBUF_MAGIC.length + ld(1, encodeMessage('k8s.io.apimachinery.pkg.runtime.TypeMeta', { apiVersion: 'v1', kind: 'ConfigMap' })).length;
    assert.deepEqual(decodeProtobufObject(good.subarray(0, boundary)), { kind: 'ConfigMap', apiVersion: 'v1', metadata: { creationTimestamp: null } });
    for (let n = PROTOBUF_MAGIC.length + 1; n < good.length; n++) {
      if (n === boundary) continue;
      assert.throws(() => decodeProtobufObject(good.subarray(0, n)), (e: unknown) => isKumoError(e, 'BadRequest'), `cut at ${n}`);
    }
    // raw truncated inside the envelope: a string runs past its message
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from([...tag(1, 2), 10, ...str(1, 'abc')]))), 'BadRequest', 'the body of the request could not be decoded: unexpected EOF');
    // a varint where ObjectMeta.name (a string) belongs
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from(ld(1, [...tag(1, 0), 5])))), 'BadRequest', 'the body of the request could not be decoded: proto: wrong wireType = 0 for field name');
    // a string where Secret.immutable (a bool) belongs
    fails(() => decodeProtobufObject(envelope('v1', 'Secret', Uint8Array.from(str(5, 'yes')))), 'BadRequest', /wrong wireType = 2 for field immutable/);
    // a map given as a varint; a map value of the wrong type
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from([...tag(2, 0), 1]))), 'BadRequest', /wrong wireType = 0 for field data/);
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from(ld(2, [...str(1, 'k'), ...tag(2, 0), 1])))), 'BadRequest', /wrong wireType = 0 for field data/);
    // field number 0, wire types 6/7, a stray end-group, an overlong varint
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from([0x00, 0x01]))), 'BadRequest', /illegal tag 0/);
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from([...tag(9, 7), 1]))), 'BadRequest', /illegal wireType 7/);
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from(tag(9, 4)))), 'BadRequest', /end group/);
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from([...tag(9, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))), 'BadRequest', /integer overflow/);
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from([...tag(1, 2), 0xff, 0xff, 0xff, 0xff, 0x0f]))), 'BadRequest', /invalid negative length|unexpected EOF/);
    // a group that never ends
    fails(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Uint8Array.from([...tag(9, 3), ...str(1, 'x')]))), 'BadRequest', /unexpected EOF/);
    // managed fields whose FieldsV1 is not JSON
    fails(
      () => decodeProtobufObject(body('v1', 'ConfigMap', `${CORE}.ConfigMap`, { metadata: { managedFields: [{ fieldsV1: { Raw: Buffer.from('{nope') } }] } })),
      'BadRequest',
      /FieldsV1: invalid JSON/,
    );
  });

  it('random bytes after the magic never escape as anything but a KumoError', () => {
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const good = envelope('v1', 'ConfigMap', encodeMessage(`${CORE}.ConfigMap`, { metadata: { name: 'cm', labels: { a: 'b' }, creationTimestamp: { seconds: 1 } }, data: { k: 'v' }, binaryData: { b: Buffer.from([1]) } }));
    for (let i = 0; i < 3000; i++) {
      let buf: Buffer;
      if (i % 2 === 0) {
        buf = Buffer.concat([PROTOBUF_MAGIC, Buffer.from(Array.from({ length: rnd() % 64 }, () => rnd() & 0xff))]);
      } else {
        buf = Buffer.from(good);
        for (let j = 0; j < 1 + (rnd() % 3); j++) buf[PROTOBUF_MAGIC.length + (rnd() % (buf.length - PROTOBUF_MAGIC.length))] = rnd() & 0xff;
      }
      try {
        const obj = decodeProtobufObject(buf);
        assert.equal(typeof obj.kind, 'string');
        JSON.stringify(obj);
      } catch (e) {
        assert.ok(isKumoError(e), `input ${buf.toString('hex')}: ${String(e)}`);
      }
    }
  });
});
