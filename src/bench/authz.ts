// `npm run bench:authz`: in-process RBAC authorization latency for a user in 100 groups, with 10,000
// RoleBindings over 100 tenants' namespaces, beside baselines measured in the same run: the same
// decisions against an empty policy (the index lookups with nothing to find) and for a system:masters
// user (the privileged-group authorizer, what every request pays before RBAC).
//   node dist/bench/authz.js [--tenants 100] [--bindings 10000] [--groups 100] [--n 200000]
// The policy is written to a SQLite store and loaded by the real PolicyCache (list + watch), so the
// figures include the load time and how soon a new RoleBinding is in force (the watch's lag).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KObject } from '../api/types.js';
import { reconcileAggregation } from '../apiserver/authz/aggregation.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from '../apiserver/authz/bootstrap.js';
import { PolicyCache } from '../apiserver/authz/cache.js';
import { RbacAuthorizer } from '../apiserver/authz/rbac.js';
import { PolicyIndex, RBAC_GROUP, subjectAppliesTo, type BindingEntry } from '../apiserver/authz/policy.js';
import { rulesAllow } from '../apiserver/authz/rules.js';
import { MASTERS_GROUP, type Attributes, type AuthorizationResult, type Authorizer, type UserInfo } from '../apiserver/auth/types.js';
import { TenancyAuthorizer } from '../apiserver/tenancy/authorizer.js';
import { TenancyCache } from '../apiserver/tenancy/cache.js';
import { TENANT_LABEL } from '../apiserver/tenancy/roles.js';
import { ROOT_CLUSTER, storageKey } from '../apiserver/keys.js';
import { openStore } from '../store/registry.js';
import { fmt, percentile, Report } from './report.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const TENANTS = arg('tenants', 100);
const BINDINGS = arg('bindings', 10_000);
const GROUPS = arg('groups', 100);
const N = arg('n', 200_000);

const out = new Report(46);
const cluster = ROOT_CLUSTER;

/** The bootstrap roles with their aggregated rules filled in (what the aggregation controller writes). */
function aggregatedBootstrapRoles(): KObject[] {
  let roles = bootstrapClusterRoles();
  for (let round = 0; round < 5; round++) roles = roles.map((r) => reconcileAggregation(r, roles) ?? r);
  return roles;
}

const ref = (kind: string, name: string) => ({ apiGroup: RBAC_GROUP, kind, name });
const group = (name: string) => ({ kind: 'Group', apiGroup: RBAC_GROUP, name });
const userSubject = (name: string) => ({ kind: 'User', apiGroup: RBAC_GROUP, name });

/**
 * The policy: per tenant one namespace `tenant-<t>` with BINDINGS/TENANTS RoleBindings — to the
 * bootstrap view/edit/admin roles and to a Role of the namespace — naming other teams' groups and
 * users; the benchmark user's 100 groups are bound in a few tenants only (as a member of a handful
 * of teams would be), so most namespaces hold nothing for it.
 */
function policy(): { kind: 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding'; obj: KObject }[] {
  const objs: { kind: 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding'; obj: KObject }[] = [];
  for (const r of aggregatedBootstrapRoles()) objs.push({ kind: 'ClusterRole', obj: r });
  for (const b of bootstrapClusterRoleBindings()) objs.push({ kind: 'ClusterRoleBinding', obj: b });
  const perTenant = Math.max(1, Math.floor(BINDINGS / TENANTS));
  const roles = ['view', 'edit', 'admin'];
  for (let t = 0; t < TENANTS; t++) {
    const ns = `tenant-${t}`;
    objs.push({ kind: 'Role', obj: { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata: { name: 'deployer', namespace: ns }, rules: [{ verbs: ['create', 'update', 'patch'], apiGroups: ['kumo.dev'], resources: ['clusters', 'nodepools'] }] } });
    for (let b = 0; b < perTenant; b++) {
      const i = t * perTenant + b;
      // Every 10th tenant binds one of the benchmark user's groups (in its last binding).
      const mine = t % 10 === 0 && b === perTenant - 1;
      const subjects = mine ? [group(`team-${t % GROUPS}`)] : [group(`other-team-${i % 2000}`), userSubject(`user-${i}`)];
      const roleRef = mine ? ref('ClusterRole', 'edit') : b % 4 === 3 ? ref('Role', 'deployer') : ref('ClusterRole', roles[b % 3] ?? 'view');
      objs.push({ kind: 'RoleBinding', obj: { apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata: { name: `rb-${b}`, namespace: ns }, roleRef, subjects } });
    }
  }
  return objs;
}

/**
 * Tenancy's objects: TENANTS Tenants of 20 members each (other teams' users and groups), each owning its
 * namespace `tenant-<t>`; the benchmark user's groups are members of every 10th tenant from the 5th
 * (tenants RBAC does not bind it in, so those decisions walk all of RBAC first, then tenancy).
 */
function tenancyObjects(): { key: string; obj: KObject }[] {
  const out: { key: string; obj: KObject }[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const members = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? { kind: 'User', name: `user-${t * 20 + i}`, role: 'member' } : { kind: 'Group', name: `other-team-${(t * 20 + i) % 2000}`, role: 'viewer' }));
    if (t % 10 === 5) members.push({ kind: 'Group', name: `team-${t % GROUPS}`, role: 'member' });
    out.push({ key: storageKey({ group: 'kumo.dev', plural: 'tenants', namespaced: false }, cluster, undefined, `t-${t}`), obj: { apiVersion: 'kumo.dev/v1alpha1', kind: 'Tenant', metadata: { name: `t-${t}` }, spec: { members } } });
    out.push({ key: storageKey({ group: '', plural: 'namespaces', namespaced: false }, cluster, undefined, `tenant-${t}`), obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `tenant-${t}`, labels: { [TENANT_LABEL]: `t-${t}` } } } });
  }
  return out;
}

