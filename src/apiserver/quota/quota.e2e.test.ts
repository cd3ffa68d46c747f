// Quotas end to end: the real `kumo server` binary, real kubectl 1.33 and 1.27 (`kubectl create quota`,
// `describe quota`, `get resourcequota -o yaml`, kube's exceeded-quota error; a Tenant's quota refusing
// a Cluster; a LimitRange refusing a NodePool's flavor), 50 parallel HTTP creates against a quota of
// N on one server, and 50 parallel creates split over two servers sharing one etcd.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import os from 'node:os';
import path from 'node:path';
import { startEtcd, type EtcdHandle } from '../../testing/etcd.js';
import { ok, kubectlPath, run, startKumo, type KumoHandle } from '../../testing/kumo.js';

const VERSIONS = [33, 27];

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** An HTTPS client with the admin certificate of a server's kubeconfig. */
function adminClient(k: KumoHandle): (method: string, p: string, body?: unknown) => Promise<Reply> {
  const cfg = YAML.parse(fs.readFileSync(k.kubeconfig, 'utf8')) as { users: { user: Record<string, string> }[]; clusters: { cluster: Record<string, string> }[] };
  const b64 = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64');
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 64,
    ca: b64(cfg.clusters[0]?.cluster['certificate-authority-data']),
    cert: b64(cfg.users[0]?.user['client-certificate-data']),
    key: b64(cfg.users[0]?.user['client-key-data']),
  });
  return (method, p, body) =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        { host: '127.0.0.1', port: k.port, path: p, method, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
            } catch {
              resolve({ status: res.statusCode ?? 0, body: { text } });
            }
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
}

