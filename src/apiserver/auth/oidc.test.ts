// The OIDC authenticator against a real IdP (oidc-provider on 127.0.0.1, src/testing/oidc.ts): its ID
// tokens are accepted; tokens crafted with its published key (or a forged one) test every claim rule.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, generateKeyPair, importJWK, type JWK } from 'jose';
import { isKumoError } from '../../lib/errors.js';
import { startTestIdp, type TestIdp } from '../../testing/oidc.js';
import { unauthorizedReason } from './common.js';
import { OidcAuthenticator, effectiveUsernamePrefix, validateOidcOptions, type OidcOptions } from './oidc.js';

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isKumoError(err, 'Unauthorized'), String(err));
    assert.equal(err.message, 'Unauthorized');
    return unauthorizedReason(err);
  }
  assert.fail('expected 401');
}

describe('OIDC authenticator', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp({ clientId: 'kumo', accounts: { alice: { email: 'alice@example.com', groups: ['devs', 'ops'] }, bob: { email: 'bob@example.com', emailVerified: false, groups: [] } } });
  });
  after(() => idp.stop());

  const authn = (o: Partial<OidcOptions> = {}): OidcAuthenticator => new OidcAuthenticator({ issuerUrl: idp.issuer, clientId: 'kumo', caPem: idp.caPem, ...o });
  /** A token signed with the IdP's current key (or `key`), claims defaulting to a valid one. */
  const craft = async (claims: Record<string, unknown>, key?: { jwk: JWK; alg?: string }): Promise<string> => {
    const jwk = key?.jwk ?? idp.signingKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'alice', email: 'alice@example.com', groups: ['devs'], iss: idp.issuer, aud: 'kumo', iat: now, exp: now + 600, ...claims })
      .setProtectedHeader({ alg: key?.alg ?? 'RS256', kid: jwk.kid ?? '' })
      .sign(await importJWK(jwk, key?.alg ?? 'RS256'));
  };

  it('accepts the IdP\'s own ID token: sub prefixed with the issuer, groups from the groups claim', async () => {
    const r = await authn({ groupsClaim: 'groups', groupsPrefix: 'oidc:' }).authenticateToken(await idp.idToken('alice'));
    assert.deepEqual(r?.user, { username: `${idp.issuer}#alice`, groups: ['oidc:devs', 'oidc:ops'] });
  });

  it('username claim and prefix rules (kube\'s): email unprefixed, "-" disables, an explicit prefix wins', async () => {
    const token = await idp.idToken('alice');
    assert.equal((await authn({ usernameClaim: 'email' }).authenticateToken(token))?.user.username, 'alice@example.com');
    assert.equal((await authn({ usernamePrefix: '-' }).authenticateToken(token))?.user.username, 'alice');
    assert.equal((await authn({ usernameClaim: 'email', usernamePrefix: 'sso:' }).authenticateToken(token))?.user.username, 'sso:alice@example.com');
    assert.equal(effectiveUsernamePrefix({ issuerUrl: 'https://x', usernameClaim: 'sub' }), 'https://x#');
    assert.match(await refusal(authn({ usernameClaim: 'email' }).authenticateToken(await idp.idToken('bob'))), /email not verified/);
    assert.match(await refusal(authn({ usernameClaim: 'preferred_username' }).authenticateToken(token)), /parse username claims "preferred_username"/);
  });

  it('required claims must be present with exactly the value', async () => {
    const a = authn({ requiredClaims: { hd: 'example.com' } });
    assert.ok(await a.authenticateToken(await craft({ hd: 'example.com' })));
    assert.match(await refusal(a.authenticateToken(await craft({ hd: 'evil.com' }))), /required claim hd value does not match/);
    assert.match(await refusal(a.authenticateToken(await craft({}))), /required claim hd not present/);
  });

  it('refuses expired, not-yet-valid, wrong-audience and forged tokens; other issuers are not its business', async () => {
    const a = authn();
    const now = Math.floor(Date.now() / 1000);
    assert.match(await refusal(a.authenticateToken(await craft({ iat: now - 700, exp: now - 1 }))), /expired|"exp" claim/);
    assert.ok(await a.authenticateToken(await craft({ nbf: now + 120 })), 'nbf within 5 minutes of skew');
    assert.match(await refusal(a.authenticateToken(await craft({ nbf: now + 600 }))), /"nbf" claim timestamp check failed/);
    assert.match(await refusal(a.authenticateToken(await craft({ aud: 'someone-else' }))), /"aud" claim/);
    assert.match(await refusal(a.authenticateToken(await craft({ exp: undefined }))), /"exp" claim/);
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const { exportJWK } = await import('jose');
    const forgedKey = { ...(await exportJWK(privateKey)), kid: idp.signingKey().kid ?? '' };
    assert.match(await refusal(a.authenticateToken(await craft({}, { jwk: forgedKey }))), /signature verification failed/);
    assert.match(await refusal(a.authenticateToken(await craft({}, { jwk: { kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', kid: idp.signingKey().kid ?? '' }, alg: 'HS256' }))), /alg/);
    assert.equal(await a.authenticateToken(await craft({ iss: 'https://evil.example' })), null);
    assert.equal(await a.authenticateToken('garbage'), null);
  });

  it('a rotated IdP key is picked up by refetching the JWKS (after the cooldown)', async () => {
    const a = authn({ jwksCooldownMs: 200 });
    assert.ok(await a.authenticateToken(await idp.idToken('alice')));
    const fetches = idp.jwksFetches();
    await idp.rotateKey();
    await new Promise((r) => setTimeout(r, 250));
    const fresh = await idp.idToken('alice');
    assert.ok(await a.authenticateToken(fresh), 'the new key is fetched on its unknown kid');
    assert.equal(idp.jwksFetches(), fetches + 1);
  });

  it('an issuer whose CA is not trusted, or that is down, refuses tokens (and is retried later)', async () => {
    const errors: unknown[] = [];
    const untrusted = new OidcAuthenticator({ issuerUrl: idp.issuer, clientId: 'kumo', discoveryRetryMs: 0, onError: (e) => errors.push(e) });
    assert.match(await refusal(untrusted.authenticateToken(await idp.idToken('alice'))), /not initialized: .*(self-signed|certificate)/);
    assert.equal(errors.length, 1);
    const down = new OidcAuthenticator({ issuerUrl: 'https://127.0.0.1:1', clientId: 'kumo', discoveryRetryMs: 60_000 });
    const token = await craft({ iss: 'https://127.0.0.1:1' });
    assert.match(await refusal(down.authenticateToken(token)), /not initialized: .*ECONNREFUSED/);
    assert.match(await refusal(down.authenticateToken(token)), /discovery failed recently/);
  });

  it('validates the flags as kube-apiserver does', () => {
    assert.throws(() => validateOidcOptions({ issuerUrl: 'http://idp', clientId: 'k' }), /has invalid scheme "http", require 'https'/);
    assert.throws(() => validateOidcOptions({ issuerUrl: 'https://idp', clientId: '' }), /--oidc-client-id is required/);
    assert.throws(() => validateOidcOptions({ issuerUrl: 'https://idp', clientId: 'k', signingAlgs: ['none'] }), /unsupported algorithm "none"/);
  });
});
