// The composition root of `kumo server`: data dir (lock + format stamp) → store → store compactor →
// PKI → HTTPS listener → admin kubeconfig. Stops in reverse: listener (drain in-flight requests, grace
// timeout) → compactor (grace timeout) → store → lock.
// Signals are the caller's business (the CLI): this module only exposes start and stop.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { builtinResourceTypes } from '../api/index.js';
import { schemaOps } from '../api/schema/ops.js';
import { chainAdmission } from '../apiserver/admission.js';
import { rbacAdmission } from '../apiserver/authz/admission.js';
import { ApiEngine } from '../apiserver/engine.js';
import { Quotas } from '../apiserver/quota/quota.js';
import { answerClientError } from '../apiserver/clienterror.js';
import { createApiHandler, versionInfo } from '../apiserver/http.js';
import { ROOT_CLUSTER } from '../apiserver/keys.js';
import { KumoError } from '../lib/errors.js';
import { renderKubeconfig, serverUrl } from '../lib/kubeconfig.js';
import { defaultServerSans, loadOrCreateCA, loadOrIssueLeaf, writeFileAtomic } from '../lib/pki.js';
import { launch, type Launched } from '../lib/runnable.js';
import { Compactor, DEFAULT_COMPACTION_INTERVAL_MS } from '../store/compactor.js';
import { openStore } from '../store/registry.js';
import type { Store } from '../store/types.js';
import { DEFAULT_MODE_AUTHORIZERS, authorizerFor, engineObjectLookup, setUpAuthentication, type AuthenticationOptions, type ModeAuthorizers } from './auth.js';
import { readBuildInfo } from './buildinfo.js';
import { startControllers, type RunningControllers } from './controllers.js';
import { checkFormatVersion, ensureDataDir, lockDataDir } from './datadir.js';
import { setUpRbac, type Rbac } from './rbac.js';
import { setUpTenancy, type Tenancy } from './tenancy.js';

export const DEFAULT_LISTEN = '127.0.0.1:6443';
export const DEFAULT_STORE = 'sqlite:';

export interface ServerOptions {
  dataDir: string;
  /** host:port ([v6]:port); port 0 picks a free port. Default 127.0.0.1:6443. */
  listen?: string;
  /** Store URL (sqlite:, sqlite:PATH, etcd://h:p,…). Default sqlite: (DATA/kumo.db). */
  store?: string;
  logger: Logger;
  /** kube-apiserver's authentication flags (token file, service account keys and issuers, OIDC, anonymous). */
  authentication?: AuthenticationOptions;
  /** --authorization-mode, in order (default RBAC, which brings tenancy). system:masters is always allowed first. */
  authorizationModes?: string[];
  /** The authorizers of each mode (default: AlwaysAllow and AlwaysDeny; RBAC plugs in here). */
  modeAuthorizers?: ModeAuthorizers;
  /** How long stop() waits for in-flight requests before closing their connections. Default 10 s. */
  shutdownGraceMs?: number;
  /**
   * How often store history is compacted (kube-apiserver's --etcd-compaction-interval): each time at
   * the revision seen one interval earlier. Default 5 minutes; 0 disables compaction by this server.
   */
  compactionIntervalMs?: number;
}

