// End-to-end: the real kumo binary driven by two real client libraries, as users' scripts and
// controllers drive it: Debian's python3-kubernetes (CRUD, selectors, pagination, watch from a
// resourceVersion, CustomObjectsApi on kumo.dev kinds, 410 on a compacted resourceVersion) and
// @kubernetes/client-node (CoreV1Api, informers: list then watch, callbacks in order, resume after
// stop/start, relist after 410 Gone).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, type Informer, type ObjectCache, type V1ConfigMap } from '@kubernetes/client-node';
import { startKumo, type KumoHandle } from '../testing/kumo.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// Read from the source tree: tsc does not copy it to dist.
const PY_SCRIPT = path.join(ROOT, 'src', 'testing', 'py', 'k8s_client.py');
const PYTHON = '/usr/bin/python3';

// ---- python3-kubernetes ------------------------------------------------------------------------

type Step = { step: string } & Record<string, unknown>;

/** A running k8s_client.py: its JSON-line steps as they arrive, and its exit. */
interface PyRun {
  steps: Step[];
  /** Resolves with the first step (so far or later) that matches; rejects after timeoutMs. */
  waitFor(pred: (s: Step) => boolean, timeoutMs?: number): Promise<Step>;
  done: Promise<{ code: number | null; stderr: string; steps: Step[] }>;
}

function startPy(kubeconfig: string, args: string[], timeoutMs = 60_000): PyRun {
  const child = spawn(PYTHON, [PY_SCRIPT, kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const steps: Step[] = [];
  const waiters: { pred: (s: Step) => boolean; resolve: (s: Step) => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface(child.stdout).on('line', (line) => {
    let s: Step;
    try {
      s = JSON.parse(line) as Step;
    } catch {
      s = { step: 'unparsed', line };
    }
    steps.push(s);
    for (const w of [...waiters]) {
      if (w.pred(s)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(s);
      }
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; stderr: string; steps: Step[] }>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, steps });
    });
  });
  return {
    steps,
    done,
    waitFor(pred, ms = 15_000) {
      const found = steps.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        const t = setTimeout(() => reject(new Error(`python: no matching step after ${ms} ms; steps so far:\n${steps.map((s) => JSON.stringify(s)).join('\n')}\n${stderr}`)), ms);
        void done.then(() => {
          clearTimeout(t);
          if (waiters.includes(w)) reject(new Error(`python exited before a matching step; steps:\n${steps.map((s) => JSON.stringify(s)).join('\n')}\n${stderr}`));
        });
        const orig = w.resolve;
        w.resolve = (s) => {
          clearTimeout(t);
          orig(s);
        };
      });
    },
  };
}

/** Runs the script to completion; fails with its output unless it exits 0; steps by name. */
async function runPy(kubeconfig: string, args: string[]): Promise<Map<string, Step>> {
  const r = await startPy(kubeconfig, args).done;
  const dump = `${r.steps.map((s) => JSON.stringify(s)).join('\n')}\n${r.stderr}`;
  assert.equal(r.code, 0, `k8s_client.py ${args.join(' ')} exited ${r.code}:\n${dump}`);
  const byName = new Map<string, Step>();
  for (const s of r.steps) byName.set(s.step, s);
  return byName;
}

function step(steps: Map<string, Step>, name: string): Step {
  const s = steps.get(name);
  assert.ok(s, `no step ${name} in ${[...steps.keys()].join(', ')}`);
  return s;
}

/** The Status body an ApiException carried: the HTTP code and the Status fields clients read. */
function statusOf(s: Step): { status: number; reason: unknown; code: unknown; message: unknown } {
  const body = s.body as Record<string, unknown>;
  return { status: s.status as number, reason: body.reason, code: body.code, message: body.message };
}

// ---- @kubernetes/client-node -------------------------------------------------------------------

function clientFor(k: KumoHandle): { kc: KubeConfig; core: CoreV1Api } {
  const kc = new KubeConfig();
  kc.loadFromFile(k.kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api) };
}

async function createNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

const cm = (name: string, data?: Record<string, string>, labels?: Record<string, string>): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  ...(data ? { data } : {}),
});

