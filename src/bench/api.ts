// `npm run bench:api`: the API server over HTTPS (SQLite store, the real `kumo server` binary as a child
// process, so the load generator never shares its event loop) beside a trivial keep-alive node HTTPS
// server (also a child, same certificates) that returns the same bytes as the GET, measured in the same run.
//   node dist/bench/api.js [--duration 10] [--threads 1] [--watchers 1000] [--objects 20000]
//                          [--only get,mix,authz,load,list,watch] [--cpu-prof DIR] [--heap-snapshots]
// Prints one line per figure with the baseline (if any), the ratio and the issue's target (issue 4).
//
// Load: closed loops over 50 keep-alive HTTPS connections (https.Agent keepAlive, maxSockets 50, the
// admin client certificate from the kubeconfig), one request in flight per connection, 2 s warm-up, then
// `--duration` seconds (bounded in count too). The load generator is this process, one thread, unless
// --threads N splits the 50 connections over N worker threads. Each phase prints the CPU used by the
// server, the load generator and everything else on the machine, and says which one was the bottleneck.
//   get    GET by name, trivial server then kumo; plus server CPU per request for both, whose ratio
//          estimates the throughput ratio at saturation when the load generator is the limit.
//   mix    fixed sequence per 20 ops: 14 GET, 2 LIST (a namespace of 50 ConfigMaps), 2 create (another
//          namespace), 2 unconditional PUT of the 50.
//   load   `--objects` creates with 50 in flight (creates/s); server VmRSS (/proc/<pid>/status) before
//          and after, each right after a full GC in the server (forced through its node inspector,
//          opened by SIGUSR1 on a loopback port), divided by the count: what the process keeps per
//          stored object, allocator slack included but not garbage it has not collected yet (that
//          figure is printed beside it). Beside it a server-side heap figure from the server's node runtime
//          on SIGUSR2 (no endpoint): a diagnostic report (heap used, no GC) by default, or with
//          --heap-snapshots a heap snapshot (taken after a full GC: the live heap).
//   list   LIST of those objects, median of 5.
//   authz  a second kumo server with `--authorization-mode RBAC` (and tenancy) holding 10,000
//          RoleBindings over 100 tenants' namespaces: the mix as a token user in 100 groups (edit in
//          the mix namespaces through one group's RoleBinding) beside the same mix on the same server
//          as a system:masters token user (the privileged-group authorizer answers first: authz off);
//          three alternating rounds of each, medians.
//   watch  `--watchers` watches (`?watch=1&resourceVersion=<rv>`, one HTTPS connection each) on one
//          namespace; each write stamps its wall time in the object's data. A burst (300 creates, 10
//          writers) gives deliveries/s; then creates paced at 40,000 deliveries/s offered give the p99
//          delay from the write's time to its arrival at a watcher.
// Traffic goes only to 127.0.0.1. Children are stopped by PID, also on error and on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import YAML from 'yaml';
import { freePort } from '../testing/etcd.js';
import { startKumo, type KumoHandle } from '../testing/kumo.js';
import { fmt, percentile, Report, type Row } from './report.js';

const HOST = '127.0.0.1';
const CONNECTIONS = 50;
const THIS_FILE = fileURLToPath(import.meta.url);

// ---- report -------------------------------------------------------------------------------------

const out = new Report(44);

function report(r: Row): void {
  out.add('sqlite', r);
}

function info(s: string): void {
  console.log(`        ${s}`);
}

// ---- CPU accounting -----------------------------------------------------------------------------

const CLK_TCK = 100; // Linux USER_HZ

/** CPU seconds a process has used (user + system), from /proc/<pid>/stat. */
function procCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the comm field: state is fields[0], utime is field 14 of the line (fields[11]), stime fields[12].
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS and its parts (anonymous, file-backed, shared memory), KiB, from /proc/<pid>/status. */
function rssKb(pid: number): { rss: number; anon: number; file: number; shmem: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  const r = { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile'), shmem: field('RssShmem') };
  if (Number.isNaN(r.rss)) throw new Error(`no VmRSS for pid ${pid}`);
  return r;
}

/** CPU seconds the whole machine has been busy (every state but idle and iowait), from /proc/stat. */
function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLK_TCK;
}

interface CpuMark {
  t: number;
  server: number;
  self: number;
  machine: number;
}

function cpuMark(serverPid: number): CpuMark {
  const u = process.cpuUsage();
  return { t: performance.now(), server: procCpuSeconds(serverPid), self: (u.user + u.system) / 1e6, machine: machineBusySeconds() };
}

/** Prints how busy the server and the load generator were (100% = one core) between two marks. */
function cpuNote(what: string, a: CpuMark, b: CpuMark, serverName = 'server'): void {
  const secs = (b.t - a.t) / 1000;
  const server = (b.server - a.server) / secs;
  const self = (b.self - a.self) / secs;
  const others = Math.max(0, b.machine - a.machine - (b.server - a.server) - (b.self - a.self)) / secs;
  const verdict = [
    server >= 0.9 ? `the ${serverName} is the bottleneck` : self >= 0.9 ? 'the load generator is the bottleneck' : '',
    others >= 0.2 ? 'CONTENDED: other processes took CPU, figures are low' : '',
  ].filter((x) => x !== '');
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  info(`cpu during ${what}: ${serverName} ${pct(server)}, load generator ${pct(self)}, other processes ${pct(others)} (100% = one core; ${os.cpus().length} cores)${verdict.length ? ` — ${verdict.join('; ')}` : ''}`);
}

// ---- HTTPS client -------------------------------------------------------------------------------

interface Tls {
  ca: string;
  /** The client certificate; absent for a bearer-token user. */
  cert?: string;
  key?: string;
  /** A bearer token (`--token-auth-file`), sent on every request. */
  token?: string;
}

