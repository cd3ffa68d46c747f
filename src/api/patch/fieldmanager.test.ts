// Table-driven tests of field sets and the field manager, from the behaviour kubernetes.io documents
// for server-side apply ("Server-Side Apply": managers, conflicts, merge strategies, transferring
// ownership, upgrading from client-side apply, clearing managedFields).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError, statusFor } from '../../lib/errors.js';
import { objectMeta } from '../meta.js';
import { crdResourceSchema } from '../schema/ops.js';
import type { JSONSchemaProps, KObject } from '../types.js';
import { compare, FieldSet, parsePathElement, pathString, peString, toFieldSet, type Path } from './fieldpath.js';
import { FieldManager, LAST_APPLIED_ANNOTATION, mergeValues } from './fieldmanager.js';

const str = (): JSONSchemaProps => ({ type: 'string' });
const container: JSONSchemaProps = {
  type: 'object',
  properties: {
    name: str(),
    image: str(),
    args: { type: 'array', items: str() },
    ports: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
      items: { type: 'object', properties: { containerPort: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } } },
    },
  },
};
const spec: JSONSchemaProps = {
  type: 'object',
  properties: {
    replicas: { type: 'integer' },
    paused: { type: 'boolean' },
    containers: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: container },
    tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: str() },
    selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', additionalProperties: str() },
    env: { type: 'object', additionalProperties: str() },
    extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};
const schema = crdResourceSchema({ type: 'object', properties: { spec, status: { type: 'object', properties: { ready: { type: 'boolean' }, phase: str() } } } }, objectMeta());

const T0 = new Date('2025-01-01T00:00:00Z');
let clock = T0.getTime();
const now = (): Date => new Date(clock);
const fm = new FieldManager({ schema, group: 'demo.example.com', version: 'v1', kind: 'App', statusSubresource: true, now });
const AV = 'demo.example.com/v1';

function app(specFields: Record<string, unknown>, metadata: Record<string, unknown> = {}): KObject {
  return { apiVersion: AV, kind: 'App', metadata: { name: 'a', namespace: 'ns', ...metadata }, spec: specFields };
}

function entries(obj: KObject): { manager: string; operation: string; fieldsV1: unknown; subresource?: string }[] {
  return ((obj.metadata?.managedFields ?? []) as { manager: string; operation: string; fieldsV1: unknown; subresource?: string }[]).map((e) => {
    const out: { manager: string; operation: string; fieldsV1: unknown; subresource?: string } = { manager: e.manager, operation: e.operation, fieldsV1: e.fieldsV1 };
    if (e.subresource !== undefined) out.subresource = e.subresource;
    return out;
  });
}

function owned(obj: KObject, manager: string, operation = 'Apply'): string[] {
  const e = entries(obj).find((x) => x.manager === manager && x.operation === operation);
  return e ? FieldSet.fromJSON(e.fieldsV1).paths().map((p) => pathString(p)) : [];
}

/** A live object as stored: the server's metadata on top of what the write produced. */
function stored(obj: KObject): KObject {
  const o = structuredClone(obj);
  Object.assign(o.metadata ?? {}, { uid: 'u-1', resourceVersion: '7', creationTimestamp: '2025-01-01T00:00:00Z' });
  return o;
}

