// Every built-in ResourceType is well-formed: names as discovery and kubectl expect them, printer
// columns and field selectors that point at fields of the schema, printRow rows as wide as the columns,
// and schemas that follow the structural rules (types everywhere, list-map keys required or defaulted).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinResourceTypes, flavors, tokenRequestSchema } from './index.js';
import type { JSONSchemaProps, KObject, ResourceType } from './types.js';
import { DEFAULT_VERBS, groupVersion } from './types.js';

const all = builtinResourceTypes();
const id = (rt: ResourceType): string => `${groupVersion(rt)} ${rt.kind}`;

/** The schema at a dotted path (`spec.template.flavor`), 'any' under preserve-unknown, or undefined. */
function schemaAt(root: JSONSchemaProps, path: string): JSONSchemaProps | 'any' | undefined {
  let s: JSONSchemaProps = root;
  for (const part of path.split('.')) {
    if (s['x-kubernetes-preserve-unknown-fields']) return 'any';
    const p = s.properties?.[part];
    if (p) {
      s = p;
      continue;
    }
    const ap = s.additionalProperties;
    if (ap === true) return 'any';
    if (ap && typeof ap === 'object') {
      s = ap;
      continue;
    }
    return undefined;
  }
  return s;
}

function jsonPathField(jsonPath: string): string {
  assert.match(jsonPath, /^(\.[A-Za-z0-9_-]+)+$/, `simple JSONPath expected: ${jsonPath}`);
  return jsonPath.slice(1);
}

/** Every schema node with its path, depth first. */
function* nodes(s: JSONSchemaProps, path = ''): Generator<[string, JSONSchemaProps]> {
  yield [path, s];
  for (const [k, v] of Object.entries(s.properties ?? {})) yield* nodes(v, path ? `${path}.${k}` : k);
  if (s.items) yield* nodes(s.items, `${path}[*]`);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') yield* nodes(s.additionalProperties, `${path}[*]`);
}

