import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { KumoError } from '../lib/errors.js';
import type { Store } from '../store/types.js';
import { MAX_REQUEST_BODY_BYTES, createApiHandler, versionInfo, type ApiHandlerOptions, type VersionInfo } from './http.js';

/** Only checkHealth is used by this handler; any other call fails the test. */
function fakeStore(checkHealth: () => Promise<void>): Store {
  const target: Partial<Store> = { name: 'fake:', checkHealth };
  return new Proxy(target, {
    get(target, prop: string) {
      if (prop in target) return target[prop as keyof Store];
      if (prop === 'then') return undefined;
      throw new Error(`unexpected store call ${prop}`);
    },
  }) as Store;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function serve(t: { after: (fn: () => Promise<void> | void) => void }, opts: Partial<ApiHandlerOptions> = {}): Promise<{ port: number; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const handler = createApiHandler({
    store: fakeStore(() => Promise.resolve()),
    version: versionInfo({ kumoVersion: '9.8.7', gitCommit: 'abc' }),
    logger,
    ...opts,
  });
  const srv = http.createServer(handler);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    srv.closeAllConnections();
    srv.close();
  });
  return { port: (srv.address() as AddressInfo).port, logs };
}

function request(port: number, method: string, path: string, body?: Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('api handler', () => {
  it('answers /livez, /readyz and /healthz with ok', async (t) => {
    const { port } = await serve(t);
    for (const p of ['/livez', '/readyz', '/healthz']) {
      const r = await request(port, 'GET', p);
      assert.equal(r.status, 200, p);
      assert.equal(r.body, 'ok');
      assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
    }
    const head = await request(port, 'HEAD', '/readyz');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('lists the checks with ?verbose', async (t) => {
    const { port } = await serve(t);
    const r = await request(port, 'GET', '/readyz?verbose');
    assert.equal(r.status, 200);
    assert.equal(r.body, '[+]ping ok\n[+]store ok\n[+]shutdown ok\nreadyz check passed\n');
    assert.equal((await request(port, 'GET', '/livez?verbose')).body, '[+]ping ok\nlivez check passed\n');
  });

  it('fails /readyz with 503 naming the store check when checkHealth rejects, and keeps /livez up', async (t) => {
    const { port, logs } = await serve(t, { store: fakeStore(() => Promise.reject(new KumoError('Unavailable', 'etcd is down'))) });
    const r = await request(port, 'GET', '/readyz');
    assert.equal(r.status, 503);
    assert.equal(r.body, '[+]ping ok\n[-]store failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n');
    assert.doesNotMatch(r.body, /etcd is down/, 'the reason is only logged');
    assert.ok(logs.some((l) => l.msg === 'health check failed' && l.check === 'store' && l.err === 'etcd is down'));
    assert.equal((await request(port, 'GET', '/healthz')).status, 503);
    assert.equal((await request(port, 'GET', '/livez')).status, 200);
    assert.equal((await request(port, 'GET', '/readyz?exclude=store')).status, 200);
    const single = await request(port, 'GET', '/readyz/store');
    assert.equal(single.status, 503);
    assert.equal(single.body, '[-]store failed: reason withheld\nreadyz check failed\n');
    assert.equal((await request(port, 'GET', '/readyz/ping')).body, 'ok');
    assert.equal((await request(port, 'GET', '/readyz/nothing')).status, 404);
  });

  it('fails /readyz when checkHealth does not answer in time', async (t) => {
    const { port } = await serve(t, { store: fakeStore(() => new Promise(() => undefined)), healthTimeoutMs: 100 });
    const started = Date.now();
    const r = await request(port, 'GET', '/readyz');
    assert.equal(r.status, 503);
    assert.match(r.body, /\[-\]store failed/);
    assert.ok(Date.now() - started < 2000);
  });

  it('fails the shutdown check and closes connections while shutting down', async (t) => {
    let down = false;
    const { port } = await serve(t, { isShuttingDown: () => down });
    assert.equal((await request(port, 'GET', '/readyz')).status, 200);
    down = true;
    const r = await request(port, 'GET', '/readyz');
    assert.equal(r.status, 503);
    assert.match(r.body, /\[-\]shutdown failed: reason withheld/);
    assert.equal(r.headers.connection, 'close');
    assert.equal((await request(port, 'GET', '/livez')).status, 200);
  });

  it('serves /version like kube-apiserver', async (t) => {
    const { port } = await serve(t);
    for (const p of ['/version', '/version/', '/version?timeout=32s']) {
      const r = await request(port, 'GET', p);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/json');
      const v = JSON.parse(r.body) as VersionInfo;
      assert.equal(v.major, '1');
      assert.equal(v.minor, '33');
      assert.equal(v.gitVersion, 'v1.33.0+kumo.9.8.7');
      assert.equal(v.gitCommit, 'abc');
      assert.equal(v.compiler, 'tsc');
      assert.match(v.goVersion, /^node-v\d+\./);
      assert.match(v.platform, /^[a-z0-9]+\/[a-z0-9]+$/);
      for (const k of ['gitTreeState', 'buildDate', 'emulationMajor', 'emulationMinor']) assert.equal(typeof v[k as keyof VersionInfo], 'string');
    }
  });

  it('answers every other path with a NotFound Status', async (t) => {
    const { port } = await serve(t);
    for (const [method, p] of [['GET', '/api/v1/pods'], ['GET', '/'], ['POST', '/apis'], ['GET', '//evil.example/x?y=%zz'], ['DELETE', '/livez/ping/extra']]) {
      const r = await request(port, method ?? 'GET', p ?? '/');
      assert.equal(r.status, 404, `${method} ${p}`);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(r.body), {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the server could not find the requested resource',
        reason: 'NotFound',
        code: 404,
      });
    }
  });

  it('answers other methods on health and version paths with 405', async (t) => {
    const { port } = await serve(t);
    for (const [method, p] of [['POST', '/livez'], ['PUT', '/readyz'], ['DELETE', '/version'], ['PATCH', '/healthz/ping']]) {
      const r = await request(port, method ?? 'POST', p ?? '/');
      assert.equal(r.status, 405, `${method} ${p}`);
      assert.equal(r.headers.allow, 'GET, HEAD');
      const s = JSON.parse(r.body) as { kind: string; reason: string; code: number };
      assert.equal(s.kind, 'Status');
      assert.equal(s.reason, 'MethodNotAllowed');
      assert.equal(s.code, 405);
    }
  });

  it('rejects bodies over 3 MiB with 413, declared or chunked; accepts 3 MiB', async (t) => {
    const { port } = await serve(t);
    const atLimit = await request(port, 'POST', '/api/v1/namespaces', Buffer.alloc(MAX_REQUEST_BODY_BYTES, 'a'));
    assert.equal(atLimit.status, 404);

    const declared = await request(port, 'POST', '/api/v1/namespaces', Buffer.alloc(MAX_REQUEST_BODY_BYTES + 1, 'a'));
    assert.equal(declared.status, 413);
    const s = JSON.parse(declared.body) as { reason: string; code: number; message: string };
    assert.equal(s.reason, 'RequestEntityTooLarge');
    assert.equal(s.code, 413);
    assert.match(s.message, /3145728 bytes/);

    // Chunked: no Content-Length, the limit is found while reading.
    const chunked = await new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/livez', agent: false, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(256 * 1024, 'b');
      for (let i = 0; i < 16; i++) req.write(chunk);
      req.end();
    });
    assert.equal(chunked.status, 413);
    assert.equal(chunked.headers.connection, 'close');
  });

  it('turns an unexpected exception into a generic 500 Status and logs it', async (t) => {
    const broken = { toJSON: () => { throw new Error('boom: secret detail'); } } as unknown as VersionInfo;
    const { port, logs } = await serve(t, { version: broken });
    const r = await request(port, 'GET', '/version');
    assert.equal(r.status, 500);
    const s = JSON.parse(r.body) as { reason: string; message: string; code: number };
    assert.equal(s.reason, 'InternalError');
    assert.equal(s.code, 500);
    assert.equal(s.message, 'an internal error occurred');
    assert.ok(logs.some((l) => l.msg === 'request failed unexpectedly' && l.err === 'boom: secret detail' && l.path === '/version'));
    // The server keeps serving.
    assert.equal((await request(port, 'GET', '/livez')).status, 200);
  });

  it('answers 429 with Retry-After past the in-flight limit, and serves again after', async (t) => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const { port } = await serve(t, {
      maxRequestsInFlight: 2,
      api: async (_req, res) => {
        await gate;
        res.end('{}');
        return true;
      },
    });
    const slow = [request(port, 'GET', '/api/v1/a'), request(port, 'GET', '/api/v1/b')];
    await new Promise((r) => setTimeout(r, 100));
    const third = await request(port, 'GET', '/api/v1/c');
    assert.equal(third.status, 429);
    const s = JSON.parse(third.body) as { reason: string; details: { retryAfterSeconds: number } };
    assert.equal(s.reason, 'TooManyRequests');
    assert.equal(s.details.retryAfterSeconds, 1);
    release();
    await Promise.all(slow);
    assert.equal((await request(port, 'GET', '/api/v1/d')).status, 200);
  });

  it('logs each request at debug level', async (t) => {
    const { port, logs } = await serve(t);
    await request(port, 'GET', '/livez?verbose');
    await new Promise((r) => setImmediate(r));
    assert.ok(logs.some((l) => l.msg === 'request' && l.path === '/livez' && l.code === 200 && l.method === 'GET'));
  });
});
