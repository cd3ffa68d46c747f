// Unit tests of the API fuzzer's generator: replayable, bounded, and fenced where it must be.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinResourceTypes } from '../../api/index.js';
import { parseRequestInfo } from '../../apiserver/requestinfo.js';
import { WIDGETS_CRD } from './fixtures.js';
import { BODY_LIMIT, LC_X, NS_DC, fuzzKind, generateRequest, guard, type FuzzKind, type FuzzRequest } from './generate.js';
import { Rng, rngFor } from './rng.js';
import { Raw, mutate, toJsonText, tokensIn, type Json } from './values.js';

const kinds: FuzzKind[] = builtinResourceTypes().map((rt) =>
  fuzzKind({ group: rt.group, version: rt.version, plural: rt.plural, kind: rt.kind, namespaced: rt.namespaced, verbs: rt.verbs, subresources: Object.keys(rt.subresources), schema: rt.schema }),
);

function req(method: string, path: string): FuzzRequest {
  return { index: 1, method, path, headers: {}, chunked: false, kind: 'x', op: 'x', dryRun: false, watch: false, oversized: false };
}

describe('fuzz generator', () => {
  it('streams are reproducible per (seed, index) and differ between indexes', () => {
    const a = rngFor(42, 7);
    const b = rngFor(42, 7);
    const xs = Array.from({ length: 20 }, () => a.u32());
    assert.deepEqual(
      Array.from({ length: 20 }, () => b.u32()),
      xs,
    );
    assert.notDeepEqual(
      Array.from({ length: 20 }, () => rngFor(42, 8).u32()),
      xs,
    );
    const r = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(10);
      assert.ok(n >= 0 && n < 10 && Number.isInteger(n));
    }
  });

  it('generates request N the same way whatever ran before it', () => {
    for (const i of [0, 1, 17, 4711, 9999]) {
      const first = generateRequest({ seed: 5, kinds }, i);
      generateRequest({ seed: 5, kinds }, i + 1);
      const again = generateRequest({ seed: 5, kinds }, i);
      assert.deepEqual(again, first, `request ${i}`);
    }
  });

  it('keeps bodies bounded, paths sendable, names traceable, watches timed', () => {
    let oversized = 0;
    for (let i = 0; i < 3000; i++) {
      const r = generateRequest({ seed: 9, kinds }, i);
      assert.ok(/^[\x21-\x7e]+$/.test(r.path), `request ${i}: unsendable path ${r.path.slice(0, 80)}`);
      const size = r.body?.length ?? 0;
      assert.ok(size <= 6 * 1024 * 1024, `request ${i}: ${size} bytes`);
      if (size > BODY_LIMIT) {
        oversized++;
        assert.ok(r.oversized);
      }
      // Every token a request carries is its own.
      for (const t of tokensIn(`${r.path} ${r.body?.toString('utf8') ?? ''}`)) assert.equal(t, i, `request ${i} carries token ${t}`);
      let info: ReturnType<typeof parseRequestInfo> | undefined;
      try {
        info = parseRequestInfo(r.method, r.path);
      } catch {
        info = undefined;
      }
      if (info?.verb === 'watch') {
        assert.ok(r.watch);
        assert.equal(new URLSearchParams(r.path.split('?')[1] ?? '').getAll('timeoutSeconds').length, 1);
      }
    }
    assert.ok(oversized > 0 && oversized < 60, `${oversized} oversized bodies in 3000`);
  });

  it('fences destructive requests to the fuzz-dc namespace and the fuzz-x logical cluster', () => {
    assert.equal(guard(req('DELETE', '/api/v1/namespaces/fuzz-a/configmaps')).method, 'GET');
    assert.equal(guard(req('DELETE', '/api/v1/configmaps')).method, 'GET');
    assert.equal(guard(req('DELETE', `/api/v1/namespaces/${NS_DC}/configmaps`)).method, 'DELETE');
    assert.equal(guard(req('DELETE', `/clusters/${LC_X}/api/v1/configmaps`)).method, 'DELETE');
    assert.equal(guard(req('DELETE', '/api/v1/namespaces/fuzz-a')).method, 'GET');
    assert.equal(guard(req('PATCH', '/clusters/fuzz-lc/api/v1/namespaces/fuzz-b/status')).method, 'GET');
    assert.equal(guard(req('PUT', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${WIDGETS_CRD}`)).method, 'GET');
    assert.equal(guard(req('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${WIDGETS_CRD.replace('.', '%2E')}`)).method, 'GET', 'escapes are decoded as the server does');
    assert.equal(guard(req('DELETE', '/api/v1/namespaces/fuzz-a/configmaps/del-1')).method, 'DELETE');
    assert.equal(guard(req('DELETE', '/api/v1/namespaces/del-1')).method, 'DELETE');
    const w = guard(req('GET', '/api/v1/configmaps?watch=1&timeoutSeconds=0&timeoutSeconds=abc'));
    assert.ok(w.watch);
    assert.equal(new URLSearchParams(w.path.split('?')[1]).getAll('timeoutSeconds').length, 1);
  });

  it('splices raw JSON text (numbers and depths JSON.stringify cannot write) and mutates in place', () => {
    assert.equal(toJsonText({ a: new Raw('1e400'), b: [new Raw('[[[]]]')] }), '{"a":1e400,"b":[[[[]]]]}');
    const obj: Json = { metadata: { name: 'fz-1-a' }, spec: { a: 1, b: [1, 2] } };
    mutate(new Rng(3), obj, 20);
    assert.deepEqual((obj as { metadata: { name: string } }).metadata.name, 'fz-1-a', 'the name is not a generic mutation target');
  });
});
