// The API fuzz run: set up the ground (namespaces, a CRD, fixtures of every served kind in three
// logical clusters), send the generated requests, judge each answer, and report. The checks after the
// run (store, readability) live in the test, which owns the server.
import YAML from 'yaml';
import { builtinResourceTypes } from '../../api/index.js';
import { crdResourceTypes } from '../../apiserver/crds.js';
import { parseStorageKey } from '../../apiserver/keys.js';
import { parseRequestInfo } from '../../apiserver/requestinfo.js';
import { WIDGETS_CRD, fixture, widgetsCrd } from './fixtures.js';
import { BASE_NAMES, DC_NAMES, DEL_NAMES, LC, LC_X, NS_A, NS_B, NS_DC, collectionPath, fuzzKind, generateRequest, isCreateOnly, objectName, type FuzzKind, type FuzzRequest } from './generate.js';
import { pool, type FuzzClient, type FuzzResponse } from './send.js';
import type { Json } from './values.js';

export const CLUSTER_PREFIXES = ['', `/clusters/${LC}`, `/clusters/${LC_X}`];

/** A JSON request through the fuzz client (setup and checks); throws on transport errors. */
export async function call(client: FuzzClient, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const req: Parameters<FuzzClient['send']>[0] = { method, path, headers: { accept: 'application/json', 'content-type': 'application/json' }, chunked: false };
  if (body !== undefined) req.body = Buffer.from(JSON.stringify(body));
  const res = await client.send(req, 30_000);
  if (res.error) throw new Error(`${method} ${path}: ${res.error}`);
  let parsed: unknown = res.body.toString('utf8');
  try {
    parsed = JSON.parse(parsed as string);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

function must(r: { status: number; body: unknown }, want: number[], what: string): void {
  if (!want.includes(r.status)) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 600)}`);
}

/** The served kinds, from discovery, in a stable order, with their schemas. */
export async function discoverKinds(client: FuzzClient): Promise<FuzzKind[]> {
  const schemas = new Map(builtinResourceTypes().map((rt) => [`${rt.group}/${rt.version}/${rt.plural}`, rt.schema]));
  for (const rt of crdResourceTypes(widgetsCrd())) schemas.set(`${rt.group}/${rt.version}/${rt.plural}`, rt.schema);
  const gvs: { group: string; version: string; path: string }[] = [{ group: '', version: 'v1', path: '/api/v1' }];
  const groups = await call(client, 'GET', '/apis');
  must(groups, [200], 'GET /apis');
  for (const g of (groups.body as { groups: { name: string; versions: { version: string }[] }[] }).groups) {
    for (const v of g.versions) gvs.push({ group: g.name, version: v.version, path: `/apis/${g.name}/${v.version}` });
  }
  const kinds: FuzzKind[] = [];
  for (const gv of gvs) {
    const list = await call(client, 'GET', gv.path);
    must(list, [200], `GET ${gv.path}`);
    const resources = (list.body as { resources: { name: string; namespaced: boolean; kind: string; verbs: string[] }[] }).resources;
    for (const r of resources) {
      if (r.name.includes('/')) continue;
      // Only the fuzz CRD of its group: CRDs made by the setup (base-0.fuzz.kumo.dev …) come and go.
      if (gv.group === 'fuzz.kumo.dev' && r.name !== 'widgets') continue;
      const subs = resources.filter((s) => s.name.startsWith(`${r.name}/`)).map((s) => s.name.slice(r.name.length + 1));
      const schema = schemas.get(`${gv.group}/${gv.version}/${r.name}`);
      const k: Parameters<typeof fuzzKind>[0] = { group: gv.group, version: gv.version, plural: r.name, kind: r.kind, namespaced: r.namespaced, verbs: [...r.verbs].sort(), subresources: subs.sort() };
      if (schema) k.schema = schema;
      kinds.push(fuzzKind(k));
    }
  }
  return kinds.sort((a, b) => `${a.group}/${a.version}/${a.plural}`.localeCompare(`${b.group}/${b.version}/${b.plural}`));
}

/**
 * Namespaces fuzz-a, fuzz-b, fuzz-dc and the widgets CRD in the root, fuzz-lc and fuzz-x logical
 * clusters; then, per served kind (create-only kinds aside), base-*, del-* and dc-* fixtures. Returns
 * the fixtures the server refused (each is a fixture to repair, or a server bug).
 */
export async function setUp(client: FuzzClient, kindsOf: () => Promise<FuzzKind[]>): Promise<{ kinds: FuzzKind[]; refused: string[] }> {
  for (const prefix of CLUSTER_PREFIXES) {
    for (const ns of [NS_A, NS_B, NS_DC]) must(await call(client, 'POST', `${prefix}/api/v1/namespaces`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }), [201], `namespace ${ns}`);
    must(await call(client, 'POST', `${prefix}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`, widgetsCrd()), [201], `CRD in ${prefix || 'root'}`);
  }
  for (const prefix of CLUSTER_PREFIXES) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await call(client, 'GET', `${prefix}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${WIDGETS_CRD}`);
      const conds = ((r.body as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []);
      if (conds.some((c) => c.type === 'Established' && c.status === 'True')) {
        const served = await call(client, 'GET', `${prefix}/apis/fuzz.kumo.dev/v1/namespaces/${NS_A}/widgets`);
        if (served.status === 200) break;
      }
      if (Date.now() > deadline) throw new Error(`CRD ${WIDGETS_CRD} not served in ${prefix || 'root'} after 30 s`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  const kinds = await kindsOf();
  const jobs: { path: string; body: Record<string, Json>; what: string }[] = [];
  for (const k of kinds) {
    if (isCreateOnly(k) || !k.verbs.includes('create')) continue;
    for (const prefix of CLUSTER_PREFIXES) {
      const names = prefix === `/clusters/${LC_X}` ? [...BASE_NAMES, ...DC_NAMES] : [...BASE_NAMES, ...DEL_NAMES, ...DC_NAMES];
      for (const n of names) {
        const ns = DC_NAMES.includes(n) ? NS_DC : NS_A;
        const name = objectName(k, n);
        jobs.push({ path: prefix + collectionPath(k, k.namespaced ? ns : undefined), body: fixture(k, name, ns), what: `${k.plural} ${prefix || 'root'} ${k.namespaced ? `${ns}/` : ''}${name}` });
      }
    }
  }
  const refused: string[] = [];
  await pool(jobs.length, 8, async (i) => {
    const j = jobs[i];
    if (!j) return;
    const r = await call(client, 'POST', j.path, j.body);
    if (r.status !== 201) refused.push(`${j.what}: ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
  });
  return { kinds, refused };
}