/** An informer on one namespace's ConfigMaps that records every callback as "verb name rv". */
function recordingInformer(kc: KubeConfig, core: CoreV1Api, namespace: string, labelSelector?: string) {
  const inf: Informer<V1ConfigMap> & ObjectCache<V1ConfigMap> = makeInformer(
    kc,
    `/api/v1/namespaces/${namespace}/configmaps`,
    () => core.listNamespacedConfigMap({ namespace, ...(labelSelector ? { labelSelector } : {}) }),
    labelSelector,
  );
  const events: string[] = [];
  const errors: unknown[] = [];
  let connects = 0;
  let stopping = false;
  const waiters: { n: number; resolve: () => void }[] = [];
  const record = (verb: string) => (o: V1ConfigMap) => {
    events.push(`${verb} ${o.metadata?.name} ${o.metadata?.resourceVersion}`);
    for (const w of [...waiters]) {
      if (events.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  inf.on('add', record('add'));
  inf.on('update', record('update'));
  inf.on('delete', record('delete'));
  inf.on('connect', () => connects++);
  inf.on('error', (err?: unknown) => {
    // client-node reports its own abort of the watch request (stop()) through the error callback.
    if (stopping && err instanceof Error && err.name === 'AbortError') return;
    errors.push(err);
  });
  return {
    inf,
    events,
    errors,
    connects: () => connects,
    /** Waits until `n` callbacks have been recorded in all. */
    waitEvents(n: number, ms = 15_000): Promise<void> {
      if (events.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`informer: ${events.length} of ${n} callbacks after ${ms} ms: ${JSON.stringify(events)}; errors: ${errors.map(String).join('; ')}`)), ms);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    async stop(): Promise<void> {
      stopping = true;
      await inf.stop();
      // Let the aborted request's callbacks run while `stopping` still holds.
      await new Promise((r) => setTimeout(r, 200));
      stopping = false;
    },
  };
}

/** "verb name" of each recorded callback (the resourceVersions checked separately). */
const verbs = (events: string[]): string[] => events.map((e) => e.split(' ').slice(0, 2).join(' '));
const cacheNames = (inf: ObjectCache<V1ConfigMap>, ns: string): string[] =>
  inf
    .list(ns)
    .map((o) => o.metadata?.name ?? '')
    .sort();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- the tests ---------------------------------------------------------------------------------

describe('real clients against kumo (e2e)', () => {
  let k: KumoHandle;
  let core: CoreV1Api;
  let kc: KubeConfig;
  before(async () => {
    k = await startKumo();
    ({ kc, core } = clientFor(k));
  });
  after(async () => {
    await k?.stop();
  });

  describe('python3-kubernetes', () => {
    it('CoreV1Api: namespace, create/read/patch/replace/delete, errors as Status, selectors, pagination', async () => {
      const ns = 'py-crud';
      const s = await runPy(k.kubeconfig, ['crud', ns]);
      assert.match(String(step(s, 'version').git_version), /^v1\.\d+\.\d+/);
      assert.deepEqual(step(s, 'namespace'), { step: 'namespace', name: ns, phase: 'Active' });

      const c = step(s, 'create');
      assert.equal(c.name, 'alpha');
      assert.equal(c.namespace, ns);
      assert.match(String(c.rv), /^\d+$/);
      assert.match(String(c.uid), /^[0-9a-f-]{36}$/);
      assert.equal(c.created_tz, true, 'creationTimestamp parsed as an RFC 3339 time with a zone');
      assert.deepEqual(c.data, { k: 'v' });

      assert.deepEqual(statusOf(step(s, 'create-again')), { status: 409, reason: 'AlreadyExists', code: 409, message: 'configmaps "alpha" already exists' });
      assert.deepEqual(step(s, 'read').data, { k: 'v' });
      assert.equal(step(s, 'read').rv, c.rv);

      // The client sends a dict as application/strategic-merge-patch+json.
      const p = step(s, 'patch');
      assert.deepEqual(p.data, { k: 'v', k2: 'v2' });
      assert.deepEqual(p.labels, { app: 'py', tier: 'x' });
      assert.ok(Number(p.rv) > Number(c.rv));

      const stale = statusOf(step(s, 'replace-stale'));
      assert.equal(stale.status, 409);
      assert.equal(stale.reason, 'Conflict');
      assert.match(String(stale.message), /Operation cannot be fulfilled on configmaps "alpha": the object has been modified/);
      assert.deepEqual(step(s, 'replace').data, { k: 'replaced', k2: 'v2' });

      // limit=3 with a label selector: three pages over one snapshot, no remainingItemCount (unknown
      // when filtering, as in Kubernetes).
      const pages = step(s, 'pages').pages as { names: string[]; continue: string | null; remaining: number | null; rv: string }[];
      assert.deepEqual(
        pages.map((pg) => pg.names),
        [['page-0', 'page-1', 'page-2'], ['page-3', 'page-4', 'page-5'], ['page-6']],
      );
      assert.ok(pages[0]?.continue && pages[1]?.continue);
      assert.equal(pages[2]?.continue, null);
      assert.equal(new Set(pages.map((pg) => pg.rv)).size, 1, 'every page at the first page\'s resourceVersion');

      const un = step(s, 'pages-unfiltered');
      assert.deepEqual(un.first, ['alpha', 'page-0', 'page-1', 'page-2', 'page-3']);
      assert.equal(un.remaining, 3);
      assert.deepEqual(un.rest, ['page-4', 'page-5', 'page-6']);
      assert.equal(un.rest_continue, null);
      assert.equal(un.same_rv, true);

      const sel = step(s, 'selectors');
      assert.deepEqual(sel.app_py, ['alpha']);
      assert.deepEqual(sel.set_based, ['page-1', 'page-3', 'page-5']);
      assert.deepEqual(sel.not_in, ['page-0', 'page-2', 'page-4', 'page-6']);
      assert.deepEqual(sel.no_tier, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
      assert.deepEqual(sel.field, ['alpha']);
      assert.deepEqual(sel.field_neq, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
      assert.deepEqual(step(s, 'all-namespaces'), { step: 'all-namespaces', count: 7, namespaces: [ns] });

      assert.deepEqual(step(s, 'delete'), { step: 'delete', kind: 'Status', status: 'Success', details_name: 'alpha' });
      assert.deepEqual(statusOf(step(s, 'read-deleted')), { status: 404, reason: 'NotFound', code: 404, message: 'configmaps "alpha" not found' });
      assert.equal(statusOf(step(s, 'delete-deleted')).status, 404);
      assert.deepEqual(step(s, 'after-deletecollection').names, ['page-0', 'page-2', 'page-4', 'page-6']);
    });

    it('watch.Watch().stream from a resourceVersion sees ADDED/MODIFIED/DELETED of writes made meanwhile, in order', async () => {
      const ns = 'py-watch';
      await createNamespace(core, ns);
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('before', { v: '0' }) });
      const rv = (await core.listNamespacedConfigMap({ namespace: ns })).metadata?.resourceVersion ?? '';
      assert.match(rv, /^\d+$/);
      const py = startPy(k.kubeconfig, ['watch', ns, rv, '30', 'w-stop']);
      await py.waitFor((s) => s.step === 'watching');
      // Writes after the list's resourceVersion: whether python's request is already open or not, the
      // watch from `rv` must deliver each of them exactly once, in order.
      const a = await core.createNamespacedConfigMap({ namespace: ns, body: cm('w-a', { v: '1' }) });
      await py.waitFor((s) => s.step === 'event' && s.name === 'w-a');
      const a2 = await core.replaceNamespacedConfigMap({ name: 'w-a', namespace: ns, body: { ...a, data: { v: '2' } } });
      const b = await core.createNamespacedConfigMap({ namespace: ns, body: cm('w-b') });
      await core.deleteNamespacedConfigMap({ name: 'w-a', namespace: ns });
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('w-stop') });
      await core.deleteNamespacedConfigMap({ name: 'w-stop', namespace: ns });
      const r = await py.done;
      const dump = r.steps.map((x) => JSON.stringify(x)).join('\n') + r.stderr;
      assert.equal(r.code, 0, dump);
      const events = r.steps.filter((x) => x.step === 'event');
      assert.deepEqual(
        events.map((e) => `${String(e.type)} ${String(e.name)}`),
        ['ADDED w-a', 'MODIFIED w-a', 'ADDED w-b', 'DELETED w-a', 'ADDED w-stop', 'DELETED w-stop'],
        dump,
      );
      assert.equal(events[0]?.rv, a.metadata?.resourceVersion);
      assert.deepEqual(events[1]?.data, { v: '2' });
      assert.equal(events[1]?.rv, a2.metadata?.resourceVersion);
      assert.equal(events[2]?.rv, b.metadata?.resourceVersion);
      const rvs = events.map((e) => Number(e.rv));
      assert.deepEqual([...rvs].sort((x, y) => x - y), rvs, 'resourceVersions increase');
      assert.equal(r.steps.at(-1)?.step, 'end');
    });

    it('watch with timeout_seconds ends when the server closes it', async () => {
      const ns = 'py-watch';
      const rv = (await core.listNamespacedConfigMap({ namespace: ns })).metadata?.resourceVersion ?? '';
      const t0 = Date.now();
      const r = await startPy(k.kubeconfig, ['watch', ns, rv, '2', 'never']).done;
      const ms = Date.now() - t0;
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.steps.map((x) => x.step),
        ['watching', 'end'],
      );
      assert.ok(ms >= 1500 && ms < 10_000, `watch lasted ${ms} ms with timeout_seconds=2`);
    });

    it('CustomObjectsApi: Tenant (cluster-scoped) and Cluster (namespaced) of kumo.dev/v1alpha1', async () => {
      const ns = 'py-custom';
      await createNamespace(core, ns);
      const s = await runPy(k.kubeconfig, ['custom', ns]);
      const t = step(s, 'tenant-create');
      assert.equal(t.name, `py-${ns}`);
      assert.equal(t.namespace, null, 'cluster-scoped: no metadata.namespace');
      assert.equal(t.generation, 1);
      assert.deepEqual(t.spec, { members: [{ kind: 'User', name: 'alice', role: 'admin' }], quota: { clusters: 2, cpu: '64' } });
      assert.deepEqual(step(s, 'tenant-list'), { step: 'tenant-list', kind: 'TenantList', names: [`py-${ns}`] });
      const p = step(s, 'tenant-patch');
      assert.equal(p.generation, 2, 'a spec change bumps generation');
      assert.deepEqual(p.quota, { clusters: 5, cpu: '64' });
      // The status subresource writes status only: spec in the patch is ignored, generation unchanged.
      const st = step(s, 'tenant-status');
      assert.equal(st.generation, 2);
      // The status patch's own field (the tenant-quota controller keeps the rest of status.usage).
      assert.equal((st.usage as Record<string, unknown>).clusters, 1);
      assert.deepEqual(st.quota, { clusters: 5, cpu: '64' });
      const bad = statusOf(step(s, 'tenant-invalid'));
      assert.equal(bad.status, 422);
      assert.equal(bad.reason, 'Invalid');
      assert.match(String(bad.message), /^Tenant "py-bad" is invalid: spec\.quota\.loadBalancerPorts\.to: Invalid value: 8000/);
      const c = step(s, 'cluster-create');
      assert.equal(c.namespace, ns);
      assert.equal((c.spec as Record<string, unknown>).version, 'v1.33', 'defaults applied');
      assert.deepEqual(step(s, 'cluster-list').names, ['pyc']);
      assert.deepEqual(statusOf(step(s, 'cluster-missing')), { status: 404, reason: 'NotFound', code: 404, message: 'clusters.kumo.dev "nope" not found' });
      for (const d of ['cluster-delete', 'tenant-delete']) {
        const del = step(s, d);
        // Built-in kinds answer a Status; a kind served from a CRD would answer the object.
        assert.ok(del.status === 'Success' || del.kind === 'Tenant' || del.kind === 'Cluster', JSON.stringify(del));
      }
      assert.equal(statusOf(step(s, 'tenant-gone')).status, 404);
    });
  });

  describe('@kubernetes/client-node', () => {
    it('CoreV1Api: create, read, merge patch, replace, list, delete; errors as ApiException with the Status body', async () => {
      const ns = 'js-crud';
      await createNamespace(core, ns);
      const created = await core.createNamespacedConfigMap({ namespace: ns, body: cm('one', { a: '1' }, { app: 'js' }) });
      assert.equal(created.metadata?.namespace, ns);
      assert.ok(created.metadata?.creationTimestamp instanceof Date, 'creationTimestamp deserialized to a Date');
      const patched = await core.patchNamespacedConfigMap(
        { name: 'one', namespace: ns, body: { data: { b: '2' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      assert.deepEqual(patched.data, { a: '1', b: '2' });
      const replaced = await core.replaceNamespacedConfigMap({ name: 'one', namespace: ns, body: { ...patched, data: { c: '3' } } });
      assert.deepEqual(replaced.data, { c: '3' });
      assert.deepEqual((await core.readNamespacedConfigMap({ name: 'one', namespace: ns })).data, { c: '3' });
      const list = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'app=js' });
      assert.equal(list.kind, 'ConfigMapList');
      assert.deepEqual(
        list.items.map((i) => i.metadata?.name),
        ['one'],
      );
      await assert.rejects(
        () => core.createNamespacedConfigMap({ namespace: ns, body: cm('one') }),
        (err: unknown) => {
          const e = err as { code?: number; body?: unknown };
          assert.equal(e.code, 409);
          const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as Record<string, unknown>;
          assert.equal(body.reason, 'AlreadyExists');
          return true;
        },
      );
      const del = await core.deleteNamespacedConfigMap({ name: 'one', namespace: ns });
      assert.equal(del.status, 'Success');
      await assert.rejects(
        () => core.readNamespacedConfigMap({ name: 'one', namespace: ns }),
        (err: unknown) => (err as { code?: number }).code === 404,
      );
    });

    it('informer: lists, then add/update/delete callbacks in write order; the cache follows; no error events', async () => {
      const ns = 'js-informer';
      await createNamespace(core, ns);
      const pre = await core.createNamespacedConfigMap({ namespace: ns, body: cm('pre', { v: '0' }) });
      const r = recordingInformer(kc, core, ns);
      await r.inf.start();
      await r.waitEvents(1);
      assert.deepEqual(r.events, [`add pre ${pre.metadata?.resourceVersion}`], 'the initial list');
      assert.equal(r.connects(), 1);

      const a = await core.createNamespacedConfigMap({ namespace: ns, body: cm('a', { v: '1' }) });
      const a2 = await core.replaceNamespacedConfigMap({ name: 'a', namespace: ns, body: { ...a, data: { v: '2' } } });
      const b = await core.createNamespacedConfigMap({ namespace: ns, body: cm('b') });
      await core.deleteNamespacedConfigMap({ name: 'a', namespace: ns });
      await r.waitEvents(5);
      assert.deepEqual(verbs(r.events), ['add pre', 'add a', 'update a', 'add b', 'delete a']);
      assert.equal(r.events[1], `add a ${a.metadata?.resourceVersion}`);
      assert.equal(r.events[2], `update a ${a2.metadata?.resourceVersion}`);
      assert.equal(r.events[3], `add b ${b.metadata?.resourceVersion}`);
      assert.deepEqual(cacheNames(r.inf, ns), ['b', 'pre']);
      assert.deepEqual(r.inf.get('b', ns)?.metadata?.uid, b.metadata?.uid);
      assert.equal(r.inf.get('a', ns), undefined);

      // Stopped, it misses nothing: started again it watches from its resourceVersion (no relist),
      // and the server replays what happened meanwhile.
      await r.stop();
      const c = await core.createNamespacedConfigMap({ namespace: ns, body: cm('c') });
      const b2 = await core.replaceNamespacedConfigMap({ name: 'b', namespace: ns, body: { ...b, data: { x: 'y' } } });
      await core.deleteNamespacedConfigMap({ name: 'pre', namespace: ns });
      await r.inf.start();
      await r.waitEvents(8);
      assert.deepEqual(verbs(r.events).slice(5), ['add c', 'update b', 'delete pre']);
      assert.equal(r.events[5], `add c ${c.metadata?.resourceVersion}`);
      assert.equal(r.events[6], `update b ${b2.metadata?.resourceVersion}`);
      assert.deepEqual(cacheNames(r.inf, ns), ['b', 'c']);
      assert.equal(r.connects(), 2);

      // Quiet for a while: no spurious events, no errors.
      await sleep(1000);
      assert.equal(r.events.length, 8, JSON.stringify(r.events));
      assert.deepEqual(r.errors, []);
      await r.stop();
    });

    it('informer with a label selector: objects entering and leaving the selection are added and deleted', async () => {
      const ns = 'js-selector';
      await createNamespace(core, ns);
      const r = recordingInformer(kc, core, ns, 'app=web');
      await r.inf.start();
      const plain = await core.createNamespacedConfigMap({ namespace: ns, body: cm('x') });
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('other', undefined, { app: 'db' }) });
      // x gains the label (ADDED for this watch), changes (MODIFIED), loses it (DELETED).
      const x1 = await core.replaceNamespacedConfigMap({ name: 'x', namespace: ns, body: { ...plain, metadata: { ...plain.metadata, labels: { app: 'web' } } } });
      const x2 = await core.replaceNamespacedConfigMap({ name: 'x', namespace: ns, body: { ...x1, data: { k: 'v' } } });
      await core.replaceNamespacedConfigMap({ name: 'x', namespace: ns, body: { ...x2, metadata: { ...x2.metadata, labels: { app: 'api' } } } });
      await r.waitEvents(3);
      await sleep(300);
      assert.deepEqual(verbs(r.events), ['add x', 'update x', 'delete x']);
      assert.equal(r.events[0], `add x ${x1.metadata?.resourceVersion}`);
      assert.deepEqual(cacheNames(r.inf, ns), []);
      assert.deepEqual(r.errors, []);
      await r.stop();
    });
  });
});

