// The request pipeline of http.ts: authentication before anything is read or served, the impersonation
// hook, the authorizer chain, and kube's 401 and 403 bodies, over a real HTTP listener.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { KumoError } from '../../lib/errors.js';
import type { Store } from '../../store/types.js';
import { createApiHandler, versionInfo, type RequestAuth } from '../http.js';
import { RequestAuthenticator } from './authenticate.js';
import { AuthorizerChain, authenticatedAllowAuthorizer, forbiddenMessage, privilegedGroupsAuthorizer, publicPathsAuthorizer } from './authorize.js';
import { TokenFileAuthenticator } from './tokenfile.js';
import { requestUser, type Attributes, type Authorizer } from './types.js';

const UNAUTHORIZED_BODY = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}';

const store = { name: 'fake:', checkHealth: () => Promise.resolve() } as unknown as Store;

function authn(anonymous = true): RequestAuthenticator {
  return new RequestAuthenticator({
    requestAuthenticators: [],
    tokenAuthenticators: [
      new TokenFileAuthenticator([
        { token: 'alice-token', user: { username: 'alice', uid: '1', groups: ['devs'] } },
        { token: 'root-token', user: { username: 'root', groups: ['system:masters'] } },
      ]),
    ],
    apiAudiences: ['https://kubernetes.default.svc.cluster.local'],
    anonymous,
  });
}

const chain = (...extra: Authorizer[]): AuthorizerChain => new AuthorizerChain([privilegedGroupsAuthorizer(), ...extra, authenticatedAllowAuthorizer(), publicPathsAuthorizer()]);

async function serve(t: { after: (fn: () => void) => void }, auth: Partial<RequestAuth> & { anonymous?: boolean } = {}): Promise<number> {
  const a = authn(auth.anonymous ?? true);
  const handler = createApiHandler({
    store,
    version: versionInfo({ kumoVersion: '0.0.0' }),
    logger: pino({ level: 'silent' }),
    // Answers every API path with who asked and the body it got.
    api: (req, res, body) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ user: requestUser(req), body: body.toString() }));
      return Promise.resolve(true);
    },
    auth: { authenticate: (req) => a.authenticate(req), authorizer: auth.authorizer ?? chain(), ...(auth.impersonate ? { impersonate: auth.impersonate } : {}) },
  });
  const srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => {
    srv.closeAllConnections();
    srv.close();
  });
  return (srv.address() as AddressInfo).port;
}

