// Test harness: the real `kumo server` binary on a temp data dir and a free loopback port, and the
// real kubectl binaries (by version) pointed at it. Servers are stopped by PID, also when a test fails
// (the exit hook kills whatever is left).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './etcd.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KUMO_BIN = path.join(ROOT, 'bin', 'kumo.js');
export const kubectlPath = (minor: number): string => `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A command's stdout, after asserting it exited 0 (the message names `what` and shows its output). */
export function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface KumoHandle {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly pid: number;
  /** Runs `kubectl.1.<minor>` against the server with its own cache dir; never throws on exit codes. */
  kubectl(minor: number, args: string[], opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult>;
  /** The server's log so far (stderr), for failure messages. */
  log(): string;
  /** SIGTERM, SIGKILL after 10 s; removes the data dir. */
  stop(): Promise<void>;
}

/**
 * Starts `kumo server` on a fresh data dir and a free loopback port; resolves once /readyz answers.
 * `args`: the server's own flags; `nodeArgs`: node's, before the script (`--cpu-prof` is not allowed in
 * NODE_OPTIONS).
 */
export async function startKumo(opts: { args?: string[]; env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<KumoHandle> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-e2e-'));
  const port = await freePort();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), KUMO_BIN, 'server', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  running.add(child);
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-kubectl-'));
  const kubeconfig = path.join(dataDir, 'admin.kubeconfig');
  const handle: KumoHandle = {
    url: `https://127.0.0.1:${port}`,
    port,
    dataDir,
    kubeconfig,
    pid: child.pid ?? 0,
    kubectl: (minor, args, o = {}) =>
      run(kubectlPath(minor), ['--kubeconfig', kubeconfig, '--cache-dir', path.join(cacheRoot, String(minor)), ...args], {
        ...o,
        env: { HOME: cacheRoot, ...(o.env ?? {}) },
      }),
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      running.delete(child);
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(cacheRoot, { recursive: true, force: true });
    },
  };
  // Ready when /readyz answers 200 over HTTPS.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kumo server exited with ${child.exitCode}:\n${log}`);
    if (await readyz(port)) return handle;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`kumo server not ready after 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readyz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

export function run(cmd: string, args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env ?? {}) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