// ---- judging answers -----------------------------------------------------------------------------

export type FindingKind = 'status>=500' | 'not-a-Status' | 'hang' | 'reset' | 'unsendable' | 'bad-body';

export interface Finding {
  kind: FindingKind;
  index: number;
  method: string;
  path: string;
  op: string;
  status: number;
  detail: string;
  requestBody: string;
}

export interface Outcome {
  index: number;
  method: string;
  path: string;
  op: string;
  kind: string;
  dryRun: boolean;
  watch: boolean;
  status: number;
  /** Request body bytes. */
  bytes: number;
  /** For a successful write: the resourceVersion of the object it answered with (the store revision it wrote). */
  rv?: string;
  /** The decoded answer, for successful creates (to read back afterwards). */
  created?: { apiVersion?: string; kind?: string; metadata?: Record<string, unknown> };
  ms: number;
}

/** kube answers a list or watch at a resourceVersion it has not reached with 504 and this cause; so does Kumo. */
export function isKubeTooLargeResourceVersion(status: number, body: unknown): boolean {
  const b = body as { reason?: string; details?: { causes?: { reason?: string }[] } } | null;
  return status === 504 && b?.reason === 'Timeout' && (b.details?.causes ?? []).some((c) => c.reason === 'ResourceVersionTooLarge');
}

function excerpt(b: Buffer | undefined, n = 400): string {
  if (!b || b.length === 0) return '';
  const s = b.subarray(0, n).toString('utf8').replace(/[^\x20-\x7e]/g, '.');
  return b.length > n ? `${s}… (${b.length} bytes)` : s;
}

function decode(res: FuzzResponse): unknown {
  const ct = String(res.headers['content-type'] ?? '');
  const text = res.body.toString('utf8');
  if (ct.startsWith('application/yaml')) return YAML.parse(text) as unknown;
  return JSON.parse(text) as unknown;
}

