// The `kumo` command. `main(argv)` parses and runs one command; it rejects on failure (bin/kumo.js
// prints the message and exits 1) and sets process.exitCode for usage errors commander reports itself.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { parseDuration } from '../lib/duration.js';
import { KumoError } from '../lib/errors.js';
import { readBuildInfo } from '../server/buildinfo.js';
import { dataDirHolder } from '../server/datadir.js';
import type { AuthenticationOptions } from '../server/auth.js';
import { DEFAULT_LISTEN, DEFAULT_STORE, startServer, type RunningServer } from '../server/server.js';
import { DEFAULT_COMPACTION_INTERVAL_MS, MAX_COMPACTION_INTERVAL_MS } from '../store/compactor.js';
import { openStore, parseStoreUrl } from '../store/registry.js';
import type { Store } from '../store/types.js';
import { migrateStore } from './store-migrate.js';

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message (or the help/version text).
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}

export function buildProgram(): Command {
  const program = new Command('kumo')
    .description('Kubernetes-as-a-Service for private clouds')
    .version(readBuildInfo().kumoVersion)
    .exitOverride()
    .showHelpAfterError();

  program
    .command('server')
    .description('serve the Kumo API over HTTPS (writes DATA/admin.kubeconfig)')
    .option('--data-dir <dir>', 'data directory (CA, kubeconfig, SQLite store); locked while the server runs', './.kumo')
    .option('--listen <host:port>', 'address to serve HTTPS on (port 0: any free port)', DEFAULT_LISTEN)
    .addOption(new Option('--store <url>', 'store: sqlite: (DATA/kumo.db), sqlite:PATH or etcd://host:port[,host:port…]').default(DEFAULT_STORE))
    .addOption(
      new Option('--etcd-compaction-interval <duration>', 'how often store history is compacted, at the revision seen one interval earlier (any store; 0 disables)')
        .default(DEFAULT_COMPACTION_INTERVAL_MS, '5m')
        .argParser(parseInterval),
    )
    .addOption(
      new Option('--compaction-interval <duration>', 'alias of --etcd-compaction-interval')
        .argParser(parseInterval)
        .conflicts('etcdCompactionInterval'),
    )
    .addOption(new Option('--anonymous-auth [bool]', 'serve requests without credentials as system:anonymous (false: 401, health endpoints excepted)').default(true).argParser(parseBool))
    .option('--token-auth-file <file>', 'static bearer tokens, CSV lines token,user,uid[,"group1,group2"]')
    .option('--service-account-issuer <url>', 'issuer of service account tokens (repeatable; the first one signs, all are accepted)', collect, [])
    .option('--service-account-key-file <file>', 'PEM file of public (or private) keys that verify service account tokens (repeatable)', collect, [])
    .option('--service-account-signing-key-file <file>', 'PEM private key (RSA or EC) that signs service account tokens (default DATA/pki/sa.key)')
    .option('--service-account-jwks-uri <uri>', 'jwks_uri of /.well-known/openid-configuration (default <server>/openid/v1/jwks)')
    .option('--api-audiences <list>', 'audiences of the API (comma-separated, repeatable; default the first service account issuer)', collectList, [])
    .option('--oidc-issuer-url <url>', 'OIDC issuer (https) whose ID tokens authenticate users')
    .option('--oidc-client-id <id>', 'client id every OIDC ID token must name in its audience')
    .option('--oidc-username-claim <claim>', 'ID token claim used as the user name (default sub)')
    .option('--oidc-username-prefix <prefix>', 'prefix of OIDC user names (default "<issuer>#" unless the claim is email; "-" for none)')
    .option('--oidc-groups-claim <claim>', 'ID token claim with the user\'s groups (a string or a list of strings)')
    .option('--oidc-groups-prefix <prefix>', 'prefix of OIDC group names')
    .option('--oidc-required-claim <key=value>', 'a claim the ID token must carry with exactly this value (repeatable)', collectList, [])
    .option('--oidc-ca-file <file>', 'PEM CAs trusted for the OIDC issuer\'s HTTPS (default: the system\'s)')
    .option('--oidc-signing-algs <list>', 'accepted ID token signing algorithms (comma-separated)', collectList, [])
    .option('--authorization-mode <modes>', 'authorizers in order, comma-separated: AlwaysAllow, AlwaysDeny, RBAC (system:masters is always allowed)', 'RBAC')
    .action(async (opts: ServerFlags) => {
      await runServer(opts);
    });

  const store = program.command('store').description('store maintenance');
  store
    .command('migrate')
    .description('copy every key of a stopped server\'s store into an empty store (e.g. sqlite → etcd)')
    .requiredOption('--from <url>', 'source store: sqlite:PATH or etcd://host:port')
    .requiredOption('--to <url>', 'target store (must hold no keys): etcd://host:port or sqlite:PATH')
    .option('--page-size <n>', 'keys per source page', parsePositiveInt, 500)
    .option('--ttl-seconds <n>', 'TTL given to keys that had one in the source', parsePositiveInt, 3600)
    .action(async (opts: { from: string; to: string; pageSize: number; ttlSeconds: number }) => {
      await runMigrate(opts);
    });

  return program;
}

