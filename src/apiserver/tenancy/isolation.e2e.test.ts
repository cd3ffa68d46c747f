// The isolation matrix (issue 6): the real `kumo server --authorization-mode RBAC` with users from a
// --token-auth-file, tenants A and B, and five users — alice (A admin), bob (B member), carol (A
// viewer), dave (A member through his group), eve (in no tenant). Every verb × resource × namespace of
// each tenant (and a namespace of no tenant), lists and watches across namespaces, the Tenants and the
// Namespaces themselves: each cell is a real HTTPS request with the user's bearer token, compared with
// the expected allow/deny of a table written from the issue's role definitions (not from the code).
// Allowed lists and watches must hold only the caller's tenants' objects; long-lived watches of every
// user run while both tenants change, and no event of another tenant may arrive. A handful of cells
// are asked again through real kubectl 1.33 (`auth can-i`, `get`, `create`) and must agree.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startKumo, type KumoHandle } from '../../testing/kumo.js';

type User = 'alice' | 'bob' | 'carol' | 'dave' | 'eve';
type Role = 'admin' | 'member' | 'viewer';
const USERS: User[] = ['alice', 'bob', 'carol', 'dave', 'eve'];
const TENANT_A = 'tenant-a';
const TENANT_B = 'tenant-b';
/** Who is what where (the issue's cast; dave through the group a-devs). */
const ROLES: Record<User, Record<string, Role>> = {
  alice: { [TENANT_A]: 'admin' },
  bob: { [TENANT_B]: 'member' },
  carol: { [TENANT_A]: 'viewer' },
  dave: { [TENANT_A]: 'member' },
  eve: {},
};
/** Namespaces and their tenant ('' for none). */
const NAMESPACES: Record<string, string> = { a1: TENANT_A, a2: TENANT_A, b1: TENANT_B, plain: '' };
const MATRIX_NAMESPACES = ['a1', 'b1', 'plain'];
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;
type Verb = (typeof VERBS)[number];
const READS: readonly string[] = ['get', 'list', 'watch'];

interface Kind {
  resource: string;
  /** API path prefix: /api/v1 or /apis/<group>/<version>. */
  base: string;
  kind: string;
  apiVersion: string;
  body: (name: string) => Record<string, unknown>;
}
const KINDS: Kind[] = [
  { resource: 'configmaps', base: '/api/v1', kind: 'ConfigMap', apiVersion: 'v1', body: () => ({ data: { k: 'v' } }) },
  { resource: 'secrets', base: '/api/v1', kind: 'Secret', apiVersion: 'v1', body: () => ({ stringData: { password: 's3cret' } }) },
  { resource: 'clusters', base: '/apis/kumo.dev/v1alpha1', kind: 'Cluster', apiVersion: 'kumo.dev/v1alpha1', body: () => ({ spec: {} }) },
  { resource: 'nodepools', base: '/apis/kumo.dev/v1alpha1', kind: 'NodePool', apiVersion: 'kumo.dev/v1alpha1', body: () => ({ spec: { cluster: 'c' } }) },
];

/** The expected decision for a namespaced kind, from the issue: admin everything, member writes these kinds, viewer reads all but Secrets. */
function expectNamespaced(user: User, verb: Verb, k: Kind, ns: string): boolean {
  const tenant = NAMESPACES[ns] ?? '';
  const role = tenant === '' ? undefined : ROLES[user][tenant];
  if (role === 'admin' || role === 'member') return true;
  if (role === 'viewer') return READS.includes(verb) && k.resource !== 'secrets';
  return false;
}

const inAnyTenant = (u: User): boolean => Object.keys(ROLES[u]).length > 0;
const tenantsOf = (u: User): string[] => Object.keys(ROLES[u]).sort();
const namespacesOf = (u: User): string[] => Object.keys(NAMESPACES).filter((ns) => tenantsOf(u).includes(NAMESPACES[ns] ?? '-')).sort();

interface Response {
  code: number;
  body: Record<string, unknown>;
}

