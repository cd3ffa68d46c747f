// Regression tests for what the API fuzz test (fuzz.e2e.test.ts) found, each reduced to the request
// that showed it, against the engine in process on a real temp SQLite store behind the HTTP handler
// (and, for the parser's refusals, a real HTTP server).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinResourceTypes } from '../api/index.js';
import { schemaOps } from '../api/schema/ops.js';
import { openStore } from '../store/registry.js';
import type { Store } from '../store/types.js';
import { answerClientError, clientErrorStatus } from './clienterror.js';
import { MAX_BODY_DEPTH, bodyProblem, checkDecodedBody, nestingDepth, parseJsonBody, parseYamlBody } from './bodylimits.js';
import { ApiEngine, watchTimeoutMs } from './engine.js';
import { createApiHandler, versionInfo } from './http.js';
import { MAX_REPORTED_CAUSES } from './object.js';
import { WARNINGS_TOTAL_RUNES, WARNING_ITEM_RUNES, limitWarnings } from './respond.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

function request(port: number, method: string, p: string, body?: unknown, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  const started = Date.now();
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, agent: false, headers: { 'content-type': 'application/json', ...(data === undefined ? {} : { 'content-length': Buffer.byteLength(data) }), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: Date.now() - started }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const deepJson = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('robustness: what the API fuzz test found', () => {
  describe('body nesting depth', () => {
    it('counts nesting without recursion, also far past any stack', () => {
      assert.equal(nestingDepth(1), 0);
      assert.equal(nestingDepth({}), 1);
      assert.equal(nestingDepth([[], { a: [1] }]), 3);
      assert.equal(nestingDepth(JSON.parse(deepJson(200_000))), 200_000);
      assert.equal(nestingDepth(JSON.parse(deepJson(200_000)), 10), 11, 'stops counting past the limit');
    });

    it('refuses more than MAX_BODY_DEPTH levels with BadRequest, accepts exactly that many', () => {
      assert.doesNotThrow(() => checkDecodedBody(JSON.parse(deepJson(MAX_BODY_DEPTH))));
      assert.throws(() => checkDecodedBody(JSON.parse(deepJson(MAX_BODY_DEPTH + 1))), /exceeded max depth of 1000/);
      assert.throws(() => parseJsonBody(Buffer.from('{"a":'), 'error decoding patch'), /^KumoError: error decoding patch: /);
    });
  });

  describe('numbers no float64 holds', () => {
    it('are refused at decode: JSON 1e400, YAML .inf and .nan (stored, they became null past validation)', () => {
      assert.match(bodyProblem(JSON.parse('{"a":[1e400]}')) ?? '', /out of the range of a float64/);
      assert.match(bodyProblem(JSON.parse('-1e400')) ?? '', /out of the range/);
      assert.equal(bodyProblem(JSON.parse('{"a":1.7976931348623157e308,"b":-0}')), undefined);
      assert.throws(() => parseJsonBody(Buffer.from('{"spec":{"hard":{"x":-1e400}}}'), 'error decoding patch'), /^KumoError: error decoding patch: a number is out of the range/);
      for (const y of ['a: .inf\n', 'a: [-.inf]\n', 'a: .nan\n', '{"a": 1e999}']) assert.throws(() => parseYamlBody(Buffer.from(y)), /out of the range/, y);
    });
  });

  describe('YAML bodies', () => {
    it('finds duplicate keys in one pass per mapping (the pairwise check held the event loop for minutes at 100,000 keys)', () => {
      assert.throws(() => parseYamlBody(Buffer.from('a: 1\na: 2\n')), /Map keys must be unique: "a"/);
      assert.throws(() => parseYamlBody(Buffer.from('x: {a: 1, a: 2}\n')), /Map keys must be unique/);
      assert.deepEqual(parseYamlBody(Buffer.from('- {a: 1}\n- {a: 1}\n')), [{ a: 1 }, { a: 1 }]);
      assert.deepEqual(parseYamlBody(Buffer.from('1: x\n"1": y\n')), { 1: 'y' }, 'keys of different types differ, as in the yaml package');
      assert.throws(() => parseYamlBody(Buffer.from('a: 1\n---\nb: 2\n')), /multiple documents/);
      const time = (n: number): number => {
        const block = Buffer.from(Array.from({ length: n }, (_, i) => `k${i}: v`).join('\n'));
        const t0 = process.hrtime.bigint();
        parseYamlBody(block);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      time(2000);
      const small = time(5000);
      const large = time(40_000);
      assert.ok(large / small < 30, `8x the keys took ${(large / small).toFixed(1)}x the time (${small.toFixed(0)} → ${large.toFixed(0)} ms): quadratic?`);
    });

    it('reads JSON as JSON, with the depth limit', () => {
      const wide = Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 'v']))));
      const t0 = Date.now();
      assert.equal(Object.keys(parseYamlBody(wide) as object).length, 100_000);
      assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
      assert.throws(() => parseYamlBody(Buffer.from(deepJson(MAX_BODY_DEPTH + 1))), /exceeded max depth of 1000/);
      assert.deepEqual(parseYamlBody(Buffer.from('{a: 1, b: [x]}')), { a: 1, b: ['x'] }, 'flow-style YAML is not JSON, and still YAML');
    });
  });

  describe('watch timeoutSeconds', () => {
    it('reads timeoutSeconds as kube does', () => {
      const fixed = (): number => 0.5;
      assert.equal(watchTimeoutMs(null, 1800, fixed), 2700_000, 'absent: the default, randomized');
      assert.equal(watchTimeoutMs('0', 1800, fixed), 2700_000, '0: the default');
      assert.equal(watchTimeoutMs('5', 1800), 5000);
      assert.equal(watchTimeoutMs('-1', 1800), 0, 'negative: ends at once (it was a 30-60 minute watch)');
      assert.equal(watchTimeoutMs('99999999999', 1800), 2 ** 31 - 1, 'capped at what setTimeout takes (it wrapped to 1 ms)');
      for (const bad of ['abc', '1.5', '1e3', ' 1', '99999999999999999999']) assert.throws(() => watchTimeoutMs(bad, 1800), /timeoutSeconds: Invalid value/, bad);
    });
  });

  describe('warnings', () => {
    it("keeps kube's limits: all while they total 4 Ki characters, else 256 each until the total passes 4 Ki", () => {
      assert.deepEqual(limitWarnings(['a', 'b', 'a']), ['a', 'b']);
      const many = Array.from({ length: 1000 }, (_, i) => `unknown field "spec.expiresAt.k${i}"`);
      const kept = limitWarnings(many);
      assert.ok(kept.length < many.length && kept.length > 100, `${kept.length} kept`);
      assert.ok(kept.join('').length <= WARNINGS_TOTAL_RUNES + WARNING_ITEM_RUNES);
      const long = limitWarnings(Array.from({ length: 40 }, (_, i) => `${i}${'x'.repeat(1000)}`));
      assert.ok(long.every((w) => w.length === WARNING_ITEM_RUNES));
      assert.equal(long.length, Math.ceil(WARNINGS_TOTAL_RUNES / WARNING_ITEM_RUNES));
    });
  });

  describe('through the engine', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-robustness-test-'));
    let store: Store;
    let engine: ApiEngine;
    let srv: http.Server;
    let port = 0;
    before(async () => {
      store = await openStore(`sqlite:${path.join(dir, 'kumo.db')}`, {});
      engine = new ApiEngine({ store, resourceTypes: builtinResourceTypes(), schema: schemaOps, serverAddress: () => '127.0.0.1:0' });
      await engine.ensureSystemNamespaces();
      srv = http.createServer(createApiHandler({ store, version: versionInfo({ kumoVersion: '0.0.0' }), api: (req, res, body) => engine.handle(req, res, body) }));
      await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
      port = (srv.address() as AddressInfo).port;
    });
    after(async () => {
      srv?.closeAllConnections();
      srv?.close();
      await engine?.stop();
      await store?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('answers 400, not 500, to bodies nested deeper than the stack allows (create, update, every patch type, delete options)', async () => {
      const cm = '/api/v1/namespaces/default/configmaps';
      assert.equal((await request(port, 'POST', cm, { metadata: { name: 'deep' }, data: { a: 'b' } })).status, 201);
      const deep = deepJson(5000);
      const cases: [string, string, string, string][] = [
        ['POST', cm, `{"metadata":{"name":"x","labels":${deep}}}`, 'application/json'],
        ['PUT', `${cm}/deep`, `{"metadata":{"name":"deep"},"data":${deep}}`, 'application/json'],
        ['PATCH', `${cm}/deep`, `{"data":${deep}}`, 'application/merge-patch+json'],
        ['PATCH', `${cm}/deep`, `{"data":${deep}}`, 'application/strategic-merge-patch+json'],
        ['PATCH', `${cm}/deep`, `[{"op":"add","path":"/data/x","value":${deep}}]`, 'application/json-patch+json'],
        ['DELETE', `${cm}/deep`, `{"preconditions":${deep}}`, 'application/json'],
      ];
      for (const [method, p, body, type] of cases) {
        const r = await request(port, method, p, body, { 'content-type': type });
        assert.equal(r.status, 400, `${method} ${type}: ${r.body.slice(0, 300)}`);
        assert.match(r.body, /exceeded max depth of 1000/, `${method} ${type}`);
      }
    });

    it('stores, serves and patches an object nested exactly MAX_BODY_DEPTH deep (a free-form field)', async () => {
      const addons = '/apis/kumo.dev/v1alpha1/namespaces/default/addons';
      // {spec: {values: …}}: two levels around the free-form value.
      const values = deepJson(MAX_BODY_DEPTH - 2);
      const created = await request(port, 'POST', addons, `{"metadata":{"name":"deep"},"spec":{"cluster":"c1","definition":"d","values":${values}}}`);
      assert.equal(created.status, 201, created.body.slice(0, 300));
      const got = await request(port, 'GET', `${addons}/deep`);
      assert.equal(got.status, 200);
      assert.equal(nestingDepth((JSON.parse(got.body) as { spec: unknown }).spec), MAX_BODY_DEPTH - 1);
      for (const type of ['application/merge-patch+json', 'application/json-patch+json']) {
        const body = type === 'application/json-patch+json' ? `[{"op":"replace","path":"/spec/values","value":${deepJson(MAX_BODY_DEPTH - 3)}}]` : `{"spec":{"values":${deepJson(MAX_BODY_DEPTH - 3)}}}`;
        const patched = await request(port, 'PATCH', `${addons}/deep`, body, { 'content-type': type });
        assert.equal(patched.status, 200, `${type}: ${patched.body.slice(0, 300)}`);
      }
      const tooDeep = await request(port, 'POST', addons, `{"metadata":{"name":"deeper"},"spec":{"cluster":"c1","definition":"d","values":${deepJson(MAX_BODY_DEPTH - 1)}}}`);
      assert.equal(tooDeep.status, 400, tooDeep.body.slice(0, 300));
    });

    it('answers an apply or a YAML create with 100,000 keys in a mapping without stalling', async () => {
      const keys = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 'v']));
      const t0 = Date.now();
      const applied = await request(port, 'PATCH', '/api/v1/namespaces/default/configmaps/wide?fieldManager=t', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'wide' }, data: { a: 'b' }, extra: keys }, { 'content-type': 'application/apply-patch+yaml' });
      assert.ok(applied.status < 500, applied.body.slice(0, 300));
      const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide-yaml}\ndata:\n${Array.from({ length: 20_000 }, (_, i) => `  k${i}: v`).join('\n')}\n`;
      const created = await request(port, 'POST', '/api/v1/namespaces/default/configmaps', yaml, { 'content-type': 'application/yaml' });
      assert.equal(created.status, 201, created.body.slice(0, 300));
      assert.ok(Date.now() - t0 < 20_000, `${Date.now() - t0} ms`);
    });

    it('refuses a patch or create holding 1e400 or .inf with 400 and leaves the object as it was (it stored null in a ResourceQuota)', async () => {
      const quotas = '/api/v1/namespaces/default/resourcequotas';
      const created = await request(port, 'POST', quotas, { metadata: { name: 'inf' }, spec: { hard: { 'limits.memory': '1Gi', secrets: '10' } } });
      assert.equal(created.status, 201, created.body);
      const patches: [string, string][] = [
        ['application/strategic-merge-patch+json', '{"spec":{"hard":{"limits.memory":-1e400},"$patch":"replace"}}'],
        ['application/merge-patch+json', '{"spec":{"hard":{"limits.memory":1e400}}}'],
        ['application/json-patch+json', '[{"op":"replace","path":"/spec/hard/limits.memory","value":1e999}]'],
        ['application/apply-patch+yaml', 'apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: inf}\nspec: {hard: {limits.memory: .inf}}\n'],
      ];
      for (const [type, body] of patches) {
        const r = await request(port, 'PATCH', `${quotas}/inf?fieldManager=t`, body, { 'content-type': type });
        assert.equal(r.status, 400, `${type}: ${r.body.slice(0, 300)}`);
      }
      const yaml = await request(port, 'POST', quotas, 'apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: inf2}\nspec: {hard: {secrets: .nan}}\n', { 'content-type': 'application/yaml' });
      assert.equal(yaml.status, 400, yaml.body);
      const got = JSON.parse((await request(port, 'GET', `${quotas}/inf`)).body) as { spec: { hard: Record<string, unknown> } };
      assert.deepEqual(got.spec.hard, { 'limits.memory': '1Gi', secrets: '10' });
    });

    it('answers a CRD whose schema is not JSONSchemaProps-shaped with 422, not 500', async () => {
      const crds = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
      const crd = (schema: unknown): unknown => ({
        metadata: { name: 'things.x.io' },
        spec: { group: 'x.io', scope: 'Namespaced', names: { plural: 'things', kind: 'Thing' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] },
      });
      const shapes = [
        { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, x: null } },
        { type: 'object', properties: { a: { type: 5 } } },
        { type: 'object', properties: { a: { type: 'array', items: [null] } } },
        { type: 'object', properties: 'x' },
        { type: 'object', required: [1], properties: { a: { type: 'string', maxLength: 1.5 } } },
        { type: 'object', allOf: {}, not: [] },
        { type: 'object', 'x-kubernetes-validations': [{ rule: 5 }, null] },
        { type: 'object', additionalProperties: null },
      ];
      for (const schema of shapes) {
        const r = await request(port, 'POST', crds, crd(schema));
        assert.equal(r.status, 422, `${JSON.stringify(schema)}: ${r.body.slice(0, 300)}`);
      }
    });

    it('reports at most MAX_REPORTED_CAUSES causes (100,000 wrong items answered with an 8 MiB Status)', async () => {
      const rules = Array.from({ length: 20_000 }, (_, i) => i);
      const r = await request(port, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles', { metadata: { name: 'many' }, rules });
      assert.equal(r.status, 422);
      assert.ok(r.body.length < 64 * 1024, `${r.body.length} bytes`);
      const status = JSON.parse(r.body) as { message: string; details: { causes: unknown[] } };
      assert.equal(status.details.causes.length, MAX_REPORTED_CAUSES);
      assert.match(status.message, /, and \d+ more errors\]$/);
    });

    it('answers a watch with a malformed resourceVersion with 400 before streaming (it reset the connection mid-stream)', async () => {
      const r = await request(port, 'GET', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=-1&timeoutSeconds=1');
      assert.equal(r.status, 400, r.body);
      assert.equal((JSON.parse(r.body) as { kind: string }).kind, 'Status');
    });

    it('refuses a garbage timeoutSeconds, and ends a watch with a negative one at once (both were 30-60 minute watches)', async () => {
      const bad = await request(port, 'GET', '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=abc');
      assert.equal(bad.status, 400, bad.body);
      const neg = await request(port, 'GET', '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=-1');
      assert.equal(neg.status, 200);
      assert.ok(neg.ms < 5000, `ended after ${neg.ms} ms`);
    });

    it('bounds the Warning header of a write with thousands of unknown fields', async () => {
      const data = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'v']));
      const r = await request(port, 'POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', { metadata: { name: 'warned' }, spec: { holderIdentity: 'h', ...data } });
      assert.equal(r.status, 201, r.body);
      const warning = ([] as string[]).concat(r.headers.warning ?? []).join(', ');
      assert.ok(warning.length > 0 && warning.length < 8 * 1024, `Warning header of ${warning.length} bytes`);
    });
  });

  describe("requests Node's parser refuses", () => {
    it('answers with a Status and closes, instead of resetting the connection', async (t) => {
      const srv = http.createServer((_req, res) => res.end('ok'));
      srv.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket));
      await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
      t.after(() => {
        srv.closeAllConnections();
        srv.close();
      });
      const { port } = srv.address() as AddressInfo;
      const raw = (text: string): Promise<string> =>
        new Promise((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => s.write(text));
          let got = '';
          s.on('data', (d: Buffer) => (got += d.toString()));
          s.on('end', () => resolve(got));
          s.on('error', reject);
        });
      const foo = await raw('FOO /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(foo, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
      assert.equal((JSON.parse(foo.split('\r\n\r\n')[1] ?? '') as { code: number; reason: string }).reason, 'MethodNotAllowed');
      const big = await raw(`GET /${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 400 Bad Request\r\n/);
      // A keep-alive connection that answered a request first still gets the Status.
      const both = await raw('GET / HTTP/1.1\r\nHost: x\r\n\r\nFOO / HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(both, /^HTTP\/1\.1 200 OK[\s\S]*HTTP\/1\.1 405 Method Not Allowed/);
      assert.equal(clientErrorStatus('HPE_INVALID_CHUNK_SIZE').code, 400);
      // The answer to a HEAD carries no body (the client would read it as a next response).
      const head = await raw(`HEAD /${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(head, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\n$/);
    });
  });
});
