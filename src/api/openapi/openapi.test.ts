import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { arr, defineKind, int, intOrString, map, obj, str } from '../schema/dsl.js';
import { crdResourceSchema } from '../schema/ops.js';
import type { JSONSchemaProps, ResourceType } from '../types.js';
import { buildOpenAPIV2, buildOpenAPIV3, definitionName, type SubresourceKind } from './index.js';
import { friendlyGroup, operationGroupVersion } from './names.js';

type Json = Record<string, unknown>;

// ---- fixtures: a few kinds shaped like Kumo's ----

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
function objectMeta(): JSONSchemaProps {
  return {
    ...obj(
      {
        name: str({ description: 'Name of the object.' }),
        namespace: str(),
        labels: map(str()),
        ownerReferences: arr({ ...obj({ uid: str(), name: str() }), description: 'An owner.', 'x-kumo-ref': 'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference' }, { mapKeys: ['uid'] }),
      },
      { description: 'ObjectMeta is metadata that all persisted resources must have.' },
    ),
    'x-kumo-ref': OBJECT_META,
  };
}
const withMeta = (): JSONSchemaProps => ({ ...objectMeta(), description: 'Standard object metadata.' });

const configMap = defineKind({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, fields: { data: map(str()) } }, withMeta());
const namespace = defineKind(
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, status: true, fields: { spec: obj({ finalizers: arr(str()) }), status: obj({ phase: str() }) } },
  withMeta(),
);
const serviceAccount = defineKind({ group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, fields: {} }, withMeta());
const role = defineKind(
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true, fields: { rules: arr(obj({ verbs: arr(str()) }, { required: ['verbs'] })) } },
  withMeta(),
);
const cluster = defineKind(
  {
    group: 'kumo.dev',
    version: 'v1alpha1',
    kind: 'Cluster',
    plural: 'clusters',
    namespaced: true,
    status: true,
    scale: { specReplicasPath: '.spec.controlPlane.replicas', statusReplicasPath: '.status.replicas' },
    fields: {
      spec: obj({ version: str({ description: 'Kubernetes version.' }), port: intOrString(), note: str({ nullable: true }), values: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: str() } } }),
      status: obj({ replicas: int() }),
    },
  },
  withMeta(),
);
const tenant = defineKind({ group: 'kumo.dev', version: 'v1alpha1', kind: 'Tenant', plural: 'tenants', namespaced: false, verbs: ['get', 'list', 'watch'], fields: {} }, withMeta());
const cronTab: ResourceType = {
  group: 'stable.example.com',
  version: 'v1',
  kind: 'CronTab',
  listKind: 'CronTabList',
  plural: 'crontabs',
  singular: 'crontab',
  shortNames: ['ct'],
  categories: [],
  namespaced: true,
  schema: crdResourceSchema(
    {
      type: 'object',
      properties: {
        metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 20 } } },
        spec: { type: 'object', properties: { cronSpec: { type: 'string' }, replicas: { type: 'integer', default: 1 }, choice: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } },
      },
    },
    objectMeta(),
  ),
  subresources: { status: true },
  printerColumns: [],
  selectableFields: [],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  source: 'crd',
};
// A CRD first: the shared ObjectMeta definition must still be the plain one.
const rts: ResourceType[] = [cronTab, configMap, namespace, serviceAccount, role, cluster, tenant];
const subresources: SubresourceKind[] = [
  { parent: serviceAccount, name: 'token', gvk: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, schema: obj({ spec: obj({ audiences: arr(str()) }) }), verbs: ['create'] },
];
const opts = { version: 'v1.33.0+kumo.test', subresources, definitions: { [OBJECT_META]: objectMeta() } };

// ---- helpers ----

function walk(v: unknown, visit: (node: Json, path: string) => void, path = '#'): void {
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, visit, `${path}/${i}`));
  else if (v !== null && typeof v === 'object') {
    visit(v as Json, path);
    for (const [k, x] of Object.entries(v)) walk(x, visit, `${path}/${k}`);
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];
const ACTIONS = ['get', 'list', 'watch', 'watchlist', 'put', 'post', 'patch', 'delete', 'deletecollection', 'connect'];

