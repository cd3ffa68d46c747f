// End-to-end authentication: the real `kumo server` with --token-auth-file and --oidc-* flags against a
// real IdP (oidc-provider on 127.0.0.1), and the real kubectl 1.33 and 1.27 as each kind of user:
// a client certificate, a token-file token, a ServiceAccount token from `kubectl create token`
// (refused once the ServiceAccount is deleted), an OIDC ID token from the IdP's own login flow; the
// bad-token table (401 with nothing but "Unauthorized"); the IdP rotating its signing key.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, importJWK } from 'jose';
import YAML from 'yaml';
import { createCA, issueClientCert, parseCA, type IssuedCert } from '../lib/pki.js';
import { ok, kubectlPath, run, startKumo, type KumoHandle, type RunResult } from '../testing/kumo.js';
import { startTestIdp, type TestIdp } from '../testing/oidc.js';

const VERSIONS = [33, 27];
const UNAUTHORIZED_BODY = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}';
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';

interface WhoAmI {
  status: { userInfo: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
}

describe('authentication (e2e: kumo server, kubectl, a real OIDC IdP)', () => {
  let k: KumoHandle;
  let idp: TestIdp;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-auth-e2e-'));
  let caPem = '';
  /** A kubeconfig with the server and its CA and no credentials (`--token` supplies them). */
  let bare = '';

  before(async () => {
    idp = await startTestIdp({ clientId: 'kumo', accounts: { alice: { email: 'alice@example.com', groups: ['devs', 'sre'] } } });
    const tokens = path.join(tmp, 'tokens.csv');
    fs.writeFileSync(tokens, 'jane-secret-token,jane,1001,"devs,qa"\n');
    const idpCa = path.join(tmp, 'idp-ca.crt');
    fs.writeFileSync(idpCa, idp.caPem);
    k = await startKumo({
      args: [
        // Authentication is under test: every authenticated user may act (RBAC has its own e2e tests).
        '--authorization-mode', 'AlwaysAllow',
        '--token-auth-file', tokens,
        '--oidc-issuer-url', idp.issuer, '--oidc-client-id', 'kumo', '--oidc-ca-file', idpCa,
        '--oidc-username-claim', 'email', '--oidc-groups-claim', 'groups', '--oidc-groups-prefix', 'oidc:',
      ],
    });
    caPem = fs.readFileSync(path.join(k.dataDir, 'pki', 'ca.crt'), 'utf8');
    bare = writeKubeconfig('bare', {});
  });
  after(async () => {
    await k?.stop();
    await idp?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function writeKubeconfig(name: string, user: Record<string, string>): string {
    const file = path.join(tmp, `${name}.kubeconfig`);
    fs.writeFileSync(
      file,
      YAML.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'kumo', cluster: { server: k.url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
        users: [{ name, user }],
        contexts: [{ name: 'kumo', context: { cluster: 'kumo', user: name } }],
        'current-context': 'kumo',
      }),
    );
    return file;
  }
  const certUser = (name: string, cert: IssuedCert): string =>
    writeKubeconfig(name, { 'client-certificate-data': Buffer.from(cert.certPem).toString('base64'), 'client-key-data': Buffer.from(cert.keyPem).toString('base64') });
  /** kubectl as someone else: its own kubeconfig, no stdin (no credential prompts). */
  const kubectlAs = (v: number, kubeconfig: string, args: string[]): Promise<RunResult> =>
    run(kubectlPath(v), ['--kubeconfig', kubeconfig, '--cache-dir', path.join(tmp, `cache-${v}`), ...args], { env: { HOME: tmp } });
  const whoami = async (v: number, kubeconfig: string, extra: string[] = []): Promise<WhoAmI['status']['userInfo']> =>
    (JSON.parse(ok(await kubectlAs(v, kubeconfig, [...extra, 'auth', 'whoami', '-o', 'json']), `kubectl 1.${v} auth whoami`)) as WhoAmI).status.userInfo;

  /** One request to the API with a bearer token (or a client certificate), no kubectl. */
  const raw = (p: string, opts: { token?: string; cert?: IssuedCert; method?: string; body?: unknown } = {}): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const headers: Record<string, string | number> = {};
      if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
      if (data !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
      const req = https.request({ host: '127.0.0.1', port: k.port, path: p, method: opts.method ?? 'GET', ca: caPem, agent: false, headers, ...(opts.cert ? { cert: opts.cert.certPem, key: opts.cert.keyPem } : {}) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(data);
    });

  for (const v of VERSIONS) {
    describe(`kubectl 1.${v}`, () => {
      it('a client certificate of the Kumo CA: CN is the user, O the groups', async () => {
        const ca = await parseCA(caPem, fs.readFileSync(path.join(k.dataDir, 'pki', 'ca.key'), 'utf8'));
        const kc = certUser(`carol-${v}`, await issueClientCert(ca, { commonName: 'carol', organizations: ['team-a', 'team-b'] }));
        const u = await whoami(v, kc);
        assert.equal(u.username, 'carol');
        assert.deepEqual(u.groups, ['team-a', 'team-b', 'system:authenticated']);
        ok(await kubectlAs(v, kc, ['get', 'configmaps', '-n', 'default']), 'carol lists configmaps');
      });

      it('a certificate of another CA is refused (401)', async () => {
        const other = await createCA('not-kumo');
        const kc = certUser(`mallory-${v}`, await issueClientCert(other, { commonName: 'mallory', organizations: ['system:masters'] }));
        const r = await kubectlAs(v, kc, ['get', 'configmaps']);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /You must be logged in to the server/);
      });

      it('a token-file user (--token)', async () => {
        const u = await whoami(v, bare, ['--token', 'jane-secret-token']);
        assert.deepEqual(u, { username: 'jane', uid: '1001', groups: ['devs', 'qa', 'system:authenticated'] });
        ok(await kubectlAs(v, bare, ['--token', 'jane-secret-token', 'create', 'configmap', `jane-${v}`, '-n', 'default', '--from-literal=a=b']), 'jane creates');
      });

      it('a ServiceAccount token from `kubectl create token`, refused once the ServiceAccount is deleted', async () => {
        const sa = `robot-${v}`;
        ok(await k.kubectl(v, ['create', 'serviceaccount', sa, '-n', 'default']), 'create sa');
        const token = ok(await k.kubectl(v, ['create', 'token', sa, '-n', 'default']), 'create token').trim();
        const u = await whoami(v, bare, ['--token', token]);
        assert.equal(u.username, `system:serviceaccount:default:${sa}`);
        assert.deepEqual(u.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
        assert.match(u.extra?.['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^JTI=/);
        ok(await kubectlAs(v, bare, ['--token', token, 'get', 'configmaps', '-n', 'default']), 'the SA lists configmaps');
        ok(await k.kubectl(v, ['delete', 'serviceaccount', sa, '-n', 'default']), 'delete sa');
        const r = await kubectlAs(v, bare, ['--token', token, 'get', 'configmaps', '-n', 'default']);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stderr, /You must be logged in to the server/);
        // Recreated under the same name: a new uid, and the old token stays refused.
        ok(await k.kubectl(v, ['create', 'serviceaccount', sa, '-n', 'default']), 'recreate sa');
        assert.equal((await raw('/api/v1/namespaces/default/configmaps', { token })).status, 401);
      });

      it('an OIDC ID token from the IdP\'s login flow: email as the user, prefixed groups', async () => {
        const u = await whoami(v, bare, ['--token', await idp.idToken('alice')]);
        assert.deepEqual(u, { username: 'alice@example.com', groups: ['oidc:devs', 'oidc:sre', 'system:authenticated'] });
      });
    });
  }

  describe('bad tokens: 401 with nothing but "Unauthorized"', () => {
    let saKey: crypto.KeyObject;
    let saKid = '';
    let saUid = '';
    const now = (): number => Math.floor(Date.now() / 1000);

    before(async () => {
      saKey = crypto.createPrivateKey(fs.readFileSync(path.join(k.dataDir, 'pki', 'sa.key'), 'utf8'));
      saKid = crypto.createHash('sha256').update(crypto.createPublicKey(saKey).export({ type: 'spki', format: 'der' })).digest('base64url');
      saUid = (JSON.parse(ok(await k.kubectl(33, ['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'json']), 'get sa')) as { metadata: { uid: string } }).metadata.uid;
    });

    /** A ServiceAccount token for default/default as TokenRequest makes it, with `claims` changed. */
    const saToken = (claims: Record<string, unknown>, key: crypto.KeyObject = saKey): Promise<string> =>
      new SignJWT({
        iss: SA_ISSUER,
        aud: [SA_ISSUER],
        sub: 'system:serviceaccount:default:default',
        iat: now() - 10,
        nbf: now() - 10,
        exp: now() + 600,
        jti: crypto.randomUUID(),
        'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'default', uid: saUid } },
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid: saKid })
        .sign(key);
    /** An ID token as the IdP makes it, with `claims` changed. */
    const idToken = async (claims: Record<string, unknown>, forged = false): Promise<string> => {
      const jwk = idp.signingKey();
      const key = forged ? (await import('jose')).generateKeyPair('RS256').then((p) => p.privateKey) : importJWK(jwk, 'RS256');
      return new SignJWT({ iss: idp.issuer, aud: 'kumo', sub: 'alice', email: 'alice@example.com', email_verified: true, iat: now() - 10, exp: now() + 600, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: jwk.kid ?? '' })
        .sign(await key);
    };

    it('a well-formed crafted token is accepted (the table below changes one thing each)', async () => {
      assert.equal((await raw('/api/v1/namespaces/default/configmaps', { token: await saToken({}) })).status, 200);
      assert.equal((await raw('/api/v1/namespaces/default/configmaps', { token: await idToken({}) })).status, 200);
    });

    it('expired, not yet valid, wrong audience, wrong issuer, forged signature, garbage', async () => {
      const otherKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const table: [string, string][] = [
        ['serviceaccount: expired', await saToken({ iat: now() - 4000, nbf: now() - 4000, exp: now() - 120 })],
        ['serviceaccount: not yet valid', await saToken({ iat: now() + 600, nbf: now() + 600, exp: now() + 1200 })],
        ['serviceaccount: wrong audience', await saToken({ aud: ['https://vault.example'] })],
        ['serviceaccount: wrong issuer', await saToken({ iss: 'https://not-kumo.example' })],
        ['serviceaccount: forged signature', await saToken({}, otherKey)],
        ['serviceaccount: unknown ServiceAccount uid', await saToken({ 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'default', uid: crypto.randomUUID() } } })],
        ['oidc: expired', await idToken({ iat: now() - 4000, exp: now() - 1 })],
        ['oidc: not yet valid', await idToken({ nbf: now() + 900 })],
        ['oidc: wrong audience', await idToken({ aud: 'another-client' })],
        ['oidc: wrong issuer', await idToken({ iss: 'https://idp.evil.example' })],
        ['oidc: forged signature', await idToken({}, true)],
        ['garbage', 'garbage'],
        ['garbage JWT', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.'],
        ['token-file lookalike', 'jane-secret-token2'],
      ];
      for (const [what, token] of table) {
        for (const p of ['/api/v1/namespaces/default/configmaps', '/version']) {
          const r = await raw(p, { token });
          assert.equal(r.status, 401, `${what} on ${p}: ${r.body}`);
          assert.equal(r.body, UNAUTHORIZED_BODY, what);
        }
      }
      for (const v of VERSIONS) {
        const r = await kubectlAs(v, bare, ['--token', table[0]?.[1] ?? '', 'get', 'configmaps']);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /error: You must be logged in to the server/);
      }
      // The server log keeps the reasons.
      assert.match(k.log(), /"reason":"service account token: \\"exp\\" claim timestamp check failed"/);
      assert.match(k.log(), /"reason":"oidc: verify token: signature verification failed"/);
    });
  });

  it('anonymous: health, version, discovery and issuer discovery; nothing else', async () => {
    for (const p of ['/readyz', '/livez', '/healthz', '/version', '/api', '/apis', '/.well-known/openid-configuration', '/openid/v1/jwks']) assert.equal((await raw(p)).status, 200, p);
    const list = await raw('/api/v1/namespaces/default/secrets');
    assert.equal(list.status, 403);
    assert.equal((JSON.parse(list.body) as { message: string }).message, 'secrets is forbidden: User "system:anonymous" cannot list resource "secrets" in API group "" in the namespace "default"');
    const disco = JSON.parse((await raw('/.well-known/openid-configuration')).body) as Record<string, unknown>;
    assert.deepEqual(disco, { issuer: SA_ISSUER, jwks_uri: `${k.url}/openid/v1/jwks`, response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256'] });
  });

  it('TokenReview: who a token is, for which audiences (not stored)', async () => {
    const token = ok(await k.kubectl(33, ['create', 'token', 'default', '-n', 'default', '--audience', 'https://vault.example']), 'create token').trim();
    const review = (spec: Record<string, unknown>): Promise<{ status: number; body: string }> => {
      const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec };
      return new Promise((resolve) => {
        void k.kubectl(33, ['create', '-f', '-', '-o', 'json'], { input: JSON.stringify(body) }).then((r) => resolve({ status: r.code ?? -1, body: r.stdout || r.stderr }));
      });
    };
    const good = JSON.parse((await review({ token, audiences: ['https://vault.example'] })).body) as { status: { authenticated: boolean; user: { username: string }; audiences: string[] } };
    assert.equal(good.status.authenticated, true);
    assert.equal(good.status.user.username, 'system:serviceaccount:default:default');
    assert.deepEqual(good.status.audiences, ['https://vault.example']);
    const wrongAud = JSON.parse((await review({ token })).body) as { status: { authenticated?: boolean; error?: string } };
    assert.equal(wrongAud.status.authenticated, undefined);
    assert.match(wrongAud.status.error ?? '', /aud/);
    const garbage = JSON.parse((await review({ token: 'garbage' })).body) as { status: { authenticated?: boolean; error?: string } };
    assert.equal(garbage.status.authenticated, undefined);
    assert.equal(garbage.status.error, 'invalid bearer token');
    const get = await raw('/apis/authentication.k8s.io/v1/tokenreviews', { cert: adminCert(k) });
    assert.equal(get.status, 405, get.body);
  });

  it('the IdP rotates its signing key: new tokens are accepted, tokens of the old key no longer', async () => {
    const before = await idp.idToken('alice');
    assert.equal((await raw('/version', { token: before })).status, 200);
    await idp.rotateKey();
    // The JWKS is refetched for an unknown key id at most once per 5 s cooldown.
    await new Promise((r) => setTimeout(r, 5500));
    const fetches = idp.jwksFetches();
    const after = await idp.idToken('alice');
    for (const v of VERSIONS) assert.equal((await whoami(v, bare, ['--token', after])).username, 'alice@example.com');
    assert.equal(idp.jwksFetches(), fetches + 1, 'one refetch');
    assert.equal((await raw('/version', { token: before })).status, 401, 'the old key is gone from the JWKS');
  });
});

function adminCert(k: KumoHandle): IssuedCert {
  return { certPem: fs.readFileSync(path.join(k.dataDir, 'pki', 'admin.crt'), 'utf8'), keyPem: fs.readFileSync(path.join(k.dataDir, 'pki', 'admin.key'), 'utf8') };
}
