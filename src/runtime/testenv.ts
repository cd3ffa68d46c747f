// The envtest equivalent (STYLE.md practice 15): a real API engine on a temporary SQLite store, with
// the system namespaces created and an in-process client — what controllers run against in tests.
// `stop()` waits for the engine's background work, closes the store and removes the directory.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { builtinResourceTypes } from '../api/index.js';
import type { ResourceType } from '../api/types.js';
import { schemaOps } from '../api/schema/ops.js';
import { ApiEngine } from '../apiserver/engine.js';
import { openStore } from '../store/registry.js';
import type { Store } from '../store/types.js';
import { LoopbackClient, type LoopbackClientOptions } from '../client/loopback.js';

export interface TestEnv {
  engine: ApiEngine;
  store: Store;
  client: LoopbackClient;
  /** Silent unless KUMO_TEST_LOG names a level (e.g. `debug`). */
  log: Logger;
  dir: string;
  /** A served type by plural and group ('' for core); throws when not served. */
  resource(plural: string, group?: string): ResourceType;
  stop(): Promise<void>;
}

export interface TestEnvOptions {
  client?: LoopbackClientOptions;
}

export async function startTestEnv(opts: TestEnvOptions = {}): Promise<TestEnv> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kumo-testenv-'));
  const store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`);
  const engine = new ApiEngine({ store, resourceTypes: builtinResourceTypes(), schema: schemaOps, serverAddress: () => '127.0.0.1:0' });
  try {
    await engine.ensureSystemNamespaces();
  } catch (err) {
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  const level = process.env.KUMO_TEST_LOG;
  const log = pino({ level: level !== undefined && level !== '' ? level : 'silent' });
  let stopped: Promise<void> | undefined;
  return {
    engine,
    store,
    client: new LoopbackClient(engine, opts.client),
    log,
    dir,
    resource(plural, group = '') {
      const rt = engine.resourceTypes().find((t) => t.plural === plural && t.group === group);
      if (!rt) throw new Error(`${plural}.${group} is not served`);
      return rt;
    },
    stop() {
      stopped ??= (async () => {
        await engine.stop();
        await store.close();
        await fs.rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
