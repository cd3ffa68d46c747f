// End-to-end: server-side apply and managedFields with the real kumo binary, real kubectl 1.33 and
// 1.27, and @kubernetes/client-node — create, change, conflicts and --force-conflicts, two managers
// sharing a list of containers, removal of fields a manager stops applying, the upgrade from
// client-side apply, --show-managed-fields, dry-run, and kube's checks of fieldManager.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import YAML from 'yaml';
import { ok, startKumo, type KumoHandle, type RunResult } from '../testing/kumo.js';

const VERSIONS = [33, 27];

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}
type Obj = KubernetesObject & { data?: Record<string, string>; spec?: Record<string, unknown>; metadata: { managedFields?: Entry[]; resourceVersion?: string; annotations?: Record<string, string> } };

function entry(obj: Obj, manager: string, operation = 'Apply'): Entry | undefined {
  return obj.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation) as Entry | undefined;
}

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: workloads.ssa.example.com}
spec:
  group: ssa.example.com
  scope: Namespaced
  names: {plural: workloads, singular: workload, kind: Workload}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer}
              paused: {type: boolean}
              containers:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    image: {type: string}
          status:
            type: object
            properties:
              ready: {type: boolean}
`;

describe('server-side apply (e2e)', () => {
  let k: KumoHandle;
  let objects: KubernetesObjectApi;
  before(async () => {
    k = await startKumo();
    const kc = new KubeConfig();
    kc.loadFromFile(k.kubeconfig);
    objects = KubernetesObjectApi.makeApiClient(kc);
    ok(await k.kubectl(33, ['apply', '--server-side', '-f', '-'], { input: CRD }), 'apply CRD');
    ok(await k.kubectl(33, ['wait', '--for=condition=Established', 'crd/workloads.ssa.example.com', '--timeout=30s']), 'wait CRD');
  });
  after(async () => {
    await k?.stop();
  });

  for (const v of VERSIONS) {
    describe(`kubectl 1.${v}`, () => {
      const ns = `ssa-${v}`;
      const kubectl = (args: string[], input?: string): Promise<RunResult> => k.kubectl(v, ['-n', ns, ...args], input === undefined ? {} : { input });
      const getYaml = async (what: string): Promise<Obj> => YAML.parse(ok(await kubectl(['get', what, '-o', 'yaml', '--show-managed-fields']), `get ${what}`)) as Obj;
      const configMap = (name: string, data: Record<string, string>): string => YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
      before(async () => {
        ok(await k.kubectl(v, ['create', 'namespace', ns]), 'create namespace');
      });

      it('apply --server-side creates, then changes; get --show-managed-fields shows the Apply entry', async () => {
        assert.match(ok(await kubectl(['apply', '--server-side', '-f', '-'], configMap('settings', { color: 'blue', size: 'large' })), 'create'), /^configmap\/settings serverside-applied$/m);
        let cm = await getYaml('configmap/settings');
        assert.deepEqual(cm.data, { color: 'blue', size: 'large' });
        const e = entry(cm, 'kubectl');
        assert.ok(e, JSON.stringify(cm.metadata.managedFields));
        assert.equal(e.apiVersion, 'v1');
        assert.equal(e.fieldsType, 'FieldsV1');
        assert.deepEqual(e.fieldsV1, { 'f:data': { 'f:color': {}, 'f:size': {} } });
        assert.match(e.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        // Without --show-managed-fields kubectl hides them, as against kube-apiserver.
        assert.doesNotMatch(ok(await kubectl(['get', 'configmap/settings', '-o', 'yaml']), 'get'), /managedFields/);
        ok(await kubectl(['apply', '--server-side', '-f', '-'], configMap('settings', { color: 'green', size: 'large' })), 'change');
        cm = await getYaml('configmap/settings');
        assert.deepEqual(cm.data, { color: 'green', size: 'large' });
        assert.deepEqual(cm.metadata.managedFields?.map((x) => `${x.manager}/${x.operation}`), ['kubectl/Apply']);
      });

      it('a field another manager changed is a conflict (exit 1, kube\'s text); --force-conflicts takes it', async () => {
        ok(await kubectl(['patch', 'configmap', 'settings', '--type', 'merge', '-p', '{"data":{"color":"red"}}']), 'patch');
        let cm = await getYaml('configmap/settings');
        assert.deepEqual(entry(cm, 'kubectl-patch', 'Update')?.fieldsV1, { 'f:data': { 'f:color': {} } });
        assert.deepEqual(entry(cm, 'kubectl')?.fieldsV1, { 'f:data': { 'f:size': {} } }, 'the patch took color from kubectl');
        const conflict = await kubectl(['apply', '--server-side', '-f', '-'], configMap('settings', { color: 'green', size: 'large' }));
        assert.equal(conflict.code, 1, conflict.stdout);
        assert.match(conflict.stderr, /error: Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: \.data\.color\n/);
        assert.match(conflict.stderr, /--force-conflicts/);
        assert.equal((await getYaml('configmap/settings')).data?.color, 'red', 'nothing was written');
        ok(await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], configMap('settings', { color: 'green', size: 'large' })), 'force');
        cm = await getYaml('configmap/settings');
        assert.equal(cm.data?.color, 'green');
        assert.deepEqual(entry(cm, 'kubectl')?.fieldsV1, { 'f:data': { 'f:color': {}, 'f:size': {} } });
        assert.equal(entry(cm, 'kubectl-patch', 'Update'), undefined, 'the patch manager lost its only field');
      });

      it('a field the manager stops applying is removed; one another manager also owns stays', async () => {
        ok(await kubectl(['apply', '--server-side', '--field-manager', 'other', '-f', '-'], configMap('settings', { size: 'large' })), 'co-own size');
        ok(await kubectl(['apply', '--server-side', '-f', '-'], configMap('settings', { shape: 'round' })), 'drop color and size');
        const cm = await getYaml('configmap/settings');
        assert.deepEqual(cm.data, { size: 'large', shape: 'round' }, 'color went; size stays (owned by "other")');
        assert.deepEqual(entry(cm, 'kubectl')?.fieldsV1, { 'f:data': { 'f:shape': {} } });
        assert.deepEqual(entry(cm, 'other')?.fieldsV1, { 'f:data': { 'f:size': {} } });
      });

      it('two managers share a map list of containers: each owns its own; removing one leaves the other', async () => {
        const workload = (containers: { name: string; image: string }[], extra: Record<string, unknown> = {}): string =>
          YAML.stringify({ apiVersion: 'ssa.example.com/v1', kind: 'Workload', metadata: { name: 'web' }, spec: { ...extra, containers } });
        ok(await kubectl(['apply', '--server-side', '--field-manager', 'team-app', '-f', '-'], workload([{ name: 'app', image: 'nginx:1.27' }], { replicas: 2, paused: false })), 'team-app');
        ok(await kubectl(['apply', '--server-side', '--field-manager', 'team-mesh', '-f', '-'], workload([{ name: 'envoy', image: 'envoy:1.30' }])), 'team-mesh');
        let w = await getYaml('workload/web');
        assert.deepEqual(w.spec?.containers, [
          { name: 'app', image: 'nginx:1.27' },
          { name: 'envoy', image: 'envoy:1.30' },
        ]);
        assert.deepEqual(entry(w, 'team-mesh')?.fieldsV1, { 'f:spec': { 'f:containers': { 'k:{"name":"envoy"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } });
        assert.deepEqual(entry(w, 'team-app')?.fieldsV1, {
          'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } }, 'f:paused': {}, 'f:replicas': {} },
        });
        // Changing the other team's container is a conflict naming the item by its key.
        const clash = await kubectl(['apply', '--server-side', '--field-manager', 'team-app', '-f', '-'], workload([{ name: 'app', image: 'nginx:1.27' }, { name: 'envoy', image: 'envoy:2' }], { replicas: 2, paused: false }));
        assert.equal(clash.code, 1);
        assert.match(clash.stderr, /Apply failed with 1 conflict: conflict with "team-mesh": \.spec\.containers\[name="envoy"\]\.image/);
        // team-mesh removes its container: only that one goes; team-app stops applying paused: it goes.
        ok(await kubectl(['apply', '--server-side', '--field-manager', 'team-mesh', '-f', '-'], workload([])), 'team-mesh empty');
        ok(await kubectl(['apply', '--server-side', '--field-manager', 'team-app', '-f', '-'], workload([{ name: 'app', image: 'nginx:1.27' }], { replicas: 2 })), 'team-app without paused');
        w = await getYaml('workload/web');
        assert.deepEqual(w.spec, { containers: [{ name: 'app', image: 'nginx:1.27' }], replicas: 2 });
        assert.deepEqual(w.metadata.managedFields?.map((x) => x.manager), ['team-app']);
      });

      // kubectl 1.27's apply has no --subresource (it came in 1.28).
      it('status is applied through /status and owned by its manager there', { skip: v < 28 ? 'kubectl 1.27 apply has no --subresource' : false }, async () => {
        const st = YAML.stringify({ apiVersion: 'ssa.example.com/v1', kind: 'Workload', metadata: { name: 'web' }, status: { ready: true } });
        ok(await kubectl(['apply', '--server-side', '--subresource=status', '--field-manager', 'ctl', '-f', '-'], st), 'apply status');
        const w = await getYaml('workload/web');
        assert.deepEqual((w as unknown as { status: unknown }).status, { ready: true });
        assert.deepEqual(entry(w, 'ctl'), { ...entry(w, 'ctl'), subresource: 'status', fieldsV1: { 'f:status': { 'f:ready': {} } } });
      });

      it('client-side apply, then apply --server-side: the upgrade takes over without conflicts', async () => {
        const v1 = configMap('legacy', { a: '1', b: '2' });
        assert.match(ok(await kubectl(['apply', '-f', '-'], v1), 'client-side apply'), /configmap\/legacy created/);
        let cm = await getYaml('configmap/legacy');
        assert.ok(entry(cm, 'kubectl-client-side-apply', 'Update'));
        assert.ok(cm.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']);
        ok(await kubectl(['apply', '--server-side', '-f', '-'], configMap('legacy', { a: '1', b: '3' })), 'server-side apply over it');
        cm = await getYaml('configmap/legacy');
        assert.deepEqual(cm.data, { a: '1', b: '3' });
        assert.equal(entry(cm, 'kubectl-client-side-apply', 'Update'), undefined, 'the client-side manager was folded into kubectl');
        assert.deepEqual(entry(cm, 'kubectl')?.fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } });
        assert.equal(cm.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], `{"apiVersion":"v1","data":{"a":"1","b":"3"},"kind":"ConfigMap","metadata":{"name":"legacy","namespace":"${ns}"}}\n`);
        // Dropping a field from the manifest now removes it server-side.
        ok(await kubectl(['apply', '--server-side', '-f', '-'], configMap('legacy', { a: '1' })), 'drop b');
        assert.deepEqual((await getYaml('configmap/legacy')).data, { a: '1' });
      });

      it('--dry-run=server answers with managedFields and stores nothing', async () => {
        const out = ok(await kubectl(['apply', '--server-side', '--dry-run=server', '-o', 'yaml', '--show-managed-fields', '-f', '-'], configMap('dry', { x: '1' })), 'dry run');
        const obj = YAML.parse(out) as Obj;
        assert.deepEqual(entry(obj, 'kubectl')?.fieldsV1, { 'f:data': { 'f:x': {} } });
        const get = await kubectl(['get', 'configmap', 'dry']);
        assert.equal(get.code, 1);
        assert.match(get.stderr, /not found/);
      });

      it('create and edit-style writes record Update entries under kubectl\'s managers', async () => {
        ok(await kubectl(['create', 'configmap', 'made', '--from-literal=k=v']), 'create');
        ok(await kubectl(['label', 'configmap', 'made', 'tier=web']), 'label');
        const cm = await getYaml('configmap/made');
        assert.deepEqual(entry(cm, 'kubectl-create', 'Update')?.fieldsV1, { 'f:data': { '.': {}, 'f:k': {} } });
        assert.deepEqual(entry(cm, 'kubectl-label', 'Update')?.fieldsV1, { 'f:metadata': { 'f:labels': { '.': {}, 'f:tier': {} } } });
      });
    });
  }

  describe('@kubernetes/client-node', () => {
    const ns = 'ssa-node';
    const manifest = (name: string): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { color: 'blue', size: 'large' } });
    before(async () => {
      ok(await k.kubectl(33, ['create', 'namespace', ns]), 'create namespace');
    });

    it('server-side apply agrees with kubectl: same object, same managedFields, and a re-apply is a no-op', async () => {
      ok(await k.kubectl(33, ['apply', '--server-side', '-f', '-'], { input: YAML.stringify(manifest('by-kubectl')) }), 'kubectl');
      const byNode = await objects.patch<Obj>(manifest('by-node'), undefined, undefined, 'kubectl', false, PatchStrategy.ServerSideApply);
      const byKubectl = await objects.read<Obj>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-kubectl', namespace: ns } });
      assert.deepEqual(byNode.data, byKubectl.data);
      const strip = (o: Obj): unknown => o.metadata.managedFields?.map(({ time: _t, ...e }) => e);
      assert.deepEqual(strip(byNode), strip(byKubectl));
      // The same configuration again from client-node on kubectl's object changes nothing.
      const again = await objects.patch<Obj>(manifest('by-kubectl'), undefined, undefined, 'kubectl', false, PatchStrategy.ServerSideApply);
      assert.equal(again.metadata.resourceVersion, byKubectl.metadata.resourceVersion);
    });

    it('conflicts reach client-node as 409 with kube\'s causes; force=true takes the field', async () => {
      const changed = manifest('by-node');
      changed.data = { color: 'red', size: 'large' };
      await assert.rejects(objects.patch(changed, undefined, undefined, 'node-app', false, PatchStrategy.ServerSideApply), (err: unknown) => {
        const e = err as { code?: number; body?: string };
        assert.equal(e.code, 409);
        const status = JSON.parse(e.body ?? '{}') as { reason: string; message: string; details: { causes: unknown[] } };
        assert.equal(status.reason, 'Conflict');
        assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "kubectl": .data.color');
        assert.deepEqual(status.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.data.color' }]);
        return true;
      });
      const forced = await objects.patch<Obj>(changed, undefined, undefined, 'node-app', true, PatchStrategy.ServerSideApply);
      assert.equal(forced.data?.color, 'red');
      assert.deepEqual(entry(forced, 'node-app')?.fieldsV1, { 'f:data': { 'f:color': {}, 'f:size': {} } });
      assert.deepEqual(entry(forced, 'kubectl')?.fieldsV1, { 'f:data': { 'f:size': {} } });
    });

    it('fieldManager is required for apply and checked as kube does (422 PatchOptions)', async () => {
      await assert.rejects(objects.patch(manifest('no-manager'), undefined, undefined, undefined, false, PatchStrategy.ServerSideApply), (err: unknown) => {
        const e = err as { code?: number; body?: string };
        assert.equal(e.code, 422);
        const status = JSON.parse(e.body ?? '{}') as { message: string; details: unknown };
        assert.equal(status.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
        assert.deepEqual(status.details, { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] });
        return true;
      });
      await assert.rejects(objects.patch(manifest('long-manager'), undefined, undefined, 'x'.repeat(129), false, PatchStrategy.ServerSideApply), (err: unknown) => {
        assert.equal((err as { code?: number }).code, 422);
        assert.match((err as { body?: string }).body ?? '', /fieldManager: Too long: may not be more than 128 bytes/);
        return true;
      });
    });
  });
});