function tlsFromKubeconfig(file: string): Tls {
  const doc = YAML.parse(fs.readFileSync(file, 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');
  return {
    ca: b64(doc.clusters[0]?.cluster['certificate-authority-data']),
    cert: b64(doc.users[0]?.user['client-certificate-data']),
    key: b64(doc.users[0]?.user['client-key-data']),
  };
}

/** Bearer tokens of the agents that carry one (the agent is what every request already gets). */
const agentTokens = new WeakMap<https.Agent, string>();

function keepAliveAgent(tls: Tls, sockets: number): https.Agent {
  const { token, ...certs } = tls;
  const agent = new https.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, ...certs });
  if (token !== undefined) agentTokens.set(agent, token);
  return agent;
}

interface Reply {
  status: number;
  body: Buffer;
}

/** One HTTPS request to 127.0.0.1; resolves with the status and (if asked for) the body. */
function request(agent: https.Agent, port: number, method: string, urlPath: string, body?: unknown, keepBody = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    const token = agentTokens.get(agent);
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const req = https.request({ agent, host: HOST, port, method, path: urlPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (keepBody || (res.statusCode ?? 0) >= 300) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${urlPath}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function expectOk(p: Promise<Reply>, what: string): Promise<Reply> {
  const r = await p;
  if (r.status < 200 || r.status >= 300) throw new Error(`${what}: HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`);
  return r;
}

function configMap(namespace: string, name: string, data: Record<string, string>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

/** A small object: ~300 bytes of JSON as stored. */
const SMALL_DATA = { k: 'x'.repeat(200) };

// ---- closed-loop load (main thread or worker threads) ---------------------------------------------

type LoadKind = 'get' | 'mix';

interface LoadSpec {
  kind: LoadKind;
  port: number;
  tls: Tls;
  /** Connections (= requests in flight) of this thread. */
  concurrency: number;
  maxOps: number;
  durationMs: number;
  warmupMs: number;
  /** Unique per run, so creates never collide. */
  tag: string;
  /** Op index k of this thread maps to the global index k * stride + offset (keeps the mix exact). */
  stride: number;
  offset: number;
}

interface LoadResult {
  ops: number;
  errors: number;
  firstError?: string;
  secs: number;
  /** Latency of each completed op, ms. */
  lat: Float64Array;
  /** Op kind of each entry in `lat` (index into MIX_KINDS). */
  kinds: Uint8Array;
  /** Ops completed during the warm-up (for CPU per request over warm-up + measured window). */
  warmOps: number;
}

const GET_PATH = '/api/v1/namespaces/bench/configmaps/bench-get';
const MIX_OBJECTS = 50;
// The fixed mix, one op per index: 14 GET, 2 LIST, 2 create, 2 update in every 20 (70/10/20).
const MIX_PATTERN = 'GGCGLGGUGGGCGLGGUGGG';
const MIX_KINDS = ['G', 'L', 'C', 'U'] as const;

function makeOp(spec: LoadSpec, agent: https.Agent): (k: number) => Promise<{ ok: boolean; kind: number; err?: string }> {
  const check = (kind: number, r: Reply): { ok: boolean; kind: number; err?: string } =>
    r.status >= 200 && r.status < 300 ? { ok: true, kind } : { ok: false, kind, err: `HTTP ${r.status} ${r.body.toString('utf8').slice(0, 200)}` };
  if (spec.kind === 'get') return async (_k) => check(0, await request(agent, spec.port, 'GET', GET_PATH));
  return async (k) => {
    const op = MIX_PATTERN[k % MIX_PATTERN.length];
    const i = (k * 7) % MIX_OBJECTS;
    switch (op) {
      case 'G':
        return check(0, await request(agent, spec.port, 'GET', `/api/v1/namespaces/mix/configmaps/m-${i}`));
      case 'L':
        return check(1, await request(agent, spec.port, 'GET', '/api/v1/namespaces/mix/configmaps'));
      case 'C':
        return check(2, await request(agent, spec.port, 'POST', '/api/v1/namespaces/mix-w/configmaps', configMap('mix-w', `w-${spec.tag}-${k}`, SMALL_DATA)));
      default:
        // Unconditional update (no resourceVersion): a built-in kind takes it without a precondition.
        return check(3, await request(agent, spec.port, 'PUT', `/api/v1/namespaces/mix/configmaps/m-${i}`, configMap('mix', `m-${i}`, { k: 'x'.repeat(200), n: String(k) })));
    }
  };
}

async function closedLoop(spec: LoadSpec, agent: https.Agent, durationMs: number, maxOps: number, tag: string): Promise<LoadResult> {
  const op = makeOp({ ...spec, tag }, agent);
  const lat = new Float64Array(maxOps);
  const kinds = new Uint8Array(maxOps);
  let next = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (next < maxOps && performance.now() < deadline) {
        const k = next++;
        const s = performance.now();
        try {
          const r = await op(k * spec.stride + spec.offset);
          if (!r.ok) {
            errors++;
            firstError ??= r.err;
          }
          lat[done] = performance.now() - s;
          kinds[done] = r.kind;
          done++;
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const r: LoadResult = { ops: done, errors, secs, lat: lat.slice(0, done), kinds: kinds.slice(0, done), warmOps: 0 };
  if (firstError !== undefined) r.firstError = firstError;
  return r;
}

/** Warm-up (connections, JIT), then the measured loop, on this thread. */
async function runLoadHere(spec: LoadSpec): Promise<LoadResult> {
  const agent = keepAliveAgent(spec.tls, spec.concurrency);
  try {
    const warm = await closedLoop(spec, agent, spec.warmupMs, spec.maxOps, `warm${spec.tag}`);
    const r = await closedLoop(spec, agent, spec.durationMs, spec.maxOps, spec.tag);
    r.warmOps = warm.ops;
    return r;
  } finally {
    agent.destroy();
  }
}

/** The 50 connections on this thread, or split over `threads` worker threads. */
async function runLoad(spec: Omit<LoadSpec, 'concurrency' | 'stride' | 'offset'>, threads: number): Promise<LoadResult> {
  if (threads <= 1) return runLoadHere({ ...spec, concurrency: CONNECTIONS, stride: 1, offset: 0 });
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, w) => {
      const sub: LoadSpec = { ...spec, concurrency: Math.floor(CONNECTIONS / threads) + (w < CONNECTIONS % threads ? 1 : 0), stride: threads, offset: w, maxOps: Math.ceil(spec.maxOps / threads) };
      return new Promise<LoadResult>((resolve, reject) => {
        const worker = new Worker(THIS_FILE, { workerData: sub });
        worker.once('message', (r: LoadResult) => resolve(r));
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`load worker exited with ${code}`))));
      });
    }),
  );
  const lat = new Float64Array(parts.reduce((n, p) => n + p.lat.length, 0));
  const kinds = new Uint8Array(lat.length);
  let at = 0;
  for (const p of parts) {
    lat.set(p.lat, at);
    kinds.set(p.kinds, at);
    at += p.lat.length;
  }
  const firstError = parts.find((p) => p.firstError !== undefined)?.firstError;
  const r: LoadResult = {
    ops: parts.reduce((n, p) => n + p.ops, 0),
    errors: parts.reduce((n, p) => n + p.errors, 0),
    // Throughput is the sum of the threads' rates: express it as ops over the mean window.
    secs: parts.reduce((n, p) => n + p.ops, 0) / parts.reduce((n, p) => n + p.ops / p.secs, 0),
    lat,
    kinds,
    warmOps: parts.reduce((n, p) => n + p.warmOps, 0),
  };
  if (firstError !== undefined) r.firstError = firstError;
  return r;
}