function request(port: number, method: string, path: string, headers: http.OutgoingHttpHeaders = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = (t: string): http.OutgoingHttpHeaders => ({ authorization: `Bearer ${t}` });

describe('request pipeline (authentication → impersonation → authorization)', () => {
  it('anonymous callers reach health, version, discovery and OpenAPI — nothing else', async (t) => {
    const port = await serve(t);
    for (const p of ['/livez', '/readyz', '/healthz', '/readyz?verbose', '/version', '/api', '/apis', '/apis/apps/v1', '/openapi/v2', '/openapi/v3/apis/apps/v1', '/.well-known/openid-configuration', '/openid/v1/jwks', '/clusters/team-a/api']) {
      assert.equal((await request(port, 'GET', p)).status, 200, p);
    }
    const list = await request(port, 'GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(list.status, 403);
    assert.deepEqual(JSON.parse(list.body), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps is forbidden: User "system:anonymous" cannot list resource "configmaps" in API group "" in the namespace "default"',
      reason: 'Forbidden',
      details: { kind: 'configmaps' },
      code: 403,
    });
    const get = JSON.parse((await request(port, 'GET', '/apis/apps/v1/namespaces/ns/deployments/web/scale')).body) as { message: string; details: unknown };
    assert.equal(get.message, 'deployments.apps "web" is forbidden: User "system:anonymous" cannot get resource "deployments/scale" in API group "apps" in the namespace "ns"');
    assert.deepEqual(get.details, { name: 'web', group: 'apps', kind: 'deployments' });
    const ns = JSON.parse((await request(port, 'POST', '/api/v1/namespaces', {}, '{}')).body) as { message: string };
    assert.equal(ns.message, 'namespaces is forbidden: User "system:anonymous" cannot create resource "namespaces" in API group "" at the cluster scope');
    const metrics = JSON.parse((await request(port, 'GET', '/metrics')).body) as { message: string; details?: unknown };
    assert.equal(metrics.message, 'forbidden: User "system:anonymous" cannot get path "/metrics"');
    assert.equal(metrics.details, undefined);
    assert.equal((await request(port, 'POST', '/healthz')).status, 403, 'public paths are GET only');
  });

  it('refuses before reading the body: an anonymous write is answered while its body is still coming', async (t) => {
    const port = await serve(t);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/namespaces', agent: false, headers: { 'content-type': 'application/json', 'content-length': 1_000_000 } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.write('{"kind":');
    });
    assert.equal(status, 403);
  });

  it('a bad token is 401 with nothing but "Unauthorized" — never anonymous', async (t) => {
    const port = await serve(t);
    for (const headers of [bearer('nope'), bearer('a.b.c'), bearer('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.'), { authorization: 'Bearer  alice-token' }]) {
      for (const p of ['/api/v1/configmaps', '/readyz', '/version']) {
        const r = await request(port, 'GET', p, headers);
        assert.equal(r.status, 401, `${p} ${JSON.stringify(headers)}`);
        assert.equal(r.body, UNAUTHORIZED_BODY);
      }
    }
  });

  it('an authenticated user is allowed (AlwaysAllow) and the engine sees who it is', async (t) => {
    const port = await serve(t);
    const r = await request(port, 'POST', '/api/v1/namespaces/default/configmaps', { ...bearer('alice-token'), 'content-type': 'application/json' }, '{"a":1}');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { user: { username: 'alice', uid: '1', groups: ['devs', 'system:authenticated'] }, body: '{"a":1}' });
    assert.equal((await request(port, 'GET', '/api', { authorization: 'BEARER alice-token' })).status, 200, 'the scheme in any case');
    // kube reads the second space-separated part as the token; a Basic header is not a bearer token.
    assert.equal((JSON.parse((await request(port, 'GET', '/api', { authorization: 'Bearer alice-token trailing' })).body) as { user: { username: string } }).user.username, 'alice');
    assert.equal((JSON.parse((await request(port, 'GET', '/api', { authorization: 'Basic YTpi' })).body) as { user: { username: string } }).user.username, 'system:anonymous');
  });

  it('the first allow or deny wins; a deny\'s reason follows kube\'s message', async (t) => {
    const denyDevs: Authorizer = { name: 'deny-devs', authorize: (a: Attributes) => (a.user.groups.includes('devs') ? { decision: 'deny', reason: 'devs may not' } : { decision: 'noOpinion', reason: '' }) };
    const port = await serve(t, { authorizer: chain(denyDevs) });
    const r = JSON.parse((await request(port, 'GET', '/api/v1/namespaces/x/secrets/s', bearer('alice-token'))).body) as { code: number; message: string };
    assert.equal(r.code, 403);
    assert.equal(r.message, 'secrets "s" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "x": devs may not');
    assert.equal((await request(port, 'GET', '/api/v1/namespaces/x/secrets/s', bearer('root-token'))).status, 200, 'system:masters before everything');
  });

  it('--anonymous-auth=false: 401 without credentials, except the health endpoints', async (t) => {
    const port = await serve(t, { anonymous: false });
    assert.equal((await request(port, 'GET', '/readyz')).status, 200);
    assert.equal((await request(port, 'GET', '/livez/ping')).status, 200);
    const v = await request(port, 'GET', '/version');
    assert.equal(v.status, 401);
    assert.equal(v.body, UNAUTHORIZED_BODY);
    assert.equal((await request(port, 'GET', '/version', bearer('alice-token'))).status, 200);
  });

  it('the impersonation hook decides who the request acts as; its refusals are answered as they are', async (t) => {
    const port = await serve(t, {
      impersonate: (req, user) => {
        const as = req.headers['impersonate-user'];
        if (typeof as !== 'string') return Promise.resolve(user);
        if (as === 'forbidden') return Promise.reject(new KumoError('Forbidden', 'users "forbidden" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope'));
        return Promise.resolve({ username: as, groups: ['system:authenticated'] });
      },
    });
    const r = JSON.parse((await request(port, 'GET', '/api', { ...bearer('alice-token'), 'impersonate-user': 'bob' })).body) as { user: { username: string } };
    assert.equal(r.user.username, 'bob');
    const f = await request(port, 'GET', '/api', { ...bearer('alice-token'), 'impersonate-user': 'forbidden' });
    assert.equal(f.status, 403);
    assert.match((JSON.parse(f.body) as { message: string }).message, /cannot impersonate resource "users"/);
  });

  it('forbiddenMessage, word for word', () => {
    const base = { user: { username: 'bob', groups: [] }, cluster: 'root', isResourceRequest: true, path: '', apiVersion: 'v1', name: '' } as unknown as Attributes;
    assert.equal(forbiddenMessage({ ...base, verb: 'list', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', subresource: '', namespace: '' }), 'User "bob" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope');
    assert.equal(forbiddenMessage({ ...base, verb: 'create', apiGroup: '', resource: 'serviceaccounts', subresource: 'token', namespace: 'ci' }), 'User "bob" cannot create resource "serviceaccounts/token" in API group "" in the namespace "ci"');
  });
});

describe('request authenticator (union)', () => {
  it('TokenReview audiences: token-file tokens are good for the API\'s audiences only', async () => {
    const a = authn();
    assert.deepEqual((await a.authenticateToken('alice-token'))?.audiences, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(await a.authenticateToken('alice-token', ['vault']), null);
    assert.deepEqual((await a.authenticateToken('alice-token', ['vault', 'https://kubernetes.default.svc.cluster.local']))?.audiences, ['https://kubernetes.default.svc.cluster.local']);
  });
});