function attrs(user: UserInfo, verb: string, group: string, resource: string, namespace: string, name = ''): Attributes {
  return { user, verb, cluster, isResourceRequest: true, path: '', apiGroup: group, apiVersion: 'v1', resource, subresource: '', namespace, name };
}

/** The decisions asked, round robin: allowed in the user's tenants, denied elsewhere, cluster-scoped, a URL. */
function questions(user: UserInfo): Attributes[] {
  const q: Attributes[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const ns = `tenant-${t}`;
    q.push(attrs(user, 'list', 'kumo.dev', 'clusters', ns));
    q.push(attrs(user, 'get', '', 'configmaps', ns, 'app-config'));
    q.push(attrs(user, 'delete', '', 'secrets', ns, 'db'));
  }
  q.push(attrs(user, 'list', '', 'namespaces', ''));
  q.push({ ...attrs(user, 'get', '', '', ''), isResourceRequest: false, path: '/apis/kumo.dev/v1alpha1' });
  return q;
}

/**
 * kube's own algorithm (DefaultRuleResolver.VisitRulesFor over listers): every ClusterRoleBinding,
 * then every RoleBinding of the namespace, each subject checked against the user — a second baseline,
 * to show what the index by subject saves.
 */
function scanAuthorizer(index: PolicyIndex): Authorizer {
  return {
    name: 'scan',
    authorize(a) {
      const p = index.cluster(a.cluster);
      if (!p) return { decision: 'noOpinion', reason: '' };
      const sets: Iterable<BindingEntry>[] = [p.clusterRoleBindings.byName.values()];
      const rbs = a.namespace !== '' ? p.roleBindingsIn(a.namespace) : undefined;
      if (rbs) sets.push(rbs.byName.values());
      for (const set of sets) {
        for (const b of set) {
          if (!b.subjects.some((s) => subjectAppliesTo(a.user, s, b.namespace))) continue;
          const r = index.roleRefRules(a.cluster, b.roleRef, b.namespace);
          if (r.rules && rulesAllow(a, r.rules)) return { decision: 'allow', reason: '' };
        }
      }
      return { decision: 'noOpinion', reason: '' };
    },
  };
}

