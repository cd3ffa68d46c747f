// End-to-end: CRD validation rules (x-kubernetes-validations) through the real kumo binary and the
// real kubectl binaries (1.33 and 1.27): rules that do not compile are refused with the CRD, objects
// that break a rule are refused with kube's error text, transition rules apply on update only.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ok, startKumo, type KumoHandle } from '../testing/kumo.js';

const VERSIONS = [33, 27];

function fails(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  assert.notEqual(r.code, 0, `${what} should fail: ${r.stdout}`);
  return r.stderr;
}

const crd = (group: string, rule = 'self.minReplicas <= self.maxReplicas') => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
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
            x-kubernetes-validations:
            - rule: "${rule}"
              message: minReplicas must not exceed maxReplicas
            - rule: "self.tags.all(t, t.matches('^[a-z]+$'))"
              messageExpression: "'tags must be lowercase, got ' + self.tags.join(', ')"
              fieldPath: .tags
            properties:
              minReplicas: {type: integer}
              maxReplicas: {type: integer}
              tags: {type: array, items: {type: string}, default: []}
              name:
                type: string
                x-kubernetes-validations:
                - rule: self == oldSelf
                  message: name is immutable
`;

const widget = (group: string, name: string, spec: string) => `apiVersion: ${group}/v1
kind: Widget
metadata: {name: ${name}, namespace: default}
spec: ${spec}
`;

describe('CRD validation rules with kubectl (e2e)', () => {
  let k: KumoHandle;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-cel-e2e-'));
  const file = (name: string, text: string): string => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, text);
    return p;
  };
  before(async () => {
    k = await startKumo();
  });
  after(async () => {
    await k?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const v of VERSIONS) {
    it(`kubectl 1.${v}: a rule that does not compile refuses the CRD`, async () => {
      const group = `bad${v}.example.com`;
      const err = fails(await k.kubectl(v, ['create', '-f', file(`bad-${v}.yaml`, crd(group, 'self.minReplicas <= self.nope'))]), 'create bad crd');
      assert.match(
        err,
        new RegExp(
          `The CustomResourceDefinition "widgets\\.${group.replace(/\./g, '\\.')}" is invalid: spec\\.versions\\[0\\]\\.schema\\.openAPIV3Schema\\.properties\\[spec\\]\\.x-kubernetes-validations\\[0\\]\\.rule: Invalid value: apiextensions\\.ValidationRule\\{Rule:"self\\.minReplicas <= self\\.nope".*compilation failed: ERROR: <input>:1:25: undefined field 'nope'`,
        ),
      );
      const gone = await k.kubectl(v, ['get', 'crd', `widgets.${group}`]);
      assert.equal(gone.code, 1, 'the CRD was not stored');
    });

    it(`kubectl 1.${v}: objects are checked by the rules on create, apply and dry-run`, async () => {
      const group = `cel${v}.example.com`;
      ok(await k.kubectl(v, ['create', '-f', file(`crd-${v}.yaml`, crd(group))]), 'create crd');
      ok(await k.kubectl(v, ['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=20s']), 'wait Established');

      ok(await k.kubectl(v, ['create', '-f', file(`w1-${v}.yaml`, widget(group, 'w1', '{minReplicas: 1, maxReplicas: 3, name: first, tags: [a]}'))]), 'create valid');

      const bad = fails(await k.kubectl(v, ['create', '-f', file(`bad-w-${v}.yaml`, widget(group, 'x', '{minReplicas: 5, maxReplicas: 3}'))]), 'create invalid');
      assert.match(bad, /The Widget "x" is invalid: spec: Invalid value: "object": minReplicas must not exceed maxReplicas/);

      const dry = fails(await k.kubectl(v, ['create', '--dry-run=server', '-f', file(`bad-w-${v}.yaml`, widget(group, 'x', '{minReplicas: 5, maxReplicas: 3}'))]), 'dry-run invalid');
      assert.match(dry, /minReplicas must not exceed maxReplicas/);

      const tags = fails(await k.kubectl(v, ['create', '-f', file(`tags-${v}.yaml`, widget(group, 'tagged', '{minReplicas: 1, maxReplicas: 1, tags: [ok, Bad]}'))]), 'create bad tags');
      assert.match(tags, /The Widget "tagged" is invalid: spec\.tags: Invalid value: "object": tags must be lowercase, got ok, Bad/);

      // Two rules broken at once: kubectl lists the causes.
      const both = fails(await k.kubectl(v, ['create', '-f', file(`both-${v}.yaml`, widget(group, 'z', '{minReplicas: 2, maxReplicas: 1, tags: [X]}'))]), 'create two errors');
      assert.match(both, /The Widget "z" is invalid: \n\* spec: Invalid value: "object": minReplicas must not exceed maxReplicas\n\* spec\.tags: Invalid value: "object": tags must be lowercase, got X\n/);

      // The transition rule: kubectl apply of a changed name is an update that the rule refuses.
      const applied = file(`apply-${v}.yaml`, widget(group, 'w2', '{minReplicas: 1, maxReplicas: 2, name: before}'));
      ok(await k.kubectl(v, ['apply', '-f', applied]), 'apply create');
      fs.writeFileSync(applied, widget(group, 'w2', '{minReplicas: 1, maxReplicas: 4, name: before}'));
      ok(await k.kubectl(v, ['apply', '-f', applied]), 'apply an allowed change');
      fs.writeFileSync(applied, widget(group, 'w2', '{minReplicas: 1, maxReplicas: 4, name: after}'));
      const immutable = fails(await k.kubectl(v, ['apply', '-f', applied]), 'apply a changed name');
      assert.match(immutable, /The Widget "w2" is invalid: spec\.name: Invalid value: "string": name is immutable/);
      const got = JSON.parse(ok(await k.kubectl(v, ['get', 'widget', 'w2', '-n', 'default', '-o', 'json']), 'get')) as { spec: Record<string, unknown> };
      assert.deepEqual(got.spec, { minReplicas: 1, maxReplicas: 4, name: 'before', tags: [] });

      // replace goes through update too.
      const replaced = fails(await k.kubectl(v, ['replace', '-f', file(`replace-${v}.yaml`, widget(group, 'w1', '{minReplicas: 1, maxReplicas: 3, name: other}'))]), 'replace');
      assert.match(replaced, /spec\.name: Invalid value: "string": name is immutable/);

      ok(await k.kubectl(v, ['delete', 'crd', `widgets.${group}`, '--wait=true', '--timeout=30s']), 'delete crd');
    });
  }
});
