import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, it } from 'node:test';
import {
  Validity,
  certSans,
  createCA,
  defaultServerSans,
  issueClientCert,
  issueServerCert,
  leafRenewalReason,
  loadOrCreateCA,
  loadOrIssueLeaf,
  writeFileAtomic,
} from './pki.js';

const DAY = 24 * 3600 * 1000;

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-pki-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('pki', () => {
  it('creates a self-signed ECDSA P-256 CA valid for 10 years', async () => {
    const ca = await createCA();
    const cert = new crypto.X509Certificate(ca.certPem);
    assert.equal(cert.ca, true);
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    assert.ok(cert.checkIssued(cert));
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const years = (new Date(cert.validTo).getTime() - Date.now()) / (365 * DAY);
    assert.ok(years > 9.9 && years <= 10.01, `CA valid ${years} years`);
    assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(crypto.createPrivateKey(ca.keyPem).asymmetricKeyType, 'ec');
  });

  it('issues a server certificate the CA verifies, for every default SAN and the listen host', async () => {
    const ca = await createCA();
    const caCert = new crypto.X509Certificate(ca.certPem);
    const sans = defaultServerSans('10.11.12.13');
    const leaf = await issueServerCert(ca, sans);
    const cert = new crypto.X509Certificate(leaf.certPem);
    assert.ok(cert.verify(caCert.publicKey), 'signed by the CA');
    assert.ok(cert.checkIssued(caCert));
    assert.equal(cert.ca, false);
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkHost(os.hostname()), os.hostname());
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('::1'), '::1');
    assert.equal(cert.checkIP('10.11.12.13'), '10.11.12.13');
    assert.equal(cert.checkIP('10.11.12.14'), undefined);
    assert.equal(cert.checkHost('example.com'), undefined);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth only');
    const days = (new Date(cert.validTo).getTime() - Date.now()) / DAY;
    assert.ok(days > 364 && days <= 365.01, `leaf valid ${days} days`);
    // The key matches the certificate.
    const pub = crypto.createPublicKey(crypto.createPrivateKey(leaf.keyPem)).export({ type: 'spki', format: 'der' });
    assert.ok(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(pub));
  });

  it('adds a DNS listen host as a DNS name', () => {
    const sans = defaultServerSans('Kumo.Example.Internal');
    assert.ok(sans.dnsNames.includes('kumo.example.internal'));
    assert.ok(sans.dnsNames.includes('localhost'));
    assert.deepEqual(sans.ips.slice(0, 2), ['127.0.0.1', '::1']);
  });

  it('issues the admin client certificate with CN kumo-admin and O system:masters', async () => {
    const ca = await createCA();
    const caCert = new crypto.X509Certificate(ca.certPem);
    const leaf = await issueClientCert(ca, { commonName: 'kumo-admin', organizations: ['system:masters'] });
    const cert = new crypto.X509Certificate(leaf.certPem);
    assert.ok(cert.verify(caCert.publicKey));
    assert.deepEqual(cert.subject.split('\n').sort(), ['CN=kumo-admin', 'O=system:masters']);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth only');
  });

  it('completes a mutual TLS handshake with the issued certificates', async (t) => {
    const ca = await createCA();
    const server = await issueServerCert(ca, defaultServerSans('127.0.0.1'));
    const client = await issueClientCert(ca, { commonName: 'kumo-admin', organizations: ['system:masters'] });
    const srv = tls.createServer({ key: server.keyPem, cert: server.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: true }, (s) => {
      const peer = s.getPeerCertificate();
      s.end(`${String(s.authorized)} ${String(peer.subject.CN)}`);
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    t.after(() => srv.close());
    const port = (srv.address() as { port: number }).port;
    for (const host of ['localhost', '127.0.0.1']) {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host, port, servername: host === 'localhost' ? host : undefined, ca: [ca.certPem], cert: client.certPem, key: client.keyPem }, () => {
          assert.equal(s.authorized, true, `server certificate trusted for ${host}`);
        });
        let data = '';
        s.on('data', (d: Buffer) => (data += d.toString()));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
      assert.equal(reply, 'true kumo-admin');
    }
  });

  it('keeps the CA in dir/ca.crt + ca.key (0600) and reuses it', async (t) => {
    const dir = path.join(tmpDir(t), 'pki');
    const first = await loadOrCreateCA(dir);
    assert.equal(first.created, true);
    assert.equal(fs.statSync(path.join(dir, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    const second = await loadOrCreateCA(dir);
    assert.equal(second.created, false);
    assert.equal(second.certPem, first.certPem);
    assert.equal(fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'), first.certPem);
  });

  it('refuses half a CA and a key that does not match', async (t) => {
    const dir = tmpDir(t);
    await loadOrCreateCA(dir);
    const other = await createCA();
    fs.writeFileSync(path.join(dir, 'ca.key'), other.keyPem);
    await assert.rejects(loadOrCreateCA(dir), /CA .* unreadable .*does not match/);
    fs.rmSync(path.join(dir, 'ca.key'));
    await assert.rejects(loadOrCreateCA(dir), /ca\.key is missing but .*ca\.crt exists/);
  });

  it('re-issues the server certificate only when SANs change, it nears expiry or another CA signed it', async (t) => {
    const dir = tmpDir(t);
    const ca = await loadOrCreateCA(dir);
    const sans = defaultServerSans('127.0.0.1');
    const first = await loadOrIssueLeaf(dir, 'server', ca, { server: sans });
    assert.equal(first.reissued, 'none exists');
    assert.equal(fs.statSync(path.join(dir, 'server.key')).mode & 0o777, 0o600);

    const again = await loadOrIssueLeaf(dir, 'server', ca, { server: sans });
    assert.equal(again.reissued, null);
    assert.equal(again.certPem, first.certPem);

    const moved = await loadOrIssueLeaf(dir, 'server', ca, { server: defaultServerSans('192.0.2.7') });
    assert.equal(moved.reissued, 'its subject alternative names changed');
    assert.ok(certSans(moved.certPem).ips.includes('192.0.2.7'));

    // A certificate issued 340 days ago has 25 days left: inside the 30-day window.
    const old = await issueServerCert(ca, sans, new Date(Date.now() - 340 * DAY));
    assert.equal(leafRenewalReason(old.certPem, old.keyPem, ca, { sans }), 'it expires within 30 days');
    fs.writeFileSync(path.join(dir, 'server.crt'), old.certPem);
    fs.writeFileSync(path.join(dir, 'server.key'), old.keyPem);
    const renewed = await loadOrIssueLeaf(dir, 'server', ca, { server: sans });
    assert.equal(renewed.reissued, 'it expires within 30 days');
    const days = (new Date(new crypto.X509Certificate(renewed.certPem).validTo).getTime() - Date.now()) / DAY;
    assert.ok(days > 364, 'a fresh year');
    assert.ok(Validity.renewBeforeMs === 30 * DAY);

    const stranger = await createCA();
    const foreign = await issueServerCert(stranger, sans);
    assert.equal(leafRenewalReason(foreign.certPem, foreign.keyPem, ca, { sans }), 'another CA signed it');
    assert.equal(leafRenewalReason(foreign.certPem, old.keyPem, stranger, { sans }), 'its key does not match');
  });

  it('re-issues the admin certificate when its subject changes', async (t) => {
    const dir = tmpDir(t);
    const ca = await loadOrCreateCA(dir);
    const want = { client: { commonName: 'kumo-admin', organizations: ['system:masters'] } };
    const first = await loadOrIssueLeaf(dir, 'admin', ca, want);
    assert.equal((await loadOrIssueLeaf(dir, 'admin', ca, want)).reissued, null);
    const renamed = await loadOrIssueLeaf(dir, 'admin', ca, { client: { commonName: 'kumo-admin' } });
    assert.equal(renamed.reissued, 'its subject changed');
    assert.notEqual(renamed.certPem, first.certPem);
  });

  it('writeFileAtomic replaces a file whole, with the exact mode, through a fresh temp file', (t) => {
    const dir = tmpDir(t);
    const file = path.join(dir, 'x.key');
    fs.writeFileSync(file, 'old', { mode: 0o644 });
    // A temp file left by a crash of an earlier process with our pid, and one that is a symlink: both
    // are replaced, never written through.
    const tmp = `${file}.tmp-${process.pid}`;
    const elsewhere = path.join(dir, 'elsewhere');
    fs.writeFileSync(elsewhere, 'untouched');
    fs.symlinkSync(elsewhere, tmp);
    const oldUmask = process.umask(0o077);
    try {
      writeFileAtomic(file, 'new secret', 0o640);
    } finally {
      process.umask(oldUmask);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), 'new secret');
    assert.equal(fs.statSync(file).mode & 0o777, 0o640, 'the mode is exact whatever the umask');
    assert.equal(fs.readFileSync(elsewhere, 'utf8'), 'untouched');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['elsewhere', 'x.key']);

    // A failed write leaves the old file and no temp file behind.
    assert.throws(() => writeFileAtomic(path.join(dir, 'missing-dir', 'y'), 'data', 0o600), /ENOENT/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['elsewhere', 'x.key']);
  });
});
