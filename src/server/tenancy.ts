// The composition of tenancy for `kumo server`: the tenancy cache (one list + watch of Tenants and one
// of Namespaces over every logical cluster), the tenancy authorizer that `--authorization-mode=RBAC`
// puts after RBAC in the chain, and the engine's hooks (admission of tenant labels and Tenant writes,
// read-your-writes, the filtered lists of Tenants and Namespaces). See docs/tenancy.md.
import type { Logger } from 'pino';
import { AuthorizerChain } from '../apiserver/auth/authorize.js';
import type { Authorizer } from '../apiserver/auth/types.js';
import { tenancyAdmission, tenancyNarrow, tenancyWritten, type Admit, type Narrow, type Written } from '../apiserver/tenancy/admission.js';
import { TenancyAuthorizer } from '../apiserver/tenancy/authorizer.js';
import { TenancyCache } from '../apiserver/tenancy/cache.js';
import { launch, type Launched } from '../lib/runnable.js';
import type { Store } from '../store/types.js';

export interface Tenancy {
  readonly cache: TenancyCache;
  /** What `--authorization-mode=RBAC` adds to the chain after RBAC. */
  readonly authorizer: TenancyAuthorizer;
  /** The engine's `admit` hook; `chain()`: the server's authorizers (tenancy's own is left out). */
  admit(chain: () => readonly Authorizer[]): Admit;
  readonly written: Written;
  /** The engine's `narrow` hook; `chain()` as for admit. */
  narrow(chain: () => readonly Authorizer[]): Narrow;
  /** Starts following the store; resolves true once both kinds are loaded (false after `timeoutMs`). */
  start(timeoutMs: number): Promise<boolean>;
  stop(graceMs: number): Promise<void>;
}

export function setUpTenancy(store: Store, log: Logger): Tenancy {
  const cache = new TenancyCache(store, { onError: (err, kind) => log.warn({ kind, err: err instanceof Error ? err.message : String(err) }, 'tenancy cache relisting') });
  const authorizer = new TenancyAuthorizer(cache.index);
  let running: Launched | undefined;
  // The chain without tenancy: what a caller may do through RBAC (and system:masters) alone.
  const others = (chain: () => readonly Authorizer[]): (() => Authorizer) => {
    let memo: { from: readonly Authorizer[]; chain: Authorizer } | undefined;
    return () => {
      const all = chain();
      if (memo?.from !== all) memo = { from: all, chain: new AuthorizerChain(all.filter((a) => a !== authorizer)) };
      return memo.chain;
    };
  };
  return {
    cache,
    authorizer,
    admit: (chain) => tenancyAdmission(cache, others(chain)),
    written: tenancyWritten(cache, 2000, (kind, revision) => log.warn({ kind, revision }, 'tenancy cache is behind a write; answering anyway')),
    narrow: (chain) => tenancyNarrow(cache, others(chain)),
    async start(timeoutMs) {
      running ??= launch({ name: 'tenancy-cache', start: (signal) => cache.run(signal) }, (err) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'tenancy cache failed'));
      return cache.waitForSync(AbortSignal.timeout(timeoutMs));
    },
    async stop(graceMs) {
      if (running && (await running.stop(graceMs)) === 'timeout') log.warn({ graceMs }, 'tenancy cache still running after the grace period');
    },
  };
}
