// The API server's HTTP entry point: health (/livez, /readyz, /healthz), /version, and a Kubernetes
// `Status` for everything else. Transport-agnostic: the caller owns the (HTTPS) server and passes
// requests in. Never throws at the caller: bad input becomes a Status, a bug becomes a generic 500.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { KumoError, isKumoError, statusFor } from '../lib/errors.js';
import type { Store } from '../store/types.js';
import { forbidden } from './auth/authorize.js';
import { unauthorizedReason } from './auth/common.js';
import { setRequestUser, type Attributes, type Authorizer, type Impersonator, type UserInfo } from './auth/types.js';
import { ROOT_CLUSTER } from './keys.js';
import { parseRequestInfo } from './requestinfo.js';

export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

/** kube-apiserver's `/version` document (k8s.io/apimachinery/pkg/version.Info). */
export interface VersionInfo {
  major: string;
  minor: string;
  emulationMajor: string;
  emulationMinor: string;
  minCompatibilityMajor: string;
  minCompatibilityMinor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

export interface BuildInfo {
  /** Kumo's own version (package.json). */
  kumoVersion: string;
  gitCommit?: string;
  /** `clean`, `dirty`, or empty when not known. */
  gitTreeState?: string;
  /** RFC 3339, seconds precision. */
  buildDate?: string;
}

/** The Kubernetes version the management API speaks. */
export const SERVED_KUBERNETES = { major: 1, minor: 33, patch: 0 } as const;

export function versionInfo(build: BuildInfo): VersionInfo {
  const { major, minor, patch } = SERVED_KUBERNETES;
  const arch = ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' } as Record<string, string>)[process.arch] ?? process.arch;
  return {
    major: String(major),
    minor: String(minor),
    emulationMajor: String(major),
    emulationMinor: String(minor),
    minCompatibilityMajor: String(major),
    minCompatibilityMinor: String(minor - 1),
    gitVersion: `v${major}.${minor}.${patch}+kumo.${build.kumoVersion}`,
    gitCommit: build.gitCommit ?? '',
    gitTreeState: build.gitTreeState ?? '',
    buildDate: build.buildDate ?? '',
    goVersion: `node-${process.version}`,
    compiler: 'tsc',
    platform: `${process.platform}/${arch}`,
  };
}

export interface ApiHandlerOptions {
  store: Store;
  version: VersionInfo;
  logger?: Logger;
  /** While true, /readyz fails its `shutdown` check and responses close their connection. */
  isShuttingDown?: () => boolean;
  /** How long the store health check may take before /readyz reports it failed. Default 2000 ms. */
  healthTimeoutMs?: number;
  maxBodyBytes?: number;
  /** Short (non-watch) requests served at once; more get 429 (kube's --max-requests-inflight). Default 600. */
  maxRequestsInFlight?: number;
  /** The Kubernetes API (discovery and resources); answers false for paths it does not serve. */
  api?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;
  /**
   * Authentication → impersonation → authorization, before the body is read (kube's filter chain).
   * Absent: every request is served unauthenticated (unit tests of the transport only).
   */
  auth?: RequestAuth;
}

export interface RequestAuth {
  /** Resolves to the user (anonymous included) or rejects with Unauthorized. */
  authenticate(req: IncomingMessage): Promise<UserInfo>;
  /** Kube's impersonation filter (Impersonate-* headers); absent: requests act as who they authenticated as. */
  impersonate?: Impersonator;
  /** The chain: first allow/deny wins; noOpinion is forbidden. */
  authorizer: Authorizer;
}

export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => void;

interface HealthCheck {
  name: string;
  run(): Promise<void>;
}

const HEALTH_ENDPOINTS = ['livez', 'readyz', 'healthz'] as const;
type HealthEndpoint = (typeof HEALTH_ENDPOINTS)[number];

export function createApiHandler(opts: ApiHandlerOptions): ApiHandler {
  const maxBody = opts.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const healthTimeoutMs = opts.healthTimeoutMs ?? 2000;
  const shuttingDown = opts.isShuttingDown ?? ((): boolean => false);
  const log = opts.logger;

  const ping: HealthCheck = { name: 'ping', run: () => Promise.resolve() };
  const store: HealthCheck = { name: 'store', run: () => withTimeout(opts.store, healthTimeoutMs) };
  const shutdown: HealthCheck = {
    name: 'shutdown',
    run: () => (shuttingDown() ? Promise.reject(new Error('the server is shutting down')) : Promise.resolve()),
  };
  // Liveness never depends on the store: a store outage must not get the process restarted.
  const checks: Record<HealthEndpoint, HealthCheck[]> = { livez: [ping], readyz: [ping, store, shutdown], healthz: [ping, store] };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (shuttingDown()) res.setHeader('Connection', 'close');
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));

    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > maxBody) {
      res.setHeader('Connection', 'close');
      sendStatus(res, tooLarge(maxBody));
      return;
    }
    if (opts.auth && !(await authenticateAndAuthorize(opts.auth, req, res))) return;
    const body = await readBody(req, maxBody);
    // Shutdown may have begun while the body arrived.
    if (shuttingDown()) res.setHeader('Connection', 'close');

    const segments = pathname.split('/');
    const top = segments[1] ?? '';
    if ((HEALTH_ENDPOINTS as readonly string[]).includes(top) && segments.length <= 3) {
      if (!allowRead(req, res)) return;
      await serveHealth(res, top as HealthEndpoint, segments[2] ?? '', query);
      return;
    }
    if (pathname === '/version' || pathname === '/version/') {
      if (!allowRead(req, res)) return;
      send(res, 200, 'application/json', JSON.stringify(opts.version, null, 2) + '\n');
      return;
    }
    if (opts.api && (await opts.api(req, res, body))) return;
    sendStatus(res, new KumoError('NotFound', 'the server could not find the requested resource'));
  }

  /** Sets the request's user; false when the request was answered (401, 403, or a bad impersonation). */
  async function authenticateAndAuthorize(auth: RequestAuth, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const refuse = (err: unknown): false => {
      req.resume();
      sendStatus(res, err);
      return false;
    };
    let user: UserInfo;
    try {
      user = await auth.authenticate(req);
    } catch (err) {
      if (!isKumoError(err, 'Unauthorized')) throw err;
      log?.info({ method: req.method, path: (req.url ?? '').split('?')[0], reason: unauthorizedReason(err) }, 'unable to authenticate the request');
      // The reason stays in the log: the client learns only that it is not authenticated.
      return refuse(new KumoError('Unauthorized', 'Unauthorized'));
    }
    let effective = user;
    if (auth.impersonate) {
      try {
        effective = await auth.impersonate(req, user);
      } catch (err) {
        if (isKumoError(err)) return refuse(err);
        throw err;
      }
    }
    setRequestUser(req, effective);
    let attrs: Attributes;
    let badPath: unknown;
    try {
      attrs = requestAttributes(req, effective);
    } catch (err) {
      // A path the API cannot parse is authorized as the non-resource URL it is; its error is only
      // shown to a caller allowed there.
      badPath = err;
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      attrs = { user: effective, verb: (req.method ?? 'GET').toLowerCase(), cluster: ROOT_CLUSTER, isResourceRequest: false, path: q < 0 ? url : url.slice(0, q), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
    }
    const decision = await auth.authorizer.authorize(attrs);
    if (decision.decision !== 'allow') {
      log?.debug({ user: effective.username, verb: attrs.verb, resource: attrs.resource, path: attrs.path, reason: decision.reason }, 'request forbidden');
      return refuse(forbidden(attrs, decision.reason));
    }
    if (badPath !== undefined) return refuse(badPath);
    return true;
  }

  async function serveHealth(res: ServerResponse, endpoint: HealthEndpoint, only: string, query: URLSearchParams): Promise<void> {
    res.setHeader('Cache-Control', 'no-cache, private');
    let selected = checks[endpoint];
    if (only !== '') {
      selected = selected.filter((c) => c.name === only);
      if (selected.length === 0) {
        sendStatus(res, new KumoError('NotFound', `${endpoint} has no check named ${JSON.stringify(only)}`));
        return;
      }
    }
    const excluded = new Set(query.getAll('exclude'));
    selected = selected.filter((c) => !excluded.has(c.name));
    const results = await Promise.all(
      selected.map(async (c) => {
        try {
          await c.run();
          return { name: c.name, ok: true };
        } catch (err) {
          // The reason stays in the log: health endpoints are unauthenticated.
          log?.warn({ endpoint, check: c.name, err: errorMessage(err) }, 'health check failed');
          return { name: c.name, ok: false };
        }
      }),
    );
    const ok = results.every((r) => r.ok);
    if (ok && !query.has('verbose')) {
      send(res, 200, 'text/plain; charset=utf-8', 'ok');
      return;
    }
    const lines = results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`));
    lines.push(`${endpoint} check ${ok ? 'passed' : 'failed'}`);
    send(res, ok ? 200 : 503, 'text/plain; charset=utf-8', lines.join('\n') + '\n');
  }

  // kube-apiserver's --max-requests-inflight: past it, short requests get 429 with Retry-After instead
  // of queueing without bound. Watches are long-running and not counted.
  const maxInFlight = opts.maxRequestsInFlight ?? 600;
  let inFlight = 0;

  return (req, res) => {
    const started = process.hrtime.bigint();
    const url = req.url ?? '';
    const longRunning = /[?&]watch=(1|true)(&|$)/i.test(url) || url.includes('/watch/');
    if (!longRunning) {
      if (inFlight >= maxInFlight) {
        res.setHeader('Retry-After', '1');
        req.resume();
        sendStatus(res, new KumoError('TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 }));
        return;
      }
      inFlight++;
      let counted = true;
      const done = (): void => {
        if (counted) inFlight--;
        counted = false;
      };
      res.on('finish', done);
      res.on('close', done);
    }
    res.on('finish', () => {
      log?.debug({ method: req.method, path: (req.url ?? '').split('?')[0], code: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    handle(req, res).catch((err: unknown) => {
      if (err instanceof KumoError) {
        if (err.code === 'RequestEntityTooLarge') res.setHeader('Connection', 'close');
      } else {
        log?.error({ method: req.method, path: (req.url ?? '').split('?')[0], err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined }, 'request failed unexpectedly');
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendStatus(res, err);
    });
  };
}

/** What a request asks, for the authorizer (kube's authorizer attributes from its RequestInfo). */
export function requestAttributes(req: IncomingMessage, user: UserInfo): Attributes {
  const info = parseRequestInfo(req.method ?? 'GET', req.url ?? '/');
  return {
    user,
    verb: info.verb,
    cluster: info.logicalCluster,
    isResourceRequest: info.isResourceRequest,
    path: info.path,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
  };
}

function allowRead(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  res.setHeader('Allow', 'GET, HEAD');
  sendStatus(res, new KumoError('MethodNotAllowed', `the server does not allow this method on the requested resource (${req.method ?? '?'})`));
  return false;
}

function sendStatus(res: ServerResponse, err: unknown): void {
  const body = statusFor(err);
  send(res, body.code, 'application/json', JSON.stringify(body));
}

function send(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.statusCode = code;
  res.setHeader('Content-Type', contentType);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(body);
}

function tooLarge(limit: number): KumoError {
  return new KumoError('RequestEntityTooLarge', `request entity too large: the limit is ${limit} bytes (${Math.round(limit / 1024 / 1024)} MiB)`);
}

/** Reads the whole body, rejecting with RequestEntityTooLarge as soon as it passes `limit`. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Keep discarding what the client still sends so it can read our answer.
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new KumoError('BadRequest', `reading the request body failed: ${err.message}`));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      // A late error after we stopped listening must not crash the process.
      req.on('error', () => undefined);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The store's health check, failing after `ms` even if the backend ignores its signal. */
async function withTimeout(store: Store, ms: number): Promise<void> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new KumoError('Timeout', `store health check did not answer within ${ms} ms`);
      ac.abort(err);
      reject(err);
    }, ms);
  });
  try {
    await Promise.race([store.checkHealth({ signal: ac.signal }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
