// End-to-end fuzz test of the whole API (issue 5): 10,000 random and mutated requests from a seeded
// generator (src/testing/fuzz) against the real `kumo server`, eight at a time. Then: no answer ≥500,
// every error a Status, the server still ready, no object stored that only a rejected (or dry-run)
// request named, every revision written during the run a valid object, and every object a request
// created readable.
//
//   KUMO_FUZZ_SEED=<n>       the seed (printed at the start of every run)
//   KUMO_FUZZ_COUNT=<n>      how many requests (default 10,000)
//   KUMO_FUZZ_ONLY=<i,j-k,…> replay only these requests of the seed (j-k: a range), printing them in full
//   KUMO_FUZZ_DEBUG=1        print each invalid stored revision beside the revision before it
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startKumo, type KumoHandle } from '../testing/kumo.js';
import { randomSeed } from '../testing/fuzz/rng.js';
import { FuzzClient, credentialsFrom, pool, type FuzzResponse } from '../testing/fuzz/send.js';
import { hasFixture } from '../testing/fuzz/fixtures.js';
import { isCreateOnly, kindLabel, type FuzzKind, type FuzzRequest } from '../testing/fuzz/generate.js';
import { call, discoverKinds, formatFinding, readBackPath, report, runFuzz, setUp, writersOf, type RunResult } from '../testing/fuzz/run.js';
import { StoredValidator, keysCreatedBySuccesses, keysOfRejectedRequests, readStore, type StoreSnapshot } from '../testing/fuzz/stored.js';

const SEED = process.env.KUMO_FUZZ_SEED ? Number(process.env.KUMO_FUZZ_SEED) : randomSeed();
const COUNT = process.env.KUMO_FUZZ_COUNT ? Number(process.env.KUMO_FUZZ_COUNT) : 10_000;
const ONLY = process.env.KUMO_FUZZ_ONLY ? parseIndexes(process.env.KUMO_FUZZ_ONLY) : undefined;
const CONCURRENCY = 8;

function parseIndexes(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) return [];
    if (b === undefined || !Number.isInteger(b)) return [a];
    return Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);
  });
}

