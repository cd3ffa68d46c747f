// End-to-end: the real kumo binary and the real kubectl binaries (1.33 and 1.27), as a user runs them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { ok, startKumo, type KumoHandle } from '../testing/kumo.js';

const VERSIONS = [33, 27];

/** A request with the admin client certificate from the server's kubeconfig. */
function api(k: KumoHandle, method: string, p: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const cfg = YAML.parse(fs.readFileSync(k.kubeconfig, 'utf8')) as { users: { user: Record<string, string> }[]; clusters: { cluster: Record<string, string> }[] };
  const user = cfg.users[0]?.user ?? {};
  const cluster = cfg.clusters[0]?.cluster ?? {};
  const b64 = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64');
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      {
        host: '127.0.0.1',
        port: k.port,
        path: p,
        method,
        ca: b64(cluster['certificate-authority-data']),
        cert: b64(user['client-certificate-data']),
        key: b64(user['client-key-data']),
        headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('kubectl against kumo (e2e)', () => {
  let k: KumoHandle;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-kubectl-e2e-'));
  before(async () => {
    k = await startKumo();
  });
  after(async () => {
    await k?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const v of VERSIONS) {
    describe(`kubectl 1.${v}`, () => {
      const ns = `e2e-${v}`;
      before(async () => {
        const r = await api(k, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      });

      it('discovers resources (api-resources, api-versions)', async () => {
        const res = ok(await k.kubectl(v, ['api-resources']), 'api-resources');
        assert.match(res, /^configmaps\s+cm\s+v1\s+true\s+ConfigMap$/m);
        assert.match(res, /^clusters\s+kc\s+kumo\.dev\/v1alpha1\s+true\s+Cluster$/m);
        assert.match(res, /^customresourcedefinitions\s+crd,crds\s+apiextensions\.k8s\.io\/v1\s+false\s+CustomResourceDefinition$/m);
        const versions = ok(await k.kubectl(v, ['api-versions']), 'api-versions');
        for (const gv of ['v1', 'kumo.dev/v1alpha1', 'rbac.authorization.k8s.io/v1', 'coordination.k8s.io/v1']) assert.ok(versions.split('\n').includes(gv), `${gv} in ${versions}`);
      });

      it('explains built-in and kumo.dev kinds from the OpenAPI documents', async () => {
        const cm = ok(await k.kubectl(v, ['explain', 'configmap.data']), 'explain configmap.data');
        assert.match(cm, /KIND:\s+ConfigMap/);
        assert.match(cm, /FIELD:\s+data <map\[string\]string>/);
        const cl = ok(await k.kubectl(v, ['explain', 'clusters.spec.datastore']), 'explain clusters');
        assert.match(cl, /GROUP:\s+kumo\.dev/);
        assert.match(cl, /replicas\s+<integer>/);
      });

      it('creates from a file and reads back in every output format', async () => {
        const file = path.join(tmp, `cm-${v}.yaml`);
        fs.writeFileSync(file, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  labels: {app: web}\ndata:\n  a: "1"\n  b: "2"\n`);
        assert.match(ok(await k.kubectl(v, ['-n', ns, 'create', '-f', file]), 'create'), /configmap\/web created/);
        const table = ok(await k.kubectl(v, ['-n', ns, 'get', 'configmaps']), 'get');
        assert.match(table, /^NAME\s+DATA\s+AGE\nweb\s+2\s+\d+s\n$/);
        const y = YAML.parse(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', 'web', '-o', 'yaml']), 'get -o yaml')) as { metadata: Record<string, unknown>; data: unknown };
        assert.equal(y.metadata.name, 'web');
        assert.match(String(y.metadata.resourceVersion), /^\d+$/);
        assert.match(String(y.metadata.uid), /^[0-9a-f-]{36}$/);
        assert.deepEqual(y.data, { a: '1', b: '2' });
        const j = JSON.parse(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', 'web', '-o', 'json']), 'get -o json')) as { kind: string };
        assert.equal(j.kind, 'ConfigMap');
        assert.equal(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', '-o', 'name']), '-o name'), 'configmap/web\n');
        assert.equal(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', 'web', '-o', 'jsonpath={.data.b}']), 'jsonpath'), '2');
        assert.match(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', '-o', 'custom-columns=N:.metadata.name,A:.data.a']), 'custom-columns'), /^N\s+A\nweb\s+1\n$/);
        assert.match(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', '-o', 'wide']), 'wide'), /^NAME\s+DATA\s+AGE\nweb\s+2\s+/);
      });

      it('labels, annotates, selects by label and field, replaces', async () => {
        ok(await k.kubectl(v, ['-n', ns, 'label', 'cm', 'web', 'tier=front']), 'label');
        ok(await k.kubectl(v, ['-n', ns, 'annotate', 'cm', 'web', 'note=hello']), 'annotate');
        await api(k, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', labels: { app: 'db' } } });
        assert.equal(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', '-l', 'tier=front', '-o', 'name']), '-l'), 'configmap/web\n');
        assert.equal(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', '-l', 'app in (db,cache)', '-o', 'name']), '-l in'), 'configmap/other\n');
        assert.equal(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', '-l', '!tier', '-o', 'name']), '-l !'), 'configmap/other\n');
        assert.equal(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', '--field-selector', 'metadata.name!=web', '-o', 'name']), '--field-selector'), 'configmap/other\n');
        const j = JSON.parse(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', 'web', '-o', 'json']), 'get')) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
        assert.deepEqual(j.metadata.labels, { app: 'web', tier: 'front' });
        assert.equal(j.metadata.annotations.note, 'hello');
        const file = path.join(tmp, `cm-${v}-replace.yaml`);
        fs.writeFileSync(file, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: ${ns}\ndata:\n  a: "replaced"\n`);
        ok(await k.kubectl(v, ['replace', '-f', file]), 'replace');
        assert.equal(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', 'web', '-o', 'jsonpath={.data.a}']), 'after replace'), 'replaced');
      });

      it('dry-run=server stores nothing; bad input gets a Status naming the field', async () => {
        const file = path.join(tmp, `cm-${v}-dry.yaml`);
        fs.writeFileSync(file, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n  namespace: ${ns}\n`);
        assert.match(ok(await k.kubectl(v, ['create', '-f', file, '--dry-run=server']), 'dry-run'), /configmap\/dry created \(server dry run\)/);
        const r = await k.kubectl(v, ['-n', ns, 'get', 'cm', 'dry']);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /configmaps "dry" not found/);
        fs.writeFileSync(file, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  namespace: ${ns}\n`);
        const bad = await k.kubectl(v, ['create', '-f', file]);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
      });

      it('watches (get -w) and sees events in order', async () => {
        const w = k.kubectl(v, ['-n', ns, 'get', 'cm', '-w', '--output-watch-events', '--request-timeout=4s']);
        await new Promise((r) => setTimeout(r, 1000));
        await api(k, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' } });
        await api(k, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/watched`);
        const r = await w;
        // EVENT NAME DATA AGE rows, in the order they arrived.
        const rows = r.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/).slice(0, 2).join(' '));
        const idx = (s: string): number => rows.indexOf(s);
        assert.equal(rows[0], 'EVENT NAME', r.stdout);
        assert.ok(idx('ADDED web') > 0, r.stdout);
        assert.ok(idx('ADDED watched') > idx('ADDED web'), r.stdout);
        assert.ok(idx('DELETED watched') > idx('ADDED watched'), r.stdout);
      });

      it('creates configmaps, secrets, service accounts and tokens with the generators', async () => {
        ok(await k.kubectl(v, ['-n', ns, 'create', 'configmap', 'gen', '--from-literal=a=b']), 'create configmap');
        ok(await k.kubectl(v, ['-n', ns, 'create', 'secret', 'generic', 'sec', '--from-literal=user=admin']), 'create secret');
        const sec = JSON.parse(ok(await k.kubectl(v, ['-n', ns, 'get', 'secret', 'sec', '-o', 'json']), 'get secret')) as { type: string; data: Record<string, string> };
        assert.equal(sec.type, 'Opaque');
        assert.equal(Buffer.from(sec.data.user ?? '', 'base64').toString(), 'admin');
        ok(await k.kubectl(v, ['-n', ns, 'create', 'serviceaccount', 'robot']), 'create sa');
        const token = ok(await k.kubectl(v, ['-n', ns, 'create', 'token', 'robot', '--duration=15m']), 'create token').trim();
        const [, payload = ''] = token.split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub: string; exp: number; iat: number };
        assert.equal(claims.sub, `system:serviceaccount:${ns}:robot`);
        assert.equal(claims.exp - claims.iat, 900);
        assert.match(ok(await k.kubectl(v, ['-n', ns, 'get', 'sa']), 'get sa'), /^NAME\s+SECRETS\s+AGE\ndefault\s+0\s+\S+\nrobot\s+0\s+\S+\n$/);
        ok(await k.kubectl(v, ['-n', ns, 'delete', 'cm', 'gen']), 'cleanup');
      });

      it('deletes with --cascade=background|foreground|orphan and waits', async () => {
        for (const mode of ['background', 'foreground', 'orphan']) {
          const owner = (await api(k, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `owner-${mode}` } })).body as { metadata: { uid: string } };
          const dep = await api(k, 'POST', `/api/v1/namespaces/${ns}/configmaps`, {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `dep-${mode}`, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: `owner-${mode}`, uid: owner.metadata.uid, blockOwnerDeletion: true }] },
          });
          assert.equal(dep.status, 201);
          ok(await k.kubectl(v, ['-n', ns, 'delete', 'cm', `owner-${mode}`, `--cascade=${mode}`, '--wait=true', '--timeout=20s']), `delete --cascade=${mode}`);
          if (mode === 'orphan') {
            const left = JSON.parse(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', `dep-${mode}`, '-o', 'json']), 'orphan kept')) as { metadata: { ownerReferences?: unknown } };
            assert.equal(left.metadata.ownerReferences, undefined, 'the ownerReference was removed');
            ok(await k.kubectl(v, ['-n', ns, 'delete', 'cm', `dep-${mode}`]), 'cleanup');
          } else {
            ok(await k.kubectl(v, ['-n', ns, 'wait', '--for=delete', `cm/dep-${mode}`, '--timeout=20s']), `dependent of ${mode} deleted`);
          }
        }
      });

      it('patches with --type json, merge and strategic; a JSON patch that does not apply is Invalid', async () => {
        ok(await k.kubectl(v, ['-n', ns, 'create', 'configmap', 'p', '--from-literal=a=1', '--from-literal=b=2']), 'create');
        ok(await k.kubectl(v, ['-n', ns, 'patch', 'cm', 'p', '--type', 'json', '-p', '[{"op":"replace","path":"/data/a","value":"10"},{"op":"remove","path":"/data/b"}]']), 'json patch');
        ok(await k.kubectl(v, ['-n', ns, 'patch', 'cm', 'p', '--type', 'merge', '-p', '{"data":{"c":"3"}}']), 'merge patch');
        ok(await k.kubectl(v, ['-n', ns, 'patch', 'cm', 'p', '-p', '{"metadata":{"labels":{"x":"y"}}}']), 'strategic patch');
        const obj = JSON.parse(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', 'p', '-o', 'json']), 'get')) as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
        assert.deepEqual(obj.data, { a: '10', c: '3' });
        assert.deepEqual(obj.metadata.labels, { x: 'y' });
        const bad = await k.kubectl(v, ['-n', ns, 'patch', 'cm', 'p', '--type', 'json', '-p', '[{"op":"remove","path":"/data/missing"}]']);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /jsonpatch remove operation at \/data\/missing does not apply/);
        ok(await k.kubectl(v, ['-n', ns, 'delete', 'cm', 'p']), 'cleanup');
      });

      it('get --raw, and delete', async () => {
        const raw = JSON.parse(ok(await k.kubectl(v, ['get', '--raw', `/api/v1/namespaces/${ns}/configmaps/web`]), '--raw')) as { metadata: { name: string } };
        assert.equal(raw.metadata.name, 'web');
        assert.match(ok(await k.kubectl(v, ['-n', ns, 'delete', 'cm', 'web', 'other']), 'delete'), /configmap "web" deleted\nconfigmap "other" deleted/);
        assert.match(ok(await k.kubectl(v, ['-n', ns, 'get', 'cm']), 'get after delete') + '', /^$/);
      });
    });
  }

  it('serves a CRD once Established: validation, pruning, defaults, printer columns, explain, deletion', async () => {
    const crd = path.join(tmp, 'crd.yaml');
    fs.writeFileSync(
      crd,
      `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string, description: The schedule.}
              replicas: {type: integer, default: 1, minimum: 0}
`,
    );
    for (const v of VERSIONS) {
      ok(await k.kubectl(v, ['create', '-f', crd]), 'create crd');
      ok(await k.kubectl(v, ['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=20s']), 'wait Established');
      const ct = path.join(tmp, 'ct.yaml');
      fs.writeFileSync(ct, 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: my-ct}\nspec: {cronSpec: "*/5 * * * *", bogus: 1}\n');
      const strict = await k.kubectl(v, ['create', '-f', ct]);
      assert.equal(strict.code, 1);
      assert.match(strict.stderr, /strict decoding error: unknown field "spec\.bogus"/);
      ok(await k.kubectl(v, ['create', '-f', ct, '--validate=false']), 'create with pruning');
      const obj = JSON.parse(ok(await k.kubectl(v, ['get', 'ct', 'my-ct', '-o', 'json']), 'get ct')) as { spec: Record<string, unknown>; metadata: { generation: number } };
      assert.deepEqual(obj.spec, { cronSpec: '*/5 * * * *', replicas: 1 }, 'unknown field pruned, default applied');
      assert.equal(obj.metadata.generation, 1);
      assert.match(ok(await k.kubectl(v, ['get', 'crontabs']), 'get table'), /^NAME\s+SPEC\s+REPLICAS\nmy-ct\s+\*\/5 \* \* \* \*\s+1\n$/);
      fs.writeFileSync(ct, 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: bad}\nspec: {replicas: -1}\n');
      const invalid = await k.kubectl(v, ['create', '-f', ct]);
      assert.match(invalid.stderr, /CronTab\.stable\.example\.com "bad" is invalid: spec\.replicas: Invalid value: -1: spec\.replicas in body should be greater than or equal to 0|CronTab "bad" is invalid: spec\.replicas/);
      assert.match(ok(await k.kubectl(v, ['explain', 'crontab.spec.cronSpec']), 'explain crd'), /The schedule\./);
      ok(await k.kubectl(v, ['delete', 'crd', 'crontabs.stable.example.com', '--wait=true', '--timeout=20s']), 'delete crd');
      const gone = await k.kubectl(v, ['get', 'crontabs']);
      assert.equal(gone.code, 1, gone.stdout);
    }
  });

  it('keeps logical clusters apart (/clusters/<name>/…)', async () => {
    const v = 33;
    const server = (lc: string): string[] => ['--server', `${k.url}/clusters/${lc}`];
    ok(await k.kubectl(v, [...server('team-a'), 'create', 'namespace', 'apps']), 'create ns in team-a');
    ok(await k.kubectl(v, [...server('team-a'), '-n', 'apps', 'create', 'configmap', 'only-in-a', '--from-literal=x=1']), 'create cm in team-a');
    assert.equal(ok(await k.kubectl(v, [...server('team-a'), '-n', 'apps', 'get', 'cm', '-o', 'name']), 'get in team-a'), 'configmap/only-in-a\n');
    const b = await k.kubectl(v, [...server('team-b'), '-n', 'apps', 'get', 'cm', 'only-in-a']);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /configmaps "only-in-a" not found|namespaces "apps" not found/);
    const root = await k.kubectl(v, ['get', 'namespace', 'apps']);
    assert.equal(root.code, 1, 'the root cluster does not see team-a\'s namespace');
    const bad = await k.kubectl(v, [...server('Not_Valid'), 'get', 'ns']);
    assert.equal(bad.code, 1);
  });

  it('serves every version of a CRD from its storage version: gets and concurrent watches of each version see their own apiVersion', async () => {
    const crd = path.join(tmp, 'versioned-crd.yaml');
    const schema = '    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n';
    fs.writeFileSync(
      crd,
      'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gadgets.versions.example.com}\nspec:\n  group: versions.example.com\n  scope: Namespaced\n' +
        '  names: {plural: gadgets, singular: gadget, kind: Gadget}\n  versions:\n' +
        `  - name: v1\n    served: true\n    storage: true\n${schema}  - name: v2\n    served: true\n    storage: false\n${schema}`,
    );
    ok(await k.kubectl(33, ['apply', '-f', crd]), 'create crd');
    ok(await k.kubectl(33, ['wait', '--for=condition=Established', 'crd/gadgets.versions.example.com', '--timeout=20s']), 'wait');
    const base = '/apis/versions.example.com';
    const list = (await api(k, 'GET', `${base}/v1/namespaces/default/gadgets`)).body as { metadata: { resourceVersion: string } };
    const rv = list.metadata.resourceVersion;
    // Both watches share one store watch and one store event; each must get its own version's line.
    const w1 = api(k, 'GET', `${base}/v1/namespaces/default/gadgets?watch=1&resourceVersion=${rv}&timeoutSeconds=2`);
    const w2 = api(k, 'GET', `${base}/v2/namespaces/default/gadgets?watch=1&resourceVersion=${rv}&timeoutSeconds=2`);
    await new Promise((r) => setTimeout(r, 300));
    const created = await api(k, 'POST', `${base}/v2/namespaces/default/gadgets`, { apiVersion: 'versions.example.com/v2', kind: 'Gadget', metadata: { name: 'g1' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // One event line parses as a JSON document in api(); several stay text.
    type Ev = { type: string; object: { apiVersion: string } };
    const versions = (body: unknown): string[] =>
      (typeof body === 'string' ? body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Ev) : [body as Ev]).map((e) => `${e.type} ${e.object.apiVersion}`);
    assert.deepEqual(versions((await w1).body), ['ADDED versions.example.com/v1']);
    assert.deepEqual(versions((await w2).body), ['ADDED versions.example.com/v2']);
    for (const v of VERSIONS) {
      assert.equal(ok(await k.kubectl(v, ['get', 'gadgets.v1.versions.example.com', 'g1', '-o', 'jsonpath={.apiVersion}']), 'get v1'), 'versions.example.com/v1');
      assert.equal(ok(await k.kubectl(v, ['get', 'gadgets.v2.versions.example.com', 'g1', '-o', 'jsonpath={.apiVersion}']), 'get v2'), 'versions.example.com/v2');
    }
  });

  it('scales a custom resource through its scale subresource (kubectl scale, get --raw …/scale)', async () => {
    const crd = path.join(tmp, 'scaled-crd.yaml');
    fs.writeFileSync(
      crd,
      `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: replicators.scale.example.com
spec:
  group: scale.example.com
  scope: Namespaced
  names: {plural: replicators, singular: replicator, kind: Replicator}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {replicas: {type: integer, minimum: 0}}}
          status: {type: object, properties: {replicas: {type: integer}, selector: {type: string}}}
`,
    );
    ok(await k.kubectl(33, ['apply', '-f', crd]), 'create crd');
    ok(await k.kubectl(33, ['wait', '--for=condition=Established', 'crd/replicators.scale.example.com', '--timeout=20s']), 'wait');
    const cr = path.join(tmp, 'replicator.yaml');
    fs.writeFileSync(cr, 'apiVersion: scale.example.com/v1\nkind: Replicator\nmetadata: {name: r1}\nspec: {replicas: 1}\n');
    ok(await k.kubectl(33, ['create', '-f', cr]), 'create cr');
    for (const v of VERSIONS) {
      const n = v === 33 ? 3 : 5;
      ok(await k.kubectl(v, ['scale', 'replicator/r1', `--replicas=${n}`]), `scale ${v}`);
      assert.equal(ok(await k.kubectl(v, ['get', 'replicator/r1', '-o', 'jsonpath={.spec.replicas}']), 'get'), String(n));
    }
    const scale = JSON.parse(ok(await k.kubectl(33, ['get', '--raw', '/apis/scale.example.com/v1/namespaces/default/replicators/r1/scale']), 'raw')) as Record<string, unknown>;
    assert.equal(scale.kind, 'Scale');
    assert.deepEqual(scale.spec, { replicas: 5 });
    const bad = await api(k, 'PUT', '/apis/scale.example.com/v1/namespaces/default/replicators/r1/scale', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'r1' }, spec: { replicas: -2 } });
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
    assert.match(JSON.stringify(bad.body), /spec\.replicas/);
  });

  it('deletes a namespace with its content (--wait)', async () => {
    for (const v of VERSIONS) {
      const ns = `doomed-${v}`;
      ok(await k.kubectl(v, ['create', 'namespace', ns]), 'create ns');
      ok(await k.kubectl(v, ['-n', ns, 'create', 'configmap', 'x', '--from-literal=a=b']), 'create cm');
      ok(await k.kubectl(v, ['delete', 'namespace', ns, '--wait=true', '--timeout=30s']), 'delete ns');
      const r = await k.kubectl(v, ['get', 'namespace', ns]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`namespaces "${ns}" not found`));
    }
  });

  it('pages 1,200 objects with --chunk-size (both kubectl versions)', async () => {
    const ns = 'chunks';
    await api(k, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (let i = 0; i < 1200; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => api(k, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${String(i + j).padStart(4, '0')}` } })),
      );
    }
    for (const v of VERSIONS) {
      const out = ok(await k.kubectl(v, ['-n', ns, 'get', 'cm', '--chunk-size=100', '-o', 'name']), 'chunked get');
      const names = out.trim().split('\n');
      assert.equal(names.length, 1200);
      assert.equal(new Set(names).size, 1200);
      assert.equal(names[0], 'configmap/cm-0000');
      assert.equal(names[1199], 'configmap/cm-1199');
    }
  });
});