// ---- children -----------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
/** Temp dirs of this run, removed on a normal stop and, failing that, at exit. */
const tmpDirs = new Set<string>();
process.on('exit', () => {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Trivial {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** The baseline: a keep-alive node HTTPS server (same certificates, client certificates requested) answering every request with `body`. */
async function startTrivial(pkiDir: string, body: Buffer): Promise<Trivial> {
  const bodyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-bench-trivial-'));
  tmpDirs.add(bodyDir);
  const bodyFile = path.join(bodyDir, 'body.json');
  fs.writeFileSync(bodyFile, body);
  const child = spawn(process.execPath, [THIS_FILE, '--trivial-server', pkiDir, bodyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const pid = child.pid ?? 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGTERM');
      const t = setTimeout(() => process.kill(pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    children.delete(child);
    fs.rmSync(path.dirname(bodyFile), { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error('trivial server not listening after 10 s')), 10_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /port (\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`trivial server exited with ${code}`)));
    });
    return { port, pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function serveTrivial(pkiDir: string, bodyFile: string): void {
  const body = fs.readFileSync(bodyFile);
  const read = (f: string): string => fs.readFileSync(path.join(pkiDir, f), 'utf8');
  const srv = https.createServer(
    { key: read('server.key'), cert: read('server.crt'), ca: [read('ca.crt')], requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2', keepAlive: true },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
        res.end(body);
      });
    },
  );
  srv.keepAliveTimeout = 60_000;
  srv.listen(0, HOST, () => {
    const a = srv.address();
    process.stdout.write(`port ${typeof a === 'object' && a !== null ? a.port : 0}\n`);
  });
}

// ---- the kumo server child ---------------------------------------------------------------------

type KumoServer = Pick<KumoHandle, 'url' | 'port' | 'dataDir' | 'kubeconfig' | 'pid' | 'stop'>;

// ---- server-side heap figures, no endpoint: signals to the server's node runtime -------------------

/** How the server child was told to answer SIGUSR2: a diagnostic report (cheap) or a heap snapshot (full GC first). */
type DiagMode = 'report' | 'snapshot';

interface HeapFigures {
  /** Bytes of live objects: after a full GC (snapshot), or used now including garbage (report). */
  used: number;
  /** V8 heap committed (report only). */
  committed?: number;
}

/** Waits for a new file ending in `suffix` in `dir` that parses as JSON once complete. */
async function newJsonFile(dir: string, suffix: string, before: Set<string>): Promise<{ file: string; doc: unknown }> {
  const deadline = Date.now() + 120_000;
  let file: string | undefined;
  let lastSize = -1;
  while (Date.now() < deadline) {
    await sleep(200);
    file ??= fs.readdirSync(dir).find((f) => f.endsWith(suffix) && !before.has(f));
    if (file === undefined) continue;
    const size = fs.statSync(path.join(dir, file)).size;
    if (size > 0 && size === lastSize) {
      try {
        const doc: unknown = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
        fs.rmSync(path.join(dir, file), { force: true });
        return { file, doc };
      } catch {
        // still being written
      }
    }
    lastSize = size;
  }
  throw new Error(`the server wrote no *${suffix} in ${dir} within 120 s`);
}

/**
 * The server's JS heap, via SIGUSR2: with `--report-on-signal` node writes a diagnostic report (heap
 * used, including not yet collected garbage, and committed); with `--heapsnapshot-signal` V8 writes a
 * heap snapshot after a full GC, whose self sizes add up to the live heap.
 */
async function serverHeap(pid: number, dir: string, mode: DiagMode): Promise<HeapFigures> {
  const before = new Set(fs.readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  if (mode === 'report') {
    const { doc } = await newJsonFile(dir, '.json', before);
    const h = (doc as { javascriptHeap: { usedMemory: number; totalCommittedMemory?: number; totalMemory: number } }).javascriptHeap;
    return { used: h.usedMemory, committed: h.totalCommittedMemory ?? h.totalMemory };
  }
  const { doc } = await newJsonFile(dir, '.heapsnapshot', before);
  const snap = doc as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
  const fields = snap.snapshot.meta.node_fields;
  let sum = 0;
  for (let i = fields.indexOf('self_size'); i < snap.nodes.length; i += fields.length) sum += snap.nodes[i] ?? 0;
  return { used: sum };
}

// ---- CPU profile summary ------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function summarizeProfile(file: string, top = 25): void {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const total = prof.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0);
  const byFrame = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of prof.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/').replace(/^.*\/dist\//, 'dist/');
    const frame = `${n.callFrame.functionName || '(anonymous)'} ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
    const where = url === '' ? n.callFrame.functionName : url;
    byFile.set(where, (byFile.get(where) ?? 0) + hits);
  }
  const print = (title: string, m: Map<string, number>, count: number): void => {
    console.log(`  ${title}`);
    for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)) console.log(`    ${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  };
  console.log(`server CPU profile ${file} (${total} samples), self time:`);
  print('top frames', byFrame, top);
  print('top files', byFile, 15);
}

// ---- phases -------------------------------------------------------------------------------------

interface Ctx {
  kumo: KumoServer;
  tls: Tls;
  /** 50 keep-alive connections for setup writes and the watch phase's writers. */
  agent: https.Agent;
  durationMs: number;
  threads: number;
  objects: number;
  /** Loopback port of the server child's node inspector (opened on SIGUSR1 for a full GC). */
  inspectPort: number;
  watchers: number;
  diag: { dir: string; mode: DiagMode };
}

async function createNamespace(ctx: Ctx, name: string): Promise<void> {
  await expectOk(request(ctx.agent, ctx.kumo.port, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }), `create namespace ${name}`);
}

/** Creates `n` objects with 50 requests in flight; returns creates/s. */
async function createMany(ctx: Ctx, n: number, ns: string, name: (i: number) => string): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < n) {
        const i = next++;
        await expectOk(request(ctx.agent, ctx.kumo.port, 'POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, name(i), SMALL_DATA)), `create ${ns}/${name(i)}`);
      }
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

async function benchGet(ctx: Ctx): Promise<void> {
  await createNamespace(ctx, 'bench');
  await expectOk(request(ctx.agent, ctx.kumo.port, 'POST', '/api/v1/namespaces/bench/configmaps', configMap('bench', 'bench-get', SMALL_DATA)), 'create bench-get');
  const body = (await expectOk(request(ctx.agent, ctx.kumo.port, 'GET', GET_PATH, undefined, true), 'GET bench-get')).body;
  const trivial = await startTrivial(path.join(ctx.kumo.dataDir, 'pki'), body);
  try {
    info(`GET body ${body.length} bytes; trivial server pid ${trivial.pid}, kumo pid ${ctx.kumo.pid}`);
    const spec = { kind: 'get' as const, tls: ctx.tls, maxOps: 2_000_000, durationMs: ctx.durationMs, warmupMs: 2000, tag: 'g' };
    const a0 = cpuMark(trivial.pid);
    const base = await runLoad({ ...spec, port: trivial.port }, ctx.threads);
    const a1 = cpuMark(trivial.pid);
    cpuNote('GET, trivial server', a0, a1, 'trivial server');
    if (base.errors > 0) throw new Error(`trivial server: ${base.errors} errors: ${base.firstError ?? ''}`);
    const b0 = cpuMark(ctx.kumo.pid);
    const r = await runLoad({ ...spec, port: ctx.kumo.port }, ctx.threads);
    const b1 = cpuMark(ctx.kumo.pid);
    cpuNote('GET, kumo', b0, b1);
    const baseRate = base.ops / base.secs;
    const rate = r.ops / r.secs;
    base.lat.sort();
    r.lat.sort();
    const errs = r.errors > 0 ? `${r.errors} errors, first: ${r.firstError ?? ''}` : undefined;
    report({ figure: 'GET by name (req/s)', value: rate, unit: 'req/s', baseline: baseRate, target: '>=50% of trivial', pass: rate >= 0.5 * baseRate && r.errors === 0, ...(errs ? { note: errs } : {}) });
    report({ figure: 'GET by name p99', value: percentile(r.lat, 0.99), unit: 'ms', baseline: percentile(base.lat, 0.99) });
    report({ figure: 'GET by name p50', value: percentile(r.lat, 0.5), unit: 'ms', baseline: percentile(base.lat, 0.5) });
    // Load-generator independent: server CPU per request (warm-up + measured window). On 2 cores the
    // load generator shares the machine, and one node client cannot saturate the trivial server, so the
    // throughput ratio above is bounded by the client; the CPU ratio estimates the ratio of the two
    // servers' throughputs at saturation (one core each).
    const cpuPer = ((b1.server - b0.server) / (r.ops + r.warmOps)) * 1e6;
    const baseCpuPer = ((a1.server - a0.server) / (base.ops + base.warmOps)) * 1e6;
    report({ figure: 'GET server CPU per request', value: cpuPer, unit: 'µs', baseline: baseCpuPer });
    const capacity = baseCpuPer / cpuPer;
    report({ figure: 'GET capacity vs trivial (CPU-normalized)', value: capacity * 100, unit: '%', target: '>=50% of trivial', pass: capacity >= 0.5, note: 'trivial µs/req ÷ kumo µs/req' });
  } finally {
    await trivial.stop();
  }
}

async function benchMix(ctx: Ctx): Promise<void> {
  await createNamespace(ctx, 'mix');
  await createNamespace(ctx, 'mix-w');
  await createMany(ctx, MIX_OBJECTS, 'mix', (i) => `m-${i}`);
  const a = cpuMark(ctx.kumo.pid);
  const r = await runLoad({ kind: 'mix', port: ctx.kumo.port, tls: ctx.tls, maxOps: 1_000_000, durationMs: ctx.durationMs, warmupMs: 2000, tag: 'm' }, ctx.threads);
  cpuNote('mix', a, cpuMark(ctx.kumo.pid));
  const rate = r.ops / r.secs;
  const perKind = MIX_KINDS.map((k, idx) => {
    const l = Float64Array.from(r.lat.filter((_, i) => r.kinds[i] === idx)).sort();
    return `${k} ${l.length} p50 ${fmt(percentile(l, 0.5))} p99 ${fmt(percentile(l, 0.99))}`;
  });
  r.lat.sort();
  const p99 = percentile(r.lat, 0.99);
  const errs = r.errors > 0 ? `${r.errors} errors, first: ${r.firstError ?? ''}` : undefined;
  report({ figure: 'mix 70 get/10 list/20 write (req/s)', value: rate, unit: 'req/s', target: '>=5000/s', pass: rate >= 5000 && r.errors === 0, ...(errs ? { note: errs } : {}) });
  report({ figure: 'mix p50', value: percentile(r.lat, 0.5), unit: 'ms' });
  report({ figure: 'mix p99', value: p99, unit: 'ms', target: '<=25 ms', pass: p99 <= 25 });
  info(`mix by op (G get, L list of 50, C create, U update; ms): ${perKind.join('; ')}`);
}

const AUTHZ_TENANTS = 100;
const AUTHZ_BINDINGS = 10_000;
const AUTHZ_GROUPS = 100;

/**
 * Authorization's cost under load (issue 6): the mix against a server with `--authorization-mode RBAC`
 * and 10,000 RoleBindings over 100 tenants, as a token user in 100 groups, beside the same mix on the
 * same server as a system:masters token user (no RBAC or tenancy decision: authz off).
 */
async function benchAuthz(ctx: Ctx): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-bench-authz-'));
  tmpDirs.add(dir);
  const groups = Array.from({ length: AUTHZ_GROUPS }, (_, i) => `team-${i}`);
  const tokens = path.join(dir, 'tokens.csv');
  fs.writeFileSync(tokens, `bench-admin-token,bench-admin,1000,"system:masters"\nbench-user-token,bench-user,1001,"${groups.join(',')}"\n`, { mode: 0o600 });
  const kumo = await startKumo({ env: { KUMO_LOG_LEVEL: 'warn' }, args: ['--authorization-mode', 'RBAC', '--token-auth-file', tokens] });
  tmpDirs.add(kumo.dataDir);
  const certs = tlsFromKubeconfig(kumo.kubeconfig);
  const admin = keepAliveAgent(certs, CONNECTIONS);
  const c: Ctx = { ...ctx, kumo, tls: certs, agent: admin };
  try {
    info(`authz: kumo pid ${kumo.pid} with --authorization-mode RBAC; seeding ${AUTHZ_TENANTS} tenants and ${AUTHZ_BINDINGS} RoleBindings`);
    const post = (p: string, body: unknown, what: string): Promise<Reply> => expectOk(request(admin, kumo.port, 'POST', p, body), what);
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    const binding = (ns: string, name: string, role: string, subjects: unknown[]): unknown => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects,
    });
    for (let t = 0; t < AUTHZ_TENANTS; t++) {
      await post('/apis/kumo.dev/v1alpha1/tenants', { apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name: `t-${t}` }, spec: { members: [{ kind: 'Group', name: `tenant-${t}-admins`, role: 'admin' }] } }, `tenant t-${t}`);
      await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `t-${t}`, labels: { 'kumo.dev/tenant': `t-${t}` } } }, `namespace t-${t}`);
    }
    const perTenant = AUTHZ_BINDINGS / AUTHZ_TENANTS;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < AUTHZ_BINDINGS) {
          const i = next++;
          const ns = `t-${Math.floor(i / perTenant)}`;
          const subjects = [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `other-team-${i % 2000}` }, { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `user-${i}` }];
          await post(`${rbac}/namespaces/${ns}/rolebindings`, binding(ns, `rb-${i}`, ['view', 'edit', 'admin'][i % 3] ?? 'view', subjects), `rolebinding ${ns}/rb-${i}`);
        }
      }),
    );
    info(`authz: ${AUTHZ_BINDINGS} RoleBindings created in ${fmt((performance.now() - t0) / 1000)} s`);
    for (const ns of ['mix', 'mix-w']) {
      await createNamespace(c, ns);
      await post(`${rbac}/namespaces/${ns}/rolebindings`, binding(ns, 'team-42-edit', 'edit', [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'team-42' }]), `rolebinding ${ns}/team-42-edit`);
    }
    await createMany(c, MIX_OBJECTS, 'mix', (i) => `m-${i}`);
    const run = async (who: string, token: string, tag: string): Promise<{ rate: number; p50: number; p99: number; cpuUs: number; errs?: string }> => {
      const a = cpuMark(kumo.pid);
      const r = await runLoad({ kind: 'mix', port: kumo.port, tls: { ca: certs.ca, token }, maxOps: 1_000_000, durationMs: ctx.durationMs, warmupMs: 2000, tag }, ctx.threads);
      const b = cpuMark(kumo.pid);
      cpuNote(`mix as ${who}`, a, b);
      r.lat.sort();
      // Server CPU per request (warm-up + measured window): what the ratio at saturation follows, and
      // far less sensitive than req/s to other processes on a shared machine.
      const cpuUs = ((b.server - a.server) / (r.ops + r.warmOps)) * 1e6;
      const out: { rate: number; p50: number; p99: number; cpuUs: number; errs?: string } = { rate: r.ops / r.secs, p50: percentile(r.lat, 0.5), p99: percentile(r.lat, 0.99), cpuUs };
      if (r.errors > 0) out.errs = `${r.errors} errors, first: ${r.firstError ?? ''}`;
      return out;
    };
    // Three rounds, alternating which goes first, so drift on a shared machine hits both; medians.
    const offs: Awaited<ReturnType<typeof run>>[] = [];
    const ons: Awaited<ReturnType<typeof run>>[] = [];
    for (let round = 0; round < 3; round++) {
      const offRun = (): Promise<void> => run('system:masters (authz off)', 'bench-admin-token', `aoff${round}`).then((r) => void offs.push(r));
      const onRun = (): Promise<void> => run(`a user in ${AUTHZ_GROUPS} groups (RBAC + tenancy)`, 'bench-user-token', `aon${round}`).then((r) => void ons.push(r));
      if (round % 2 === 0) {
        await offRun();
        await onRun();
      } else {
        await onRun();
        await offRun();
      }
    }
    const median = (rs: Awaited<ReturnType<typeof run>>[]): Awaited<ReturnType<typeof run>> => {
      const sorted = [...rs].sort((a, b) => a.rate - b.rate);
      const m = sorted[Math.floor(sorted.length / 2)] ?? { rate: 0, p50: 0, p99: 0, cpuUs: 0 };
      const errs = rs.find((r) => r.errs !== undefined)?.errs;
      return errs !== undefined ? { ...m, errs } : m;
    };
    const off = median(offs);
    const on = median(ons);
    info(`authz rounds (req/s): off ${offs.map((r) => fmt(r.rate)).join(', ')}; on ${ons.map((r) => fmt(r.rate)).join(', ')}`);
    const cpu = (rs: Awaited<ReturnType<typeof run>>[]): number => [...rs.map((r) => r.cpuUs)].sort((x, y) => x - y)[Math.floor(rs.length / 2)] ?? 0;
    const cpuOff = cpu(offs);
    const cpuOn = cpu(ons);
    const ratio = on.rate / off.rate;
    report({ figure: 'authz off: mix as system:masters (req/s)', value: off.rate, unit: 'req/s', ...(off.errs ? { note: off.errs } : { note: `p50 ${fmt(off.p50)} ms, p99 ${fmt(off.p99)} ms` }) });
    report({
      figure: `authz on: mix, user in ${AUTHZ_GROUPS} groups (req/s)`,
      value: on.rate,
      unit: 'req/s',
      baseline: off.rate,
      target: 'ratio >= 0.85',
      pass: ratio >= 0.85 && on.errs === undefined && off.errs === undefined,
      note: on.errs ?? `p50 ${fmt(on.p50)} ms, p99 ${fmt(on.p99)} ms; ${AUTHZ_BINDINGS} RoleBindings, ${AUTHZ_TENANTS} tenants`,
    });
    report({ figure: 'authz on: server CPU per request', value: cpuOn, unit: 'µs', baseline: cpuOff, note: 'baseline: system:masters; medians of 3 rounds' });
    report({ figure: 'authz on: capacity vs off (CPU-normalized)', value: (cpuOff / cpuOn) * 100, unit: '%', target: '>=85%', pass: cpuOff / cpuOn >= 0.85, note: 'off µs/req ÷ on µs/req' });
  } finally {
    admin.destroy();
    await kumo.stop();
  }
}