async function measure(name: string, authz: Authorizer, qs: Attributes[], n: number): Promise<{ p50: number; p99: number; max: number; perSec: number; allowed: number }> {
  // Warm up (JIT), then time each decision.
  for (let i = 0; i < Math.min(n, 20_000); i++) await authz.authorize(qs[i % qs.length] as Attributes);
  const times = new Float64Array(n);
  let allowed = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    const r: AuthorizationResult = await authz.authorize(qs[i % qs.length] as Attributes);
    times[i] = Number(process.hrtime.bigint() - s) / 1e6;
    if (r.decision === 'allow') allowed++;
  }
  const total = Number(process.hrtime.bigint() - t0) / 1e9;
  times.sort();
  void name;
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times[times.length - 1] ?? 0, perSec: n / total, allowed: allowed / n };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-bench-authz-'));
  const store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`, {});
  const ac = new AbortController();
  try {
    console.log(`RBAC authorization, in process: ${TENANTS} tenants' namespaces, ${BINDINGS} RoleBindings, a user in ${GROUPS} groups, ${N} decisions per figure`);
    const objs = policy();
    const t0 = performance.now();
    let next = 0;
    // 50 writers at once (the store's group commit), as a busy API server would write them.
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < objs.length) {
          const { kind, obj } = objs[next++] as (typeof objs)[number];
          const m = obj.metadata ?? {};
          const plural = { Role: 'roles', ClusterRole: 'clusterroles', RoleBinding: 'rolebindings', ClusterRoleBinding: 'clusterrolebindings' }[kind];
          const ns = typeof m.namespace === 'string' ? m.namespace : undefined;
          await store.create(storageKey({ group: RBAC_GROUP, plural, namespaced: ns !== undefined }, cluster, ns, String(m.name)), Buffer.from(JSON.stringify(obj)));
        }
      }),
    );
    const writeMs = performance.now() - t0;
    const heap0 = process.memoryUsage().heapUsed;
    const cache = new PolicyCache(store, { progressIntervalMs: 100 });
    const t1 = performance.now();
    void cache.run(ac.signal);
    await cache.waitForSync();
    const loadMs = performance.now() - t1;
    global.gc?.();
    const heapMb = (process.memoryUsage().heapUsed - heap0) / 1024 / 1024;
    const counts = cache.index.counts();
    out.add('policy', { figure: 'objects written to SQLite', value: objs.length, unit: 'objects', note: `${fmt(writeMs)} ms; ${counts.RoleBinding} RoleBindings, ${counts.Role} Roles, ${counts.ClusterRole} ClusterRoles, ${counts.ClusterRoleBinding} ClusterRoleBindings` });
    out.add('policy', { figure: 'cache load (list of the 4 kinds, index build)', value: loadMs, unit: 'ms', ...(global.gc ? { note: `index heap ≈ ${fmt(heapMb)} MB` } : {}) });

    const groups = [...Array.from({ length: GROUPS }, (_, i) => `team-${i}`), 'system:authenticated'];
    const dev: UserInfo = { username: 'dev', groups };
    const rbac = new RbacAuthorizer(cache.index);
    const masters: Authorizer = { name: 'masters', authorize: (a) => (a.user.groups.includes(MASTERS_GROUP) ? { decision: 'allow', reason: '' } : { decision: 'noOpinion', reason: '' }) };
    const chain: Authorizer = {
      name: 'chain',
      authorize(a) {
        const m = masters.authorize(a) as AuthorizationResult;
        return m.decision !== 'noOpinion' ? m : rbac.authorize(a);
      },
    };
    const qs = questions(dev);
    const empty = new RbacAuthorizer(new PolicyIndex());
    const root: UserInfo = { username: 'root', groups: [MASTERS_GROUP, 'system:authenticated'] };

    const baseEmpty = await measure('empty', empty, qs, N);
    const baseMasters = await measure('masters', chain, questions(root), N);
    const scan = await measure('scan', scanAuthorizer(cache.index), qs, Math.min(N, 50_000));
    const full = await measure('rbac', chain, qs, N);
    const deniedQs = qs.filter((a) => a.namespace !== '' && Number(a.namespace.slice('tenant-'.length)) % 10 !== 0);
    const denied = await measure('rbac-denied', chain, deniedQs, N);
    // The whole chain of `--authorization-mode RBAC`: system:masters, RBAC, then tenancy.
    for (const { key, obj } of tenancyObjects()) await store.create(key, Buffer.from(JSON.stringify(obj)));
    const tenancyCache = new TenancyCache(store, { progressIntervalMs: 100 });
    const t2 = performance.now();
    void tenancyCache.run(ac.signal);
    await tenancyCache.waitForSync();
    const tenancyLoadMs = performance.now() - t2;
    const tenancy = new TenancyAuthorizer(tenancyCache.index);
    const withTenancy: Authorizer = {
      name: 'chain+tenancy',
      authorize(a) {
        const r = chain.authorize(a) as AuthorizationResult;
        return r.decision !== 'noOpinion' ? r : tenancy.authorize(a);
      },
    };
    const tenancyQs = [...qs, attrs(dev, 'list', 'kumo.dev', 'tenants', ''), attrs(dev, 'get', 'kumo.dev', 'tenants', '', 't-5'), attrs(dev, 'create', '', 'namespaces', '')];
    const chainFull = await measure('rbac+tenancy', withTenancy, tenancyQs, N);
    const tenancyDeniedQs = qs.filter((a) => a.namespace !== '' && ![0, 5].includes(Number(a.namespace.slice('tenant-'.length)) % 10));
    const chainDenied = await measure('rbac+tenancy-denied', withTenancy, tenancyDeniedQs, N);
    const tenancyOnly = await measure('tenancy', tenancy, tenancyQs, N);
    const scanner = scanAuthorizer(cache.index);
    for (const q of [...qs, ...questions({ ...dev, groups: ['team-3', 'other-team-7', 'system:authenticated'] })]) {
      const a = (await chain.authorize(q)).decision;
      const b = (await scanner.authorize(q)).decision;
      if (a !== b) throw new Error(`the index and the scan disagree on ${JSON.stringify({ ...q, user: q.user.username })}: ${a} vs ${b}`);
    }

    const us = (ms: number): number => ms * 1000;
    const targetUs = 1000;
    out.add('authz', { figure: `user in ${GROUPS} groups, p50 (mixed)`, value: us(full.p50), unit: 'µs', baseline: us(baseEmpty.p50), note: `baseline: same decisions, empty policy; ${Math.round(full.allowed * 100)}% allowed` });
    out.add('authz', { figure: `user in ${GROUPS} groups, p99 (mixed)`, value: us(full.p99), unit: 'µs', baseline: us(baseEmpty.p99), target: `≤ ${targetUs} µs`, pass: us(full.p99) <= targetUs, note: `max ${fmt(us(full.max))} µs (GC pauses)` });
    out.add('authz', { figure: `user in ${GROUPS} groups, p99 (denied)`, value: us(denied.p99), unit: 'µs', baseline: us(baseEmpty.p99), target: `≤ ${targetUs} µs`, pass: us(denied.p99) <= targetUs, note: 'every binding of the user looked up, none allows' });
    out.add('authz', { figure: 'same decisions, kube-style scan p50', value: us(scan.p50), unit: 'µs', baseline: us(full.p50), note: 'baseline: the index; the scan checks every binding in scope' });
    out.add('authz', { figure: 'same decisions, kube-style scan p99', value: us(scan.p99), unit: 'µs', baseline: us(full.p99) });
    out.add('authz', { figure: 'decisions per second (mixed)', value: full.perSec, unit: '/s', baseline: baseMasters.perSec, note: 'baseline: system:masters through the same chain' });
    const tc = tenancyCache.index.counts();
    out.add('tenancy', { figure: 'Tenants + labelled namespaces loaded', value: tenancyLoadMs, unit: 'ms', note: `${tc.tenants} tenants of 20-21 members, ${tc.namespaces} namespaces` });
    out.add('tenancy', { figure: `RBAC + tenancy chain, user in ${GROUPS} groups, p50`, value: us(chainFull.p50), unit: 'µs', baseline: us(full.p50), note: `baseline: RBAC alone; ${Math.round(chainFull.allowed * 100)}% allowed (RBAC alone: ${Math.round(full.allowed * 100)}%)` });
    out.add('tenancy', { figure: `RBAC + tenancy chain, user in ${GROUPS} groups, p99`, value: us(chainFull.p99), unit: 'µs', baseline: us(full.p99), target: `≤ ${targetUs} µs`, pass: us(chainFull.p99) <= targetUs, note: `max ${fmt(us(chainFull.max))} µs` });
    out.add('tenancy', { figure: 'RBAC + tenancy chain, p99 (denied)', value: us(chainDenied.p99), unit: 'µs', baseline: us(denied.p99), target: `≤ ${targetUs} µs`, pass: us(chainDenied.p99) <= targetUs, note: 'both authorizers asked, neither allows' });
    out.add('tenancy', { figure: 'tenancy authorizer alone p50 / p99', value: us(tenancyOnly.p50), unit: 'µs', note: `p99 ${fmt(us(tenancyOnly.p99))} µs` });
    out.add('authz', { figure: 'system:masters p50 / p99 (baseline)', value: us(baseMasters.p50), unit: 'µs', note: `p99 ${fmt(us(baseMasters.p99))} µs` });

    // How soon a new RoleBinding is in force: store write → the index has it (the watch's lag).
    const lags: number[] = [];
    for (let i = 0; i < 200; i++) {
      const name = `late-${i}`;
      const obj = { apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata: { name, namespace: 'tenant-1' }, roleRef: ref('ClusterRole', 'view'), subjects: [userSubject(`late-user-${i}`)] };
      const s = performance.now();
      const w = await store.create(storageKey({ group: RBAC_GROUP, plural: 'rolebindings', namespaced: true }, cluster, 'tenant-1', name), Buffer.from(JSON.stringify(obj)));
      await cache.waitFor('RoleBinding', w.revision, 5000);
      lags.push(performance.now() - s);
    }
    lags.sort((a, b) => a - b);
    out.add('cache', { figure: 'RoleBinding write → in force, p50', value: percentile(lags, 0.5), unit: 'ms', note: 'store write + watch delivery + index update' });
    out.add('cache', { figure: 'RoleBinding write → in force, p99', value: percentile(lags, 0.99), unit: 'ms' });
    console.log(out.summary());
  } finally {
    ac.abort();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