describe('fieldpath: FieldsV1 as kube writes it', () => {
  const cases: { name: string; obj: unknown; json: unknown }[] = [
    {
      name: 'fields, a map list keyed by name, a set, an atomic map and list',
      obj: { spec: { replicas: 1, containers: [{ name: 'app', image: 'nginx', args: ['-v'] }], tags: ['b', 'a'], selector: { app: 'x' } } },
      json: {
        'f:spec': {
          'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:args': {}, 'f:image': {}, 'f:name': {} } },
          'f:replicas': {},
          'f:selector': {},
          'f:tags': { 'v:"a"': {}, 'v:"b"': {} },
        },
      },
    },
    {
      name: 'multi-key items (keys sorted, a missing key from its default); granular maps own their keys',
      obj: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }], env: { B: '1', A: '2' }, extra: { deep: { x: 1 } } } },
      json: {
        'f:spec': {
          'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } },
          'f:env': { 'f:A': {}, 'f:B': {} },
          'f:extra': { 'f:deep': { '.': {}, 'f:x': {} } },
        },
      },
    },
    {
      name: 'null and empty objects are owned as themselves',
      obj: { spec: { env: {}, paused: null } },
      json: { 'f:spec': { 'f:env': {}, 'f:paused': {} } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const set = toFieldSet(c.obj, schema, { strict: true });
      assert.deepEqual(set.toJSON(), c.json);
      assert.equal(JSON.stringify(set.toJSON()), JSON.stringify(c.json), 'key order');
      assert.ok(FieldSet.fromJSON(set.toJSON()).equals(set), 'round trip');
    });
  }

  it('path elements: kinds, their order and their display', () => {
    const keys = ['i:0', 'v:"x"', 'k:{"name":"a"}', 'f:b', 'f:a', 'v:1'];
    const sorted = FieldSet.of(...keys.map((k) => [parsePathElement(k)] as Path)).toJSON();
    assert.deepEqual(Object.keys(sorted), ['f:a', 'f:b', 'k:{"name":"a"}', 'v:1', 'v:"x"', 'i:0']);
    assert.equal(pathString([{ field: 'spec' }, { field: 'containers' }, { key: [['name', 'app']] }, { field: 'image' }]), '.spec.containers[name="app"].image');
    assert.equal(pathString([{ field: 'tags' }, { value: 'a' }, { index: 2 }]), '.tags[="a"][2]');
    assert.equal(peString({ value: '<x>' }), 'v:"\\u003cx\\u003e"', 'Go escapes HTML characters');
    assert.equal(parsePathElement('z:whatever'), undefined, 'unknown kinds are skipped');
    assert.throws(() => parsePathElement('fx'));
  });

  it('set operations: difference keeps what is below a member, recursiveDifference does not', () => {
    const a = FieldSet.of([{ field: 'spec' }], [{ field: 'spec' }, { field: 'x' }], [{ field: 'y' }]);
    const b = FieldSet.of([{ field: 'spec' }]);
    assert.deepEqual(a.difference(b).toJSON(), { 'f:spec': { 'f:x': {} }, 'f:y': {} });
    assert.deepEqual(a.recursiveDifference(b).toJSON(), { 'f:y': {} });
    assert.deepEqual(a.intersection(b).toJSON(), { 'f:spec': {} });
    assert.deepEqual(b.union(FieldSet.of([{ field: 'z' }])).toJSON(), { 'f:spec': {}, 'f:z': {} });
  });

  it('typing errors are worded as upstream', () => {
    assert.throws(() => toFieldSet({ spec: { nope: 1 } }, schema, { strict: true }), /^TypedError: \.spec\.nope: field not declared in schema$/);
    assert.throws(() => toFieldSet({ spec: { containers: [{ name: 'a' }, { name: 'a' }] } }, schema, { strict: true }), /duplicate entries for key \[name="a"\]/);
    assert.throws(() => toFieldSet({ spec: { containers: [{ image: 'x' }] } }, schema, { strict: true }), /omits key field "name"/);
  });

  it('compare: appearing maps are reported with their leaves', () => {
    const c = compare({ spec: { replicas: 1 } }, { spec: { replicas: 2, env: { A: '1' } } }, schema);
    assert.deepEqual(c.modified.toJSON(), { 'f:spec': { 'f:replicas': {} } });
    assert.deepEqual(c.added.toJSON(), { 'f:spec': { 'f:env': { '.': {}, 'f:A': {} } } });
    assert.ok(c.removed.isEmpty());
  });
});