/** Structural checks of a swagger 2.0 document (the rules of the spec kubectl relies on). */
function swaggerProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (doc.swagger !== '2.0') problems.push('swagger must be "2.0"');
  const info = doc.info as Json | undefined;
  if (typeof info?.title !== 'string' || typeof info.version !== 'string') problems.push('info.title and info.version are required strings');
  const defs = (doc.definitions ?? {}) as Record<string, Json>;
  const opIds = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    if (!path.startsWith('/')) problems.push(`${path}: paths start with /`);
    const vars = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    for (const key of Object.keys(item)) if (!METHODS.includes(key) && key !== 'parameters' && !key.startsWith('x-')) problems.push(`${path}: unexpected key ${key}`);
    const pathParams = (item.parameters ?? []) as Json[];
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (typeof op.operationId !== 'string') problems.push(`${where}: operationId required`);
      else if (opIds.has(op.operationId)) problems.push(`${where}: duplicate operationId ${op.operationId}`);
      else opIds.add(op.operationId);
      const responses = op.responses as Record<string, Json> | undefined;
      if (!responses || Object.keys(responses).length === 0) problems.push(`${where}: responses required`);
      for (const [code, r] of Object.entries(responses ?? {})) if (typeof r.description !== 'string') problems.push(`${where} ${code}: response description required`);
      const params = [...pathParams, ...((op.parameters ?? []) as Json[])];
      const bodies = params.filter((p) => p.in === 'body');
      if (bodies.length > 1) problems.push(`${where}: at most one body parameter`);
      for (const p of params) {
        if (typeof p.name !== 'string' || !['query', 'path', 'body', 'header', 'formData'].includes(p.in as string)) problems.push(`${where}: bad parameter ${JSON.stringify(p)}`);
        if (p.in === 'body' && typeof p.schema !== 'object') problems.push(`${where}: body parameter needs a schema`);
        if (p.in !== 'body' && !['string', 'integer', 'boolean', 'number', 'array'].includes(p.type as string)) problems.push(`${where}: ${String(p.name)} needs a primitive type`);
        if (p.in === 'path' && (p.required !== true || !vars.includes(p.name as string))) problems.push(`${where}: path parameter ${String(p.name)} must be required and in the path`);
      }
      for (const v of vars) if (!params.some((p) => p.in === 'path' && p.name === v)) problems.push(`${where}: {${String(v)}} has no parameter`);
      const action = op['x-kubernetes-action'];
      if (action !== undefined && !ACTIONS.includes(action as string)) problems.push(`${where}: x-kubernetes-action ${JSON.stringify(action)}`);
    }
  }
  walk(doc, (node, at) => {
    const ref = node.$ref;
    if (typeof ref === 'string' && !(ref.startsWith('#/definitions/') && defs[ref.slice('#/definitions/'.length)])) problems.push(`${at}: unresolved $ref ${ref}`);
    for (const k of ['x-kumo-ref', 'nullable', 'anyOf', 'oneOf', 'not']) if (k in node && at.startsWith('#/definitions')) problems.push(`${at}: ${k} is not swagger 2.0`);
    if (at.startsWith('#/definitions') && Array.isArray(node.type)) problems.push(`${at}: type must be a single name`);
    if (node.type === 'array' && node.items === undefined && at.startsWith('#/definitions')) problems.push(`${at}: array without items`);
  });
  return problems;
}

/** Resolves `#/components/schemas/x` (or returns the node). */
function resolve(doc: Json, node: Json): Json {
  const schemas = (doc.components as Json).schemas as Record<string, Json>;
  let n = node;
  for (let i = 0; i < 10; i++) {
    if (typeof n.$ref === 'string') n = schemas[n.$ref.slice('#/components/schemas/'.length)] ?? {};
    else if (Array.isArray(n.allOf) && n.allOf.length === 1 && !n.properties) n = n.allOf[0] as Json;
    else return n;
  }
  return n;
}