export interface RunningServer {
  /** https://host:port with the port actually bound. */
  readonly url: string;
  readonly dataDir: string;
  readonly kubeconfigPath: string;
  readonly storeName: string;
  /** Graceful stop; idempotent (every call returns the same promise). */
  stop(): Promise<void>;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(s: string): ListenAddress {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]]*):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new KumoError('Invalid', `--listen: expected host:port (e.g. 127.0.0.1:6443, [::1]:6443 or :6443), got ${JSON.stringify(s)}`);
  }
  return { host: m[1] === '' ? '0.0.0.0' : (m[1] ?? ''), port };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = opts.logger;
  const listen = parseListen(opts.listen ?? DEFAULT_LISTEN);
  const storeUrl = opts.store ?? DEFAULT_STORE;
  const graceMs = opts.shutdownGraceMs ?? 10_000;
  const compactionIntervalMs = opts.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS;

  const dataDir = ensureDataDir(opts.dataDir);
  const lock = lockDataDir(dataDir);
  if (lock.tookOverFrom !== null) log.warn({ dataDir, stalePid: lock.tookOverFrom }, 'took over a stale data dir lock');

  // Undo what was set up so far when a later step fails.
  let store: Store | undefined;
  let compactor: Launched | undefined;
  let running: RunningControllers | undefined;
  let rbacRef: Rbac | undefined;
  let tenancyRef: Tenancy | undefined;
  let engineRef: ApiEngine | undefined;
  let server: https.Server | undefined;
  try {
    const stamp = checkFormatVersion(dataDir);
    if (stamp.created) log.info({ dataDir, format: stamp.format }, 'data dir created');

    store = await openStore(storeUrl, { dataDir });
    log.info({ store: store.name }, 'store opened');
    compactor = startCompactor(store, compactionIntervalMs, log);

    const pkiDir = path.join(dataDir, 'pki');
    const ca = await loadOrCreateCA(pkiDir);
    if (ca.created) log.info({ dir: pkiDir }, 'certificate authority created');
    const serving = await loadOrIssueLeaf(pkiDir, 'server', ca, { server: defaultServerSans(listen.host) });
    if (serving.reissued !== null) log.info({ reason: serving.reissued }, 'server certificate issued');
    const admin = await loadOrIssueLeaf(pkiDir, 'admin', ca, { client: { commonName: 'kumo-admin', organizations: ['system:masters'] } });
    if (admin.reissued !== null) log.info({ reason: admin.reissued }, 'admin client certificate issued');

    let shuttingDown = false;
    let address = `${listen.host}:${listen.port}`;
    // Authentication needs the engine (ServiceAccount tokens are valid while their account exists) and
    // the engine serves authentication's reviews: the lookup reaches the engine once it exists.
    const authn = await setUpAuthentication(opts.authentication ?? {}, {
      pkiDir,
      log,
      serverUrl: () => `https://${address}`,
      lookup: engineObjectLookup(() => {
        if (!engineRef) throw new KumoError('Unavailable', 'the API engine is not ready');
        return engineRef;
      }),
    });
    // RBAC and tenancy decide from caches that follow the store; --authorization-mode=RBAC puts RBAC and
    // then tenancy in the chain (docs/rbac.md, docs/tenancy.md), and their write hooks on the engine.
    const rbac = setUpRbac(store, log);
    const tenancy = setUpTenancy(store, log);
    rbacRef = rbac;
    tenancyRef = tenancy;
    const rbacAuthorizers = [rbac.authorizer, tenancy.authorizer];
    const authorizer = authorizerFor(opts.authorizationModes ?? ['RBAC'], opts.modeAuthorizers ?? { ...DEFAULT_MODE_AUTHORIZERS, RBAC: () => rbacAuthorizers });
    const rbacOn = authorizer.authorizers.includes(rbac.authorizer);
    const tenancyOn = authorizer.authorizers.includes(tenancy.authorizer);
    const chain = () => authorizer.authorizers;
    log.info({ ...authn.summary, authorization: authorizer.authorizers.map((a) => a.name) }, 'authentication and authorization configured');
    // Quota admission reaches the engine once it exists (the engine takes the admission chain).
    const quotas = new Quotas({
      engine: () => {
        if (!engineRef) throw new KumoError('Unavailable', 'the API engine is not ready');
        return engineRef;
      },
      onReleaseError: (err, target) => log.warn({ ...target, err: err instanceof Error ? err.message : String(err) }, 'giving back a quota charge failed; the quota controller recounts'),
    });
    const engine = new ApiEngine({
      store,
      resourceTypes: builtinResourceTypes(),
      schema: schemaOps,
      serverAddress: () => address,
      tokenSigner: authn.tokenSigner,
      createOnly: [...authn.createOnly, ...rbac.reviews(() => authorizer)],
      onBackgroundError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'object cache relisting'),
      // Admission of every write, in order, as kube's validating plugins (ResourceQuota last, so nothing
      // is charged for a write an earlier plugin refuses): RBAC escalation checks, tenancy, quotas.
      // RBAC's escalation check asks the whole chain for bind/escalate (kube: any authorizer may grant
      // them), so a tenant admin may bind roles in the tenant's namespaces.
      admit: chainAdmission(rbacOn ? rbacAdmission(rbac.cache, () => authorizer) : undefined, tenancyOn ? tenancy.admit(chain) : undefined, quotas.admit),
      written: async (rt, revision) => {
        if (rbacOn) await rbac.written(rt, revision);
        if (tenancyOn) await tenancy.written(rt, revision);
      },
      ...(tenancyOn ? { narrow: tenancy.narrow(chain) } : {}),
    });
    engineRef = engine;
    await engine.ensureSystemNamespaces();
    await rbac.bootstrap(engine, ROOT_CLUSTER);
    if (!(await rbac.start(10_000))) log.warn({}, 'rbac policy not loaded after 10 s; listening anyway');
    if (!(await tenancy.start(10_000))) log.warn({}, 'tenants not loaded after 10 s; listening anyway');
    // Controllers on the runtime; every CRD in the store is served before we listen.
    running = startControllers(engine, store, log, { quotas });
    if (!(await running.crdsServed(10_000))) log.warn({}, 'CRDs not all loaded after 10 s; listening anyway');
    const handler = createApiHandler({
      store,
      version: versionInfo(readBuildInfo()),
      logger: log,
      isShuttingDown: () => shuttingDown,
      api: async (req, res, body) => (await authn.issuerDiscovery(req, res)) || engine.handle(req, res, body),
      auth: { authenticate: (req) => authn.authenticator.authenticate(req), impersonate: rbac.impersonator(() => authorizer), authorizer },
    });
    const srv = https.createServer(
      {
        key: serving.keyPem,
        cert: serving.certPem,
        // Client certificates are requested and checked against our CA but not required here:
        // requests without one go on to the token authenticators (or anonymous); one the handshake
        // could not verify is refused with 401 by the x509 authenticator.
        ca: [ca.certPem],
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
        keepAlive: true,
        // Request line and headers up to 1 MiB, as Go's net/http reads them for kube-apiserver (Node's
        // default is 16 KiB: long paths, big tokens or impersonation extras would be refused).
        maxHeaderSize: 1024 * 1024,
      },
      handler,
    );
    server = srv;
    srv.keepAliveTimeout = 60_000;
    srv.headersTimeout = 30_000;
    srv.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      log.debug({ err: err.message, code: err.code }, 'client connection error');
      answerClientError(err, socket);
    });
    srv.on('tlsClientError', (err: Error) => log.debug({ err: err.message }, 'TLS handshake failed'));

    const bound = await listenOn(srv, listen);
    const url = serverUrl(listen.host, bound.port);
    address = new URL(url).host;
    const kubeconfigPath = path.join(dataDir, 'admin.kubeconfig');
    writeFileAtomic(
      kubeconfigPath,
      renderKubeconfig({ server: url, caPem: ca.certPem, userName: 'kumo-admin', clientCertPem: admin.certPem, clientKeyPem: admin.keyPem }),
      0o600,
    );
    log.info({ url, dataDir, store: store.name, kubeconfig: kubeconfigPath }, 'server ready');

    const openStoreRef = store;
    const runningCompactor = compactor;
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async (): Promise<void> => {
        shuttingDown = true;
        log.info({ graceMs }, 'server stopping');
        await closeServer(srv, graceMs, log);
        await running?.stop(graceMs);
        await rbac.stop(graceMs);
        await tenancy.stop(graceMs);
        await engine.stop();
        if (runningCompactor !== undefined) await stopRunnable(runningCompactor, graceMs, log);
        try {
          await openStoreRef.close();
        } catch (err) {
          log.error({ err: err instanceof Error ? err.message : String(err) }, 'closing the store failed');
        }
        lock.release();
        log.info({}, 'server stopped');
      })();
      return stopping;
    };
    return { url, dataDir, kubeconfigPath, storeName: store.name, stop };
  } catch (err) {
    server?.close();
    server?.closeAllConnections();
    await running?.stop(graceMs);
    await rbacRef?.stop(graceMs);
    await tenancyRef?.stop(graceMs);
    await engineRef?.stop();
    if (compactor !== undefined) await stopRunnable(compactor, graceMs, log);
    await store?.close().catch(() => undefined);
    lock.release();
    throw err;
  }
}