describe('clients after compaction: 410 Gone → relist (e2e)', () => {
  // Compaction every second, at the revision seen a second earlier: a resourceVersion a few seconds
  // old is compacted away.
  let k: KumoHandle;
  let core: CoreV1Api;
  let kc: KubeConfig;
  before(async () => {
    k = await startKumo({ args: ['--compaction-interval', '1s'] });
    ({ kc, core } = clientFor(k));
  });
  after(async () => {
    await k?.stop();
  });

  /** Writes (so there is a revision to compact to) and waits until `rv` reads as Gone. */
  async function compactPast(ns: string, rv: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (let i = 0; ; i++) {
      await core.createNamespacedConfigMap({ namespace: ns, body: cm(`filler-${i}`) });
      await sleep(1100);
      try {
        await core.listNamespacedConfigMap({ namespace: ns, resourceVersion: rv, resourceVersionMatch: 'Exact' });
      } catch (err) {
        if ((err as { code?: number }).code === 410) return;
        throw err;
      }
      if (Date.now() > deadline) assert.fail(`resourceVersion ${rv} still readable after 20 s of 1 s compaction`);
    }
  }

  it('client-node informer: restarted at a compacted resourceVersion, it relists: deletes what vanished, adds what appeared', async () => {
    const ns = 'js-relist';
    await createNamespace(core, ns);
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('keep') });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('gone') });
    const r = recordingInformer(kc, core, ns);
    await r.inf.start();
    await r.waitEvents(2);
    assert.deepEqual(verbs(r.events).sort(), ['add gone', 'add keep']);

    await r.stop();
    await core.deleteNamespacedConfigMap({ name: 'gone', namespace: ns });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('new') });
    // Past the informer's resourceVersion (at most the one of this list).
    await compactPast(ns, (await core.listNamespacedConfigMap({ namespace: ns })).metadata?.resourceVersion ?? '');

    // The watch at `rv` answers 410 (an ERROR event or the status): the informer forgets its
    // resourceVersion, lists again and reconciles its cache with the list.
    await r.inf.start();
    await r.waitEvents(4, 20_000);
    await sleep(500);
    const after = verbs(r.events).slice(2);
    assert.equal(after[0], 'delete gone', JSON.stringify(r.events));
    assert.ok(after.includes('add new'), JSON.stringify(r.events));
    assert.ok(after.filter((e) => e.startsWith('add filler-')).length >= 1, JSON.stringify(r.events));
    assert.ok(!after.includes('add keep') && !after.includes('update keep'), 'an unchanged object is not reported again');
    assert.deepEqual(
      cacheNames(r.inf, ns).filter((n) => !n.startsWith('filler-')),
      ['keep', 'new'],
    );
    assert.ok(r.connects() >= 3, `connects: ${r.connects()} (start, restart at the old resourceVersion, relist)`);
    assert.deepEqual(r.errors, [], 'a 410 is not an error for the informer');
    await r.stop();
  });

  it('python watch at a compacted resourceVersion: ApiException 410 Expired', async () => {
    const ns = 'py-expired';
    await createNamespace(core, ns);
    const rv = (await core.createNamespacedConfigMap({ namespace: ns, body: cm('x') })).metadata?.resourceVersion ?? '';
    await compactPast(ns, rv);
    const s = await runPy(k.kubeconfig, ['expired', ns, rv]);
    const e = step(s, 'expired');
    assert.equal(e.status, 410);
    assert.match(String(e.reason), /^Expired: too old resource version: \d+/);
  });
});
