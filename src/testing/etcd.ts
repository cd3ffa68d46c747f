// Test harness: a real single-member etcd (Debian `etcd-server`, /usr/bin/etcd) on free loopback ports
// with its own temp data dir. Debian services never auto-start here, so tests start etcd themselves in
// the foreground and stop it by PID. Any etcd still running when this process exits is SIGKILLed and
// the data dirs the harness created are removed, so a failing test leaves nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface EtcdOptions {
  /** The etcd binary (default `etcd` on PATH, i.e. /usr/bin/etcd). */
  binary?: string;
  /** Use this data dir instead of a fresh temp one (it is then never removed by the harness). */
  dataDir?: string;
  /** How long to wait for `/health` to answer `{"health":"true"}` (default 10 s). */
  readyTimeoutMs?: number;
  /**
   * etcd's periodic watch progress notification interval (default `100ms`; etcd's own default is
   * `10m`). Stores report idle-watch progress from these notifications, like kube-apiserver bookmarks.
   */
  progressNotifyInterval?: string;
  /**
   * etcd's `--max-request-bytes`. The default here is 2 MiB: etcd's own default (1.5 MiB) counts the
   * whole request, so a value of exactly StoreLimits.maxValueBytes would not fit with its key and txn.
   */
  maxRequestBytes?: number;
  /** More flags, appended last. */
  extraArgs?: string[];
}

export interface EtcdHandle {
  /** `127.0.0.1:PORT`, the client endpoint. */
  readonly endpoint: string;
  /** `etcd://127.0.0.1:PORT`, for `openStore`. */
  readonly url: string;
  readonly clientPort: number;
  readonly peerPort: number;
  /** PID of the current etcd process (changes on restart; 0 when stopped). */
  readonly pid: number;
  readonly dataDir: string;
  /** etcd's stdout+stderr, appended across restarts. */
  readonly logFile: string;
  /** SIGTERM, SIGKILL after 5 s, and wait for the exit. Keeps the data dir (restart() may follow). */
  stop(): Promise<void>;
  /** SIGKILL now (a crash) and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same ports and data dir (after stop or kill); resolves when healthy. */
  restart(): Promise<void>;
  /** stop(), then remove the data dir if the harness created it. */
  destroy(): Promise<void>;
  /** The last `bytes` of the log, for failure messages. */
  logTail(bytes?: number): string;
}

// Everything the exit hook must clean up, across all handles of this process.
const running = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers may only do synchronous work: SIGKILL by PID and remove the temp dirs.
  process.on('exit', () => {
    for (const child of running) {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of ownedDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  // A signal ends the process without running 'exit' handlers; clean up, then die of the same signal
  // unless someone else handles it.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const child of running) child.kill('SIGKILL');
      for (const dir of ownedDirs) fs.rmSync(dir, { recursive: true, force: true });
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** A port that was free a moment ago (bind 0 on loopback, read it, close). Callers retry on collision. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    // agent:false: no keep-alive socket outlives the probe.
    const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve((JSON.parse(body) as { health?: unknown }).health === 'true');
        } catch {
          resolve(false);
        }
      });
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

class PortInUse extends Error {}