/** Judges one answer: a finding, or undefined when it is as it should be. */
export function judge(req: FuzzRequest, res: FuzzResponse): Finding | undefined {
  const f = (kind: FindingKind, detail: string): Finding => ({ kind, index: req.index, method: req.method, path: req.path.slice(0, 400), op: req.op, status: res.status, detail, requestBody: excerpt(req.body) });
  if (res.error) {
    if (res.error.startsWith('client:')) return f('unsendable', res.error);
    if (res.error.startsWith('timeout')) return f('hang', res.error);
    // Past the limit the server answers 413 and closes; the client may still be writing then.
    if (req.oversized) return undefined;
    return f('reset', res.error);
  }
  let body: unknown;
  let decodeError: string | undefined;
  if ((!req.watch || res.status >= 300) && req.method !== 'HEAD' && !res.truncated && res.body.length > 0) {
    try {
      body = decode(res);
    } catch (err) {
      decodeError = err instanceof Error ? err.message : String(err);
    }
  }
  if (res.status >= 500 && !isKubeTooLargeResourceVersion(res.status, body)) return f('status>=500', excerpt(res.body, 600));
  if (res.status >= 400 && req.method !== 'HEAD') {
    const s = body as { kind?: unknown; code?: unknown } | undefined;
    if (decodeError !== undefined || !s || typeof s !== 'object' || s.kind !== 'Status' || s.code !== res.status) {
      return f('not-a-Status', `${String(res.headers['content-type'])}: ${excerpt(res.body, 300)}`);
    }
  }
  const ct = String(res.headers['content-type'] ?? '');
  if (res.status >= 200 && res.status < 300 && decodeError !== undefined && (ct.startsWith('application/json') || ct.startsWith('application/yaml'))) {
    return f('bad-body', `${ct} that does not decode: ${decodeError}`);
  }
  return undefined;
}

/** The resourceVersion a successful write answered with (JSON or YAML object bodies under 1 MiB). */
function writtenRevision(req: FuzzRequest, res: FuzzResponse): string | undefined {
  if (res.status < 200 || res.status >= 300 || res.error || req.method === 'GET' || req.method === 'HEAD' || res.body.length > 1024 * 1024) return undefined;
  try {
    const b = decode(res) as { metadata?: { resourceVersion?: unknown } } | null;
    const rv = b?.metadata?.resourceVersion;
    return typeof rv === 'string' ? rv : undefined;
  } catch {
    return undefined;
  }
}

export function decodeCreated(req: FuzzRequest, res: FuzzResponse): Outcome['created'] {
  if (res.status !== 201 || req.dryRun || res.error) return undefined;
  try {
    const b = decode(res) as Outcome['created'];
    return b && typeof b === 'object' ? b : undefined;
  } catch {
    return undefined;
  }
}

// ---- the run --------------------------------------------------------------------------------------

export interface RunOptions {
  seed: number;
  count: number;
  concurrency: number;
  kinds: FuzzKind[];
  /** Only these indexes (a replay); all when absent. */
  only?: number[];
  /** Called per request in replay mode with everything sent and received. */
  onReplay?: (req: FuzzRequest, res: FuzzResponse) => void;
}

export interface RunResult {
  outcomes: Map<number, Outcome>;
  findings: Finding[];
  /** Answers 504 ResourceVersionTooLarge, as kube gives them. */
  tooLargeRv: number;
  wallMs: number;
}

export async function runFuzz(client: FuzzClient, o: RunOptions): Promise<RunResult> {
  const indexes = o.only ?? Array.from({ length: o.count }, (_, i) => i);
  const outcomes = new Map<number, Outcome>();
  const findings: Finding[] = [];
  let tooLargeRv = 0;
  const started = Date.now();
  /** The last request each client connection carried, to name it when the next one on it fails. */
  const lastOnConnection = new Map<number, number>();
  await pool(indexes.length, o.concurrency, async (n) => {
    const index = indexes[n] ?? 0;
    const req = generateRequest({ seed: o.seed, kinds: o.kinds }, index);
    const res = await client.send(req, req.watch ? 10_000 : 30_000);
    o.onReplay?.(req, res);
    const finding = judge(req, res);
    if (res.connection) {
      const before = lastOnConnection.get(res.connection.localPort);
      if (finding && res.connection.reused && before !== undefined) finding.detail += ` (on a connection that carried #${before} before)`;
      lastOnConnection.set(res.connection.localPort, index);
    }
    if (finding) findings.push(finding);
    if (res.status === 504 && !finding) tooLargeRv++;
    const out: Outcome = { index, method: req.method, path: req.path, op: req.op, kind: req.kind, dryRun: req.dryRun, watch: req.watch, status: res.status, bytes: req.body?.length ?? 0, ms: res.ms };
    const created = decodeCreated(req, res);
    if (created) out.created = created;
    const rv = writtenRevision(req, res);
    if (rv !== undefined) out.rv = rv;
    outcomes.set(index, out);
  });
  return { outcomes, findings: findings.sort((a, b) => a.index - b.index), tooLargeRv, wallMs: Date.now() - started };
}

// ---- reading back what was created --------------------------------------------------------------