function sample(rt: ResourceType): KObject {
  const now = new Date(Date.now() - 3_600_000).toISOString();
  return {
    apiVersion: groupVersion(rt),
    kind: rt.kind,
    metadata: { name: 'x', namespace: rt.namespaced ? 'default' : undefined, creationTimestamp: now },
    spec: { cluster: 'c1', replicas: 2, version: 'v1.33' },
    data: { a: 'b' },
    subjects: [{ kind: 'User', name: 'alice' }],
    roleRef: { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' },
    involvedObject: { kind: 'Pod', name: 'p' },
    status: { conditions: [{ type: 'Complete', status: 'True' }] },
  };
}

describe('builtinResourceTypes', () => {
  it('serves the kinds of issue 4, the kumo.dev table and quotas (issue 6)', () => {
    const kinds = all.map(id).sort();
    assert.deepEqual(kinds, [
      'apiextensions.k8s.io/v1 CustomResourceDefinition',
      'coordination.k8s.io/v1 Lease',
      'events.k8s.io/v1 Event',
      'kumo.dev/v1alpha1 Addon',
      'kumo.dev/v1alpha1 AddonDefinition',
      'kumo.dev/v1alpha1 Cluster',
      'kumo.dev/v1alpha1 EtcdRestore',
      'kumo.dev/v1alpha1 EtcdSnapshot',
      'kumo.dev/v1alpha1 ImportToken',
      'kumo.dev/v1alpha1 Machine',
      'kumo.dev/v1alpha1 NodePool',
      'kumo.dev/v1alpha1 Tenant',
      'rbac.authorization.k8s.io/v1 ClusterRole',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding',
      'rbac.authorization.k8s.io/v1 Role',
      'rbac.authorization.k8s.io/v1 RoleBinding',
      'v1 ConfigMap',
      'v1 Event',
      'v1 LimitRange',
      'v1 Namespace',
      'v1 ResourceQuota',
      'v1 Secret',
      'v1 ServiceAccount',
    ]);
  });

  it('builds fresh objects on every call', () => {
    const again = builtinResourceTypes();
    assert.notEqual(again[0], all[0]);
    assert.notEqual(again[0]?.schema, all[0]?.schema);
  });

  it('has unique plurals and kinds per group/version, and unambiguous short names', () => {
    const plurals = new Set<string>();
    const kinds = new Set<string>();
    const shortNames = new Map<string, string>();
    for (const rt of all) {
      const gv = groupVersion(rt);
      assert.ok(!plurals.has(`${gv}/${rt.plural}`), `duplicate plural ${gv}/${rt.plural}`);
      assert.ok(!kinds.has(`${gv}/${rt.kind}`), `duplicate kind ${gv}/${rt.kind}`);
      plurals.add(`${gv}/${rt.plural}`);
      kinds.add(`${gv}/${rt.kind}`);
      for (const s of rt.shortNames) {
        assert.ok(!shortNames.has(s), `short name ${s} of ${id(rt)} also names ${shortNames.get(s)}`);
        shortNames.set(s, id(rt));
      }
    }
  });

  for (const rt of all) {
    describe(id(rt), () => {
      it('names resources as discovery expects', () => {
        assert.match(rt.plural, /^[a-z][a-z0-9]*$/);
        assert.match(rt.singular, /^[a-z][a-z0-9]*$/);
        assert.equal(rt.singular, rt.kind.toLowerCase());
        assert.match(rt.kind, /^[A-Z][A-Za-z0-9]*$/);
        assert.equal(rt.listKind, `${rt.kind}List`);
        for (const s of rt.shortNames) assert.match(s, /^[a-z][a-z0-9]*$/);
        assert.equal(rt.source, 'builtin');
        assert.deepEqual(rt.verbs, DEFAULT_VERBS);
        if (rt.group === 'kumo.dev') assert.ok(rt.categories.includes('kumo'));
      });

      it('has an object schema with apiVersion, kind and metadata', () => {
        assert.equal(rt.schema.type, 'object');
        for (const f of ['apiVersion', 'kind', 'metadata']) assert.ok(rt.schema.properties?.[f], f);
        assert.ok(rt.schema.description, 'kind description for kubectl explain');
      });

      it('describes every field and gives every field a type (structural)', () => {
        for (const [path, s] of nodes(rt.schema)) {
          if (path === '' || path.endsWith('[*]')) continue;
          assert.ok(s.description, `${path} has no description`);
          const typed = s.type !== undefined || s['x-kubernetes-int-or-string'] || s['x-kubernetes-preserve-unknown-fields'];
          assert.ok(typed, `${path} has no type`);
        }
      });

      it('keys map lists by required or defaulted fields', () => {
        for (const [path, s] of nodes(rt.schema)) {
          if (s['x-kubernetes-list-type'] !== 'map') continue;
          const keys = s['x-kubernetes-list-map-keys'] ?? [];
          assert.ok(keys.length > 0, `${path}: list-map keys`);
          for (const k of keys) {
            const item = s.items;
            assert.ok(item?.properties?.[k], `${path}: key ${k} is a field`);
            assert.ok(item.required?.includes(k) || item.properties[k]?.default !== undefined, `${path}: key ${k} required or defaulted`);
          }
          const mergeKey = s['x-kubernetes-patch-merge-key'];
          if (mergeKey !== undefined) assert.ok(keys.includes(mergeKey), `${path}: merge key among the map keys`);
        }
      });

      it('has printer columns that point at schema fields', () => {
        for (const c of rt.printerColumns) {
          assert.ok(schemaAt(rt.schema, jsonPathField(c.jsonPath)), `${c.name}: ${c.jsonPath} is not in the schema`);
          assert.match(c.name, /^[A-Z][A-Za-z]*( [A-Z][A-Za-z]*)*$/, 'column names are Title Case like kube\'s');
          assert.ok(c.description, `${c.name} has a description`);
        }
        const names = rt.printerColumns.map((c) => c.name);
        assert.equal(new Set(names).size, names.length, 'unique column names');
      });

      it('prints rows as wide as its columns', () => {
        if (!rt.printRow) return;
        assert.equal(rt.printRow({}).length, rt.printerColumns.length, 'empty object');
        assert.equal(rt.printRow(sample(rt)).length, rt.printerColumns.length, 'sample object');
        for (const cell of rt.printRow(sample(rt))) assert.ok(['string', 'number', 'boolean'].includes(typeof cell) || cell === null, `cell ${String(cell)}`);
      });

      it('has field selectors that point at scalar fields (or computed ones)', () => {
        const computed = rt.fieldValues ? Object.keys(rt.fieldValues({})) : [];
        for (const f of rt.selectableFields) {
          if (computed.includes(f)) continue;
          const s = schemaAt(rt.schema, f);
          assert.ok(s && s !== 'any', `${f} is not in the schema`);
          assert.ok(['string', 'integer', 'boolean'].includes(s.type ?? ''), `${f} is not a scalar`);
        }
      });

      it('belongs to a cluster through spec.cluster (namespaced kumo kinds but Cluster)', () => {
        if (rt.group !== 'kumo.dev' || !rt.namespaced || rt.kind === 'Cluster') return;
        const spec = rt.schema.properties?.['spec'];
        assert.equal(spec?.properties?.['cluster']?.type, 'string');
        assert.ok(spec?.required?.includes('cluster'));
        assert.ok(rt.selectableFields.includes('spec.cluster'));
      });

      it('has scale paths that point at integer fields', () => {
        const scale = rt.subresources.scale;
        if (!scale) return;
        for (const p of [scale.specReplicasPath, scale.statusReplicasPath]) {
          const s = schemaAt(rt.schema, jsonPathField(p));
          assert.ok(s && s !== 'any' && s.type === 'integer', p);
        }
        if (scale.labelSelectorPath) assert.ok(schemaAt(rt.schema, jsonPathField(scale.labelSelectorPath)));
        assert.ok(rt.subresources.status, 'scale needs status');
      });
    });
  }
});

describe('shared definitions (x-kumo-ref)', () => {
  /** The schema without descriptions: what must agree between uses of one definition name. */
  function shape(s: JSONSchemaProps): unknown {
    return JSON.parse(JSON.stringify(s, (k, v: unknown) => (k === 'description' ? undefined : v)));
  }

  it('gives one shape to each definition name, named as upstream names it', () => {
    const seen = new Map<string, { shape: unknown; where: string }>();
    const roots: [string, JSONSchemaProps][] = [...all.map((rt): [string, JSONSchemaProps] => [id(rt), rt.schema]), ['TokenRequest', tokenRequestSchema()]];
    for (const [where, root] of roots) {
      for (const [path, s] of nodes(root)) {
        const name = s['x-kumo-ref'];
        if (name === undefined) continue;
        assert.match(name, /^io\.k8s\.[a-z0-9.-]+\.[A-Z][A-Za-z0-9]*$/, name);
        const prev = seen.get(name);
        if (prev) assert.deepEqual(shape(s), prev.shape, `${name} differs between ${prev.where} and ${where} ${path}`);
        else seen.set(name, { shape: shape(s), where: `${where} ${path}` });
      }
    }
    for (const n of ['ObjectMeta', 'Condition', 'LabelSelector', 'OwnerReference', 'ManagedFieldsEntry']) {
      assert.ok(seen.has(`io.k8s.apimachinery.pkg.apis.meta.v1.${n}`), n);
    }
    assert.ok(seen.has('io.k8s.api.core.v1.ObjectReference'));
  });
});

describe('flavors', () => {
  it('has the built-in flavors of ARCHITECTURE.md', () => {
    assert.deepEqual(Object.keys(flavors), ['small', 'medium', 'large', 'gpu']);
    assert.deepEqual(flavors['small']?.capacity, { cpu: '2', memory: '4Gi' });
    assert.deepEqual(flavors['medium']?.capacity, { cpu: '4', memory: '8Gi' });
    assert.deepEqual(flavors['large']?.capacity, { cpu: '8', memory: '32Gi' });
    assert.deepEqual(flavors['gpu']?.capacity, { cpu: '16', memory: '64Gi', 'nvidia.com/gpu': '2' });
    assert.ok(Object.isFrozen(flavors) && Object.isFrozen(flavors['gpu']?.capacity));
  });
});