const tenantYaml = (name: string, quota: Record<string, unknown>, namespaces: string[]): string =>
  [
    YAML.stringify({ apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { quota } }),
    ...namespaces.map((ns) => YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kumo.dev/tenant': name } } })),
  ].join('---\n');

/** Counts of each status code. */
function tally(replies: Reply[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of replies) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

describe('quotas end to end (kumo server, kubectl, HTTP)', () => {
  let k: KumoHandle;
  let api: ReturnType<typeof adminClient>;
  before(async () => {
    k = await startKumo();
    api = adminClient(k);
  });
  after(async () => {
    await k.stop();
  });

  for (const minor of VERSIONS) {
    it(`kubectl 1.${minor}: create quota, describe quota, get -o yaml show used; a create beyond it gets kube's error`, async () => {
      const ns = `quota-${minor}`;
      ok(await k.kubectl(minor, ['create', 'namespace', ns]), 'create namespace');
      ok(await k.kubectl(minor, ['-n', ns, 'create', 'quota', 'objects', '--hard=count/configmaps=2,secrets=3']), 'create quota');
      ok(await k.kubectl(minor, ['-n', ns, 'create', 'configmap', 'one', '--from-literal=a=b']), 'create configmap one');
      ok(await k.kubectl(minor, ['-n', ns, 'create', 'configmap', 'two']), 'create configmap two');
      const third = await k.kubectl(minor, ['-n', ns, 'create', 'configmap', 'three']);
      assert.equal(third.code, 1);
      assert.equal(
        third.stderr.trim(),
        'error: failed to create configmap: configmaps "three" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2',
      );
      // status.used of every limited name: charged at admission, the rest filled in by the quota controller.
      let quota: { status?: { hard?: Record<string, string>; used?: Record<string, string> } } = {};
      for (let i = 0; i < 50; i++) {
        quota = YAML.parse(ok(await k.kubectl(minor, ['-n', ns, 'get', 'resourcequota', 'objects', '-o', 'yaml']), 'get -o yaml')) as typeof quota;
        if (quota.status?.used?.secrets !== undefined) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(quota.status, { hard: { 'count/configmaps': '2', secrets: '3' }, used: { 'count/configmaps': '2', secrets: '0' } });
      const described = ok(await k.kubectl(minor, ['-n', ns, 'describe', 'quota', 'objects']), 'describe quota');
      assert.match(described, /^Name:\s+objects$/m);
      assert.match(described, /^Resource\s+Used\s+Hard$/m);
      assert.match(described, /^count\/configmaps\s+2\s+2$/m);
      assert.match(described, /^secrets\s+0\s+3$/m);
      const table = ok(await k.kubectl(minor, ['-n', ns, 'get', 'quota']), 'get quota');
      assert.match(table, /^NAME\s+AGE\s+REQUEST\s+LIMIT$/m);
      assert.match(table, /^objects\s+\S+\s+count\/configmaps: 2\/2, secrets: 0\/3\s*$/m);
      // Secrets are counted too; the legacy name `secrets` is the same count.
      ok(await k.kubectl(minor, ['-n', ns, 'create', 'secret', 'generic', 's1', '--from-literal=k=v']), 'create secret');
      const yaml = YAML.parse(ok(await k.kubectl(minor, ['-n', ns, 'get', 'quota', 'objects', '-o', 'yaml']), 'get')) as typeof quota;
      assert.equal(yaml.status?.used?.secrets, '1');
    });

    it(`kubectl 1.${minor}: a Tenant's quota refuses the Cluster, NodePool and scale beyond it with the quota message`, async () => {
      const tenant = `acme-${minor}`;
      ok(await k.kubectl(minor, ['apply', '-f', '-'], { input: tenantYaml(tenant, { clusters: 1, cpu: '4' }, [`${tenant}-dev`]) }), 'apply tenant');
      const cluster = (name: string): string => YAML.stringify({ apiVersion: 'kumo.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace: `${tenant}-dev` } });
      ok(await k.kubectl(minor, ['create', '-f', '-'], { input: cluster('one') }), 'create cluster one');
      const two = await k.kubectl(minor, ['create', '-f', '-'], { input: cluster('two') });
      assert.equal(two.code, 1);
      assert.match(two.stderr, /clusters\.kumo\.dev "two" is forbidden: exceeded quota: acme-\d+, requested: clusters=1, used: clusters=1, limited: clusters=1/);
      // A NodePool beyond the tenant's CPU (small: 2 CPU per node).
      const pool = YAML.stringify({ apiVersion: 'kumo.dev/v1alpha1', kind: 'NodePool', metadata: { name: 'workers', namespace: `${tenant}-dev` }, spec: { cluster: 'one', replicas: 3 } });
      const big = await k.kubectl(minor, ['create', '-f', '-'], { input: pool });
      assert.equal(big.code, 1);
      assert.match(big.stderr, /nodepools\.kumo\.dev "workers" is forbidden: exceeded quota: acme-\d+, requested: cpu=6, used: cpu=0, limited: cpu=4/);
      // One that fits, then `kubectl scale` beyond the quota (the scale subresource is charged its growth).
      ok(await k.kubectl(minor, ['create', '-f', '-'], { input: pool.replace('replicas: 3', 'replicas: 1') }), 'create pool of 1');
      const scaled = await k.kubectl(minor, ['-n', `${tenant}-dev`, 'scale', 'nodepool', 'workers', '--replicas=3']);
      assert.equal(scaled.code, 1);
      assert.match(scaled.stderr, /nodepools\.kumo\.dev "workers" is forbidden: exceeded quota: acme-\d+, requested: cpu=4, used: cpu=2, limited: cpu=4/);
      ok(await k.kubectl(minor, ['-n', `${tenant}-dev`, 'scale', 'nodepool', 'workers', '--replicas=2']), 'scale within the quota');
      const usage = ok(await k.kubectl(minor, ['get', 'tenant', tenant, '-o', 'jsonpath={.status.usage.clusters} {.status.usage.nodes} {.status.usage.cpu}']), 'get tenant');
      assert.equal(usage, '1 2 4');
    });

    it(`kubectl 1.${minor}: a LimitRange of type kumo.dev/NodePool refuses a flavor above its max`, async () => {
      const ns = `limits-${minor}`;
      ok(await k.kubectl(minor, ['create', 'namespace', ns]), 'create namespace');
      const lr = { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'node-size', namespace: ns }, spec: { limits: [{ type: 'kumo.dev/NodePool', max: { cpu: '4', memory: '8Gi' } }] } };
      ok(await k.kubectl(minor, ['create', '-f', '-'], { input: YAML.stringify(lr) }), 'create limitrange');
      const bad = { ...lr, spec: { limits: [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }] }, metadata: { name: 'bad', namespace: ns } };
      const invalid = await k.kubectl(minor, ['create', '-f', '-'], { input: YAML.stringify(bad) });
      assert.equal(invalid.code, 1);
      assert.match(invalid.stderr, /LimitRange "bad" is invalid: spec\.limits\[0\]\.min\[cpu\]: Invalid value: "2": min value 2 is greater than max value 1/);
      const pool = (name: string, flavor: string): string => YAML.stringify({ apiVersion: 'kumo.dev/v1alpha1', kind: 'NodePool', metadata: { name, namespace: ns }, spec: { cluster: 'c', template: { flavor } } });
      ok(await k.kubectl(minor, ['create', '-f', '-'], { input: pool('medium', 'medium') }), 'create medium pool');
      const large = await k.kubectl(minor, ['create', '-f', '-'], { input: pool('large', 'large') });
      assert.equal(large.code, 1);
      assert.match(large.stderr, /nodepools\.kumo\.dev "large" is forbidden: \[maximum cpu usage per NodePool node is 4, but flavor "large" has 8, maximum memory usage per NodePool node is 8Gi, but flavor "large" has 32Gi\]/);
    });
  }

  it('50 parallel HTTP creates of ConfigMaps against count/configmaps=13: exactly 13 succeed, 37 get 403', async () => {
    assert.equal((await api('POST', '/api/v1/namespaces', { metadata: { name: 'par' } })).status, 201);
    assert.equal((await api('POST', '/api/v1/namespaces/par/resourcequotas', { metadata: { name: 'q' }, spec: { hard: { 'count/configmaps': '13' } } })).status, 201);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => api('POST', '/api/v1/namespaces/par/configmaps', { metadata: { name: `cm-${i}` } })));
    assert.deepEqual(tally(replies), { 201: 13, 403: 37 });
    for (const r of replies.filter((x) => x.status === 403)) {
      assert.equal(r.body.reason, 'Forbidden');
      assert.match(String(r.body.message), /^configmaps "cm-\d+" is forbidden: exceeded quota: q, requested: count\/configmaps=1, used: count\/configmaps=13, limited: count\/configmaps=13$/);
    }
    const list = await api('GET', '/api/v1/namespaces/par/configmaps');
    assert.equal((list.body.items as unknown[]).length, 13);
    const q = await api('GET', '/api/v1/namespaces/par/resourcequotas/q');
    assert.deepEqual((q.body.status as Record<string, unknown>).used, { 'count/configmaps': '13' });
  });

  it('50 parallel HTTP creates of Clusters against a tenant quota of 9: exactly 9 succeed, 41 get 403', async () => {
    assert.equal((await api('POST', '/apis/kumo.dev/v1alpha1/tenants', { metadata: { name: 'par' }, spec: { quota: { clusters: 9 } } })).status, 201);
    for (const ns of ['par-a', 'par-b']) assert.equal((await api('POST', '/api/v1/namespaces', { metadata: { name: ns, labels: { 'kumo.dev/tenant': 'par' } } })).status, 201);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => api('POST', `/apis/kumo.dev/v1alpha1/namespaces/${i % 2 ? 'par-a' : 'par-b'}/clusters`, { metadata: { name: `c-${i}` } })));
    assert.deepEqual(tally(replies), { 201: 9, 403: 41 });
    for (const r of replies.filter((x) => x.status === 403)) assert.match(String(r.body.message), /exceeded quota: par, requested: clusters=1, used: clusters=9, limited: clusters=9$/);
    const t = await api('GET', '/apis/kumo.dev/v1alpha1/tenants/par');
    assert.equal(((t.body.status as Record<string, unknown>).usage as Record<string, unknown>).clusters, 9);
    const all = await api('GET', '/apis/kumo.dev/v1alpha1/clusters');
    assert.equal((all.body.items as { metadata: { namespace: string } }[]).filter((c) => c.metadata.namespace.startsWith('par-')).length, 9);
  });
});

