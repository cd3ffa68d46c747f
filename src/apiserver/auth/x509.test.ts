// Client certificates over a real TLS handshake against a CA, as the server's listener does it.
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createCA, issueClientCert, issueServerCert, type CertificateAuthority, type IssuedCert } from '../../lib/pki.js';
import { isKumoError } from '../../lib/errors.js';
import { unauthorizedReason } from './common.js';
import { ClientCertAuthenticator } from './x509.js';
import type { UserInfo } from './types.js';

describe('client certificate authenticator (x509)', () => {
  let ca: CertificateAuthority;
  let server: https.Server;
  let port = 0;
  const a = new ClientCertAuthenticator();

  before(async () => {
    ca = await createCA();
    const serving = await issueServerCert(ca, { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    server = https.createServer({ key: serving.keyPem, cert: serving.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: false }, (req, res) => {
      a.authenticate(req).then(
        (u) => res.end(JSON.stringify({ user: u })),
        (err: unknown) => res.end(JSON.stringify({ error: isKumoError(err, 'Unauthorized') ? `401 ${unauthorizedReason(err)}` : String(err) })),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const ask = (cert?: IssuedCert): Promise<{ user?: UserInfo | null; error?: string }> =>
    new Promise((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/', ca: ca.certPem, agent: false, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(JSON.parse(body) as { user?: UserInfo | null; error?: string }));
      });
      req.on('error', reject);
    });

  it('CN is the user, every O a group, the fingerprint the credential id', async () => {
    const r = await ask(await issueClientCert(ca, { commonName: 'jane', organizations: ['devs', 'ops'] }));
    assert.equal(r.user?.username, 'jane');
    assert.deepEqual(r.user?.groups, ['devs', 'ops']);
    assert.match(r.user?.extra?.['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^X509SHA256=[0-9a-f]{64}$/);
  });

  it('no certificate: not this authenticator\'s request', async () => {
    assert.deepEqual(await ask(), { user: null });
  });

  it('a certificate of another CA is refused with 401', async () => {
    const other = await createCA('someone-else');
    const r = await ask(await issueClientCert(other, { commonName: 'mallory', organizations: ['system:masters'] }));
    assert.match(r.error ?? '', /^401 client certificate not verified/);
  });

  it('an expired certificate is refused with 401', async () => {
    const old = await issueClientCert(ca, { commonName: 'old' }, new Date(Date.now() - 2 * 365 * 24 * 3600 * 1000));
    assert.match((await ask(old)).error ?? '', /^401 client certificate not verified: CERT_HAS_EXPIRED/);
  });

  it('a server certificate (no client-auth usage) is refused with 401', async () => {
    const serverCert = await issueServerCert(ca, { dnsNames: ['evil'], ips: [] });
    const r = await ask(serverCert);
    assert.match(r.error ?? '', /^401 /);
  });

  it('plain HTTP sockets carry no certificate', () => {
    assert.equal(a.fromSocket({}), null);
  });
});
