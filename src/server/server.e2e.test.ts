// End to end: the real `kumo` executable, the real SQLite store, real kubectl binaries.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { startEtcd } from '../testing/etcd.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KUMO = path.join(ROOT, 'bin', 'kumo.js');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const KUBECTL = (minor: number): string => `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function startKumo(t: { after: (fn: () => void) => void }, args: string[]): Proc {
  const child = spawn(process.execPath, [KUMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // Never leave a server behind, whatever the test did.
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
  return { child, out: () => out, err: () => err, exited };
}

function get(port: number, p: string, agent?: https.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: p, rejectUnauthorized: false, agent: agent ?? false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function waitReady(proc: Proc, port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`kumo server exited with ${proc.child.exitCode}:\n${proc.err()}`);
    try {
      if ((await get(port, '/readyz')).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`kumo server not ready after ${timeoutMs} ms:\n${proc.err()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function kubectl(minor: number, kubeconfig: string, cacheDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(KUBECTL(minor), ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, HOME: cacheDir } });
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('kumo server (e2e)', () => {
  it('serves HTTPS to kubectl 1.33 and 1.27, locks its data dir, stops on SIGTERM and restarts with the same CA', async (t) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-e2e-'));
    t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const data = path.join(tmp, 'data');
    const kubeconfig = path.join(data, 'admin.kubeconfig');
    const port = await freePort();

    const server = startKumo(t, ['server', '--data-dir', data, '--listen', `127.0.0.1:${port}`]);
    await waitReady(server, port);

    // The how-to on stdout and the files in the data dir.
    assert.match(server.out(), new RegExp(`ready at https://127\\.0\\.0\\.1:${port} \\(store sqlite:${data}/kumo\\.db`));
    assert.ok(server.out().includes(`export KUBECONFIG=${kubeconfig}\n`));
    assert.ok(server.out().includes('kubectl get --raw /version'));
    assert.equal(fs.statSync(data).mode & 0o777, 0o700);
    assert.equal(fs.statSync(kubeconfig).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(data, 'pki', 'ca.key')).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(path.join(data, 'kumo.lock'), 'utf8').trim(), String(server.child.pid));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(data, 'VERSION'), 'utf8')), { format: 1 });
    const kc = parse(fs.readFileSync(kubeconfig, 'utf8')) as {
      'current-context': string;
      clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { name: string }[];
    };
    assert.equal(kc['current-context'], 'kumo');
    assert.equal(kc.clusters[0]?.cluster.server, `https://127.0.0.1:${port}`);
    assert.equal(Buffer.from(kc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), fs.readFileSync(path.join(data, 'pki', 'ca.crt'), 'utf8'));
    assert.equal(kc.users[0]?.name, 'kumo-admin');

    // Structured logs on stderr: one JSON object per line, constant messages.
    const logs = server.err().trim().split('\n').map((l) => JSON.parse(l) as { msg: string; url?: string; intervalMs?: number });
    assert.ok(logs.some((l) => l.msg === 'server ready' && l.url === `https://127.0.0.1:${port}`));
    assert.ok(logs.some((l) => l.msg === 'store compactor started' && l.intervalMs === 300_000), 'compaction every 5 minutes by default');

    // Real kubectl, verifying our CA, presenting the admin client certificate.
    for (const minor of [33, 27]) {
      const cache = path.join(tmp, `cache-${minor}`);
      const v = kubectl(minor, kubeconfig, cache, 'get', '--raw', '/version');
      assert.equal(v.status, 0, `kubectl 1.${minor} get --raw /version: ${v.stderr}`);
      const info = JSON.parse(v.stdout) as { major: string; minor: string; gitVersion: string; platform: string };
      assert.equal(info.major, '1');
      assert.equal(info.minor, '33');
      assert.equal(info.gitVersion, `v1.33.0+kumo.${VERSION}`);
      const ready = kubectl(minor, kubeconfig, cache, 'get', '--raw', '/readyz');
      assert.equal(ready.status, 0, ready.stderr);
      assert.equal(ready.stdout.trim(), 'ok');
      const verbose = kubectl(minor, kubeconfig, cache, 'get', '--raw', '/readyz?verbose');
      assert.equal(verbose.status, 0, verbose.stderr);
      assert.match(verbose.stdout, /\[\+\]store ok\n/);
      const live = kubectl(minor, kubeconfig, cache, 'get', '--raw', '/livez');
      assert.equal(live.status, 0, live.stderr);
      // An unknown path: kubectl reads our Status and reports NotFound, exit code 1.
      const missing = kubectl(minor, kubeconfig, cache, 'get', '--raw', '/api/v1/nothings');
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /the server could not find the requested resource/);
    }

    // A second server on the same data dir refuses to start.
    const port2 = await freePort();
    const second = startKumo(t, ['server', '--data-dir', data, '--listen', `127.0.0.1:${port2}`]);
    const r2 = await within(second.exited, 20_000, 'the second server');
    assert.notEqual(r2.code, 0);
    assert.match(second.err(), new RegExp(`data dir ${data} is in use by kumo server pid ${server.child.pid}`));
    assert.equal(fs.readFileSync(path.join(data, 'kumo.lock'), 'utf8').trim(), String(server.child.pid), 'the lock is untouched');

    // SIGTERM with an idle keep-alive connection open: exit 0 quickly, lock released.
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    assert.equal((await get(port, '/livez', agent)).status, 200);
    const caBefore = fs.readFileSync(path.join(data, 'pki', 'ca.crt'), 'utf8');
    const serverCertBefore = fs.readFileSync(path.join(data, 'pki', 'server.crt'), 'utf8');
    const stopped = Date.now();
    server.child.kill('SIGTERM');
    const r1 = await within(server.exited, 5000, 'SIGTERM');
    assert.deepEqual(r1, { code: 0, signal: null }, server.err());
    assert.ok(Date.now() - stopped < 5000);
    assert.equal(fs.existsSync(path.join(data, 'kumo.lock')), false);
    assert.match(server.err(), /"msg":"server stopped"/);

    // Restart on the same dir: same CA, same server certificate, kubectl works again.
    const again = startKumo(t, ['server', '--data-dir', data, '--listen', `127.0.0.1:${port}`]);
    await waitReady(again, port);
    assert.equal(fs.readFileSync(path.join(data, 'pki', 'ca.crt'), 'utf8'), caBefore);
    assert.equal(fs.readFileSync(path.join(data, 'pki', 'server.crt'), 'utf8'), serverCertBefore);
    const v = kubectl(33, kubeconfig, path.join(tmp, 'cache-33'), 'get', '--raw', '/version');
    assert.equal(v.status, 0, v.stderr);
    again.child.kill('SIGINT');
    assert.deepEqual(await within(again.exited, 5000, 'SIGINT'), { code: 0, signal: null });
    assert.equal(fs.existsSync(path.join(data, 'kumo.lock')), false);
  });

  it('takes over a stale lock, reports the actual port for --listen :0 and refuses bad flags', async (t) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-e2e-'));
    t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const data = path.join(tmp, 'data');
    fs.mkdirSync(data, { mode: 0o700 });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    fs.writeFileSync(path.join(data, 'kumo.lock'), `${dead}\n`);

    const server = startKumo(t, ['server', '--data-dir', data, '--listen', '127.0.0.1:0', '--compaction-interval', '0']);
    const deadline = Date.now() + 30_000;
    while (!/ready at https:\/\/127\.0\.0\.1:(\d+)/.test(server.out())) {
      if (server.child.exitCode !== null || Date.now() > deadline) assert.fail(`not ready: ${server.err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = Number(/ready at https:\/\/127\.0\.0\.1:(\d+)/.exec(server.out())?.[1]);
    assert.ok(port > 0);
    assert.equal((await get(port, '/readyz')).body, 'ok');
    assert.match(server.err(), new RegExp(`"stalePid":${dead},"msg":"took over a stale data dir lock"`));
    assert.match(server.err(), /"msg":"store compaction disabled"/);

    // SIGTERM while a request is in flight (its body still arriving): the request completes, then the server exits 0.
    // As the admin (client certificate): an anonymous write is refused (403) before its body is read.
    const adminTls = { cert: fs.readFileSync(path.join(data, 'pki', 'admin.crt')), key: fs.readFileSync(path.join(data, 'pki', 'admin.key')) };
    const inFlight = https.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/namespaces', rejectUnauthorized: false, agent: false, headers: { 'Transfer-Encoding': 'chunked' }, ...adminTls });
    const answered = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      inFlight.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      });
      inFlight.on('error', reject);
    });
    inFlight.write('{"kind":');
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(server.child.exitCode, null, 'still draining the in-flight request');
    inFlight.end('"Namespace"}');
    // The body names no object metadata: answered (Invalid), not cut off.
    assert.deepEqual(await within(answered, 5000, 'the in-flight request'), { status: 422, connection: 'close' });
    assert.deepEqual(await within(server.exited, 5000, 'SIGTERM'), { code: 0, signal: null });

    for (const [args, message] of [
      [['server', '--data-dir', data, '--bogus'], /unknown option '--bogus'/],
      [['server', '--data-dir', data, '--listen', 'nope'], /--listen: expected host:port/],
      [['server', '--data-dir', data, '--listen', '127.0.0.1:0', '--store', 'mysql://db'], /unknown store "mysql:\/\/db"/],
      [['server', '--data-dir', data, '--etcd-compaction-interval', '5'], /'5' is invalid\. expected a duration such as 5m/],
      [['server', '--data-dir', data, '--etcd-compaction-interval', '1m', '--compaction-interval', '2m'], /cannot be used with/],
    ] as const) {
      const r = spawnSync(process.execPath, [KUMO, ...args], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(fs.existsSync(path.join(data, 'kumo.lock')), false, 'failed starts release the lock');

    // A data dir written by a newer kumo is refused, not touched.
    fs.writeFileSync(path.join(data, 'VERSION'), '{"format":2}\n');
    const newer = spawnSync(process.execPath, [KUMO, 'server', '--data-dir', data, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(newer.status, 1);
    assert.match(newer.stderr, /has format 2, but this kumo understands format 1 at most/);
  });
});

describe('kumo server on etcd (e2e)', () => {
  it('reports an etcd outage on /readyz and recovers by itself when etcd returns', async (t) => {
    const etcd = await startEtcd();
    t.after(() => etcd.destroy());
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-e2e-'));
    t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const data = path.join(tmp, 'data');
    const kubeconfig = path.join(data, 'admin.kubeconfig');
    const port = await freePort();
    const server = startKumo(t, ['server', '--data-dir', data, '--listen', `127.0.0.1:${port}`, '--store', etcd.url]);
    await waitReady(server, port);
    assert.match(server.out(), new RegExp(`\\(store ${etcd.url.replace(/[.]/g, '\\.')}, data dir`));
    assert.equal(fs.existsSync(path.join(data, 'kumo.db')), false, 'no SQLite file with an etcd store');

    await etcd.stop();
    const started = Date.now();
    const down = await get(port, '/readyz?verbose');
    assert.equal(down.status, 503);
    assert.match(down.body, /\[-\]store failed: reason withheld\n/);
    assert.ok(Date.now() - started < 4000, 'the health check has a deadline');
    assert.equal((await get(port, '/livez')).status, 200, 'liveness does not depend on the store');
    const k = kubectl(33, kubeconfig, path.join(tmp, 'cache'), 'get', '--raw', '/readyz');
    assert.equal(k.status, 1);

    await etcd.restart();
    const deadline = Date.now() + 30_000;
    while ((await get(port, '/readyz')).status !== 200) {
      assert.ok(Date.now() < deadline, `not ready again after etcd returned:\n${server.err()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    server.child.kill('SIGTERM');
    assert.deepEqual(await within(server.exited, 10_000, 'SIGTERM'), { code: 0, signal: null });
  });
});
