// Valid objects of every kind Kumo serves, for the fuzzer to mutate; a kind without one here gets an
// object synthesized from its schema's required fields. The fuzz test creates each fixture once before
// fuzzing (so a fixture that no longer validates fails loudly, not silently as 10,000 422s).
import type { JSONSchemaProps } from '../../api/types.js';
import type { Json } from './values.js';

/** The CRD the fuzzer adds: every schema feature its CRs can exercise (types, limits, list/map types, int-or-string, preserve-unknown, status and scale). */
export const FUZZ_GROUP = 'fuzz.kumo.dev';
export const WIDGETS_CRD = `widgets.${FUZZ_GROUP}`;

export function widgetsCrd(): Record<string, Json> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: WIDGETS_CRD },
    spec: {
      group: FUZZ_GROUP,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wdg'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
          additionalPrinterColumns: [
            { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
            { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['size'],
                  'x-kubernetes-validations': [{ rule: '!has(self.replicas) || self.replicas <= self.size', message: 'replicas must not exceed size' }],
                  properties: {
                    size: { type: 'integer', minimum: 0, maximum: 1000 },
                    replicas: { type: 'integer', minimum: 0, default: 1 },
                    ratio: { type: 'number' },
                    title: { type: 'string', maxLength: 64 },
                    mode: { type: 'string', enum: ['fast', 'slow'], default: 'fast' },
                    code: { type: 'string', pattern: '^[a-z]+$', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'code is immutable' }] },
                    enabled: { type: 'boolean' },
                    tags: {
                      type: 'array',
                      items: { type: 'string', maxLength: 64 },
                      maxItems: 16,
                      'x-kubernetes-list-type': 'set',
                      'x-kubernetes-validations': [{ rule: "self.all(t, t.matches('^[a-z0-9-]*$'))", messageExpression: "'tags must be lowercase: ' + self.join(',')" }],
                    },
                    ports: {
                      type: 'array',
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['name'],
                      items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer', minimum: 1, maximum: 65535 } } },
                    },
                    labels: { type: 'object', additionalProperties: { type: 'string' }, 'x-kubernetes-map-type': 'granular' },
                    quantity: { 'x-kubernetes-int-or-string': true },
                    created: { type: 'string', format: 'date-time' },
                    free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                    nested: { type: 'object', properties: { inner: { type: 'object', properties: { leaf: { type: 'string' } } } } },
                  },
                },
                status: {
                  type: 'object',
                  properties: {
                    replicas: { type: 'integer' },
                    phase: { type: 'string' },
                    conditions: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, status: { type: 'string' } } } },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

type Fixture = (name: string, namespace: string) => Record<string, Json>;

const TIME = '2024-01-01T00:00:00Z';
const MICRO = '2024-01-01T00:00:00.000000Z';
const rbac = 'rbac.authorization.k8s.io';