/** What `kubectl explain <resource>[.field…]` does with a v3 document (templates/plaintext.tmpl). */
function explain(doc: Json, rt: ResourceType, fieldPath: string[]): Json | undefined {
  const prefix = rt.group === '' ? '/api' : `/apis/${rt.group}`;
  const candidates = [
    `${prefix}/${rt.version}/${rt.plural}`,
    `${prefix}/${rt.version}/${rt.plural}/{name}`,
    `${prefix}/${rt.version}/namespaces/{namespace}/${rt.plural}`,
    `${prefix}/${rt.version}/namespaces/{namespace}/${rt.plural}/{name}`,
  ];
  let gvk: Json | undefined;
  for (const p of candidates) {
    const item = (doc.paths as Record<string, Json>)[p];
    for (const m of ['get', 'post', 'put', 'patch', 'delete']) gvk ??= (item?.[m] as Json | undefined)?.['x-kubernetes-group-version-kind'] as Json | undefined;
  }
  if (!gvk) return undefined;
  const schemas = (doc.components as Json).schemas as Record<string, Json>;
  const top = Object.values(schemas).find((s) => ((s['x-kubernetes-group-version-kind'] ?? []) as Json[]).some((g) => JSON.stringify(g) === JSON.stringify(gvk)));
  if (!top) return undefined;
  let node = resolve(doc, top);
  for (const f of fieldPath) {
    const props = node.properties as Record<string, Json> | undefined;
    if (!props?.[f]) return undefined;
    node = resolve(doc, props[f]);
    while (node.items && !node.properties) node = resolve(doc, node.items as Json);
  }
  return node;
}

/** kubectl's QueryParamVerifierV3: the first PATCH operation for the GVK must take the query parameter. */
function supportsQueryParam(doc: Json, gvk: Json, param: string): boolean {
  for (const item of Object.values(doc.paths as Record<string, Json>)) {
    const op = item.patch as Json | undefined;
    if (!op) continue;
    if (JSON.stringify(op['x-kubernetes-group-version-kind']) !== JSON.stringify(gvk)) continue;
    return ((op.parameters ?? []) as Json[]).some((p) => p.name === param && p.in === 'query');
  }
  return false;
}

// ---- tests ----