describe('quotas across two kumo servers on one etcd (e2e)', () => {
  let etcd: EtcdHandle;
  const servers: KumoHandle[] = [];
  before(async () => {
    etcd = await startEtcd();
    for (let i = 0; i < 2; i++) servers.push(await startKumo({ args: ['--store', etcd.url] }));
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await etcd.destroy();
  });

  it('50 parallel creates split over both servers against count/configmaps=17 and a tenant quota of 6 never overshoot', async () => {
    const [a, b] = servers.map(adminClient) as [ReturnType<typeof adminClient>, ReturnType<typeof adminClient>];
    assert.equal((await a('POST', '/api/v1/namespaces', { metadata: { name: 'duo' } })).status, 201);
    assert.equal((await a('POST', '/api/v1/namespaces/duo/resourcequotas', { metadata: { name: 'q' }, spec: { hard: { configmaps: '17' } } })).status, 201);
    // Server b applies the quota once its object cache has it (a list at resourceVersion 0 reads that cache).
    for (let i = 0; ((await b('GET', '/api/v1/namespaces/duo/resourcequotas?resourceVersion=0')).body.items as unknown[]).length === 0; i++) {
      assert.ok(i < 100, 'server b never saw the quota');
      await new Promise((r) => setTimeout(r, 20));
    }
    const cms = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b)('POST', '/api/v1/namespaces/duo/configmaps', { metadata: { name: `cm-${i}` } })));
    assert.deepEqual(tally(cms), { 201: 17, 403: 33 });
    assert.equal(((await b('GET', '/api/v1/namespaces/duo/configmaps')).body.items as unknown[]).length, 17);
    const q = await b('GET', '/api/v1/namespaces/duo/resourcequotas/q');
    assert.equal(((q.body.status as Record<string, unknown>).used as Record<string, unknown>).configmaps, '17');

    assert.equal((await b('POST', '/apis/kumo.dev/v1alpha1/tenants', { metadata: { name: 'duo' }, spec: { quota: { clusters: 6 } } })).status, 201);
    assert.equal((await b('POST', '/api/v1/namespaces', { metadata: { name: 'duo-dev', labels: { 'kumo.dev/tenant': 'duo' } } })).status, 201);
    const clusters = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? b : a)('POST', '/apis/kumo.dev/v1alpha1/namespaces/duo-dev/clusters', { metadata: { name: `c-${i}` } })));
    assert.deepEqual(tally(clusters), { 201: 6, 403: 44 });
    assert.equal(((await a('GET', '/apis/kumo.dev/v1alpha1/namespaces/duo-dev/clusters')).body.items as unknown[]).length, 6);
    const t = await a('GET', '/apis/kumo.dev/v1alpha1/tenants/duo');
    assert.equal(((t.body.status as Record<string, unknown>).usage as Record<string, unknown>).clusters, 6);
  });
});