interface ServerFlags {
  dataDir: string;
  listen: string;
  store: string;
  etcdCompactionInterval: number;
  compactionInterval?: number;
  anonymousAuth: boolean;
  tokenAuthFile?: string;
  serviceAccountIssuer: string[];
  serviceAccountKeyFile: string[];
  serviceAccountSigningKeyFile?: string;
  serviceAccountJwksUri?: string;
  apiAudiences: string[];
  oidcIssuerUrl?: string;
  oidcClientId?: string;
  oidcUsernameClaim?: string;
  oidcUsernamePrefix?: string;
  oidcGroupsClaim?: string;
  oidcGroupsPrefix?: string;
  oidcRequiredClaim: string[];
  oidcCaFile?: string;
  oidcSigningAlgs: string[];
  authorizationMode: string;
}

/** The authentication flags as server options; throws Invalid for OIDC flags without an issuer. */
export function authenticationOptions(f: ServerFlags): AuthenticationOptions {
  const a: AuthenticationOptions = { anonymousAuth: f.anonymousAuth };
  if (f.tokenAuthFile !== undefined) a.tokenAuthFile = f.tokenAuthFile;
  if (f.serviceAccountIssuer.length > 0) a.serviceAccountIssuers = f.serviceAccountIssuer;
  if (f.serviceAccountKeyFile.length > 0) a.serviceAccountKeyFiles = f.serviceAccountKeyFile;
  if (f.serviceAccountSigningKeyFile !== undefined) a.serviceAccountSigningKeyFile = f.serviceAccountSigningKeyFile;
  if (f.serviceAccountJwksUri !== undefined) a.serviceAccountJwksUri = f.serviceAccountJwksUri;
  if (f.apiAudiences.length > 0) a.apiAudiences = f.apiAudiences;
  const oidcFlags = [f.oidcClientId, f.oidcUsernameClaim, f.oidcUsernamePrefix, f.oidcGroupsClaim, f.oidcGroupsPrefix, f.oidcCaFile].some((v) => v !== undefined) || f.oidcRequiredClaim.length > 0 || f.oidcSigningAlgs.length > 0;
  if (f.oidcIssuerUrl === undefined) {
    if (oidcFlags) throw new KumoError('Invalid', '--oidc-issuer-url is required when other --oidc-* flags are given');
    return a;
  }
  const oidc: NonNullable<AuthenticationOptions['oidc']> = { issuerUrl: f.oidcIssuerUrl, clientId: f.oidcClientId ?? '' };
  if (f.oidcUsernameClaim !== undefined) oidc.usernameClaim = f.oidcUsernameClaim;
  if (f.oidcUsernamePrefix !== undefined) oidc.usernamePrefix = f.oidcUsernamePrefix;
  if (f.oidcGroupsClaim !== undefined) oidc.groupsClaim = f.oidcGroupsClaim;
  if (f.oidcGroupsPrefix !== undefined) oidc.groupsPrefix = f.oidcGroupsPrefix;
  if (f.oidcCaFile !== undefined) oidc.caFile = f.oidcCaFile;
  if (f.oidcSigningAlgs.length > 0) oidc.signingAlgs = f.oidcSigningAlgs;
  if (f.oidcRequiredClaim.length > 0) {
    oidc.requiredClaims = {};
    for (const kv of f.oidcRequiredClaim) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new KumoError('Invalid', `--oidc-required-claim: expected key=value, got ${JSON.stringify(kv)}`);
      oidc.requiredClaims[kv.slice(0, i)] = kv.slice(i + 1);
    }
  }
  a.oidc = oidc;
  return a;
}

async function runServer(opts: ServerFlags): Promise<void> {
  const logger = pino({ name: 'kumo', level: process.env.KUMO_LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: true }));
  const running = await startServer({
    dataDir: opts.dataDir,
    listen: opts.listen,
    store: opts.store,
    compactionIntervalMs: opts.compactionInterval ?? opts.etcdCompactionInterval,
    authentication: authenticationOptions(opts),
    authorizationModes: opts.authorizationMode.split(',').map((m) => m.trim()).filter((m) => m !== ''),
    logger,
  });
  process.stdout.write(howTo(running));
  const signal = await firstSignal(logger);
  logger.info({ signal }, 'signal received');
  await running.stop();
  process.exitCode = 0;
  // Everything is closed; if a stray handle still holds the event loop, do not hang the caller.
  setTimeout(() => process.exit(0), 2000).unref();
}

