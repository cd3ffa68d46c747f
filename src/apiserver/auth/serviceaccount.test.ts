// ServiceAccount token verification: what TokenRequest issues is accepted while its account (and bound
// object) lives, and every way a token can be wrong is one 401 with the reason kept for the log.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { isKumoError } from '../../lib/errors.js';
import { DEFAULT_ISSUER, createTokenSigner, generateServiceAccountKey, issueServiceAccountToken, keyIdOf } from '../satoken.js';
import { unauthorizedReason } from './common.js';
import { ServiceAccountTokenAuthenticator, publicKeysFromPem, type BoundKind, type ObjectLookup } from './serviceaccount.js';

const NOW = new Date('2026-11-23T12:00:00Z');

class Objects implements ObjectLookup {
  readonly items = new Map<string, { uid: string; deleting: boolean }>();
  put(cluster: string, kind: BoundKind, ns: string, name: string, uid: string, deleting = false): void {
    this.items.set(`${cluster}/${kind}/${ns}/${name}`, { uid, deleting });
  }
  del(cluster: string, kind: BoundKind, ns: string, name: string): void {
    this.items.delete(`${cluster}/${kind}/${ns}/${name}`);
  }
  get(cluster: string, kind: BoundKind, ns: string, name: string): Promise<{ uid: string; deleting: boolean } | null> {
    return Promise.resolve(this.items.get(`${cluster}/${kind}/${ns}/${name}`) ?? null);
  }
}

const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'ci', uid: 'sa-uid-1' } };

async function setup(opts: { audiences?: string[]; extraKeys?: crypto.KeyObject[] } = {}) {
  const pem = generateServiceAccountKey();
  const signer = await createTokenSigner(pem);
  const objects = new Objects();
  objects.put('root', 'ServiceAccount', 'ci', 'robot', 'sa-uid-1');
  let now = NOW;
  const authn = new ServiceAccountTokenAuthenticator({
    issuers: [DEFAULT_ISSUER, 'https://old-issuer.example'],
    keys: [signer.publicKey, ...(opts.extraKeys ?? [])],
    audiences: opts.audiences ?? [DEFAULT_ISSUER],
    lookup: objects,
    now: () => now,
  });
  const issue = async (spec: Record<string, unknown> = {}, lookupBound?: (kind: string, name: string) => Promise<{ uid: string }>) => {
    const tr = await issueServiceAccountToken(signer, structuredClone(sa), { spec }, NOW, lookupBound ? { lookupBound } : {});
    return String((tr.status as { token: string }).token);
  };
  return { pem, signer, objects, authn, issue, setNow: (d: Date) => (now = d) };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isKumoError(err, 'Unauthorized'), String(err));
    assert.equal(err.message, 'Unauthorized', 'the message never carries the reason');
    return unauthorizedReason(err);
  }
  assert.fail('expected 401');
}

