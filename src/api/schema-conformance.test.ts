// The built-in kinds through the schema machinery the apiserver uses (prune → applyDefaults →
// validate): defaults fill in what ARCHITECTURE.md promises, wrong shapes are rejected with kube's
// field paths, and objects as real clients send them (nulls, kubectl's output) pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCause } from '../lib/errors.js';
import { builtinResourceTypes } from './index.js';
import { tokenRequestSchema } from './builtin/authentication.js';
import { applyDefaults, checkStructural, prune } from './schema/structural.js';
import { compileValidator } from './schema/validate.js';
import type { JSONSchemaProps, KObject, ResourceType } from './types.js';

const kinds = new Map(builtinResourceTypes().map((rt) => [`${rt.group}/${rt.kind}`, rt]));
function kind(groupKind: string): ResourceType {
  const rt = kinds.get(groupKind);
  assert.ok(rt, groupKind);
  return rt;
}

/** What the apiserver does to a create body before storing it. */
function admit(rt: ResourceType, body: KObject): { obj: KObject; pruned: string[]; errors: ErrorCause[] } {
  const obj = structuredClone(body);
  rt.strategy?.prepareForCreate?.(obj);
  const pruned = prune(obj, rt.schema);
  applyDefaults(obj, rt.schema);
  const errors = [...compileValidator(rt.schema)(obj), ...(rt.strategy?.validate?.(obj, undefined) ?? [])];
  return { obj, pruned, errors };
}

/** Every node with a default, and the default checked against the node itself. */
function* defaults(s: JSONSchemaProps, path = ''): Generator<[string, JSONSchemaProps]> {
  if (s.default !== undefined) yield [path, s];
  for (const [k, v] of Object.entries(s.properties ?? {})) yield* defaults(v, `${path}.${k}`);
  if (s.items) yield* defaults(s.items, `${path}[*]`);
  if (typeof s.additionalProperties === 'object') yield* defaults(s.additionalProperties, `${path}[*]`);
}

describe('built-in schemas through the schema machinery', () => {
  for (const rt of kinds.values()) {
    it(`${rt.group || 'core'} ${rt.kind}: compiles, is structural, and its defaults are valid`, () => {
      const validate = compileValidator(rt.schema);
      // checkStructural holds CRD schemas to apiextensions' rules; built-in kinds meet them too,
      // except that they may describe metadata fields (CRDs may only restrict name/generateName).
      const causes = checkStructural(rt.schema).filter((c) => !c.field?.startsWith('properties[metadata]'));
      assert.deepEqual(causes, []);
      for (const [path, s] of defaults(rt.schema)) {
        const value = structuredClone(s.default);
        applyDefaults(value, s);
        assert.deepEqual(compileValidator({ ...s, default: undefined })(value), [], `default at ${path}`);
      }
      assert.deepEqual(validate({ apiVersion: 'v1', kind: rt.kind, metadata: { name: 'x' } }).filter((c) => !c.reason?.includes('Required')).length, 0);
    });
  }

  it('TokenRequest schema compiles and accepts what kubectl create token sends', () => {
    const body = { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { audiences: null, expirationSeconds: null, boundObjectRef: null }, status: { token: '', expirationTimestamp: null } };
    const s = tokenRequestSchema();
    prune(body, s);
    applyDefaults(body, s);
    // status is filled in by the server; only the spec matters on the way in.
    assert.deepEqual(compileValidator(s)({ ...body, status: undefined }), []);
    assert.equal((body.spec as Record<string, unknown>)['expirationSeconds'], 3600);
  });
});