function howTo(s: RunningServer): string {
  return [
    `kumo server is ready at ${s.url} (store ${s.storeName}, data dir ${s.dataDir})`,
    'Use it with kubectl:',
    `  export KUBECONFIG=${s.kubeconfigPath}`,
    '  kubectl get --raw /version',
    'Stop it with Ctrl-C (SIGINT) or SIGTERM.',
    '',
  ].join('\n');
}

/** Resolves on the first SIGTERM/SIGINT; a second one while stopping exits at once with code 1. */
function firstSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', first);
      process.off('SIGINT', first);
      const again = (sig2: NodeJS.Signals): void => {
        logger.warn({ signal: sig2 }, 'second signal while stopping; exiting now');
        process.exit(1);
      };
      process.once('SIGTERM', again);
      process.once('SIGINT', again);
      resolve(sig);
    };
    process.on('SIGTERM', first);
    process.on('SIGINT', first);
  });
}

async function runMigrate(opts: { from: string; to: string; pageSize: number; ttlSeconds: number }): Promise<void> {
  const src = parseStoreUrl(opts.from);
  const dst = parseStoreUrl(opts.to);
  if (src.kind === 'sqlite') {
    const file = src.sqlitePath ?? '';
    if (!fs.existsSync(file)) throw new KumoError('NotFound', `--from: ${file} does not exist`);
  }
  if (src.kind === 'sqlite' && dst.kind === 'sqlite' && src.sqlitePath === dst.sqlitePath) {
    throw new KumoError('Invalid', '--from and --to name the same store');
  }
  for (const [flag, p] of [['--from', src], ['--to', dst]] as const) {
    if (p.kind !== 'sqlite' || p.sqlitePath === undefined) continue;
    const holder = dataDirHolder(path.dirname(p.sqlitePath));
    if (holder !== null) {
      throw new KumoError('Conflict', `${flag}: ${p.sqlitePath} belongs to a data dir in use by kumo server pid ${holder}; stop the server first`);
    }
  }

  // Read-only use: no TTL sweeper, so the source is not written to (expired keys deleted) mid-copy.
  const from = await openStore(opts.from, { sweepTtl: false });
  let to: Store | undefined;
  try {
    to = await openStore(opts.to);
    const r = await migrateStore(from, to, {
      pageSize: opts.pageSize,
      ttlSeconds: opts.ttlSeconds,
      onProgress: (n) => process.stderr.write(`\rcopied ${n} keys`),
    });
    process.stderr.write('\n');
    process.stdout.write(
      [
        `copied ${r.keys} keys from ${from.name} (snapshot at revision ${r.sourceRevision}) to ${to.name} in ${(r.ms / 1000).toFixed(1)} s`,
        r.withTtl > 0 ? `${r.withTtl} ${r.withTtl === 1 ? 'key had a TTL and was' : 'keys had a TTL and were'} given a fresh TTL of ${opts.ttlSeconds} s` : 'no key had a TTL',
        `target revisions ${r.targetRevisionBefore} → ${r.targetRevisionAfter}, compacted at ${r.targetCompactedAt} (past the source's ${r.sourceRevision}): old resourceVersions read as Gone; clients relist`,
        '',
      ].join('\n'),
    );
  } finally {
    await to?.close();
    await from.close();
  }
}

/** A Go-style duration (kube-apiserver's flag syntax: `5m`, `1h30m`, `90s`) in whole ms; `0` is 0. */
function parseInterval(v: string): number {
  const ms = parseDuration(v);
  if (ms === null) throw new InvalidArgumentError(`expected a duration such as 5m, 1h or 90s (0 disables), got ${JSON.stringify(v)}`);
  const rounded = Math.round(ms);
  if (ms > 0 && rounded < 1) throw new InvalidArgumentError(`expected 0 or at least 1ms, got ${JSON.stringify(v)}`);
  if (rounded > MAX_COMPACTION_INTERVAL_MS) throw new InvalidArgumentError(`expected at most ${MAX_COMPACTION_INTERVAL_MS / 3_600_000}h, got ${JSON.stringify(v)}`);
  return rounded;
}

/** kube's bool flags: true/false/1/0/t/f (any case); the flag alone is true. */
function parseBool(v: string | undefined): boolean {
  if (v === undefined) return true;
  const s = v.toLowerCase();
  if (['true', 't', '1'].includes(s)) return true;
  if (['false', 'f', '0'].includes(s)) return false;
  throw new InvalidArgumentError(`expected true or false, got ${JSON.stringify(v)}`);
}

/** A repeatable flag. */
function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** A repeatable flag whose values may also be comma-separated (kube's string slices). */
function collectList(v: string, prev: string[]): string[] {
  return [...prev, ...v.split(',').map((x) => x.trim()).filter((x) => x !== '')];
}

function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}