/** Starts compacting `store` every `intervalMs` (0: not at all). */
function startCompactor(store: Store, intervalMs: number, log: Logger): Launched | undefined {
  if (intervalMs === 0) {
    log.info({ store: store.name }, 'store compaction disabled');
    return undefined;
  }
  const compactor = new Compactor(store, log, { intervalMs });
  log.info({ store: store.name, intervalMs }, 'store compactor started');
  return launch(compactor, (err) => log.error({ runnable: compactor.name, err: err instanceof Error ? err.message : String(err) }, 'runnable failed'));
}

/** Stops a runnable, waiting at most `graceMs`; one that does not stop in time is left behind with a warning. */
async function stopRunnable(r: Launched, graceMs: number, log: Logger): Promise<void> {
  if ((await r.stop(graceMs)) === 'timeout') log.warn({ runnable: r.name, graceMs }, 'runnable still running after the grace period; going on without it');
}

function listenOn(srv: https.Server, at: ListenAddress): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new Error(`cannot listen on ${at.host}:${at.port}: ${why}`, { cause: err }));
    };
    srv.once('error', onError);
    srv.listen({ host: at.host, port: at.port }, () => {
      srv.off('error', onError);
      resolve(srv.address() as AddressInfo);
    });
  });
}

/** Stops accepting, closes idle keep-alive connections as they become idle, and after `graceMs` closes the rest. */
async function closeServer(srv: https.Server, graceMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
  srv.closeIdleConnections();
  // Connections that finish their request during the grace period go idle; close them as they do.
  const sweep = setInterval(() => srv.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  try {
    if ((await Promise.race([closed.then(() => 'closed' as const), grace])) === 'timeout') {
      log.warn({ graceMs }, 'requests still running after the grace period; closing their connections');
      srv.closeAllConnections();
      await closed;
    }
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
  }
}