/**
 * A full garbage collection in the server, from outside: SIGUSR1 opens the node inspector of the
 * server child (on the loopback port its NODE_OPTIONS named), and the DevTools protocol's
 * HeapProfiler.collectGarbage runs a full GC — so an RSS figure counts what the server keeps, not
 * garbage it has not collected yet. No server code or endpoint is involved.
 */
async function serverFullGc(pid: number, inspectPort: number): Promise<void> {
  process.kill(pid, 'SIGUSR1');
  let target: string | undefined;
  for (let i = 0; i < 50 && target === undefined; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${inspectPort}/json/list`);
      const list = (await r.json()) as { webSocketDebuggerUrl?: string }[];
      target = list[0]?.webSocketDebuggerUrl;
    } catch {
      await sleep(100);
    }
  }
  if (target === undefined) throw new Error(`the server's inspector did not open on port ${inspectPort}`);
  const ws = new WebSocket(target);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  try {
    for (let id = 1; id <= 2; id++) {
      const done = new Promise<void>((resolve) => {
        const onMessage = (data: WebSocket.RawData): void => {
          const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
          const msg = JSON.parse(buf.toString('utf8')) as { id?: number };
          if (msg.id === id) {
            ws.off('message', onMessage);
            resolve();
          }
        };
        ws.on('message', onMessage);
      });
      ws.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
      await done;
    }
  } finally {
    ws.close();
  }
  await sleep(500);
}

/** Creates the LIST objects (creates/s) and measures the server's memory before and after. */
async function benchLoad(ctx: Ctx): Promise<void> {
  await createNamespace(ctx, 'list20k');
  // Warm-up outside the measured window: JIT, connections, SQLite pages of the kv/log tables.
  await createNamespace(ctx, 'warm');
  await createMany(ctx, 2000, 'warm', (i) => `cm-${String(i).padStart(6, '0')}`);
  // A list at resourceVersion "0" (what informers send) starts the ConfigMap object cache, so the
  // objects created below are held in it: the memory figure is the cache's cost per object.
  await expectOk(request(ctx.agent, ctx.kumo.port, 'GET', '/api/v1/namespaces/warm/configmaps?resourceVersion=0'), 'list at resourceVersion 0');
  await sleep(2000);
  const pid = ctx.kumo.pid;
  const { dir, mode } = ctx.diag;
  // With snapshots, the first one is taken before the RSS baseline: writing it costs native memory.
  const heap0 = mode === 'snapshot' ? await serverHeap(pid, dir, mode) : undefined;
  await serverFullGc(pid, ctx.inspectPort);
  const rss0 = rssKb(pid);
  const rep0 = mode === 'report' ? await serverHeap(pid, dir, mode) : heap0;
  const a = cpuMark(pid);
  const rate = await createMany(ctx, ctx.objects, 'list20k', (i) => `cm-${String(i).padStart(6, '0')}`);
  cpuNote(`${ctx.objects} creates`, a, cpuMark(pid));
  report({ figure: `creates/s (${CONNECTIONS} in flight, ${ctx.objects} objects)`, value: rate, unit: 'ops/s', target: '>=2000/s', pass: rate >= 2000 });
  await sleep(1000);
  const rssNoGc = rssKb(pid);
  await serverFullGc(pid, ctx.inspectPort);
  const rss1 = rssKb(pid);
  const rep1 = await serverHeap(pid, dir, mode);
  const perObj = (rss1.rss - rss0.rss) / ctx.objects;
  const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);
  report({
    figure: 'memory per small object in the cache (server VmRSS delta, after full GC)',
    value: perObj,
    unit: 'KB',
    target: '<=2.5 KB',
    pass: perObj <= 2.5,
    note: `VmRSS after a full GC ${mib(rss0.rss * 1024)} → ${mib(rss1.rss * 1024)} MiB over ${ctx.objects} objects (before that GC: ${mib(rssNoGc.rss * 1024)} MiB, ${((rssNoGc.rss - rss0.rss) / ctx.objects).toFixed(2)} KB/object with uncollected garbage); anon ${mib(rss0.anon * 1024)} → ${mib(rss1.anon * 1024)}, file ${mib(rss0.file * 1024)} → ${mib(rss1.file * 1024)}`,
  });
  if (rep0 && rep1) {
    const committed = rep0.committed !== undefined && rep1.committed !== undefined ? `; V8 heap committed ${mib(rep0.committed)} → ${mib(rep1.committed)} MiB` : '';
    report({
      figure: mode === 'snapshot' ? 'live JS heap per small object (after full GC)' : 'JS heap used per small object (report after the full GC)',
      value: (rep1.used - rep0.used) / 1024 / ctx.objects,
      unit: 'KB',
      note: `heap used ${mib(rep0.used)} → ${mib(rep1.used)} MiB${committed}`,
    });
  }
}