describe('sanity cases', () => {
  it('rejects a ConfigMap whose data values are not strings', () => {
    const { errors } = admit(kind('/ConfigMap'), { metadata: { name: 'c' }, data: { a: 5, b: 'ok', c: true } });
    assert.deepEqual(errors.map((c) => c.field), ['data.a', 'data.c'], 'map values are named as kube-openapi names them');
    assert.ok(errors.every((c) => c.reason === 'FieldValueTypeInvalid'));
  });

  it('accepts a ConfigMap as kubectl create configmap --dry-run -o yaml prints it (nulls dropped)', () => {
    const { obj, errors } = admit(kind('/ConfigMap'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', creationTimestamp: null }, data: { k: 'v' } });
    assert.deepEqual(errors, []);
    assert.deepEqual(obj['metadata'], { name: 'c' });
  });

  it('defaults a Secret\'s type and turns stringData into data', () => {
    const { obj, errors, pruned } = admit(kind('/Secret'), { metadata: { name: 's' }, stringData: { password: 'hunter2' }, extra: 1 });
    assert.deepEqual(errors, []);
    assert.deepEqual(pruned, ['extra']);
    assert.deepEqual(obj, { metadata: { name: 's' }, type: 'Opaque', data: { password: Buffer.from('hunter2').toString('base64') } });
  });

  it('rejects a Secret with non-base64 data', () => {
    const { errors } = admit(kind('/Secret'), { metadata: { name: 's' }, data: { a: 'not base64!' } });
    assert.deepEqual(errors.map((c) => c.field), ['data.a']);
  });

  it('fills in a Cluster from an empty spec, as ARCHITECTURE.md promises', () => {
    const { obj, errors } = admit(kind('kumo.dev/Cluster'), { apiVersion: 'kumo.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'dev', namespace: 'team-a' } });
    assert.deepEqual(errors, []);
    assert.deepEqual(obj['spec'], {
      version: 'v1.33',
      provider: 'local',
      controlPlane: { replicas: 1 },
      datastore: { type: 'sqlite', replicas: 1 },
      network: { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' },
    });
  });

  it('rejects unsupported Cluster versions, providers and datastore sizes', () => {
    const { errors } = admit(kind('kumo.dev/Cluster'), {
      metadata: { name: 'dev' },
      spec: { version: 'v1.30', provider: 'aws', datastore: { type: 'etcd', replicas: 2 }, backup: { schedule: 'daily' } },
    });
    assert.deepEqual(errors.map((c) => c.field).sort(), ['spec.backup.schedule', 'spec.datastore.replicas', 'spec.provider', 'spec.version']);
  });

  it('fills in a NodePool\'s template and auto-healing; requires its cluster', () => {
    const { obj, errors } = admit(kind('kumo.dev/NodePool'), { metadata: { name: 'workers' }, spec: { cluster: 'dev' } });
    assert.deepEqual(errors, []);
    assert.deepEqual(obj['spec'], { cluster: 'dev', replicas: 1, template: { flavor: 'small' }, autoHeal: { enabled: true, maxUnhealthy: '40%' } });
    const missing = admit(kind('kumo.dev/NodePool'), { metadata: { name: 'workers' }, spec: {} });
    assert.deepEqual(missing.errors.map((c) => [c.field, c.reason]), [['spec.cluster', 'FieldValueRequired']]);
    const badHeal = admit(kind('kumo.dev/NodePool'), { metadata: { name: 'w' }, spec: { cluster: 'dev', autoHeal: { maxUnhealthy: '150%' } } });
    assert.deepEqual(badHeal.errors.map((c) => c.field), ['spec.autoHeal.maxUnhealthy']);
  });

  it('keeps Addon values and AddonDefinition defaults as given', () => {
    const values = { replicas: 2, nested: { anything: [1, 'two'] } };
    const { obj, errors } = admit(kind('kumo.dev/Addon'), { metadata: { name: 'mon' }, spec: { cluster: 'dev', definition: 'monitoring', values } });
    assert.deepEqual(errors, []);
    assert.deepEqual((obj['spec'] as Record<string, unknown>)['values'], values);
  });

  it('validates Tenant members and quota', () => {
    const good = admit(kind('kumo.dev/Tenant'), {
      metadata: { name: 'team-a' },
      spec: { members: [{ kind: 'User', name: 'alice', role: 'admin' }, { kind: 'Group', name: 'devs', role: 'member' }], quota: { clusters: 3, cpu: '64', memory: '256Gi', volumes: { fast: 10 }, loadBalancerPorts: { from: 30000, to: 30100 } } },
    });
    assert.deepEqual(good.errors, []);
    const bad = admit(kind('kumo.dev/Tenant'), {
      metadata: { name: 'team-a' },
      spec: { members: [{ kind: 'User', name: 'alice', role: 'owner' }, { kind: 'User', name: 'alice', role: 'admin' }], quota: { memory: 'lots', loadBalancerPorts: { from: 9000, to: 8000 } } },
    });
    assert.deepEqual(bad.errors.map((c) => c.field).sort(), ['spec.members[0].role', 'spec.members[1]', 'spec.quota.loadBalancerPorts.to', 'spec.quota.memory']);
  });

  it('accepts a RoleBinding from kubectl create rolebinding and a CRD with a schema', () => {
    const rb = admit(kind('rbac.authorization.k8s.io/RoleBinding'), {
      metadata: { name: 'dev-view', creationTimestamp: null },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
    });
    assert.deepEqual(rb.errors, []);
    const crd = admit(kind('apiextensions.k8s.io/CustomResourceDefinition'), {
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        names: { plural: 'widgets', kind: 'Widget' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }],
      },
    });
    assert.deepEqual(crd.errors, []);
    const spec = crd.obj['spec'] as Record<string, unknown>;
    assert.deepEqual((spec['versions'] as Record<string, unknown>[])[0]?.['schema'], {
      openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
    });
  });

  it('accepts an event as client-go\'s legacy recorder writes it', () => {
    const { errors } = admit(kind('/Event'), {
      metadata: { name: 'web-1.17a', namespace: 'default', creationTimestamp: null },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u1', apiVersion: 'v1', resourceVersion: '5' },
      reason: 'Started',
      message: 'Started container web',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: '2026-01-01T00:00:00Z',
      lastTimestamp: '2026-01-01T00:00:00Z',
      count: 1,
      type: 'Normal',
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    });
    assert.deepEqual(errors, []);
  });
});