describe('merge of an apply configuration', () => {
  const cases: { name: string; live: unknown; config: unknown; want: unknown }[] = [
    { name: 'scalars are replaced, other fields kept', live: { spec: { replicas: 1, paused: true } }, config: { spec: { replicas: 3 } }, want: { spec: { replicas: 3, paused: true } } },
    {
      name: 'map lists merge by key; new items follow the configuration',
      live: { spec: { containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }] } },
      config: { spec: { containers: [{ name: 'b', image: 'b:2' }, { name: 'c', image: 'c:1' }] } },
      want: { spec: { containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:2' }, { name: 'c', image: 'c:1' }] } },
    },
    {
      name: 'shared items take the configuration order, live-only items stay in place',
      live: { spec: { tags: ['a', 'b', 'c'] } },
      config: { spec: { tags: ['c', 'a'] } },
      want: { spec: { tags: ['b', 'c', 'a'] } },
    },
    { name: 'atomic lists and maps are replaced whole', live: { spec: { selector: { a: '1', b: '2' }, containers: [{ name: 'x', args: ['1', '2'] }] } }, config: { spec: { selector: { c: '3' }, containers: [{ name: 'x', args: ['3'] }] } }, want: { spec: { selector: { c: '3' }, containers: [{ name: 'x', args: ['3'] }] } } },
    { name: 'granular maps merge key by key', live: { spec: { env: { A: '1' } } }, config: { spec: { env: { B: '2' } } }, want: { spec: { env: { A: '1', B: '2' } } } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(mergeValues(c.live, c.config, schema), c.want));
});

describe('field manager: updates', () => {
  it('a create gives every field it sets to its Update entry (maps it adds own themselves too)', () => {
    const obj = fm.update(undefined, app({ replicas: 1 }, { labels: { tier: 'web' } }), 'kubectl-create');
    assert.deepEqual(entries(obj), [
      { manager: 'kubectl-create', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:tier': {} } }, 'f:spec': { '.': {}, 'f:replicas': {} } } },
    ]);
    const e = (obj.metadata?.managedFields as Record<string, unknown>[])[0] ?? {};
    assert.deepEqual(Object.keys(e), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1'], 'field order as kube writes an entry');
    assert.equal(e.apiVersion, AV);
    assert.equal(e.time, '2025-01-01T00:00:00Z');
  });

  it('an update takes the fields it changes from other managers; an unchanged write changes nothing', () => {
    const created = stored(fm.update(undefined, app({ replicas: 1, paused: false }), 'creator'));
    const next = structuredClone(created);
    (next.spec as Record<string, unknown>).replicas = 5;
    const updated = fm.update(created, next, 'scaler');
    assert.deepEqual(owned(updated, 'creator', 'Update'), ['.spec', '.spec.paused']);
    assert.deepEqual(owned(updated, 'scaler', 'Update'), ['.spec.replicas']);
    const again = fm.update(stored(updated), structuredClone(stored(updated)), 'scaler');
    assert.deepEqual(again.metadata?.managedFields, updated.metadata?.managedFields);
  });

  it('removed fields leave every entry; an entry left empty is dropped', () => {
    const created = stored(fm.update(undefined, app({ replicas: 1 }), 'creator'));
    const next = structuredClone(created);
    delete next.spec;
    const updated = fm.update(created, next, 'editor');
    assert.equal(updated.metadata?.managedFields, undefined);
  });

  it('managedFields: [{}] clears them; [] or none keeps the live ones; valid entries given are taken', () => {
    const created = stored(fm.update(undefined, app({ replicas: 1 }), 'creator'));
    const reset = fm.update(created, { ...structuredClone(created), metadata: { ...created.metadata, managedFields: [{}] } }, 'editor');
    assert.equal(reset.metadata?.managedFields, undefined);
    const kept = fm.update(created, { ...structuredClone(created), metadata: { ...created.metadata, managedFields: [] } }, 'editor');
    assert.deepEqual(entries(kept), entries(created));
    const given = [{ manager: 'someone', operation: 'Apply', apiVersion: AV, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
    const taken = fm.update(created, { ...structuredClone(created), metadata: { ...created.metadata, managedFields: given } }, 'editor');
    assert.deepEqual(entries(taken), [{ manager: 'someone', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]);
  });

  it('a status update owns status fields only, under subresource status', () => {
    const created = stored(fm.update(undefined, app({ replicas: 1 }), 'creator'));
    const next = { ...structuredClone(created), status: { ready: true } };
    const updated = fm.update(created, next, 'controller', 'status');
    assert.deepEqual(
      entries(updated).find((e) => e.manager === 'controller'),
      { manager: 'controller', operation: 'Update', fieldsV1: { 'f:status': { '.': {}, 'f:ready': {} } }, subresource: 'status' },
    );
  });

  it('at most 10 Update entries: the oldest go to ancient-changes', () => {
    let obj = stored(fm.update(undefined, app({}), 'm0'));
    for (let i = 0; i < 12; i++) {
      clock = T0.getTime() + (i + 1) * 1000;
      const next = structuredClone(obj);
      (next.spec as Record<string, unknown>)[`replicas`] = i;
      (next.metadata as Record<string, unknown>).labels = { ...(next.metadata?.labels ?? {}), [`l${i}`]: 'x' };
      obj = stored(fm.update(obj, next, `m${i + 1}`));
    }
    clock = T0.getTime();
    const managers = entries(obj).map((e) => e.manager);
    assert.equal(managers.length, 10);
    assert.ok(managers.includes('ancient-changes'), managers.join(','));
    assert.ok(managers.includes('m12'));
  });
});

describe('field manager: server-side apply', () => {
  it('creates: the Apply entry holds exactly the configuration (the docs example)', () => {
    const cfg: KObject = { apiVersion: AV, kind: 'App', metadata: { name: 'a', namespace: 'ns', labels: { 'test-label': 'test' } }, spec: { replicas: 2 } };
    const obj = fm.apply(undefined, cfg, 'kubectl', false);
    assert.deepEqual(entries(obj), [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:test-label': {} } }, 'f:spec': { 'f:replicas': {} } } }]);
    assert.equal((obj.metadata?.managedFields as { apiVersion: string }[])[0]?.apiVersion, AV);
  });

  it('conflicts with an Update manager: 409 with kube\'s message and causes; force takes the field', () => {
    const live = stored(fm.apply(undefined, app({ replicas: 2 }), 'kubectl', false));
    const edited = structuredClone(live);
    (edited.spec as Record<string, unknown>).replicas = 3;
    const afterEdit = stored(fm.update(live, edited, 'kubectl-edit'));
    assert.deepEqual(owned(afterEdit, 'kubectl'), [], 'the edit took the only field kubectl applied');
    let err: unknown;
    try {
      fm.apply(afterEdit, app({ replicas: 2 }), 'kubectl', false);
    } catch (e) {
      err = e;
    }
    assert.ok(isKumoError(err, 'Conflict'));
    const st = statusFor(err);
    assert.equal(st.code, 409);
    assert.equal(st.message, `Apply failed with 1 conflict: conflict with "kubectl-edit" using ${AV}: .spec.replicas`);
    assert.deepEqual(st.details, { causes: [{ reason: 'FieldManagerConflict', message: `conflict with "kubectl-edit" using ${AV}`, field: '.spec.replicas' }] });
    const forced = fm.apply(afterEdit, app({ replicas: 2 }), 'kubectl', true);
    assert.equal((forced.spec as Record<string, unknown>).replicas, 2);
    assert.deepEqual(owned(forced, 'kubectl'), ['.spec.replicas']);
    assert.deepEqual(owned(forced, 'kubectl-edit', 'Update'), [], 'the edit lost its field (its entry is gone)');
  });

  it('two conflicts are listed per manager', () => {
    const live = stored(fm.apply(undefined, app({ replicas: 1, paused: false }), 'a', false));
    assert.throws(() => fm.apply(live, app({ replicas: 2, paused: true }), 'b', false), (e: unknown) => {
      assert.ok(isKumoError(e, 'Conflict'));
      assert.equal(e.message, 'Apply failed with 2 conflicts: conflicts with "a":\n- .spec.paused\n- .spec.replicas');
      return true;
    });
  });

  it('applying the value another manager set shares the field; no conflict', () => {
    const live = stored(fm.apply(undefined, app({ replicas: 1 }), 'a', false));
    const both = fm.apply(live, app({ replicas: 1 }), 'b', false);
    assert.deepEqual(owned(both, 'a'), ['.spec.replicas']);
    assert.deepEqual(owned(both, 'b'), ['.spec.replicas']);
  });

  it('a field the applier stops applying is removed unless another manager owns it', () => {
    const live = stored(fm.apply(undefined, app({ replicas: 1, paused: true }, { labels: { a: '1', b: '2' } }), 'a', false));
    const dropped = fm.apply(live, app({ replicas: 1 }, { labels: { a: '1' } }), 'a', false);
    assert.deepEqual(dropped.spec, { replicas: 1 });
    assert.deepEqual(dropped.metadata?.labels, { a: '1' });
    const shared = stored(fm.apply(live, app({ paused: true }), 'b', false));
    const keptByB = fm.apply(shared, app({ replicas: 1 }), 'a', false);
    assert.deepEqual(keptByB.spec, { replicas: 1, paused: true });
    assert.equal(keptByB.metadata?.labels, undefined, 'no one else owned the labels');
  });

  it('two managers share a map list: each owns its own item; removing one leaves the other', () => {
    const live = stored(fm.apply(undefined, app({ containers: [{ name: 'web', image: 'nginx:1' }] }), 'team-web', false));
    const both = stored(fm.apply(live, app({ containers: [{ name: 'sidecar', image: 'envoy:1' }] }), 'team-mesh', false));
    assert.deepEqual((both.spec as { containers: unknown[] }).containers, [{ name: 'web', image: 'nginx:1' }, { name: 'sidecar', image: 'envoy:1' }]);
    assert.deepEqual(owned(both, 'team-mesh'), ['.spec.containers[name="sidecar"]', '.spec.containers[name="sidecar"].image', '.spec.containers[name="sidecar"].name']);
    const meshGone = fm.apply(both, app({ containers: [] }), 'team-mesh', false);
    assert.deepEqual((meshGone.spec as { containers: unknown[] }).containers, [{ name: 'web', image: 'nginx:1' }]);
  });

  it('an atomic field applied by two managers with different values conflicts as a whole', () => {
    const live = stored(fm.apply(undefined, app({ selector: { app: 'x' } }), 'a', false));
    assert.throws(() => fm.apply(live, app({ selector: { app: 'x', tier: 'y' } }), 'b', false), /conflict with "a": \.spec\.selector$/);
  });

  it('status applies own status only, and the main resource does not own status', () => {
    const live = stored(fm.apply(undefined, { ...app({ replicas: 1 }), status: { ready: true } }, 'a', false));
    assert.deepEqual(owned(live, 'a'), ['.spec.replicas'], 'status ignored on the main resource');
    const st = fm.apply(live, { apiVersion: AV, kind: 'App', metadata: { name: 'a', namespace: 'ns' }, status: { phase: 'Up' } }, 'ctl', false, 'status');
    assert.deepEqual(entries(st).find((e) => e.manager === 'ctl'), { manager: 'ctl', operation: 'Apply', fieldsV1: { 'f:status': { 'f:phase': {} } }, subresource: 'status' });
  });

  it('refuses configurations kube refuses', () => {
    assert.throws(() => fm.apply(undefined, { ...app({}), apiVersion: 'demo.example.com/v2' }, 'a', false), /^KumoError: invalid object type: demo.example.com\/v2, Kind=App$/);
    assert.throws(() => fm.apply(undefined, { ...app({}), metadata: { name: 'a', managedFields: [] } }, 'a', false), /metadata.managedFields must be nil/);
    assert.throws(
      () => fm.apply(undefined, app({ bogus: 1 }), 'a', false),
      /^KumoError: failed to create typed patch object \(ns\/a; demo.example.com\/v1, Kind=App\): \.spec\.bogus: field not declared in schema$/,
    );
  });

  it('upgrade from client-side apply: kubectl takes the fields its last-applied annotation describes, and keeps it current', () => {
    const lastApplied = `${JSON.stringify({ apiVersion: AV, kind: 'App', metadata: { name: 'a', namespace: 'ns' }, spec: { replicas: 1, paused: true } })}\n`;
    const csa = stored(fm.update(undefined, app({ replicas: 1, paused: true }, { annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied } }), 'kubectl-client-side-apply'));
    // Another manager changed paused since: that field is not kubectl's to take silently.
    const edited = structuredClone(csa);
    (edited.spec as Record<string, unknown>).paused = false;
    const live = stored(fm.update(csa, edited, 'kubectl-edit'));
    assert.throws(() => fm.apply(live, app({ replicas: 2, paused: true }), 'kubectl', false), (e: unknown) => {
      assert.ok(isKumoError(e, 'Conflict'));
      assert.equal(e.message, `Apply failed with 1 conflict: conflict with "kubectl-edit" using ${AV}: .spec.paused`);
      return true;
    });
    const applied = fm.apply(live, app({ replicas: 2 }), 'kubectl', false);
    assert.equal((applied.spec as Record<string, unknown>).replicas, 2);
    assert.deepEqual(owned(applied, 'kubectl'), ['.spec.replicas']);
    const annotation = (applied.metadata?.annotations as Record<string, string>)[LAST_APPLIED_ANNOTATION];
    assert.equal(annotation, '{"apiVersion":"demo.example.com/v1","kind":"App","metadata":{"name":"a","namespace":"ns"},"spec":{"replicas":2}}\n');
    assert.throws(() => fm.apply(live, app({ replicas: 2 }), 'not-kubectl', false), /conflict with "kubectl-client-side-apply"/, 'only kubectl upgrades');
  });
});

describe('field manager: hostile input', () => {
  it('a configuration nested past the stack is a 400, not a crash', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 200_000; i++) {
      const next: Record<string, unknown> = {};
      deep.x = next;
      deep = next;
    }
    assert.throws(() => fm.apply(undefined, { ...app({}), spec: { extra: root } }, 'a', false), (e: unknown) => isKumoError(e, 'BadRequest'));
  });
});