async function benchList(ctx: Ctx): Promise<void> {
  const times: number[] = [];
  let bytes = 0;
  const a = cpuMark(ctx.kumo.pid);
  for (let run = 0; run < 5; run++) {
    const t0 = performance.now();
    const r = await expectOk(request(ctx.agent, ctx.kumo.port, 'GET', '/api/v1/namespaces/list20k/configmaps', undefined, true), 'LIST 20k');
    times.push(performance.now() - t0);
    bytes = r.body.length;
    if (run === 0) {
      const n = (JSON.parse(r.body.toString('utf8')) as { items: unknown[] }).items.length;
      if (n !== ctx.objects) throw new Error(`LIST returned ${n} items, want ${ctx.objects}`);
    }
  }
  cpuNote('5 LISTs', a, cpuMark(ctx.kumo.pid));
  const sorted = [...times].sort((x, y) => x - y);
  const median = percentile(sorted, 0.5);
  report({ figure: `LIST ${ctx.objects} objects (median of 5)`, value: median, unit: 'ms', target: '<=1000 ms', pass: median <= 1000, note: `${(bytes / 1048576).toFixed(1)} MiB; runs ${times.map((t) => Math.round(t)).join(', ')} ms` });
}

interface WatchCollector {
  delays: number[];
  count: number;
  last: number;
}