/** Keyed by `<group>/<plural>` ('' group for core). */
const FIXTURES: Record<string, Fixture> = {
  '/namespaces': (name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { app: 'fuzz' } } }),
  '/configmaps': (name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'fuzz' }, annotations: { note: 'x' } }, data: { k: 'v', 'a.b': 'c' }, binaryData: { bin: 'aGVsbG8=' } }),
  '/secrets': (name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', data: { k: 'dmFsdWU=' }, stringData: { s: 'x' } }),
  '/serviceaccounts': (name) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name }, secrets: [{ name: 's1' }], imagePullSecrets: [{ name: 'p' }], automountServiceAccountToken: false }),
  '/resourcequotas': (name) => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard: { 'count/configmaps': '100000', secrets: '100000', 'requests.cpu': '64', 'limits.memory': '256Gi' } } }),
  '/limitranges': (name) => ({
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name },
    spec: {
      limits: [
        { type: 'Container', min: { cpu: '100m' }, defaultRequest: { cpu: '250m' }, default: { cpu: '500m' }, max: { cpu: '2' }, maxLimitRequestRatio: { cpu: '4' } },
        { type: 'kumo.dev/NodePool', max: { cpu: '64', memory: '256Gi' } },
      ] as Json[],
    },
  }),
  '/events': (name, ns) => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name },
    involvedObject: { kind: 'ConfigMap', namespace: ns, name: 'base-0', apiVersion: 'v1' },
    reason: 'Fuzzed',
    message: 'a fuzzed event',
    type: 'Normal',
    source: { component: 'fuzz' },
    firstTimestamp: TIME,
    lastTimestamp: TIME,
    count: 1,
  }),
  'events.k8s.io/events': (name, ns) => ({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name },
    eventTime: MICRO,
    reportingController: 'fuzz.kumo.dev/fuzzer',
    reportingInstance: 'fuzzer-1',
    action: 'Fuzz',
    reason: 'Fuzzed',
    regarding: { kind: 'ConfigMap', namespace: ns, name: 'base-0', apiVersion: 'v1' },
    note: 'a fuzzed event',
    type: 'Normal',
  }),
  'coordination.k8s.io/leases': (name) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name },
    spec: { holderIdentity: 'fuzzer', leaseDurationSeconds: 15, acquireTime: MICRO, renewTime: MICRO, leaseTransitions: 0 },
  }),
  [`${rbac}/roles`]: (name) => ({ apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] }),
  [`${rbac}/clusterroles`]: (name) => ({
    apiVersion: `${rbac}/v1`,
    kind: 'ClusterRole',
    metadata: { name },
    rules: [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      { nonResourceURLs: ['/healthz'], verbs: ['get'] },
    ] as Json[],
  }),
  [`${rbac}/rolebindings`]: (name) => ({
    apiVersion: `${rbac}/v1`,
    kind: 'RoleBinding',
    metadata: { name },
    subjects: [{ kind: 'User', apiGroup: rbac, name: 'fuzz-user' }],
    roleRef: { apiGroup: rbac, kind: 'Role', name: 'base-0' },
  }),
  [`${rbac}/clusterrolebindings`]: (name) => ({
    apiVersion: `${rbac}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name },
    subjects: [{ kind: 'Group', apiGroup: rbac, name: 'fuzz-group' }],
    roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'base-0' },
  }),
  'apiextensions.k8s.io/customresourcedefinitions': (name) => {
    // A CRD's name is <plural>.<group>: the fuzzer's names become the plural.
    const plural = name.endsWith(`.${FUZZ_GROUP}`) ? name.slice(0, -FUZZ_GROUP.length - 1) : name;
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.${FUZZ_GROUP}` },
      spec: {
        group: FUZZ_GROUP,
        scope: 'Namespaced',
        names: { plural, singular: plural, kind: `Fz${plural.replace(/[^a-z0-9]/g, '')}`, listKind: `Fz${plural.replace(/[^a-z0-9]/g, '')}List` },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }],
      },
    };
  },
  'kumo.dev/tenants': (name) => ({
    apiVersion: 'kumo.dev/v1alpha1',
    kind: 'Tenant',
    metadata: { name },
    spec: {
      members: [{ kind: 'User', name: 'alice', role: 'admin' }],
      quota: { clusters: 2, nodes: 10, cpu: '8', memory: '16Gi', volumes: { standard: 4 }, loadBalancerPorts: { from: 30000, to: 30010 } },
    },
  }),
  'kumo.dev/clusters': (name) => ({
    apiVersion: 'kumo.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name },
    spec: {
      version: 'v1.33',
      provider: 'local',
      controlPlane: { replicas: 1 },
      datastore: { type: 'sqlite' },
      network: { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' },
      backup: { schedule: '@daily', retention: 3 },
    },
  }),
  'kumo.dev/nodepools': (name) => ({
    apiVersion: 'kumo.dev/v1alpha1',
    kind: 'NodePool',
    metadata: { name },
    spec: { cluster: 'c1', replicas: 2, template: { flavor: 'small', labels: { a: 'b' }, taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }, autoHeal: { enabled: true, maxUnhealthy: '40%' } },
  }),
  'kumo.dev/machines': (name) => ({ apiVersion: 'kumo.dev/v1alpha1', kind: 'Machine', metadata: { name }, spec: { cluster: 'c1', nodePool: 'np', flavor: 'small', providerID: 'local://m1' } }),
  'kumo.dev/importtokens': (name) => ({ apiVersion: 'kumo.dev/v1alpha1', kind: 'ImportToken', metadata: { name }, spec: { cluster: 'c1', expiresAt: '2030-01-01T00:00:00Z', maxUses: 3 } }),
  'kumo.dev/etcdsnapshots': (name) => ({ apiVersion: 'kumo.dev/v1alpha1', kind: 'EtcdSnapshot', metadata: { name }, spec: { cluster: 'c1' } }),
  'kumo.dev/etcdrestores': (name) => ({ apiVersion: 'kumo.dev/v1alpha1', kind: 'EtcdRestore', metadata: { name }, spec: { cluster: 'c1', snapshot: 's1' } }),
  'kumo.dev/addondefinitions': (name) => ({
    apiVersion: 'kumo.dev/v1alpha1',
    kind: 'AddonDefinition',
    metadata: { name },
    spec: { description: 'd', manifests: [{ kubernetesVersions: '>=1.31', manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n' }], defaultValues: { a: 1 } },
  }),
  'kumo.dev/addons': (name) => ({ apiVersion: 'kumo.dev/v1alpha1', kind: 'Addon', metadata: { name }, spec: { cluster: 'c1', definition: 'd', values: { a: 'b' } } }),
  [`${FUZZ_GROUP}/widgets`]: (name) => ({
    apiVersion: `${FUZZ_GROUP}/v1`,
    kind: 'Widget',
    metadata: { name, labels: { app: 'fuzz' } },
    spec: {
      size: 3,
      replicas: 1,
      ratio: 0.5,
      title: 't',
      mode: 'fast',
      code: 'abc',
      enabled: true,
      tags: ['a', 'b'],
      ports: [{ name: 'http', port: 80 }],
      labels: { a: 'b' },
      quantity: '1Gi',
      created: TIME,
      free: { any: { thing: [1, 'two'] } },
      nested: { inner: { leaf: 'x' } },
    },
  }),
  'authentication.k8s.io/tokenreviews': () => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'not-a-token', audiences: ['api'] } }),
  'authentication.k8s.io/selfsubjectreviews': () => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
  'authorization.k8s.io/subjectaccessreviews': () => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: { user: 'alice', groups: ['g'], resourceAttributes: { namespace: 'fuzz-a', verb: 'get', resource: 'configmaps' } },
  }),
  'authorization.k8s.io/selfsubjectaccessreviews': () => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: 'fuzz-a', verb: 'get', resource: 'configmaps' } } }),
  'authorization.k8s.io/localsubjectaccessreviews': (_name, ns) => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'LocalSubjectAccessReview',
    metadata: { namespace: ns },
    spec: { user: 'alice', resourceAttributes: { namespace: ns, verb: 'get', resource: 'configmaps' } },
  }),
  'authorization.k8s.io/selfsubjectrulesreviews': (_name, ns) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: ns } }),
};

