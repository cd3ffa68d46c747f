// End-to-end: kubectl's editing workflow against the real kumo binary, with kubectl 1.33 and 1.27 —
// client-side apply (create, edit, remove a field; last-applied-configuration), patch --type
// strategic by merge key ($patch: delete), edit with a scripted EDITOR, diff (server-side dry-run) —
// and Debian's python3-kubernetes sending the same strategic merge patches as kubectl.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { ok, run, startKumo, type KumoHandle, type RunResult } from '../testing/kumo.js';

const VERSIONS = [33, 27];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// Read from the source tree: tsc does not copy it to dist.
const PY_SCRIPT = path.join(ROOT, 'src', 'testing', 'py', 'k8s_patch.py');

interface SA {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion: string };
  secrets?: { name: string }[];
  imagePullSecrets?: { name: string }[];
  automountServiceAccountToken?: boolean;
}

const names = (l: { name: string }[] | undefined): string[] | undefined => l?.map((x) => x.name);
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

describe('kubectl editing workflow against kumo (e2e)', () => {
  let k: KumoHandle;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-edit-e2e-'));
  before(async () => {
    k = await startKumo();
  });
  after(async () => {
    await k?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('OpenAPI v2 and v3 carry the patch strategies and merge keys kubectl computes apply patches from', async () => {
    type Props = Record<string, Record<string, unknown>>;
    const v2 = JSON.parse(ok(await k.kubectl(33, ['get', '--raw', '/openapi/v2']), 'openapi v2')) as { definitions: Record<string, { properties: Props }> };
    const v3 = JSON.parse(ok(await k.kubectl(33, ['get', '--raw', '/openapi/v3/api/v1']), 'openapi v3')) as { components: { schemas: Record<string, { properties: Props }> } };
    for (const defs of [v2.definitions, v3.components.schemas]) {
      const secrets = defs['io.k8s.api.core.v1.ServiceAccount']?.properties.secrets;
      assert.equal(secrets?.['x-kubernetes-patch-strategy'], 'merge');
      assert.equal(secrets?.['x-kubernetes-patch-merge-key'], 'name');
      const meta = defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']?.properties;
      assert.equal(meta?.ownerReferences?.['x-kubernetes-patch-merge-key'], 'uid');
      assert.equal(meta?.finalizers?.['x-kubernetes-patch-strategy'], 'merge');
    }
  });

  for (const v of VERSIONS) {
    describe(`kubectl 1.${v}`, () => {
      const ns = `edit-${v}`;
      const kubectl = (args: string[], env?: Record<string, string>): Promise<RunResult> => k.kubectl(v, ['-n', ns, ...args], env ? { env } : {});
      const getSA = async (name: string): Promise<SA> => JSON.parse(ok(await kubectl(['get', 'sa', name, '-o', 'json']), `get sa ${name}`)) as SA;
      const file = (name: string, text: string): string => {
        const p = path.join(tmp, `${v}-${name}`);
        fs.writeFileSync(p, text);
        return p;
      };
      before(async () => {
        ok(await k.kubectl(v, ['create', 'namespace', ns]), 'create namespace');
      });

      it('apply creates, edits and removes fields; last-applied-configuration follows; diff answers 0 or 1', async () => {
        const first = file(
          'sa.yaml',
          `apiVersion: v1
kind: ServiceAccount
metadata:
  name: robot
  labels: {app: robot, tier: back}
secrets:
- name: s1
- name: s2
imagePullSecrets:
- name: reg1
automountServiceAccountToken: true
`,
        );
        assert.match(ok(await kubectl(['apply', '-f', first]), 'apply (create)'), /serviceaccount\/robot created/);
        let sa = await getSA('robot');
        assert.deepEqual(names(sa.secrets), ['s1', 's2']);
        const applied = JSON.parse(sa.metadata.annotations?.[LAST_APPLIED] ?? '{}') as SA;
        assert.deepEqual(names(applied.secrets), ['s1', 's2']);
        assert.deepEqual(applied.metadata.labels, { app: 'robot', tier: 'back' });

        // Right after apply there is nothing to diff.
        const same = await kubectl(['diff', '-f', first]);
        assert.equal(same.code, 0, `diff after apply: ${same.stderr}${same.stdout}`);
        assert.equal(same.stdout, '');

        // Someone else adds a secret: apply must keep it (three-way merge by the merge key `name`).
        ok(await kubectl(['patch', 'sa', 'robot', '--type', 'strategic', '-p', '{"secrets":[{"name":"extra"}]}']), 'patch');

        // The manifest changes: a label and imagePullSecrets removed, s1 dropped, s3 added, a field changed.
        const second = file(
          'sa.yaml',
          `apiVersion: v1
kind: ServiceAccount
metadata:
  name: robot
  labels: {app: robot}
secrets:
- name: s2
- name: s3
automountServiceAccountToken: false
`,
        );
        const diff = await kubectl(['diff', '-f', second]);
        assert.equal(diff.code, 1, `diff after a change exits 1: ${diff.stderr}${diff.stdout}`);
        assert.match(diff.stdout, /^-\s+tier: back$/m);
        assert.match(diff.stdout, /^-- name: s1$/m);
        assert.match(diff.stdout, /^\+- name: s3$/m);
        assert.match(diff.stdout, /^-imagePullSecrets:$/m);
        assert.match(diff.stdout, /^\+automountServiceAccountToken: false$/m);
        assert.deepEqual(names((await getSA('robot')).secrets), ['extra', 's1', 's2'], 'diff changed nothing (dry run)');

        assert.match(ok(await kubectl(['apply', '-f', second]), 'apply (edit)'), /serviceaccount\/robot configured/);
        sa = await getSA('robot');
        assert.deepEqual(names(sa.secrets), ['extra', 's2', 's3'], 'kept the live-only item, dropped s1, added s3');
        assert.equal(sa.imagePullSecrets, undefined, 'a field removed from the manifest is gone');
        assert.deepEqual(sa.metadata.labels, { app: 'robot' });
        assert.equal(sa.automountServiceAccountToken, false);
        const now = JSON.parse(sa.metadata.annotations?.[LAST_APPLIED] ?? '{}') as SA;
        assert.equal(now.imagePullSecrets, undefined);
        assert.deepEqual(names(now.secrets), ['s2', 's3']);

        // The live-only item makes kubectl send the list's order ($setElementOrder): a patch that changes nothing.
        assert.match(ok(await kubectl(['apply', '-f', second]), 'apply (again)'), /serviceaccount\/robot (configured|unchanged)/);
        assert.equal((await getSA('robot')).metadata.resourceVersion, sa.metadata.resourceVersion, 'no new revision');
        const none = await kubectl(['diff', '-f', second]);
        assert.equal(none.code, 0, `diff after the second apply: ${none.stderr}${none.stdout}`);
      });

      it('apply of a ConfigMap removes a data key the manifest no longer has', async () => {
        const cm = (data: string): string => file('cm.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n${data}`);
        ok(await kubectl(['apply', '-f', cm('  a: "1"\n  b: "2"\n')]), 'apply cm');
        ok(await kubectl(['patch', 'cm', 'settings', '-p', '{"data":{"live":"x"}}']), 'patch cm');
        assert.match(ok(await kubectl(['apply', '-f', cm('  a: "10"\n')]), 'apply cm again'), /configmap\/settings configured/);
        const got = JSON.parse(ok(await kubectl(['get', 'cm', 'settings', '-o', 'json']), 'get cm')) as { data: Record<string, string> };
        assert.deepEqual(got.data, { a: '10', live: 'x' });
        assert.match(ok(await kubectl(['apply', '-f', cm('  a: "10"\n')]), 'apply cm unchanged'), /configmap\/settings unchanged/);
      });

      it('patch --type strategic merges secrets by name; $patch: delete removes one; a missing merge key is refused', async () => {
        ok(await kubectl(['create', 'sa', 'merger']), 'create sa');
        ok(await kubectl(['patch', 'sa', 'merger', '--type', 'strategic', '-p', '{"secrets":[{"name":"one"},{"name":"two"}],"imagePullSecrets":[{"name":"r1"}]}']), 'patch 1');
        // strategic is kubectl patch's default type.
        ok(await kubectl(['patch', 'sa', 'merger', '-p', '{"secrets":[{"name":"three"}],"imagePullSecrets":[{"name":"r2"}]}']), 'patch 2');
        let sa = await getSA('merger');
        assert.deepEqual(names(sa.secrets), ['three', 'one', 'two'], 'merged by name, the new one first');
        assert.deepEqual(names(sa.imagePullSecrets), ['r2'], 'a list without a merge key is replaced');
        ok(await kubectl(['patch', 'sa', 'merger', '--type', 'strategic', '-p', '{"secrets":[{"name":"one","$patch":"delete"}]}']), 'patch $patch: delete');
        sa = await getSA('merger');
        assert.deepEqual(names(sa.secrets), ['three', 'two']);
        ok(await kubectl(['patch', 'sa', 'merger', '-p', '{"$setElementOrder/secrets":[{"name":"two"},{"name":"three"}]}']), 'patch $setElementOrder');
        assert.deepEqual(names((await getSA('merger')).secrets), ['two', 'three']);

        const bad = await kubectl(['patch', 'sa', 'merger', '-p', '{"secrets":[{"kind":"Secret"}]}']);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /Error from server \(BadRequest\): map: map\[kind:Secret\] does not contain declared merge key: name/);
        const unknown = await kubectl(['patch', 'sa', 'merger', '-p', '{"secrets":[{"name":"two","$patch":"squash"}]}']);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /unknown patch type: squash in map: map\[\$patch:squash name:two\]/);
      });

      it('a custom resource answers 415 to a strategic merge patch and takes a merge patch', async () => {
        {
          const crd = file(
            'crd.yaml',
            `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.edit.example.com}
spec:
  group: edit.example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`,
          );
          ok(await k.kubectl(v, ['apply', '-f', crd]), 'apply crd');
          ok(await k.kubectl(v, ['wait', '--for=condition=Established', 'crd/gizmos.edit.example.com', '--timeout=30s']), 'wait established');
        }
        const deadline = Date.now() + 15_000;
        for (;;) {
          const r = await kubectl(['apply', '-f', file('g.yaml', 'apiVersion: edit.example.com/v1\nkind: Gizmo\nmetadata: {name: g1}\nspec: {size: 1}\n')]);
          if (r.code === 0) break;
          assert.ok(Date.now() < deadline, `apply gizmo: ${r.stderr}`);
          await new Promise((res) => setTimeout(res, 300));
        }
        const smp = await kubectl(['patch', 'gizmo', 'g1', '--type', 'strategic', '-p', '{"spec":{"size":2}}']);
        assert.equal(smp.code, 1);
        assert.match(smp.stderr, /application\/strategic-merge-patch\+json is not supported/);
        assert.match(smp.stderr, /accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
        ok(await kubectl(['patch', 'gizmo', 'g1', '--type', 'merge', '-p', '{"spec":{"size":3}}']), 'merge patch');
        // Client-side apply of a custom resource sends a merge patch (kubectl has no Go type for it).
        ok(await kubectl(['apply', '-f', file('g.yaml', 'apiVersion: edit.example.com/v1\nkind: Gizmo\nmetadata: {name: g1}\nspec: {size: 4}\n')]), 'apply gizmo again');
        const g = JSON.parse(ok(await kubectl(['get', 'gizmo', 'g1', '-o', 'json']), 'get gizmo')) as { spec: { size: number } };
        assert.equal(g.spec.size, 4);
      });

      it('edit with a scripted EDITOR sends a strategic merge patch', async () => {
        ok(await kubectl(['create', 'sa', 'edited']), 'create sa');
        ok(await kubectl(['patch', 'sa', 'edited', '-p', '{"metadata":{"labels":{"app":"before"}},"secrets":[{"name":"x"},{"name":"y"}]}']), 'patch');
        const editor = file('editor.sh', `#!/bin/sh\nset -e\nsed -i -e 's/app: before/app: after/' -e '/^secrets:$/a - name: from-editor' -e '/^- name: x$/d' "$1"\n`);
        fs.chmodSync(editor, 0o755);
        const r = await kubectl(['edit', 'sa', 'edited', '-v=6'], { KUBE_EDITOR: editor, EDITOR: editor });
        assert.equal(r.code, 0, `edit: ${r.stderr}`);
        assert.match(r.stdout, /serviceaccount\/edited edited/);
        assert.match(r.stderr, /PATCH.*\/api\/v1\/namespaces\/edit-\d+\/serviceaccounts\/edited/);
        const sa = await getSA('edited');
        assert.deepEqual(sa.metadata.labels, { app: 'after' });
        assert.deepEqual(names(sa.secrets), ['from-editor', 'y']);

        // An editor that changes nothing: kubectl sends nothing.
        const same = await kubectl(['edit', 'sa', 'edited'], { KUBE_EDITOR: 'true', EDITOR: 'true' });
        assert.equal(same.code, 0, same.stderr);
        assert.match(same.stdout + same.stderr, /Edit cancelled, no changes made/);
        assert.equal((await getSA('edited')).metadata.resourceVersion, sa.metadata.resourceVersion);
      });
    });
  }

  describe('python3-kubernetes and kubectl send the same strategic merge patches', () => {
    // Dict bodies go as strategic merge patches, list bodies as JSON patches.
    const patches: unknown[] = [
      { secrets: [{ name: 'c' }] },
      { metadata: { labels: { y: '2', x: null } }, secrets: [{ name: 'a', $patch: 'delete' }] },
      { imagePullSecrets: [{ name: 'r2' }], automountServiceAccountToken: false },
      { '$setElementOrder/secrets': [{ name: 'b' }, { name: 'c' }] },
      { secrets: [{ kind: 'Secret' }] },
      [{ op: 'add', path: '/secrets/-', value: { name: 'd' } }],
    ].map((p) => JSON.parse(JSON.stringify(p)) as unknown);

    it('agree step by step', async () => {
      const ns = 'py-patch';
      ok(await k.kubectl(33, ['create', 'namespace', ns]), 'create namespace');
      const py = await run('/usr/bin/python3', [PY_SCRIPT, k.kubeconfig, ns, 'from-python', JSON.stringify(patches)], { timeoutMs: 60_000 });
      const steps = py.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(py.code, 0, `k8s_patch.py: ${py.stdout}${py.stderr}`);

      // The same with kubectl, on a ServiceAccount made alike.
      ok(
        await k.kubectl(33, ['-n', ns, 'apply', '-f', '-'], {
          input: YAML.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'from-kubectl', labels: { x: '1' } }, secrets: [{ name: 'a' }, { name: 'b' }], imagePullSecrets: [{ name: 'r1' }] }),
        }),
        'create sa',
      );
      const kubectlSteps: Record<string, unknown>[] = [];
      for (const p of patches) {
        const type = Array.isArray(p) ? 'json' : 'strategic';
        const r = await k.kubectl(33, ['-n', ns, 'patch', 'sa', 'from-kubectl', '--type', type, '-p', JSON.stringify(p), '-o', 'json']);
        if (r.code !== 0) {
          kubectlSteps.push({ error: r.stderr.trim() });
          continue;
        }
        const sa = JSON.parse(r.stdout) as SA;
        kubectlSteps.push({
          secrets: names(sa.secrets) ?? [],
          imagePullSecrets: names(sa.imagePullSecrets) ?? [],
          labels: sa.metadata.labels ?? {},
          automountServiceAccountToken: sa.automountServiceAccountToken ?? null,
        });
      }

      const pySteps = steps.filter((s) => String(s.step).startsWith('patch-'));
      assert.equal(pySteps.length, patches.length, JSON.stringify(steps));
      pySteps.forEach((s, i) => {
        const kc = kubectlSteps[i] ?? {};
        if (s.error !== undefined) {
          assert.equal(s.error, 400, `python step ${i}: ${JSON.stringify(s)}`);
          assert.equal(s.reason, 'BadRequest');
          assert.match(String(kc.error), new RegExp(`Error from server \\(BadRequest\\): ${String(s.message).replace(/[[\]()$.*+?^{}|\\]/g, '\\$&')}`), `step ${i}`);
          return;
        }
        const { step: _step, ...pyView } = s;
        assert.deepEqual(pyView, kc, `step ${i}: python ${JSON.stringify(pyView)} vs kubectl ${JSON.stringify(kc)}`);
      });
      // And the documented outcome, step by step.
      assert.deepEqual(pySteps.map((s) => s.secrets ?? 'refused'), [['c', 'a', 'b'], ['c', 'b'], ['c', 'b'], ['b', 'c'], 'refused', ['b', 'c', 'd']]);
      assert.deepEqual(pySteps[1]?.labels, { y: '2' });
      assert.deepEqual(pySteps[2]?.imagePullSecrets, ['r2']);
    });
  });
});