describe('quotas with RBAC and tenancy on (kumo server --authorization-mode RBAC, token users, kubectl 1.33)', () => {
  let k: KumoHandle;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-quota-rbac-'));
  const kubeconfigs: Record<string, string> = {};
  before(async () => {
    const tokens = path.join(tmp, 'tokens.csv');
    fs.writeFileSync(tokens, ['root-token-0123456789,root,100,"system:masters"', 'alice-token-0123456789,alice,101', 'bob-token-0123456789,bob,102'].join('\n') + '\n');
    k = await startKumo({ args: ['--authorization-mode', 'RBAC', '--token-auth-file', tokens] });
    const ca = fs.readFileSync(path.join(k.dataDir, 'pki', 'ca.crt')).toString('base64');
    for (const user of ['root', 'alice', 'bob']) {
      const file = path.join(tmp, `${user}.kubeconfig`);
      fs.writeFileSync(
        file,
        YAML.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'kumo', cluster: { server: k.url, 'certificate-authority-data': ca } }],
          users: [{ name: user, user: { token: `${user}-token-0123456789` } }],
          contexts: [{ name: 'kumo', context: { cluster: 'kumo', user } }],
          'current-context': 'kumo',
        }),
      );
      kubeconfigs[user] = file;
    }
  });
  after(async () => {
    await k?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const as = (user: string, args: string[], input?: string) => run(kubectlPath(33), ['--kubeconfig', kubeconfigs[user] ?? '', '--cache-dir', path.join(tmp, `cache-${user}`), ...args], input === undefined ? {} : { input });

  it('a tenant member gets the quota message for the Cluster beyond the tenant quota; admins and members cannot raise it', async () => {
    const tenant = { apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'corp' }, spec: { members: [{ kind: 'User', name: 'alice', role: 'admin' }, { kind: 'User', name: 'bob', role: 'member' }], quota: { clusters: 2 } } };
    ok(await as('root', ['create', '-f', '-'], YAML.stringify(tenant)), 'root creates the tenant');
    ok(await as('alice', ['create', '-f', '-'], YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'corp-dev', labels: { 'kumo.dev/tenant': 'corp' } } })), 'alice creates a tenant namespace');
    const cluster = (name: string): string => YAML.stringify({ apiVersion: 'kumo.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace: 'corp-dev' } });
    ok(await as('bob', ['create', '-f', '-'], cluster('one')), 'bob creates cluster one');
    ok(await as('bob', ['create', '-f', '-'], cluster('two')), 'bob creates cluster two');
    const three = await as('bob', ['create', '-f', '-'], cluster('three'));
    assert.equal(three.code, 1);
    assert.match(three.stderr, /clusters\.kumo\.dev "three" is forbidden: exceeded quota: corp, requested: clusters=1, used: clusters=2, limited: clusters=2/);
    for (const user of ['alice', 'bob']) {
      const raise = await as(user, ['patch', 'tenant', 'corp', '--type=merge', '-p', '{"spec":{"quota":{"clusters":10}}}']);
      assert.equal(raise.code, 1, `${user} may not raise the quota`);
      assert.match(raise.stderr, /forbidden/);
    }
    assert.equal(ok(await as('root', ['get', 'tenant', 'corp', '-o', 'jsonpath={.status.usage.clusters}']), 'get usage'), '2');
  });
});