export interface KindRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  schema?: JSONSchemaProps;
}

/** True when the kind has a hand-written fixture (else it is synthesized from its schema). */
export function hasFixture(k: Pick<KindRef, 'group' | 'plural'>): boolean {
  return FIXTURES[`${k.group}/${k.plural}`] !== undefined;
}

/** A valid object of kind `k` named `name` (in `namespace` for namespaced kinds; the URL sets it). */
export function fixture(k: KindRef, name: string, namespace: string): Record<string, Json> {
  const f = FIXTURES[`${k.group}/${k.plural}`];
  if (f) return f(name, namespace);
  const apiVersion = k.group === '' ? k.version : `${k.group}/${k.version}`;
  const out: Record<string, Json> = { apiVersion, kind: k.kind, metadata: { name } };
  const props = k.schema?.properties ?? {};
  for (const req of k.schema?.required ?? []) {
    if (req === 'apiVersion' || req === 'kind' || req === 'metadata') continue;
    out[req] = synthesize(props[req], 0);
  }
  return out;
}

/** A value for a schema: required fields filled, enums and defaults used. */
function synthesize(s: JSONSchemaProps | undefined, depth: number): Json {
  if (!s || depth > 6) return {};
  if (s.default !== undefined) return s.default as Json;
  if (s.enum && s.enum.length > 0) return s.enum[0] as Json;
  switch (s.type) {
    case 'string':
      return s.format === 'date-time' ? TIME : 'a';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    default: {
      const o: Record<string, Json> = {};
      for (const r of s.required ?? []) o[r] = synthesize(s.properties?.[r], depth + 1);
      return o;
    }
  }
}

/** A status for `/status` writes: kumo.dev conditions shape, or the schema's. */
export function statusFor(k: KindRef): Json {
  if (k.group === FUZZ_GROUP) return { replicas: 1, phase: 'Ready', conditions: [{ type: 'Ready', status: 'True' }] };
  if (k.plural === 'namespaces') return { phase: 'Active' };
  if (k.plural === 'customresourcedefinitions') return { conditions: [{ type: 'Established', status: 'True', lastTransitionTime: TIME, reason: 'Fuzz', message: 'm' }], storedVersions: ['v1'] };
  const cond = { type: 'Ready', status: 'True', observedGeneration: 1, lastTransitionTime: TIME, reason: 'Fuzzed', message: 'fuzzed' };
  const props = k.schema?.properties?.status?.properties ?? {};
  const out: Record<string, Json> = {};
  if (props.conditions) out.conditions = [cond];
  if (props.phase?.enum?.[0] !== undefined) out.phase = props.phase.enum[0] as Json;
  if (props.replicas) out.replicas = 1;
  return out;
}

/** Dotted paths a kind's schema knows (for mutations that set known-but-absent fields). */
export function schemaPaths(s: JSONSchemaProps | undefined, limit = 200): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (x: JSONSchemaProps, p: (string | number)[], depth: number): void => {
    if (out.length >= limit || depth > 6) return;
    for (const [k, v] of Object.entries(x.properties ?? {})) {
      if (depth === 0 && (k === 'apiVersion' || k === 'kind')) continue;
      const q = [...p, k];
      out.push(q);
      if (v.type === 'array' && v.items) {
        out.push([...q, 0]);
        walk(v.items, [...q, 0], depth + 1);
      } else walk(v, q, depth + 1);
    }
  };
  if (s) walk(s, [], 0);
  return out;
}