describe('ServiceAccount token authenticator', () => {
  it('accepts a TokenRequest token: kube\'s username, uid, groups and credential id', async () => {
    const { authn, issue } = await setup();
    const r = await authn.authenticateToken(await issue());
    assert.ok(r);
    assert.equal(r.user.username, 'system:serviceaccount:ci:robot');
    assert.equal(r.user.uid, 'sa-uid-1');
    assert.deepEqual(r.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:ci']);
    assert.match(r.user.extra?.['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^JTI=[0-9a-f-]{36}$/);
    assert.deepEqual(r.audiences, [DEFAULT_ISSUER]);
  });

  it('leaves tokens of other issuers and non-JWTs to other authenticators', async () => {
    const { authn } = await setup();
    assert.equal(await authn.authenticateToken('not-a-jwt'), null);
    const other = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.example').sign(new Uint8Array(32));
    assert.equal(await authn.authenticateToken(other), null);
  });

  it('refuses expired, not-yet-valid, wrong-audience and forged tokens (60 s leeway)', async () => {
    const { authn, issue, setNow, pem } = await setup();
    const token = await issue({ expirationSeconds: 600 });
    setNow(new Date(NOW.getTime() + 600_000 + 30_000));
    assert.ok(await authn.authenticateToken(token), 'within the leeway after exp');
    setNow(new Date(NOW.getTime() + 600_000 + 61_000));
    assert.match(await refusal(authn.authenticateToken(token)), /"exp" claim timestamp check failed/);
    setNow(new Date(NOW.getTime() - 61_000));
    assert.match(await refusal(authn.authenticateToken(token)), /"nbf" claim timestamp check failed/);
    setNow(NOW);
    assert.match(await refusal(authn.authenticateToken(await issue({ audiences: ['vault'] }))), /"aud" claim value/);
    assert.ok(await authn.authenticateToken(await issue({ audiences: ['vault'] }), ['vault']), 'a TokenReview for its audience');

    // Forged: same claims and kid, another key.
    const [h = '', p = ''] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string };
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: header.kid }).sign(crypto.createPrivateKey(generateServiceAccountKey()));
    assert.match(await refusal(authn.authenticateToken(forged)), /signature verification failed/);
    // Tampered payload, original signature.
    const tampered = [h, Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url'), token.split('.')[2]].join('.');
    assert.match(await refusal(authn.authenticateToken(tampered)), /signature verification failed/);
    // alg none / HMAC with the public key are never accepted.
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.`;
    assert.match(await refusal(authn.authenticateToken(none)), /service account token/);
    // Signed by the right key but without exp.
    const noExp = await new SignJWT({ ...claims, exp: undefined }).setProtectedHeader({ alg: 'ES256', kid: header.kid }).sign(crypto.createPrivateKey(pem));
    assert.match(await refusal(authn.authenticateToken(noExp)), /"exp" claim/);
  });

  it('refuses tokens once their ServiceAccount is deleted, recreated (new uid) or being deleted', async () => {
    const { authn, issue, objects } = await setup();
    const token = await issue();
    objects.put('root', 'ServiceAccount', 'ci', 'robot', 'sa-uid-1', true);
    assert.match(await refusal(authn.authenticateToken(token)), /being deleted/);
    objects.put('root', 'ServiceAccount', 'ci', 'robot', 'sa-uid-2');
    assert.match(await refusal(authn.authenticateToken(token)), /recreated/);
    objects.del('root', 'ServiceAccount', 'ci', 'robot');
    assert.match(await refusal(authn.authenticateToken(token)), /has been deleted/);
  });

  it('a token bound to a Secret lives as long as that Secret', async () => {
    const { authn, issue, objects } = await setup();
    objects.put('root', 'Secret', 'ci', 'bound', 'sec-uid-1');
    const token = await issue({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'bound' } }, (kind, name) => (kind === 'Secret' && name === 'bound' ? Promise.resolve({ uid: 'sec-uid-1' }) : Promise.reject(new Error('nope'))));
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { 'kubernetes.io': Record<string, unknown> };
    assert.deepEqual(claims['kubernetes.io'].secret, { name: 'bound', uid: 'sec-uid-1' });
    assert.ok(await authn.authenticateToken(token));
    objects.put('root', 'Secret', 'ci', 'bound', 'sec-uid-2');
    assert.match(await refusal(authn.authenticateToken(token)), /bound to Secret bound: uid sec-uid-1 in the token, sec-uid-2 now/);
    objects.del('root', 'Secret', 'ci', 'bound');
    assert.match(await refusal(authn.authenticateToken(token)), /bound to Secret bound, which has been deleted/);
  });

  it('TokenRequest refuses a bound object whose uid does not match, and unknown kinds', async () => {
    const { issue } = await setup();
    await assert.rejects(issue({ boundObjectRef: { kind: 'Secret', name: 's', uid: 'x' } }, () => Promise.resolve({ uid: 'y' })), (e) => isKumoError(e, 'Conflict'));
    await assert.rejects(issue({ boundObjectRef: { kind: 'ConfigMap', name: 's' } }), (e) => isKumoError(e, 'Invalid') && /supported values: "Node", "Pod", "Secret"/.test(e.message));
  });

  it('rotation: tokens of the previous signing key stay valid while its public key is listed', async () => {
    const oldPem = generateServiceAccountKey();
    const oldSigner = await createTokenSigner(oldPem);
    const { authn, signer } = await setup({ extraKeys: publicKeysFromPem(oldPem) });
    const oldToken = String(((await issueServiceAccountToken(oldSigner, structuredClone(sa), { spec: {} }, NOW)).status as { token: string }).token);
    assert.equal((await authn.authenticateToken(oldToken))?.user.username, 'system:serviceaccount:ci:robot');
    const jwks = await authn.jwks();
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [signer.keyId, oldSigner.keyId].sort());
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private parts published');
  });

  it('reads RSA and EC keys from PEM: public, private, PKCS#1, certificates; kid is kube\'s', () => {
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const text = [
      rsa.publicKey.export({ type: 'spki', format: 'pem' }),
      rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }),
      generateServiceAccountKey(),
    ].join('\n');
    const keys = publicKeysFromPem(text);
    assert.equal(keys.length, 3);
    assert.equal(keyIdOf(keys[0] as crypto.KeyObject), crypto.createHash('sha256').update(rsa.publicKey.export({ type: 'spki', format: 'der' })).digest('base64url'));
    assert.throws(() => publicKeysFromPem('nothing here'), /no public or private key found/);
  });

  it('tokens of a logical cluster are checked against that cluster\'s ServiceAccount', async () => {
    const { signer, objects, authn } = await setup();
    const tr = await issueServiceAccountToken(signer, structuredClone(sa), { spec: {} }, NOW, { cluster: 'team-a' });
    const token = String((tr.status as { token: string }).token);
    assert.match(await refusal(authn.authenticateToken(token)), /has been deleted/);
    objects.put('team-a', 'ServiceAccount', 'ci', 'robot', 'sa-uid-1');
    assert.deepEqual((await authn.authenticateToken(token))?.user.extra?.['kumo.dev/cluster'], ['team-a']);
  });
});
