// A real OpenID Connect provider for tests: the `oidc-provider` package on 127.0.0.1 over HTTPS (its
// own test CA), with one confidential client. ID tokens come from its own authorization code flow
// over HTTP — the dev login form is submitted like a browser would, the code is exchanged at the token
// endpoint — so what Kumo verifies is exactly what the IdP issues. Its signing key can be rotated (a
// new provider instance takes over the same issuer and listener).
import crypto from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import { createCA, issueServerCert } from '../lib/pki.js';

export interface IdpAccount {
  email: string;
  emailVerified?: boolean;
  groups: string[];
}

export interface TestIdp {
  readonly issuer: string;
  /** PEM of the CA that signed the IdP's HTTPS certificate (for --oidc-ca-file). */
  readonly caPem: string;
  readonly clientId: string;
  /** The current signing key (private JWK, with kid), to forge look-alike tokens in tests. */
  signingKey(): JWK;
  /** Signs in as `sub` through the authorization code flow and returns the ID token. */
  idToken(sub: string): Promise<string>;
  /** Replaces the signing key (new kid); the JWKS then publishes only the new key. */
  rotateKey(): Promise<void>;
  /** How often the IdP's JWKS was fetched. */
  jwksFetches(): number;
  stop(): Promise<void>;
}

const CLIENT_SECRET = 'kumo-test-secret';
const REDIRECT_URI = 'https://kumo.example/callback';

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}

export async function startTestIdp(opts: { clientId: string; accounts: Record<string, IdpAccount> }): Promise<TestIdp> {
  const ca = await createCA('kumo-test-idp-ca');
  const leaf = await issueServerCert(ca, { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  let provider: Provider | undefined;
  let jwksFetches = 0;
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
    if ((req.url ?? '').startsWith('/jwks')) jwksFetches++;
    if (!provider) {
      res.writeHead(503).end();
      return;
    }
    void provider.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let key = await newSigningKey();

  const configure = (jwk: JWK): Provider => {
    const config: Configuration = {
      clients: [{ client_id: opts.clientId, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'] }],
      jwks: { keys: [jwk] },
      cookies: { keys: ['kumo-test-cookie-key'] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
      // Scope claims in the ID token itself (kube reads the ID token, never userinfo).
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: true } },
      ttl: { Interaction: 600, Grant: 3600, Session: 3600, AccessToken: 600, IdToken: 3600 },
      findAccount: (_ctx, sub) => {
        const a = opts.accounts[sub];
        if (!a) return undefined;
        return { accountId: sub, claims: () => ({ sub, email: a.email, email_verified: a.emailVerified ?? true, groups: a.groups }) };
      },
      // First-party client: no consent screen (oidc-provider's documented loadExistingGrant recipe).
      loadExistingGrant: async (ctx) => {
        const session = ctx.oidc.session;
        const client = ctx.oidc.client;
        if (!session || !client) return undefined;
        const existing = session.grantIdFor(client.clientId);
        if (existing) return ctx.oidc.provider.Grant.find(existing);
        const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId ?? '' });
        grant.addOIDCScope('openid email groups');
        await grant.save();
        return grant;
      },
    };
    return new Provider(issuer, config);
  };
  provider = configure(key);

  const idToken = async (sub: string): Promise<string> => {
    const jar = new Map<string, string>();
    const verifier = crypto.randomBytes(32).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    const q = new URLSearchParams({
      client_id: opts.clientId,
      response_type: 'code',
      scope: 'openid email groups',
      redirect_uri: REDIRECT_URI,
      state: crypto.randomUUID(),
      nonce: crypto.randomUUID(),
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    let r = await request(issuer, ca.certPem, 'GET', `/auth?${q.toString()}`, jar);
    for (let hop = 0; hop < 10; hop++) {
      const loc = r.headers.location;
      if (r.status < 300 || r.status >= 400 || typeof loc !== 'string') throw new Error(`IdP answered ${r.status}: ${r.body.slice(0, 500)}`);
      const next = new URL(loc, issuer);
      if (next.href.startsWith(REDIRECT_URI)) {
        const code = next.searchParams.get('code');
        if (!code) throw new Error(`no code in ${loc}`);
        const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString();
        const basic = Buffer.from(`${encodeURIComponent(opts.clientId)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64');
        const t = await request(issuer, ca.certPem, 'POST', '/token', jar, form, { authorization: `Basic ${basic}` });
        if (t.status !== 200) throw new Error(`token endpoint answered ${t.status}: ${t.body}`);
        const tokens = JSON.parse(t.body) as { id_token?: string };
        if (!tokens.id_token) throw new Error(`no id_token in ${t.body}`);
        return tokens.id_token;
      }
      if (/^\/interaction\/[^/]+$/.test(next.pathname)) {
        // The dev interaction's login form: any password, the login is the account id.
        r = await request(issuer, ca.certPem, 'POST', next.pathname, jar, new URLSearchParams({ prompt: 'login', login: sub, password: 'any' }).toString());
        continue;
      }
      r = await request(issuer, ca.certPem, 'GET', next.pathname + next.search, jar);
    }
    throw new Error('too many redirects signing in at the IdP');
  };

  return {
    issuer,
    caPem: ca.certPem,
    clientId: opts.clientId,
    signingKey: () => key,
    idToken,
    rotateKey: async () => {
      key = await newSigningKey();
      provider = configure(key);
    },
    jwksFetches: () => jwksFetches,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request with a cookie jar (name → value; paths ignored: every cookie goes to the IdP). */
function request(base: string, caPem: string, method: string, path: string, jar: Map<string, string>, form?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string | number> = { ...headers };
    if (jar.size > 0) h.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form !== undefined) {
      h['content-type'] = 'application/x-www-form-urlencoded';
      h['content-length'] = Buffer.byteLength(form);
    }
    const req = https.request(new URL(path, base), { method, headers: h, ca: caPem, agent: false }, (res) => {
      for (const c of res.headers['set-cookie'] ?? []) {
        const [pair = ''] = c.split(';');
        const i = pair.indexOf('=');
        if (i > 0) jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(form);
  });
}