async function benchWatch(ctx: Ctx): Promise<void> {
  const ns = 'watch';
  await createNamespace(ctx, ns);
  const list = await expectOk(request(ctx.agent, ctx.kumo.port, 'GET', `/api/v1/namespaces/${ns}/configmaps`, undefined, true), 'list watch ns');
  const rv = (JSON.parse(list.body.toString('utf8')) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const collectors = new Map<string, WatchCollector>();
  const watchAgent = new https.Agent({ keepAlive: false, maxSockets: Infinity, ...ctx.tls });
  const reqs: ReturnType<typeof https.request>[] = [];
  const perWatcher = new Map<string, Uint32Array>();
  const wallNow = (): number => performance.timeOrigin + performance.now();
  let streamErrors = 0;
  const open = (w: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        { agent: watchAgent, host: HOST, port: ctx.kumo.port, path: `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv}`, headers: { Accept: 'application/json' } },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`watch ${w}: HTTP ${res.statusCode ?? 0}`));
            res.resume();
            return;
          }
          res.setEncoding('latin1');
          let buf = '';
          res.on('data', (chunk: string) => {
            const now = wallNow();
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              const phase = /"phase":"(\w+)"/.exec(line)?.[1];
              const ts = /"ts":"([\d.]+)"/.exec(line)?.[1];
              if (phase === undefined || ts === undefined) continue;
              const c = collectors.get(phase);
              if (!c) continue;
              c.delays.push(now - Number(ts));
              c.count++;
              c.last = performance.now();
              const counts = perWatcher.get(phase);
              if (counts) counts[w] = (counts[w] ?? 0) + 1;
            }
          });
          res.on('error', () => streamErrors++);
          resolve();
        },
      );
      req.on('error', (err) => {
        streamErrors++;
        reject(err);
      });
      req.end();
      reqs.push(req);
    });
  try {
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < ctx.watchers) await open(next++);
      }),
    );
    info(`${ctx.watchers} watches open over HTTPS in ${Math.round(performance.now() - t0)} ms (one connection each)`);
    await sleep(500);

    /** Writes `n` stamped objects (scheduled by `at(i)` ms after start, or as fast as 10 writers go) and waits for every delivery. */
    const phase = async (name: string, n: number, pace: ((i: number) => number) | undefined): Promise<{ rate: number; delays: number[]; delivered: number; secs: number }> => {
      const c: WatchCollector = { delays: [], count: 0, last: 0 };
      collectors.set(name, c);
      perWatcher.set(name, new Uint32Array(ctx.watchers));
      const want = n * ctx.watchers;
      const write = (i: number): Promise<Reply> =>
        expectOk(request(ctx.agent, ctx.kumo.port, 'POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(ns, `${name}-${i}`, { phase: name, ts: wallNow().toFixed(3) })), `watch write ${i}`);
      const a = cpuMark(ctx.kumo.pid);
      const start = performance.now();
      if (pace) {
        await Promise.all(
          Array.from({ length: n }, async (_, i) => {
            await sleep(Math.max(0, start + pace(i) - performance.now()));
            await write(i);
          }),
        );
      } else {
        let k = 0;
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            while (k < n) await write(k++);
          }),
        );
      }
      const deadline = performance.now() + 60_000;
      while (c.count < want && performance.now() < deadline) await sleep(20);
      cpuNote(`watch ${name}`, a, cpuMark(ctx.kumo.pid));
      const secs = ((c.last || performance.now()) - start) / 1000;
      c.delays.sort((x, y) => x - y);
      const counts = perWatcher.get(name) ?? new Uint32Array(0);
      const short = counts.filter((x) => x !== n).length;
      if (c.count !== want || short > 0) info(`watch ${name}: ${c.count} of ${want} deliveries; ${short} watchers did not see all ${n} events; stream errors ${streamErrors}`);
      return { rate: c.count / secs, delays: c.delays, delivered: c.count, secs };
    };

    const bursts = 300;
    const burst = await phase('burst', bursts, undefined);
    const burstOk = burst.delivered === bursts * ctx.watchers;
    report({
      figure: `watch fan-out ${ctx.watchers} watchers (deliveries/s)`,
      value: burst.rate,
      unit: 'ev/s',
      target: '>=40000/s',
      pass: burst.rate >= 40_000 && burstOk,
      note: `${bursts} creates by 10 writers as fast as they go; ${burst.delivered} deliveries in ${burst.secs.toFixed(2)} s`,
    });
    report({ figure: 'watch delay p99 (that burst)', value: percentile(burst.delays, 0.99), unit: 'ms', note: `p50 ${fmt(percentile(burst.delays, 0.5))} ms` });

    // The target's operating point: 40 writes/s × 1,000 watchers = 40,000 deliveries/s offered.
    const perSec = Math.max(1, Math.round(40_000 / ctx.watchers));
    const paced = await phase('paced', perSec * 5, (i) => (i * 1000) / perSec);
    const pacedOk = paced.delivered === perSec * 5 * ctx.watchers;
    const p99 = percentile(paced.delays, 0.99);
    report({
      figure: `watch delay p99 at ${perSec * ctx.watchers} deliveries/s offered`,
      value: p99,
      unit: 'ms',
      target: '<=100 ms',
      pass: p99 <= 100 && pacedOk,
      note: `${perSec} creates/s for 5 s; achieved ${Math.round(paced.rate)} deliveries/s; p50 ${fmt(percentile(paced.delays, 0.5))} ms`,
    });
  } finally {
    for (const r of reqs) r.destroy();
    watchAgent.destroy();
  }
}