describe(`API fuzz: ${ONLY ? `replay of ${ONLY.join(',')}` : `${COUNT} requests`}, seed ${SEED} (e2e)`, () => {
  let k: KumoHandle;
  let client: FuzzClient;
  let kinds: FuzzKind[] = [];
  let baseline: StoreSnapshot;
  let run: RunResult | undefined;
  let dbFile = '';

  before(async () => {
    console.log(`fuzz: seed ${SEED} (replay with KUMO_FUZZ_SEED=${SEED}), ${COUNT} requests, concurrency ${CONCURRENCY}`);
    k = await startKumo();
    dbFile = path.join(k.dataDir, 'kumo.db');
    client = new FuzzClient(k.port, credentialsFrom(k.kubeconfig), CONCURRENCY);
  });
  after(async () => {
    client?.close();
    await k?.stop();
  });

  it('sets up namespaces, a CRD and a valid fixture of every served kind in three logical clusters', async () => {
    const set = await setUp(client, () => discoverKinds(client));
    kinds = set.kinds;
    assert.deepEqual(set.refused, [], 'fixtures the server refused');
    const synthesized = kinds.filter((x) => !hasFixture(x)).map(kindLabel);
    console.log(`fuzz: ${kinds.length} kinds (${kinds.filter(isCreateOnly).length} create-only)${synthesized.length ? `; synthesized from the schema: ${synthesized.join(', ')}` : ''}`);
    assert.ok(kinds.some((x) => x.plural === 'widgets'), 'the fuzz CRD is served');
    baseline = readStore(dbFile);
  });

  it(`answers every request below 500, every error with a Status, never hangs`, async () => {
    assert.ok(kinds.length > 0, 'set up first');
    const replay = ONLY
      ? (req: FuzzRequest, res: FuzzResponse): void => {
          console.log(`#${req.index} ${req.op} ${req.method} ${req.path}\n  headers: ${JSON.stringify(req.headers)}\n  body (${req.body?.length ?? 0} bytes): ${req.body?.subarray(0, 2000).toString('utf8') ?? ''}`);
          console.log(`  → ${res.status} ${res.error ?? ''} ${JSON.stringify(res.headers)}\n  ${res.body.subarray(0, 2000).toString('utf8')}`);
        }
      : undefined;
    const opts: Parameters<typeof runFuzz>[1] = { seed: SEED, count: COUNT, concurrency: CONCURRENCY, kinds };
    if (ONLY) opts.only = ONLY;
    if (replay) opts.onReplay = replay;
    run = await runFuzz(client, opts);
    console.log(report(run, SEED));
    for (const f of run.findings) console.log(formatFinding(f, SEED));
    assert.equal(run.findings.length, 0, `${run.findings.length} findings (seed ${SEED}):\n${run.findings.slice(0, 40).map((f) => formatFinding(f, SEED)).join('\n')}`);
  });

  it('is still ready, and logged no unexpected error', async () => {
    const r = await call(client, 'GET', '/readyz');
    assert.equal(r.status, 200, String(r.body));
    const unexpected = k.log().split('\n').filter((l) => /request failed unexpectedly|uncaught|unhandled/i.test(l));
    assert.deepEqual(unexpected.slice(0, 10), [], `${unexpected.length} unexpected errors in the server log`);
  });

  it('stores nothing that only a rejected or dry-run request named', () => {
    assert.ok(run, 'run first');
    const now = readStore(dbFile, baseline.revision);
    const outcomes = new Map([...run.outcomes].map(([i, o]) => [i, { status: o.status, dryRun: o.dryRun, method: o.method }]));
    // Revisions answered to successful writes: a key created at one of them was created by that request.
    const rvs = new Map<string, number>();
    for (const o of [...run.outcomes.values()].sort((a, b) => a.index - b.index)) {
      if (o.rv !== undefined && o.status >= 200 && o.status < 300 && !o.dryRun && !rvs.has(o.rv)) rvs.set(o.rv, o.index);
    }
    const bySuccess = keysCreatedBySuccesses(now.log, rvs);
    // Live keys, and every key written during the run (an object stored and deleted again counts too).
    const bad = keysOfRejectedRequests(new Set([...now.live.keys(), ...now.log.map((r) => r.key)]), outcomes, bySuccess);
    assert.deepEqual(bad.slice(0, 30), [], `${bad.length} keys of rejected requests (seed ${SEED})`);
    // Keys the run made without any request's token, and not in an answer to a successful write: where did they come from?
    const unexpected = [...now.live.keys()].filter((key) => !baseline.live.has(key) && !/fz-\d+-/i.test(key) && !bySuccess.has(key));
    assert.deepEqual(unexpected.slice(0, 30), [], `${unexpected.length} new keys no request of the run names (seed ${SEED})`);
  });

  it('stored only valid objects, at every revision written during the run', () => {
    assert.ok(run, 'run first');
    const now = readStore(dbFile, baseline.revision);
    const validator = new StoredValidator(now.live);
    const problems: string[] = [];
    let checked = 0;
    for (const row of now.log) {
      if (row.type === 'delete' || row.value === null) continue;
      const p = validator.check(row.key, row.value);
      if (p === undefined) continue;
      checked++;
      if (p.length > 0 && process.env.KUMO_FUZZ_DEBUG) {
        const prev = [...now.log].reverse().find((r) => r.key === row.key && r.rev < row.rev);
        console.log(`DEBUG prev@${prev?.rev}: ${prev?.value?.toString()}\nDEBUG this@${row.rev}: ${row.value.toString()}`);
      }
      if (p.length > 0) {
        // The first answer carrying that resourceVersion (later no-op writes answer with it too).
        const by = [...run.outcomes.values()].filter((o) => o.rv === String(row.rev)).sort((a, b) => a.index - b.index)[0];
        const who = by ? `written by #${by.index} ${by.method} ${by.path.slice(0, 200)}` : `not answered to any request (a controller's write?); successful writes of the key: ${writersOf(row.key, run.outcomes.values()).map((i) => `#${i}`).join(' ') || 'none'}`;
        problems.push(`${row.key}@${row.rev}: ${p.join('; ')} (${who})`);
      }
    }
    console.log(`fuzz: ${checked} revisions written during the run checked`);
    assert.deepEqual(problems.slice(0, 30), [], `${problems.length} invalid stored revisions (seed ${SEED})`);
  });

  it('reads back every object a request created', async () => {
    assert.ok(run, 'run first');
    const paths = [...run.outcomes.values()].flatMap((o) => {
      const p = readBackPath(o, kinds);
      return p ? [{ p, o }] : [];
    });
    const missing: string[] = [];
    await pool(paths.length, CONCURRENCY, async (i) => {
      const x = paths[i];
      if (!x) return;
      const r = await call(client, 'GET', x.p);
      if (r.status !== 200) missing.push(`#${x.o.index} ${x.o.method} ${x.o.path} → created, then GET ${x.p} → ${r.status}`);
    });
    console.log(`fuzz: ${paths.length} created objects read back`);
    assert.deepEqual(missing.slice(0, 30), [], `${missing.length} created objects not readable (seed ${SEED})`);
  });
});