/** The GET path of an object a request created (same logical cluster), or undefined when it is not to be checked. */
export function readBackPath(o: Outcome, kinds: readonly FuzzKind[]): string | undefined {
  const c = o.created;
  const m = c?.metadata;
  if (!c || !m || typeof m.name !== 'string') return undefined;
  // Garbage-collected when its owners do not exist (as they should be).
  if (Array.isArray(m.ownerReferences) && m.ownerReferences.length > 0) return undefined;
  let info: ReturnType<typeof parseRequestInfo>;
  try {
    info = parseRequestInfo(o.method, o.path);
  } catch {
    return undefined;
  }
  if (!info.isResourceRequest || info.subresource !== '') return undefined;
  const k = kinds.find((x) => x.group === info.apiGroup && x.version === info.apiVersion && x.plural === info.resource);
  if (!k || isCreateOnly(k)) return undefined;
  const ns = typeof m.namespace === 'string' ? m.namespace : undefined;
  if (String(info.logicalCluster) === LC_X || ns === NS_DC) return undefined;
  const prefix = info.clusterInPath ? `/clusters/${String(info.logicalCluster)}` : '';
  const e = encodeURIComponent;
  if (k.group === '' && k.plural === 'namespaces') return `${prefix}/api/v1/namespaces/${e(m.name)}`;
  return prefix + collectionPath(k, k.namespaced ? e(ns ?? '') : undefined) + `/${e(m.name)}`;
}

// ---- report ----------------------------------------------------------------------------------------

function countBy<T>(items: Iterable<T>, key: (t: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function sumBy<T>(items: Iterable<T>, key: (t: T) => string, value: (t: T) => number): [string, number][] {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + value(t));
  return [...m].sort((a, b) => b[1] - a[1]);
}

export function report(r: RunResult, seed: number): string {
  const all = [...r.outcomes.values()];
  const line = (title: string, rows: [string, number][]): string => `${title}: ${rows.map(([k, n]) => `${k}=${n}`).join(' ')}`;
  return [
    `fuzz: seed ${seed}, ${all.length} requests in ${(r.wallMs / 1000).toFixed(1)} s (${Math.round((all.length * 1000) / Math.max(1, r.wallMs))}/s)`,
    line('  by status', countBy(all, (o) => (o.status === 0 ? 'none' : String(o.status))).sort((a, b) => a[0].localeCompare(b[0]))),
    line('  by method', countBy(all, (o) => o.method)),
    line('  by op', countBy(all, (o) => o.op.replace(/\(guarded\)$/, ''))),
    line('  by kind', countBy(all, (o) => o.kind)),
    line('  seconds by op', sumBy(all, (o) => o.op.replace(/\(guarded\)$/, ''), (o) => o.ms / 1000).map(([k, v]) => [k, Math.round(v)] as [string, number])),
    `  watches: ${all.filter((o) => o.watch).length}; dry runs: ${all.filter((o) => o.dryRun).length}; 504 ResourceVersionTooLarge (kube's answer): ${r.tooLargeRv}; slowest: ${Math.max(0, ...all.map((o) => o.ms))} ms`,
    `  slowest (not watches): ${all
      .filter((o) => !o.watch)
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map((o) => `#${o.index} ${o.op} ${o.status} ${o.bytes} B ${o.ms} ms`)
      .join('; ')}`,
    `  kinds without a successful write: ${
      [...new Set(all.filter((o) => !o.kind.startsWith('(')).map((o) => o.kind))]
        .filter((k) => !all.some((o) => o.kind === k && o.status >= 200 && o.status < 300 && o.method !== 'GET' && o.method !== 'HEAD'))
        .join(', ') || 'none'
    }`,
    `  findings: ${r.findings.length}`,
  ].join('\n');
}

export function formatFinding(f: Finding, seed: number): string {
  return `  [${f.kind}] #${f.index} (replay: KUMO_FUZZ_SEED=${seed} KUMO_FUZZ_ONLY=${f.index}) ${f.method} ${f.path} op=${f.op} status=${f.status}\n      ${f.detail}${f.requestBody ? `\n      body: ${f.requestBody}` : ''}`;
}

/** The successful writes of the run that could have written `key` (to name in a finding about it). */
export function writersOf(key: string, outcomes: Iterable<Outcome>): number[] {
  const parts = parseStorageKey(key);
  if (!parts) return [];
  const out: number[] = [];
  for (const o of outcomes) {
    if (o.status < 200 || o.status >= 300 || o.method === 'GET' || o.method === 'HEAD') continue;
    let info: ReturnType<typeof parseRequestInfo>;
    try {
      info = parseRequestInfo(o.method, o.path);
    } catch {
      continue;
    }
    const name = info.resource === 'namespaces' && info.apiGroup === '' ? info.namespace || info.name : info.name;
    if (String(info.logicalCluster) !== String(parts.cluster) || info.apiGroup !== parts.group || info.resource !== parts.plural) continue;
    if (name !== '' && name !== parts.name) continue;
    if (parts.namespace !== undefined && info.namespace !== parts.namespace) continue;
    out.push(o.index);
  }
  return out.sort((a, b) => a - b);
}