// ---- main ---------------------------------------------------------------------------------------

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const durationMs = Number(arg(args, '--duration') ?? '10') * 1000;
  const threads = Number(arg(args, '--threads') ?? '1');
  const objects = Number(arg(args, '--objects') ?? '20000');
  const watchers = Number(arg(args, '--watchers') ?? '1000');
  const only = new Set((arg(args, '--only') ?? 'get,mix,authz,load,list,watch').split(','));
  const profDir = arg(args, '--cpu-prof');
  const diagMode: DiagMode = args.includes('--heap-snapshots') ? 'snapshot' : 'report';
  if (only.has('list')) only.add('load');
  console.log(
    `bench:api on ${os.cpus().length} cores, node ${process.version}: kumo server (SQLite) as a child process; load generator ${threads <= 1 ? 'this process, one thread' : `${threads} worker threads`}, ${CONNECTIONS} keep-alive HTTPS connections, ${durationMs / 1000} s per load phase`,
  );

  const diagDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-bench-diag-'));
  tmpDirs.add(diagDir);
  const nodeOptions: string[] = [];
  const nodeArgs: string[] = [];
  if (profDir !== undefined) {
    fs.mkdirSync(profDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`);
  }
  if (diagMode === 'snapshot') nodeOptions.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${diagDir}`);
  else nodeOptions.push('--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${diagDir}`);
  const profBefore = profDir !== undefined ? new Set(fs.readdirSync(profDir)) : new Set<string>();
  // The inspector stays closed until the memory figure asks for a full GC (SIGUSR1 opens it).
  const inspectPort = await freePort();
  nodeOptions.push(`--inspect-port=127.0.0.1:${inspectPort}`);
  const env = { KUMO_LOG_LEVEL: 'warn', NODE_OPTIONS: nodeOptions.join(' ') };
  const kumo: KumoServer = await startKumo({ env, nodeArgs });
  tmpDirs.add(kumo.dataDir);
  const tls = tlsFromKubeconfig(kumo.kubeconfig);
  const agent = keepAliveAgent(tls, CONNECTIONS);
  const ctx: Ctx = { kumo, tls, agent, durationMs, threads, objects, watchers, inspectPort, diag: { dir: diagDir, mode: diagMode } };
  try {
    info(`kumo pid ${kumo.pid} at ${kumo.url}`);
    if (only.has('get')) await benchGet(ctx);
    if (only.has('mix')) await benchMix(ctx);
    if (only.has('authz')) await benchAuthz(ctx);
    if (only.has('load')) await benchLoad(ctx);
    if (only.has('list')) await benchList(ctx);
    if (only.has('watch')) await benchWatch(ctx);
  } finally {
    agent.destroy();
    await kumo.stop();
    fs.rmSync(diagDir, { recursive: true, force: true });
  }
  console.log(out.summary());
  if (profDir !== undefined) {
    for (const f of fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile') && !profBefore.has(f))) summarizeProfile(path.join(profDir, f));
  }
}

if (isMainThread) {
  // Interrupted: exit through 'exit', whose hooks (here and in testing/kumo) SIGKILL the children by PID.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
}
if (!isMainThread) {
  const spec = workerData as LoadSpec;
  runLoadHere(spec)
    .then((r) => parentPort?.postMessage(r, [r.lat.buffer as ArrayBuffer, r.kinds.buffer as ArrayBuffer]))
    .catch((err: unknown) => {
      throw err;
    });
} else if (process.argv[2] === '--trivial-server') {
  serveTrivial(process.argv[3] ?? '', process.argv[4] ?? '');
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
