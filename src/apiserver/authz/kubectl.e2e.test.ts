// End-to-end: RBAC with the real kumo binary (`--authorization-mode RBAC`, token-file users) and the
// real kubectl 1.33 and 1.27 — can-i allow/deny, can-i --list, a RoleBinding giving access at once,
// kube's Forbidden messages, escalation refused, impersonation allowed and denied.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { ok, kubectlPath, startKumo, type KumoHandle, type RunResult } from '../../testing/kumo.js';

const VERSIONS = [33, 27].filter((v) => fs.existsSync(kubectlPath(v)));

function refused(r: RunResult, what: string): string {
  assert.notEqual(r.code, 0, `${what} should have failed: ${r.stdout}`);
  return r.stderr;
}

describe('RBAC with kubectl (e2e)', { skip: VERSIONS.length === 0 && 'no kubectl binaries' }, () => {
  let k: KumoHandle;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-rbac-e2e-'));
  const tokens = path.join(tmp, 'tokens.csv');
  /** A kubeconfig for a token-file user (the admin's cluster entry, a bearer token). */
  const kubeconfigs = new Map<string, string>();
  const as = (user: string, v: number, args: string[]): Promise<RunResult> => k.kubectl(v, ['--kubeconfig', kubeconfigs.get(user) ?? '', ...args]);
  const admin = (v: number, args: string[]): Promise<RunResult> => k.kubectl(v, args);

  before(async () => {
    fs.writeFileSync(tokens, ['alice-token,alice,1001,"devs"', 'bob-token,bob,1002', 'carol-token,carol,1003,"auditors,devs"', ''].join('\n'));
    k = await startKumo({ args: ['--authorization-mode', 'RBAC', '--token-auth-file', tokens] });
    const cfg = YAML.parse(fs.readFileSync(k.kubeconfig, 'utf8')) as { clusters: { name: string; cluster: Record<string, string> }[] };
    const cluster = cfg.clusters[0];
    assert.ok(cluster);
    for (const user of ['alice', 'bob', 'carol']) {
      const file = path.join(tmp, `${user}.kubeconfig`);
      fs.writeFileSync(
        file,
        YAML.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [cluster],
          users: [{ name: user, user: { token: `${user}-token` } }],
          contexts: [{ name: user, context: { cluster: cluster.name, user } }],
          'current-context': user,
        }),
        { mode: 0o600 },
      );
      kubeconfigs.set(user, file);
    }
  });
  after(async () => {
    await k?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const v of VERSIONS) {
    describe(`kubectl 1.${v}`, () => {
      const ns = `team-${v}`;
      before(async () => {
        ok(await admin(v, ['create', 'namespace', ns]), 'create namespace');
      });

      it('can-i says no, and the request is refused with kube\'s Forbidden message', async () => {
        const r = await as('alice', v, ['auth', 'can-i', 'list', 'configmaps', '-n', ns]);
        assert.equal(r.code, 1);
        assert.equal(r.stdout.trim(), 'no');
        const get = await as('alice', v, ['get', 'configmaps', '-n', ns]);
        assert.match(refused(get, 'get configmaps'), new RegExp(`Error from server \\(Forbidden\\): configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "${ns}"`));
      });

      it('a RoleBinding to a group gives access at once; can-i agrees, in its namespace only', async () => {
        ok(await admin(v, ['create', 'rolebinding', 'devs-admin', '-n', ns, '--clusterrole=admin', '--group=devs']), 'create rolebinding');
        assert.equal(ok(await as('alice', v, ['auth', 'can-i', 'list', 'configmaps', '-n', ns]), 'can-i').trim(), 'yes');
        ok(await as('alice', v, ['-n', ns, 'create', 'configmap', 'settings', '--from-literal=color=blue']), 'alice creates a configmap');
        assert.match(ok(await as('carol', v, ['-n', ns, 'get', 'configmaps']), 'carol (devs) lists'), /settings/);
        const other = await as('alice', v, ['auth', 'can-i', 'list', 'configmaps', '-n', 'default']);
        assert.equal(other.stdout.trim(), 'no');
        assert.equal((await as('bob', v, ['auth', 'can-i', 'list', 'configmaps', '-n', ns])).stdout.trim(), 'no');
        // Cluster-scoped: a RoleBinding does not reach them.
        assert.equal((await as('alice', v, ['auth', 'can-i', 'create', 'namespaces'])).stdout.trim(), 'no');
      });

      it('can-i --list shows the rules of the namespace', async () => {
        const out = ok(await as('alice', v, ['auth', 'can-i', '--list', '-n', ns]), 'can-i --list');
        assert.match(out, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
        assert.match(out, /^configmaps\s+\[\]\s+\[\]\s+\[.*\bcreate\b.*\]$/m);
        assert.match(out, /^rolebindings\.rbac\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[.*\bcreate\b.*\]$/m);
        assert.match(out, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
        assert.match(out, /^\s+\[\/api\/\*\]\s+\[\]\s+\[get\]$/m);
        assert.doesNotMatch(out, /^\*\.\*/m, 'no cluster-admin rule');
        const bob = ok(await as('bob', v, ['auth', 'can-i', '--list', '-n', ns]), 'bob can-i --list');
        assert.doesNotMatch(bob, /^configmaps/m);
      });

      it('refuses escalation: a namespace admin may bind what it holds, not more', async () => {
        ok(await as('alice', v, ['-n', ns, 'create', 'rolebinding', 'bob-view', '--clusterrole=view', '--user=bob']), 'bind view');
        assert.equal(ok(await as('bob', v, ['auth', 'can-i', 'get', 'configmaps', '-n', ns]), 'bob can-i').trim(), 'yes');
        const bind = await as('alice', v, ['-n', ns, 'create', 'rolebinding', 'bob-root', '--clusterrole=cluster-admin', '--user=bob']);
        const msg = refused(bind, 'bind cluster-admin');
        assert.match(msg, /rolebindings\.rbac\.authorization\.k8s\.io "bob-root" is forbidden: user "alice" \(groups=\["devs" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:/);
        assert.match(msg, /\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/);
        const role = `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: wide, namespace: ${ns}}\nrules:\n- {apiGroups: ["kumo.dev"], resources: ["clusters/status"], verbs: ["update"]}\n`;
        const created = await k.kubectl(v, ['--kubeconfig', kubeconfigs.get('alice') ?? '', 'create', '-f', '-'], { input: role });
        assert.match(refused(created, 'create escalating role'), /roles\.rbac\.authorization\.k8s\.io "wide" is forbidden: user "alice" .* is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["kumo\.dev"\], Resources:\["clusters\/status"\], Verbs:\["update"\]\}/);
        // The same Role is fine for system:masters.
        ok(await k.kubectl(v, ['create', '-f', '-'], { input: role }), 'admin creates the role');
      });

      it('impersonation: system:masters may, others need the impersonate verb', async () => {
        assert.equal(ok(await admin(v, ['auth', 'can-i', 'get', 'configmaps', '-n', ns, '--as', 'bob']), 'as bob').trim(), 'yes');
        assert.equal((await admin(v, ['auth', 'can-i', 'delete', 'configmaps', '-n', ns, '--as', 'bob'])).stdout.trim(), 'no');
        assert.equal(ok(await admin(v, ['auth', 'can-i', 'delete', 'configmaps', '-n', ns, '--as', 'someone', '--as-group', 'devs']), 'as group').trim(), 'yes');
        // bob may impersonate only the user a ClusterRole names (one per kubectl version: bindings stay).
        const target = `dev-${v}`;
        const denied = await as('bob', v, ['-n', ns, 'get', 'configmaps', '--as', target]);
        assert.match(refused(denied, `bob as ${target}`), new RegExp(`Error from server \\(Forbidden\\): users "${target}" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope`));
        ok(await admin(v, ['create', 'clusterrole', `impersonate-${target}`, '--verb=impersonate', '--resource=users', `--resource-name=${target}`]), 'clusterrole impersonate');
        ok(await admin(v, ['create', 'clusterrolebinding', `bob-impersonates-${target}`, `--clusterrole=impersonate-${target}`, '--user=bob']), 'bind impersonate');
        // Allowed to act as the target, bob now meets the target's own limits (no bindings of its own).
        const asTarget = await as('bob', v, ['-n', ns, 'get', 'configmaps', '--as', target]);
        assert.match(refused(asTarget, `bob as ${target}`), new RegExp(`configmaps is forbidden: User "${target}" cannot list resource "configmaps" in API group "" in the namespace "${ns}"`));
        assert.equal((await as('bob', v, ['auth', 'can-i', 'create', 'selfsubjectaccessreviews.authorization.k8s.io', '--as', target])).stdout.trim(), 'yes');
        // Groups come only with --as-group, which needs its own permission.
        const group = await as('bob', v, ['-n', ns, 'get', 'configmaps', '--as', target, '--as-group', 'devs']);
        assert.match(refused(group, `bob as ${target} in devs`), /groups "devs" is forbidden: User "bob" cannot impersonate resource "groups"/);
        const other = await as('bob', v, ['-n', ns, 'get', 'configmaps', '--as', 'alice']);
        assert.match(refused(other, 'bob as alice'), /users "alice" is forbidden: User "bob" cannot impersonate resource "users"/);
      });
    });
  }
});