class Etcd implements EtcdHandle {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly ports: { client: number; peer: number },
    readonly dataDir: string,
    private readonly owned: boolean,
    private readonly opts: EtcdOptions,
    private readonly token: string,
  ) {}

  get clientPort(): number {
    return this.ports.client;
  }
  get peerPort(): number {
    return this.ports.peer;
  }
  get endpoint(): string {
    return `127.0.0.1:${this.ports.client}`;
  }
  get url(): string {
    return `etcd://${this.endpoint}`;
  }
  get pid(): number {
    return this.child?.pid ?? 0;
  }
  get logFile(): string {
    return path.join(this.dataDir, 'etcd.log');
  }

  logTail(bytes = 4000): string {
    try {
      const buf = fs.readFileSync(this.logFile);
      return buf.subarray(Math.max(0, buf.length - bytes)).toString('utf8');
    } catch {
      return '';
    }
  }

  /** Spawns etcd and waits until healthy. Throws PortInUse if etcd could not bind its ports. */
  async start(): Promise<void> {
    if (this.child) throw new Error(`etcd already running (pid ${this.pid})`);
    const { client, peer } = this.ports;
    const name = 'kumo-test';
    const args = [
      `--name=${name}`,
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--advertise-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=${name}=http://127.0.0.1:${peer}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${this.token}`,
      // History is compacted only when a test (or the store) asks for it.
      '--auto-compaction-retention=0',
      `--experimental-watch-progress-notify-interval=${this.opts.progressNotifyInterval ?? '100ms'}`,
      `--max-request-bytes=${this.opts.maxRequestBytes ?? 2 * 1024 * 1024}`,
      '--logger=zap',
      '--log-outputs=stderr',
      ...(this.opts.extraArgs ?? []),
    ];
    const log = fs.openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.opts.binary ?? 'etcd', args, { stdio: ['ignore', log, log] });
    } finally {
      fs.closeSync(log); // the child holds its own copy
    }
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    let exitInfo: string | null = null;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = `code ${code ?? 'null'}, signal ${signal ?? 'none'}`;
        running.delete(child);
        if (this.child === child) this.child = null;
        resolve();
      });
      // A failed spawn (ENOENT) emits 'error' and maybe never 'exit'.
      child.once('error', () => {
        running.delete(child);
        if (this.child === child) this.child = null;
        resolve();
      });
    });
    this.child = child;
    running.add(child);
    installExitHooks();
    // A test that forgets stop() must not hang its process: an unref'd child lets Node exit, and the
    // exit hook then kills etcd. Waits below hold their own timers, so they still complete.
    child.unref();

    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 10_000);
    for (;;) {
      if (exitInfo !== null || this.child !== child) {
        const tail = this.logTail();
        const err = await Promise.race([spawnError, sleep(0).then(() => null)]);
        if (err) throw new Error(`etcd could not be started: ${err.message}`);
        if (/address already in use/.test(tail)) throw new PortInUse(`etcd ports ${client}/${peer} in use`);
        throw new Error(`etcd exited before it was healthy (${exitInfo ?? 'unknown'}); log tail:\n${tail}`);
      }
      if (await healthy(client)) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`etcd on ${this.endpoint} was not healthy after ${this.opts.readyTimeoutMs ?? 10_000} ms; log tail:\n${this.logTail()}`);
      }
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (this.child === child && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, 5000);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    process.kill(child.pid, 'SIGKILL');
    const keepAlive = setInterval(() => undefined, 1000); // the child is unref'd: keep waiting for it
    try {
      await this.exited;
    } finally {
      clearInterval(keepAlive);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.stop();
    if (this.owned) {
      fs.rmSync(this.dataDir, { recursive: true, force: true });
      ownedDirs.delete(this.dataDir);
    }
  }
}

/** Starts a single-member etcd on free loopback ports; resolves once `/health` reports healthy. */
export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdHandle> {
  const owned = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-etcd-'));
  if (owned) ownedDirs.add(dataDir);
  installExitHooks();
  const token = `kumo-${path.basename(dataDir)}`;
  let lastErr: unknown;
  // The ports were free when probed but another process may take them before etcd binds: retry.
  for (let attempt = 0; attempt < 5; attempt++) {
    const client = await freePort();
    let peer = await freePort();
    while (peer === client) peer = await freePort();
    const etcd = new Etcd({ client, peer }, dataDir, owned, opts, token);
    try {
      await etcd.start();
      return etcd;
    } catch (err) {
      lastErr = err;
      if (!(err instanceof PortInUse)) break;
    }
  }
  if (owned) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    ownedDirs.delete(dataDir);
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}