describe('tenant isolation matrix (kumo server, RBAC + tenancy, token file users, HTTPS, kubectl 1.33)', () => {
  let kumo: KumoHandle;
  let ca: Buffer;
  let agent: https.Agent;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-isolation-'));
  const token = (u: string): string => `${u}-token-0123456789`;

  before(async () => {
    const file = path.join(tmp, 'tokens.csv');
    fs.writeFileSync(
      file,
      [`${token('root')},root,100,"system:masters"`, `${token('alice')},alice,101`, `${token('bob')},bob,102,"b-people"`, `${token('carol')},carol,103`, `${token('dave')},dave,104,"a-devs,other-team"`, `${token('eve')},eve,105,"e-team"`].join('\n') + '\n',
    );
    kumo = await startKumo({ args: ['--authorization-mode', 'RBAC', '--token-auth-file', file] });
    ca = fs.readFileSync(path.join(kumo.dataDir, 'pki', 'ca.crt'));
    agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca });
  });
  after(async () => {
    agent?.destroy();
    await kumo?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function request(user: string, method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = https.request(`${kumo.url}${p}`, { method, agent, headers: { authorization: `Bearer ${token(user)}`, accept: 'application/json', ...(data ? { 'content-type': contentType, 'content-length': data.length } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = { raw: text };
          }
          resolve({ code: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  async function root(method: string, p: string, body?: unknown, contentType?: string): Promise<Response> {
    const r = await request('root', method, p, body, contentType);
    if (r.code >= 300 && !(method === 'DELETE' && r.code === 404)) throw new Error(`root ${method} ${p}: ${r.code} ${JSON.stringify(r.body)}`);
    return r;
  }

  interface WatchHandle {
    code: number;
    events: { type: string; object: Record<string, unknown> }[];
    /** Resolves once the initial events are in (the initial-events-end bookmark). */
    synced: Promise<void>;
    stop(): void;
  }

  /** A watch with sendInitialEvents and bookmarks; events are collected until stop(). */
  function watch(user: string, p: string): Promise<WatchHandle> {
    return new Promise((resolve, reject) => {
      const sep = p.includes('?') ? '&' : '?';
      const url = `${kumo.url}${p}${sep}watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=120`;
      const req = https.request(url, { method: 'GET', agent: false, ca, headers: { authorization: `Bearer ${token(user)}`, accept: 'application/json' } }, (res) => {
        const events: WatchHandle['events'] = [];
        let markSynced: () => void = () => undefined;
        const synced = new Promise<void>((r) => (markSynced = r));
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString('utf8');
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line.trim() === '') continue;
            const ev = JSON.parse(line) as { type: string; object: Record<string, unknown> };
            if (ev.type === 'BOOKMARK') {
              const ann = ((ev.object.metadata as Record<string, unknown> | undefined)?.annotations ?? {}) as Record<string, string>;
              if (ann['k8s.io/initial-events-end'] === 'true') markSynced();
              continue;
            }
            events.push(ev);
          }
        });
        res.on('error', () => undefined);
        if (res.statusCode !== 200) {
          res.resume();
          markSynced();
        }
        resolve({ code: res.statusCode ?? 0, events, synced, stop: () => req.destroy() });
      });
      req.on('error', (err) => {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
      });
      req.end();
    });
  }

  const nsPath = (k: Kind, ns: string, name = ''): string => `${k.base}/namespaces/${ns}/${k.resource}${name ? `/${name}` : ''}`;
  const obj = (k: Kind, name: string, labels: Record<string, string> = {}): Record<string, unknown> => ({ apiVersion: k.apiVersion, kind: k.kind, metadata: { name, labels }, ...k.body(name) });
  const names = (b: Record<string, unknown>): string[] => ((b.items ?? []) as { metadata: { name: string } }[]).map((i) => i.metadata.name).sort();
  const tenantObj = (name: string, members: { kind: string; name: string; role: Role }[]) => ({ apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { members } });
  const MEMBERS_A = [
    { kind: 'User', name: 'alice', role: 'admin' as Role },
    { kind: 'User', name: 'carol', role: 'viewer' as Role },
    { kind: 'Group', name: 'a-devs', role: 'member' as Role },
  ];
  const MEMBERS_B = [{ kind: 'User', name: 'bob', role: 'member' as Role }];
  const nsObj = (name: string, tenant: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: tenant ? { 'kumo.dev/tenant': tenant } : {} } });

  let cells = 0;
  const failures: string[] = [];
  let leaks = 0;
  const leakNotes: string[] = [];
  function check(label: string, want: boolean, got: Response | number): void {
    cells++;
    const code = typeof got === 'number' ? got : got.code;
    const allowed = code >= 200 && code < 300;
    if (!allowed && code !== 403) failures.push(`${label}: unexpected ${code} ${typeof got === 'number' ? '' : JSON.stringify(got.body).slice(0, 300)}`);
    else if (allowed !== want) failures.push(`${label}: expected ${want ? 'allow' : 'deny'}, got ${code}`);
  }
  function leak(label: string, detail: string): void {
    leaks++;
    leakNotes.push(`${label}: ${detail}`);
  }

  it('sets up tenants A and B, their namespaces and objects (as system:masters)', async () => {
    await root('POST', '/apis/kumo.dev/v1alpha1/tenants', tenantObj(TENANT_A, MEMBERS_A));
    await root('POST', '/apis/kumo.dev/v1alpha1/tenants', tenantObj(TENANT_B, MEMBERS_B));
    for (const [ns, t] of Object.entries(NAMESPACES)) await root('POST', '/api/v1/namespaces', nsObj(ns, t));
    for (const ns of Object.keys(NAMESPACES)) {
      await root('POST', nsPath(KINDS[2] as Kind, ns), obj(KINDS[2] as Kind, 'c'));
      for (const k of KINDS) if (k.resource !== 'clusters') await root('POST', nsPath(k, ns), obj(k, k.resource === 'nodepools' ? 'np' : 'fixture'));
    }
  });

  it('decides every verb × namespaced resource × namespace as the table says; lists and watches hold only that namespace', async () => {
    let n = 0;
    const fixtureName = (k: Kind): string => (k.resource === 'clusters' ? 'c' : k.resource === 'nodepools' ? 'np' : 'fixture');
    await Promise.all(
      USERS.map(async (u) => {
        for (const k of KINDS) {
          for (const ns of MATRIX_NAMESPACES) {
            for (const verb of VERBS) {
              const label = `${u} ${verb} ${k.resource} in ${ns}`;
              const want = expectNamespaced(u, verb, k, ns);
              const tmpName = `tmp-${u}-${verb}-${n++}`;
              switch (verb) {
                case 'get':
                  check(label, want, await request(u, 'GET', nsPath(k, ns, fixtureName(k))));
                  break;
                case 'list': {
                  const r = await request(u, 'GET', nsPath(k, ns));
                  check(label, want, r);
                  if (r.code === 200) for (const item of (r.body.items ?? []) as { metadata: { namespace: string } }[]) if (item.metadata.namespace !== ns) leak(label, `item of ${item.metadata.namespace}`);
                  break;
                }
                case 'watch': {
                  const w = await watch(u, nsPath(k, ns));
                  check(label, want, w.code);
                  if (w.code === 200) {
                    await w.synced;
                    for (const ev of w.events) {
                      const m = ev.object.metadata as { namespace?: string };
                      if (m.namespace !== ns) leak(label, `event of ${m.namespace}`);
                    }
                    if (w.events.length === 0) failures.push(`${label}: the watch sent no initial events`);
                  }
                  w.stop();
                  break;
                }
                case 'create': {
                  const r = await request(u, 'POST', nsPath(k, ns), obj(k, tmpName));
                  check(label, want, r);
                  if (r.code === 201) await root('DELETE', nsPath(k, ns, tmpName));
                  break;
                }
                case 'update': {
                  // An object of the cell's own (users run side by side: no write conflicts between them).
                  const cur = (await root('POST', nsPath(k, ns), obj(k, tmpName))).body;
                  const md = cur.metadata as Record<string, unknown>;
                  md.labels = { ...((md.labels) ?? {}), updatedBy: u };
                  check(label, want, await request(u, 'PUT', nsPath(k, ns, tmpName), cur));
                  await root('DELETE', nsPath(k, ns, tmpName));
                  break;
                }
                case 'patch':
                  await root('POST', nsPath(k, ns), obj(k, tmpName));
                  check(label, want, await request(u, 'PATCH', nsPath(k, ns, tmpName), { metadata: { labels: { patchedBy: u } } }, 'application/merge-patch+json'));
                  await root('DELETE', nsPath(k, ns, tmpName));
                  break;
                case 'delete': {
                  await root('POST', nsPath(k, ns), obj(k, tmpName));
                  const r = await request(u, 'DELETE', nsPath(k, ns, tmpName));
                  check(label, want, r);
                  if (r.code !== 200) await root('DELETE', nsPath(k, ns, tmpName));
                  break;
                }
                case 'deletecollection': {
                  await root('POST', nsPath(k, ns), obj(k, tmpName, { doomed: tmpName }));
                  const r = await request(u, 'DELETE', `${nsPath(k, ns)}?labelSelector=doomed%3D${tmpName}`);
                  check(label, want, r);
                  const left = names((await root('GET', `${nsPath(k, ns)}?labelSelector=doomed%3D${tmpName}`)).body);
                  if (r.code === 200 && left.length > 0) failures.push(`${label}: deletecollection answered 200 but left ${left.join(',')}`);
                  if (left.length > 0) await root('DELETE', nsPath(k, ns, tmpName));
                  break;
                }
              }
            }
          }
          // Across namespaces: kube's rule, nobody but cluster-wide grants (none here) lists them.
          check(`${u} list ${k.resource} across namespaces`, false, await request(u, 'GET', `${k.base}/${k.resource}`));
          const w = await watch(u, `${k.base}/${k.resource}`);
          check(`${u} watch ${k.resource} across namespaces`, false, w.code);
          w.stop();
        }
      }),
    );
    assert.deepEqual(failures, []);
  });

  it('decides Tenants: read by members, members edited by admins, created and deleted by nobody here; lists and watches narrowed', async () => {
    await Promise.all(
      USERS.map(async (u) => {
        for (const t of [TENANT_A, TENANT_B]) {
          const role = ROLES[u][t];
          check(`${u} get tenant ${t}`, role !== undefined, await request(u, 'GET', `/apis/kumo.dev/v1alpha1/tenants/${t}`));
          // Members: the same list again (a no-op change of spec.members) plus a label.
          const members = t === TENANT_A ? MEMBERS_A : MEMBERS_B;
          const cur = await root('GET', `/apis/kumo.dev/v1alpha1/tenants/${t}`);
          const upd = { ...cur.body, metadata: { ...(cur.body.metadata as Record<string, unknown>), labels: { updatedBy: u } }, spec: { ...(cur.body.spec as Record<string, unknown>), members } };
          check(`${u} update tenant ${t}`, role === 'admin', await request(u, 'PUT', `/apis/kumo.dev/v1alpha1/tenants/${t}`, upd));
          check(`${u} patch tenant ${t}`, role === 'admin', await request(u, 'PATCH', `/apis/kumo.dev/v1alpha1/tenants/${t}`, { spec: { members } }, 'application/merge-patch+json'));
          check(`${u} delete tenant ${t}`, false, await request(u, 'DELETE', `/apis/kumo.dev/v1alpha1/tenants/${t}?dryRun=All`));
        }
        const created = await request(u, 'POST', '/apis/kumo.dev/v1alpha1/tenants', tenantObj(`new-${u}`, [{ kind: 'User', name: u, role: 'admin' }]));
        check(`${u} create tenant`, false, created);
        if (created.code === 201) await root('DELETE', `/apis/kumo.dev/v1alpha1/tenants/new-${u}`);
        check(`${u} deletecollection tenants`, false, await request(u, 'DELETE', '/apis/kumo.dev/v1alpha1/tenants?dryRun=All'));
        const list = await request(u, 'GET', '/apis/kumo.dev/v1alpha1/tenants');
        check(`${u} list tenants`, inAnyTenant(u), list);
        if (list.code === 200 && JSON.stringify(names(list.body)) !== JSON.stringify(tenantsOf(u))) leak(`${u} list tenants`, `saw ${names(list.body).join(',')}`);
        const w = await watch(u, '/apis/kumo.dev/v1alpha1/tenants');
        check(`${u} watch tenants`, inAnyTenant(u), w.code);
        if (w.code === 200) {
          await w.synced;
          const seen = w.events.map((e) => String((e.object.metadata as { name: string }).name)).sort();
          if (JSON.stringify(seen) !== JSON.stringify(tenantsOf(u))) leak(`${u} watch tenants`, `initial events for ${seen.join(',')}`);
        }
        w.stop();
      }),
    );
    assert.deepEqual(failures, []);
  });

  it('decides Namespaces: read in one\'s tenants, created and labelled by tenant admins only; lists and watches narrowed', async () => {
    await Promise.all(
      USERS.map(async (u) => {
        for (const ns of ['a1', 'b1', 'plain']) {
          const role = ROLES[u][NAMESPACES[ns] ?? ''];
          check(`${u} get namespace ${ns}`, role !== undefined, await request(u, 'GET', `/api/v1/namespaces/${ns}`));
        }
        for (const ns of ['a2', 'b1']) {
          const admin = ROLES[u][NAMESPACES[ns] ?? ''] === 'admin';
          check(`${u} patch namespace ${ns}`, admin, await request(u, 'PATCH', `/api/v1/namespaces/${ns}`, { metadata: { labels: { patchedBy: u } } }, 'application/merge-patch+json'));
          const cur = await root('GET', `/api/v1/namespaces/${ns}`);
          const md = cur.body.metadata as Record<string, unknown>;
          md.labels = { ...((md.labels) ?? {}), updatedBy: u };
          check(`${u} update namespace ${ns}`, admin, await request(u, 'PUT', `/api/v1/namespaces/${ns}`, cur.body));
          // Moving a namespace to the other tenant: system admins only.
          const other = NAMESPACES[ns] === TENANT_A ? TENANT_B : TENANT_A;
          check(`${u} relabel namespace ${ns}`, false, await request(u, 'PATCH', `/api/v1/namespaces/${ns}`, { metadata: { labels: { 'kumo.dev/tenant': other } } }, 'application/merge-patch+json'));
          check(`${u} unlabel namespace ${ns}`, false, await request(u, 'PATCH', `/api/v1/namespaces/${ns}`, { metadata: { labels: { 'kumo.dev/tenant': null } } }, 'application/merge-patch+json'));
        }
        for (const t of [TENANT_A, TENANT_B, '']) {
          const name = `new-${u}-${t || 'none'}`;
          const r = await request(u, 'POST', '/api/v1/namespaces', nsObj(name, t));
          check(`${u} create namespace for ${t || 'no tenant'}`, t !== '' && ROLES[u][t] === 'admin', r);
          if (r.code === 201) {
            // Deleting it: the tenant's admin may.
            check(`${u} delete namespace ${name}`, true, await request(u, 'DELETE', `/api/v1/namespaces/${name}`));
          }
          const doomed = `doomed-${u}-${t || 'none'}`;
          await root('POST', '/api/v1/namespaces', nsObj(doomed, t));
          const d = await request(u, 'DELETE', `/api/v1/namespaces/${doomed}`);
          check(`${u} delete namespace of ${t || 'no tenant'}`, t !== '' && ROLES[u][t] === 'admin', d);
          if (d.code !== 200) await root('DELETE', `/api/v1/namespaces/${doomed}`);
        }
        const list = await request(u, 'GET', '/api/v1/namespaces');
        check(`${u} list namespaces`, inAnyTenant(u), list);
        const mine = (b: Record<string, unknown>): string[] => names(b).filter((n) => !n.startsWith('new-') && !n.startsWith('doomed-'));
        if (list.code === 200) {
          for (const item of (list.body.items ?? []) as { metadata: { name: string; labels?: Record<string, string> } }[]) {
            const t = item.metadata.labels?.['kumo.dev/tenant'] ?? '';
            if (!tenantsOf(u).includes(t)) leak(`${u} list namespaces`, `saw ${item.metadata.name} of ${t || 'no tenant'}`);
          }
          if (JSON.stringify(mine(list.body)) !== JSON.stringify(namespacesOf(u))) failures.push(`${u} list namespaces: expected ${namespacesOf(u).join(',')}, saw ${mine(list.body).join(',')}`);
        }
        const w = await watch(u, '/api/v1/namespaces');
        check(`${u} watch namespaces`, inAnyTenant(u), w.code);
        if (w.code === 200) {
          await w.synced;
          for (const ev of w.events) {
            const m = ev.object.metadata as { name: string; labels?: Record<string, string> };
            if (!tenantsOf(u).includes(m.labels?.['kumo.dev/tenant'] ?? '')) leak(`${u} watch namespaces`, `initial event for ${m.name}`);
          }
        }
        w.stop();
      }),
    );
    assert.deepEqual(failures, []);
  });

  it('sends no watcher an event of another tenant while both tenants change', async () => {
    interface Open {
      user: User;
      what: string;
      w: WatchHandle;
      /** Whether an object of an event may be seen by this user. */
      ok: (o: Record<string, unknown>) => boolean;
    }
    const open: Open[] = [];
    for (const u of USERS) {
      const mineNs = namespacesOf(u);
      const label = (o: Record<string, unknown>): string => ((o.metadata as { labels?: Record<string, string> }).labels ?? {})['kumo.dev/tenant'] ?? '';
      const add = async (what: string, p: string, ok: Open['ok']): Promise<void> => {
        const w = await watch(u, p);
        if (w.code === 200) {
          await w.synced;
          open.push({ user: u, what, w, ok });
        } else w.stop();
      };
      await add('tenants', '/apis/kumo.dev/v1alpha1/tenants', (o) => tenantsOf(u).includes(String((o.metadata as { name: string }).name)));
      await add('namespaces', '/api/v1/namespaces', (o) => tenantsOf(u).includes(label(o)));
      for (const ns of mineNs) for (const k of KINDS) await add(`${k.resource} in ${ns}`, nsPath(k, ns), (o) => (o.metadata as { namespace: string }).namespace === ns);
    }
    const before = new Map(open.map((o) => [o, o.w.events.length]));
    // Both tenants change: every kind in every namespace, the tenants, the namespaces; new ones too.
    for (const ns of Object.keys(NAMESPACES)) {
      for (const k of KINDS) {
        await root('PATCH', nsPath(k, ns, k.resource === 'clusters' ? 'c' : k.resource === 'nodepools' ? 'np' : 'fixture'), { metadata: { labels: { phase: 'live' } } }, 'application/merge-patch+json');
        await root('POST', nsPath(k, ns), obj(k, 'live'));
        await root('DELETE', nsPath(k, ns, 'live'));
      }
      await root('PATCH', `/api/v1/namespaces/${ns}`, { metadata: { labels: { phase: 'live' } } }, 'application/merge-patch+json');
    }
    for (const t of [TENANT_A, TENANT_B]) await root('PATCH', `/apis/kumo.dev/v1alpha1/tenants/${t}`, { metadata: { labels: { phase: 'live' } } }, 'application/merge-patch+json');
    await root('POST', '/apis/kumo.dev/v1alpha1/tenants', tenantObj('tenant-c', [{ kind: 'User', name: 'zed', role: 'admin' }]));
    await root('POST', '/api/v1/namespaces', nsObj('c1', 'tenant-c'));
    await root('POST', '/api/v1/namespaces', nsObj('b9', TENANT_B));
    // Let the events arrive (each watch must at least see the change of its own objects).
    const deadline = Date.now() + 10_000;
    const quiet = (o: Open): boolean => o.w.events.length > (before.get(o) ?? 0);
    while (!open.every(quiet) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    let events = 0;
    for (const o of open) {
      o.w.stop();
      const live = o.w.events.slice(before.get(o) ?? 0);
      events += live.length;
      if (live.length === 0) failures.push(`${o.user} watch ${o.what}: no live event arrived`);
      for (const ev of live) if (!o.ok(ev.object)) leak(`${o.user} watch ${o.what}`, `${ev.type} ${JSON.stringify(ev.object.metadata).slice(0, 200)}`);
    }
    assert.ok(open.length >= 20, `${open.length} watches`);
    assert.deepEqual(failures, []);
    console.log(`live phase: ${open.length} watches, ${events} events delivered`);
  });

  it('agrees with kubectl 1.33 (auth can-i, get, create) on a handful of cells', async () => {
    const cfg = path.join(tmp, 'users.kubeconfig');
    fs.copyFileSync(kumo.kubeconfig, cfg);
    const k = (args: string[], input?: string) => kumo.kubectl(33, ['--kubeconfig', cfg, ...args], input !== undefined ? { input } : {});
    const cluster = (await k(['config', 'view', '-o', 'jsonpath={.clusters[0].name}'])).stdout.trim();
    for (const u of USERS) {
      assert.equal((await k(['config', 'set-credentials', u, `--token=${token(u)}`])).code, 0);
      assert.equal((await k(['config', 'set-context', u, `--cluster=${cluster}`, `--user=${u}`])).code, 0);
    }
    const canI = async (u: User, ...args: string[]): Promise<boolean> => {
      const r = await k(['--context', u, 'auth', 'can-i', ...args]);
      assert.ok(r.stdout.trim() === 'yes' || r.stdout.trim() === 'no', `${u} can-i ${args.join(' ')}: ${r.stdout} ${r.stderr}`);
      return r.stdout.trim() === 'yes';
    };
    const kinds = Object.fromEntries(KINDS.map((x) => [x.resource, x]));
    const cases: [User, Verb, string, string][] = [
      ['alice', 'delete', 'secrets', 'a1'],
      ['alice', 'get', 'configmaps', 'b1'],
      ['bob', 'create', 'clusters', 'b1'],
      ['bob', 'list', 'configmaps', 'a1'],
      ['carol', 'get', 'secrets', 'a1'],
      ['carol', 'watch', 'nodepools', 'a1'],
      ['carol', 'update', 'configmaps', 'a1'],
      ['dave', 'create', 'nodepools', 'a1'],
      ['dave', 'deletecollection', 'secrets', 'a1'],
      ['dave', 'get', 'clusters', 'b1'],
      ['eve', 'get', 'configmaps', 'a1'],
      ['eve', 'list', 'clusters', 'plain'],
    ];
    for (const [u, verb, resource, ns] of cases) {
      const res = resource === 'clusters' || resource === 'nodepools' ? `${resource}.kumo.dev` : resource;
      cells++;
      assert.equal(await canI(u, verb, res, '-n', ns), expectNamespaced(u, verb, kinds[resource] as Kind, ns), `kubectl auth can-i as ${u}: ${verb} ${res} -n ${ns}`);
    }
    assert.equal(await canI('alice', 'update', 'tenants.kumo.dev/tenant-a'), true);
    assert.equal(await canI('dave', 'update', 'tenants.kumo.dev/tenant-a'), false);
    assert.equal(await canI('alice', 'create', 'namespaces'), true);
    assert.equal(await canI('eve', 'list', 'tenants.kumo.dev'), false);
    // can-i --list shows the tenant-derived rules.
    const list = await k(['--context', 'dave', 'auth', 'can-i', '--list', '-n', 'a1']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^nodepools\.kumo\.dev\s+\[\]\s+\[\]\s+\[create update patch delete deletecollection\]/m);
    assert.match(list.stdout, /^tenants\.kumo\.dev\s+\[\]\s+\[tenant-a\]\s+\[get list watch\]/m);
    // get: the narrowed list, as kubectl prints it.
    assert.equal((await k(['--context', 'bob', 'get', 'tenants', '-o', 'name'])).stdout.trim(), 'tenant.kumo.dev/tenant-b');
    assert.deepEqual((await k(['--context', 'carol', 'get', 'namespaces', '-o', 'name'])).stdout.trim().split('\n').sort(), ['namespace/a1', 'namespace/a2']);
    const eve = await k(['--context', 'eve', 'get', 'tenants']);
    assert.notEqual(eve.code, 0);
    assert.match(eve.stderr, /User "eve" cannot list resource "tenants" in API group "kumo.dev" at the cluster scope/);
    // create: a namespace for tenant A by its admin, and by a member of B (refused by admission).
    const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels: {kumo.dev/tenant: ${TENANT_A}}\n`;
    const ok = await k(['--context', 'alice', 'create', '-f', '-'], ns('a-kubectl'));
    assert.equal(ok.code, 0, ok.stderr);
    const refused = await k(['--context', 'bob', 'create', '-f', '-'], ns('b-kubectl'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /User "bob" cannot create resource "namespaces"/);
    cells += 8;
    // A tenant admin binds roles in the tenant's namespaces (RBAC's escalation check asks the whole
    // chain for `bind`, which tenancy grants there), not elsewhere; the binding is RBAC's from then on.
    const bind = await k(['--context', 'alice', '-n', 'a1', 'create', 'rolebinding', 'eve-view', '--clusterrole=view', '--user=eve']);
    assert.equal(bind.code, 0, bind.stderr);
    assert.equal(await canI('eve', 'list', 'configmaps', '-n', 'a1'), true);
    assert.equal(await canI('eve', 'list', 'configmaps', '-n', 'a2'), false);
    const elsewhere = await k(['--context', 'alice', '-n', 'b1', 'create', 'rolebinding', 'eve-view', '--clusterrole=view', '--user=eve']);
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, /User "alice" cannot create resource "rolebindings"/);
  });

  it('reports the matrix size and no leaks', () => {
    console.log(`isolation matrix: ${cells} cells, ${leaks} leaks${leakNotes.length ? `\n${leakNotes.join('\n')}` : ''}`);
    assert.ok(cells >= 600, `${cells} cells`);
    assert.equal(leaks, 0, leakNotes.join('\n'));
  });
});
