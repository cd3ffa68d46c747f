// The composition of authentication and authorization from kube-apiserver's flags.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { ObjectLookup } from '../apiserver/auth/serviceaccount.js';
import { issueServiceAccountToken } from '../apiserver/satoken.js';
import { authenticationOptions, buildProgram } from '../cli/main.js';
import { authorizerFor, setUpAuthentication } from './auth.js';

const log = pino({ level: 'silent' });
const lookup: ObjectLookup = { get: (_c, kind) => Promise.resolve(kind === 'ServiceAccount' ? { uid: 'sa-1', deleting: false } : null) };
const sa = { metadata: { name: 'robot', namespace: 'ci', uid: 'sa-1' } };

describe('server authentication composition', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-authn-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const deps = { pkiDir: dir, log, lookup, serverUrl: () => 'https://127.0.0.1:6443' };

  it('creates DATA/pki/sa.key once and reuses it', async () => {
    const a = await setUpAuthentication({}, deps);
    const b = await setUpAuthentication({}, deps);
    assert.equal(a.tokenSigner.keyId, b.tokenSigner.keyId);
    assert.equal(fs.statSync(path.join(dir, 'sa.key')).mode & 0o777, 0o600);
  });

  it('--api-audiences: TokenRequests without audiences get them, and tokens must name one', async () => {
    const a = await setUpAuthentication({ apiAudiences: ['https://kumo.example', 'kumo'] }, deps);
    const tr = await issueServiceAccountToken(a.tokenSigner, structuredClone(sa), { spec: {} }, new Date());
    assert.deepEqual((tr.spec as { audiences: string[] }).audiences, ['https://kumo.example', 'kumo']);
    const r = await a.authenticator.authenticateToken((tr.status as { token: string }).token);
    assert.equal(r?.user.username, 'system:serviceaccount:ci:robot');
    assert.deepEqual(r?.audiences, ['https://kumo.example', 'kumo']);
  });

  it('rotation: a new RSA signing key, the previous EC key as a verification key; both published', async () => {
    const old = await setUpAuthentication({}, deps);
    const oldToken = String(((await issueServiceAccountToken(old.tokenSigner, structuredClone(sa), { spec: {} }, new Date())).status as { token: string }).token);
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    fs.writeFileSync(path.join(dir, 'new.key'), rsa);
    fs.writeFileSync(path.join(dir, 'old.pub'), old.tokenSigner.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const rotated = await setUpAuthentication({ serviceAccountSigningKeyFile: path.join(dir, 'new.key'), serviceAccountKeyFiles: [path.join(dir, 'old.pub')] }, deps);
    const newToken = String(((await issueServiceAccountToken(rotated.tokenSigner, structuredClone(sa), { spec: {} }, new Date())).status as { token: string }).token);
    assert.equal((JSON.parse(Buffer.from(newToken.split('.')[0] ?? '', 'base64url').toString()) as { alg: string }).alg, 'RS256');
    assert.ok(await rotated.authenticator.authenticateToken(oldToken), 'old tokens stay valid');
    assert.ok(await rotated.authenticator.authenticateToken(newToken));
    assert.equal(await old.authenticator.authenticateToken(newToken).catch(() => 'refused'), 'refused', 'the old server does not know the new key');
    assert.equal(rotated.summary.serviceAccountKeys, 2);
  });

  it('refuses unusable flags at start', async () => {
    await assert.rejects(setUpAuthentication({ oidc: { issuerUrl: 'http://idp.example', clientId: 'kumo' } }, deps), /has invalid scheme "http"/);
    await assert.rejects(setUpAuthentication({ oidc: { issuerUrl: 'https://kubernetes.default.svc.cluster.local', clientId: 'kumo' } }, deps), /is also a --service-account-issuer/);
    await assert.rejects(setUpAuthentication({ tokenAuthFile: path.join(dir, 'missing.csv') }, deps), /--token-auth-file: cannot read/);
    await assert.rejects(setUpAuthentication({ serviceAccountKeyFiles: [path.join(dir, 'sa.key'), path.join(dir, 'missing.pem')] }, deps), /--service-account-key-file: cannot read/);
  });

  it('--authorization-mode: system:masters first, then each mode; unknown or repeated modes refused', () => {
    assert.deepEqual(authorizerFor(['AlwaysAllow']).authorizers.map((a) => a.name), ['privileged-groups', 'AlwaysAllow', 'public-paths']);
    assert.deepEqual(authorizerFor(['AlwaysDeny']).authorizers.map((a) => a.name), ['privileged-groups', 'AlwaysDeny']);
    assert.throws(() => authorizerFor(['Webhook']), /unknown mode "Webhook"/);
    assert.throws(() => authorizerFor(['AlwaysAllow', 'AlwaysAllow']), /AlwaysAllow given twice/);
    assert.throws(() => authorizerFor(['RBAC'], {}), /RBAC is not available/);
    assert.throws(() => authorizerFor([]), /at least one mode/);
  });

  it('the CLI flags become the options (kube\'s names, repeatable and comma lists)', () => {
    const parse = (args: string[]): ReturnType<typeof authenticationOptions> => {
      const p = buildProgram();
      const server = p.commands.find((c) => c.name() === 'server');
      assert.ok(server);
      server.action(() => undefined);
      p.parse(['node', 'kumo', 'server', ...args]);
      return authenticationOptions(server.opts<Parameters<typeof authenticationOptions>[0]>());
    };
    assert.deepEqual(parse([]), { anonymousAuth: true });
    assert.deepEqual(
      parse(['--anonymous-auth=false', '--service-account-issuer', 'https://a', '--service-account-issuer', 'https://b', '--api-audiences', 'x,y', '--oidc-issuer-url', 'https://idp', '--oidc-client-id', 'kumo', '--oidc-required-claim', 'hd=example.com,tier=gold', '--oidc-username-prefix', '-']),
      {
        anonymousAuth: false,
        serviceAccountIssuers: ['https://a', 'https://b'],
        apiAudiences: ['x', 'y'],
        oidc: { issuerUrl: 'https://idp', clientId: 'kumo', usernamePrefix: '-', requiredClaims: { hd: 'example.com', tier: 'gold' } },
      },
    );
    assert.throws(() => parse(['--oidc-client-id', 'kumo']), /--oidc-issuer-url is required when other --oidc-\* flags are given/);
  });
});