describe('names', () => {
  const cases: [Parameters<typeof definitionName>[0], string][] = [
    [{ group: '', version: 'v1', kind: 'ConfigMap' }, 'io.k8s.api.core.v1.ConfigMap'],
    [{ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role' }, 'io.k8s.api.rbac.v1.Role'],
    [{ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' }, 'io.k8s.api.coordination.v1.Lease'],
    [{ group: 'apps', version: 'v1', kind: 'Deployment' }, 'io.k8s.api.apps.v1.Deployment'],
    [{ group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' }, 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition'],
    [{ group: 'kumo.dev', version: 'v1alpha1', kind: 'Cluster' }, 'dev.kumo.v1alpha1.Cluster'],
    [{ group: 'stable.example.com', version: 'v1', kind: 'CronTab' }, 'com.example.stable.v1.CronTab'],
  ];
  for (const [gvk, want] of cases) it(want, () => assert.equal(definitionName(gvk), want));
  it('operation names', () => {
    assert.deepEqual(['', 'apps', 'rbac.authorization.k8s.io', 'flowcontrol.apiserver.k8s.io', 'stable.example.com', 'kumo.dev'].map(friendlyGroup), [
      'core',
      'apps',
      'rbacAuthorization',
      'flowcontrolApiserver',
      'stableExampleCom',
      'kumoDev',
    ]);
    assert.equal(operationGroupVersion('kumo.dev', 'v1alpha1'), 'KumoDevV1alpha1');
  });
});

describe('OpenAPI v2', () => {
  const v2 = buildOpenAPIV2(rts, opts);
  const doc = v2.doc;
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const defs = doc.definitions as Record<string, Json>;

  it('is structurally valid swagger 2.0', () => assert.deepEqual(swaggerProblems(doc), []));
  it('is valid without canonical definitions too (first use sites define them)', () => {
    const plain = buildOpenAPIV2(rts, { subresources }).doc;
    assert.deepEqual(swaggerProblems(plain), []);
    assert.ok((plain.definitions as Record<string, Json>)[OBJECT_META]);
  });

  it('catches broken documents (the checker can fail)', () => {
    const broken = structuredClone(doc);
    (broken.paths as Record<string, Json>)['/api/v1/namespaces/{namespace}/configmaps/{name}'] = { get: { operationId: 'x', responses: { '200': { description: 'OK', schema: { $ref: '#/definitions/nope' } } } } };
    const problems = swaggerProblems(broken);
    assert.ok(problems.some((p) => p.includes('unresolved $ref')));
    assert.ok(problems.some((p) => p.includes('{name} has no parameter')));
  });

  it('names definitions like kube-apiserver', () => {
    for (const name of [
      'io.k8s.api.core.v1.ConfigMap',
      'io.k8s.api.core.v1.ConfigMapList',
      'io.k8s.api.rbac.v1.Role',
      'dev.kumo.v1alpha1.Cluster',
      'com.example.stable.v1.CronTab',
      'io.k8s.api.authentication.v1.TokenRequest',
      'io.k8s.api.autoscaling.v1.Scale',
      OBJECT_META,
      'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta',
      'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
      'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
      'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent',
    ]) {
      assert.ok(defs[name], name);
    }
  });

  it('top-level kinds carry x-kubernetes-group-version-kind', () => {
    assert.deepEqual(defs['io.k8s.api.core.v1.ConfigMap']?.['x-kubernetes-group-version-kind'], [{ group: '', kind: 'ConfigMap', version: 'v1' }]);
    assert.deepEqual(defs['dev.kumo.v1alpha1.ClusterList']?.['x-kubernetes-group-version-kind'], [{ group: 'kumo.dev', kind: 'ClusterList', version: 'v1alpha1' }]);
    assert.equal(defs[OBJECT_META]?.['x-kubernetes-group-version-kind'], undefined);
  });

  it('refers to shared definitions and keeps the plain ObjectMeta', () => {
    const props = defs['io.k8s.api.core.v1.ConfigMap']?.properties as Record<string, Json>;
    assert.deepEqual(props.metadata, { $ref: `#/definitions/${OBJECT_META}`, description: 'Standard object metadata.' });
    assert.equal(defs[OBJECT_META]?.allOf, undefined);
    assert.equal(defs[OBJECT_META]?.description, 'ObjectMeta is metadata that all persisted resources must have.');
    const owners = (defs[OBJECT_META]?.properties as Record<string, Json>).ownerReferences;
    // The item's description only repeats its definition's: a bare $ref.
    assert.deepEqual(owners?.items, { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference' });
  });

  it('operations of a namespaced resource', () => {
    const collection = paths['/api/v1/namespaces/{namespace}/configmaps'];
    assert.deepEqual(Object.keys(collection ?? {}).sort(), ['delete', 'get', 'parameters', 'post']);
    assert.equal(collection?.post?.operationId, 'createCoreV1NamespacedConfigMap');
    assert.equal(collection?.post?.['x-kubernetes-action'], 'post');
    assert.deepEqual(collection?.post?.['x-kubernetes-group-version-kind'], { group: '', kind: 'ConfigMap', version: 'v1' });
    assert.equal(collection?.delete?.operationId, 'deleteCoreV1CollectionNamespacedConfigMap');
    assert.equal(collection?.delete?.['x-kubernetes-action'], 'deletecollection');
    const item = paths['/api/v1/namespaces/{namespace}/configmaps/{name}'];
    assert.deepEqual(
      ['get', 'put', 'patch', 'delete'].map((m) => [item?.[m]?.operationId, item?.[m]?.['x-kubernetes-action']]),
      [
        ['readCoreV1NamespacedConfigMap', 'get'],
        ['replaceCoreV1NamespacedConfigMap', 'put'],
        ['patchCoreV1NamespacedConfigMap', 'patch'],
        ['deleteCoreV1NamespacedConfigMap', 'delete'],
      ],
    );
    assert.equal(paths['/api/v1/configmaps']?.get?.operationId, 'listCoreV1ConfigMapForAllNamespaces');
    assert.equal(paths['/api/v1/watch/namespaces/{namespace}/configmaps/{name}']?.get?.['x-kubernetes-action'], 'watch');
    assert.equal(paths['/api/v1/watch/configmaps']?.get?.['x-kubernetes-action'], 'watchlist');
    const patchParams = (item?.patch?.parameters as Json[]).map((p) => p.name);
    assert.deepEqual(patchParams, ['body', 'dryRun', 'fieldManager', 'fieldValidation', 'force']);
    assert.deepEqual(item?.patch?.consumes, ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']);
  });

  it('cluster-scoped, status, scale, custom subresources and CRDs', () => {
    assert.equal(paths['/api/v1/namespaces']?.get?.operationId, 'listCoreV1Namespace');
    assert.equal(paths['/api/v1/namespaces/{name}/status']?.put?.operationId, 'replaceCoreV1NamespaceStatus');
    const scale = paths['/apis/kumo.dev/v1alpha1/namespaces/{namespace}/clusters/{name}/scale'];
    assert.deepEqual(scale?.get?.['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
    assert.equal(scale?.patch?.operationId, 'patchKumoDevV1alpha1NamespacedClusterScale');
    const token = paths['/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token'];
    assert.equal(token?.post?.operationId, 'createCoreV1NamespacedServiceAccountToken');
    assert.deepEqual(token?.post?.['x-kubernetes-group-version-kind'], { group: 'authentication.k8s.io', kind: 'TokenRequest', version: 'v1' });
    const crdPatch = paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}']?.patch;
    assert.equal(crdPatch?.operationId, 'patchStableExampleComV1NamespacedCronTab');
    assert.ok(!(crdPatch?.consumes as string[]).includes('application/strategic-merge-patch+json'));
    // Tenant serves get, list and watch only.
    assert.deepEqual(Object.keys(paths['/apis/kumo.dev/v1alpha1/tenants'] ?? {}).sort(), ['get', 'parameters']);
    assert.deepEqual(Object.keys(paths['/apis/kumo.dev/v1alpha1/tenants/{name}'] ?? {}).sort(), ['get', 'parameters']);
  });

  it('says only what swagger 2.0 can say (kube ToStructuralOpenAPIV2)', () => {
    const spec = (defs['dev.kumo.v1alpha1.Cluster']?.properties as Record<string, Json>).spec?.properties as Record<string, Json>;
    assert.deepEqual(spec.port, { 'x-kubernetes-int-or-string': true });
    assert.deepEqual(spec.note, {});
    assert.deepEqual(spec.values, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    const crSpec = (defs['com.example.stable.v1.CronTab']?.properties as Record<string, Json>).spec?.properties as Record<string, Json>;
    assert.deepEqual(crSpec.choice, {});
    assert.equal(crSpec.replicas?.default, 1);
  });

  it('serves a stable ETag: uppercase hex SHA-512 of the JSON', () => {
    assert.equal(v2.etag, crypto.createHash('sha512').update(v2.json).digest('hex').toUpperCase());
    assert.equal(buildOpenAPIV2(rts, opts).etag, v2.etag);
    assert.notEqual(buildOpenAPIV2(rts.slice(1), opts).etag, v2.etag);
    assert.deepEqual(JSON.parse(v2.json), doc);
  });

  it('never serves the x-kumo-ref marker', () => assert.ok(!v2.json.includes('x-kumo-ref')));
});

describe('OpenAPI v3', () => {
  const v3 = buildOpenAPIV3(rts, opts);

  it('one document per group-version, listed in the root with its hash', () => {
    assert.deepEqual([...v3.groupVersions.keys()], ['api/v1', 'apis/kumo.dev/v1alpha1', 'apis/rbac.authorization.k8s.io/v1', 'apis/stable.example.com/v1']);
    const root = v3.root().doc as { paths: Record<string, { serverRelativeURL: string }> };
    for (const [gv, d] of v3.groupVersions) assert.equal(root.paths[gv]?.serverRelativeURL, `/openapi/v3/${gv}?hash=${d.etag}`);
    assert.equal(v3.root('/clusters/c1').doc.paths && (v3.root('/clusters/c1').doc.paths as Record<string, { serverRelativeURL: string }>)['api/v1']?.serverRelativeURL.startsWith('/clusters/c1/openapi/v3/api/v1?hash='), true);
    assert.equal(v3.root().etag, crypto.createHash('sha512').update(v3.root().json).digest('hex').toUpperCase());
  });

  it('a group-version hash changes only with that group-version', () => {
    const other = buildOpenAPIV3([...rts.filter((r) => r !== tenant)], opts);
    assert.equal(other.groupVersions.get('api/v1')?.etag, v3.groupVersions.get('api/v1')?.etag);
    assert.notEqual(other.groupVersions.get('apis/kumo.dev/v1alpha1')?.etag, v3.groupVersions.get('apis/kumo.dev/v1alpha1')?.etag);
  });

  for (const [gv, served] of buildOpenAPIV3(rts, opts).groupVersions) {
    it(`${gv}: OpenAPI 3.0 whose $refs all resolve within its components`, () => {
      const doc = served.doc;
      assert.equal(doc.openapi, '3.0.0');
      const schemas = (doc.components as Json).schemas as Record<string, Json>;
      const unresolved: string[] = [];
      walk(doc, (node, at) => {
        if (typeof node.$ref === 'string' && !schemas[node.$ref.replace('#/components/schemas/', '')]) unresolved.push(`${at} ${node.$ref}`);
        if ('x-kumo-ref' in node) unresolved.push(`${at} x-kumo-ref`);
      });
      assert.deepEqual(unresolved, []);
      for (const path of Object.keys(doc.paths as Json)) assert.ok(path.startsWith(`/${gv}/`), path);
    });
  }

  for (const rt of rts) {
    it(`kubectl explain finds ${rt.kind} and its metadata; field validation is detected`, () => {
      const doc = v3.groupVersions.get(rt.group === '' ? 'api/v1' : `apis/${rt.group}/${rt.version}`)?.doc as Json;
      const top = explain(doc, rt, []);
      assert.ok(top?.properties, 'kind schema found');
      assert.equal(explain(doc, rt, ['metadata'])?.description, 'ObjectMeta is metadata that all persisted resources must have.');
      assert.ok(explain(doc, rt, ['metadata', 'ownerReferences'])?.properties, 'owner references resolve');
      const gvk = { group: rt.group, kind: rt.kind, version: rt.version };
      assert.equal(supportsQueryParam(doc, gvk, 'fieldValidation'), rt.verbs.includes('patch'));
    });
  }

  it('keeps what OpenAPI 3.0 can say: nullable, anyOf, descriptions beside $ref', () => {
    const doc = v3.groupVersions.get('apis/kumo.dev/v1alpha1')?.doc as Json;
    const cluster = ((doc.components as Json).schemas as Record<string, Json>)['dev.kumo.v1alpha1.Cluster'] as Json;
    const props = cluster.properties as Record<string, Json>;
    assert.deepEqual(props.metadata, { allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }], description: 'Standard object metadata.' });
    const spec = props.spec?.properties as Record<string, Json>;
    assert.equal(spec.note?.nullable, true);
    assert.equal(spec.note?.type, 'string');
    assert.deepEqual(spec.port, { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] });
    const patch = (doc.paths as Record<string, Json>)['/apis/kumo.dev/v1alpha1/namespaces/{namespace}/clusters/{name}']?.patch as Json;
    assert.deepEqual(Object.keys((patch.requestBody as Json).content as Json), ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']);
  });

  it('the core document holds the TokenRequest subresource and its schema', () => {
    const doc = v3.groupVersions.get('api/v1')?.doc as Json;
    assert.ok((doc.paths as Json)['/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token']);
    assert.ok(((doc.components as Json).schemas as Json)['io.k8s.api.authentication.v1.TokenRequest']);
    assert.equal(((doc.components as Json).schemas as Json)['com.example.stable.v1.CronTab'], undefined);
  });
});
