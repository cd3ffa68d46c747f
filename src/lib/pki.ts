// Kumo's own PKI: one CA kept in the data dir, a server certificate for the HTTPS listener and client
// certificates (the admin kubeconfig's). ECDSA P-256 over node's WebCrypto; every output is PEM.
//
//   DATA/pki/ca.crt, ca.key          the CA (10 years); created once, reused on every start
//   DATA/pki/server.crt, server.key  the listener's certificate (1 year); re-issued on start when its
//                                    SANs changed, it expires within 30 days, or another CA signed it
//   DATA/pki/admin.crt, admin.key    the admin client certificate (1 year), same renewal rules
//
// Private keys are written 0600 (the data dir itself is 0700).
// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect metadata
// API; importing the polyfill only defines the missing Reflect functions (no I/O).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import crypto, { webcrypto } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The WebCrypto provider every @peculiar/x509 call gets explicitly (no global provider is set). */
const wc = webcrypto;
type CryptoKey = webcrypto.CryptoKey;
const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 3600 * 1000;

export const Validity = {
  caMs: 10 * 365 * DAY_MS,
  leafMs: 365 * DAY_MS,
  /** A leaf certificate is re-issued on start when it expires sooner than this. */
  renewBeforeMs: 30 * DAY_MS,
  /** notBefore is set this far in the past, for clocks slightly behind ours. */
  backdateMs: 5 * 60 * 1000,
} as const;

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
  /** The parsed CA certificate and its signing key. */
  cert: x509.X509Certificate;
  key: CryptoKey;
}

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export interface ServerCertRequest {
  dnsNames: string[];
  ips: string[];
}

export interface ClientCertRequest {
  commonName: string;
  organizations?: string[];
}

/** The host names and addresses every server certificate carries, plus the listen host. */
export function defaultServerSans(listenHost: string): ServerCertRequest {
  const dnsNames = new Set<string>(['localhost', os.hostname().toLowerCase()]);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  if (listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '') {
    // A wildcard listener is reachable on every interface address.
    for (const addrs of Object.values(os.networkInterfaces())) {
      for (const a of addrs ?? []) ips.add(a.address.replace(/%.*$/, ''));
    }
  } else if (net.isIP(listenHost) !== 0) {
    ips.add(listenHost);
  } else {
    dnsNames.add(listenHost.toLowerCase());
  }
  return { dnsNames: [...dnsNames].filter((n) => n !== ''), ips: [...ips].map(canonicalIp) };
}

export async function createCA(commonName = 'kumo-ca', now = new Date()): Promise<CertificateAuthority> {
  const keys = await wc.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: [{ CN: [commonName] }, { O: ['kumo'] }],
      notBefore: new Date(now.getTime() - Validity.backdateMs),
      notAfter: new Date(now.getTime() + Validity.caMs),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, wc),
      ],
    },
    wc,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey), cert, key: keys.privateKey };
}

export async function parseCA(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const key = await importKeyPem(keyPem);
  // The key must belong to the certificate: a mismatched pair would issue certificates nobody trusts.
  const pub = crypto.createPublicKey(crypto.createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  if (!Buffer.from(cert.publicKey.rawData).equals(pub)) throw new Error('the CA key does not match the CA certificate');
  return { certPem, keyPem, cert, key };
}

/** Loads `dir/ca.crt` + `dir/ca.key`, or creates them (key 0600) when neither exists. */
export async function loadOrCreateCA(dir: string): Promise<CertificateAuthority & { created: boolean }> {
  const certFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'ca.key');
  const haveCert = fs.existsSync(certFile);
  const haveKey = fs.existsSync(keyFile);
  if (haveCert && haveKey) {
    try {
      return { ...(await parseCA(fs.readFileSync(certFile, 'utf8'), fs.readFileSync(keyFile, 'utf8'))), created: false };
    } catch (err) {
      throw new Error(`the CA in ${dir} is unreadable (${err instanceof Error ? err.message : String(err)}); restore ca.crt/ca.key from a backup`, { cause: err });
    }
  }
  if (haveCert !== haveKey) {
    // Never silently replace half a CA: every certificate it issued would stop being trusted.
    throw new Error(`${haveCert ? keyFile : certFile} is missing but ${haveCert ? certFile : keyFile} exists; restore the pair from a backup or remove both to create a new CA`);
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await createCA();
  writeFileAtomic(keyFile, ca.keyPem, 0o600);
  writeFileAtomic(certFile, ca.certPem, 0o644);
  return { ...ca, created: true };
}

export async function issueServerCert(ca: CertificateAuthority, req: ServerCertRequest, now = new Date()): Promise<IssuedCert> {
  const names: x509.JsonGeneralName[] = [
    ...unique(req.dnsNames.map((n) => n.toLowerCase())).map((value) => ({ type: 'dns' as const, value })),
    ...unique(req.ips.map(canonicalIp)).map((value) => ({ type: 'ip' as const, value })),
  ];
  return issueLeaf(ca, [{ CN: ['kumo-apiserver'] }], x509.ExtendedKeyUsage.serverAuth, now, [new x509.SubjectAlternativeNameExtension(names, false)]);
}

export async function issueClientCert(ca: CertificateAuthority, req: ClientCertRequest, now = new Date()): Promise<IssuedCert> {
  const name: x509.JsonName = [{ CN: [req.commonName] }];
  for (const o of req.organizations ?? []) name.push({ O: [o] });
  return issueLeaf(ca, name, x509.ExtendedKeyUsage.clientAuth, now, []);
}

/** Why a leaf certificate must be re-issued, or null when it is still good for `req`. */
export function leafRenewalReason(certPem: string, keyPem: string, ca: CertificateAuthority, req: { sans?: ServerCertRequest; now?: Date }): string | null {
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(certPem);
    const pub = crypto.createPublicKey(crypto.createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    if (!cert.publicKey.export({ type: 'spki', format: 'der' }).equals(pub)) return 'its key does not match';
  } catch {
    return 'it is unreadable';
  }
  const caCert = new crypto.X509Certificate(ca.certPem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'another CA signed it';
  const now = (req.now ?? new Date()).getTime();
  if (new Date(cert.validTo).getTime() - now < Validity.renewBeforeMs) return 'it expires within 30 days';
  if (new Date(cert.validFrom).getTime() > now) return 'it is not valid yet';
  if (req.sans !== undefined) {
    const have = certSans(certPem);
    const want = { dnsNames: unique(req.sans.dnsNames.map((n) => n.toLowerCase())), ips: unique(req.sans.ips.map(canonicalIp)) };
    if (!sameSet(have.dnsNames, want.dnsNames) || !sameSet(have.ips, want.ips)) return 'its subject alternative names changed';
  }
  return null;
}

/**
 * Loads `dir/<name>.crt` + `.key` when still good (see `leafRenewalReason`), else issues and writes a
 * new pair. `reissued` says why a new one was written (null when the old one was kept).
 */
export async function loadOrIssueLeaf(
  dir: string,
  name: string,
  ca: CertificateAuthority,
  want: { server: ServerCertRequest } | { client: ClientCertRequest },
): Promise<IssuedCert & { reissued: string | null }> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  let reason = 'none exists';
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    const certPem = fs.readFileSync(certFile, 'utf8');
    const keyPem = fs.readFileSync(keyFile, 'utf8');
    const why = leafRenewalReason(certPem, keyPem, ca, 'server' in want ? { sans: want.server } : {});
    if (why === null && ('server' in want || clientSubjectMatches(certPem, want.client))) return { certPem, keyPem, reissued: null };
    reason = why ?? 'its subject changed';
  }
  const issued = 'server' in want ? await issueServerCert(ca, want.server) : await issueClientCert(ca, want.client);
  writeFileAtomic(keyFile, issued.keyPem, 0o600);
  writeFileAtomic(certFile, issued.certPem, 0o644);
  return { ...issued, reissued: reason };
}

/** The DNS names and (canonical) IP addresses in a certificate's subjectAltName. */
export function certSans(certPem: string): ServerCertRequest {
  const cert = new x509.X509Certificate(certPem);
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const dnsNames: string[] = [];
  const ips: string[] = [];
  for (const n of ext?.names.toJSON() ?? []) {
    if (n.type === 'dns') dnsNames.push(n.value.toLowerCase());
    else if (n.type === 'ip') ips.push(canonicalIp(n.value));
  }
  return { dnsNames, ips };
}

/**
 * Writes a file so that a crash or power loss leaves either the old or the new content, never half a
 * key: a temp file beside it (created with `mode`, never through a symlink) is written and fsynced,
 * renamed over `file`, and the directory is fsynced so the rename itself is durable.
 */
export function writeFileAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  // A temp file left by a crash of a process with the same pid (containers restart as pid 1).
  fs.rmSync(tmp, { force: true });
  try {
    const fd = fs.openSync(tmp, 'wx', mode);
    try {
      fs.fchmodSync(fd, mode); // open() applies the umask to `mode`; set it exactly
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(file));
}

/** fsyncs a directory so a rename or create in it survives power loss. */
function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (err) {
    // Platforms that cannot open a directory (Windows: EISDIR/EPERM) cannot fsync one either.
    if (isCode(err, 'EISDIR', 'EPERM')) return;
    throw err;
  }
  try {
    fs.fsyncSync(fd);
  } catch (err) {
    // Some file systems do not support fsync on a directory.
    if (!isCode(err, 'EINVAL', 'ENOTSUP', 'EBADF')) throw err;
  } finally {
    fs.closeSync(fd);
  }
}

function isCode(err: unknown, ...codes: string[]): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}

async function issueLeaf(
  ca: CertificateAuthority,
  name: x509.JsonName,
  usage: x509.ExtendedKeyUsage,
  now: Date,
  extra: x509.Extension[],
): Promise<IssuedCert> {
  const keys = await wc.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const notAfter = Math.min(now.getTime() + Validity.leafMs, ca.cert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: name,
      issuer: ca.cert.subject,
      notBefore: new Date(now.getTime() - Validity.backdateMs),
      notAfter: new Date(notAfter),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: ca.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([usage], false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, wc),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false, wc),
        ...extra,
      ],
    },
    wc,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

function clientSubjectMatches(certPem: string, req: ClientCertRequest): boolean {
  const cert = new x509.X509Certificate(certPem);
  const cn = cert.subjectName.getField('CN');
  const orgs = cert.subjectName.getField('O');
  return cn.length === 1 && cn[0] === req.commonName && sameSet(orgs, req.organizations ?? []);
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await wc.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

async function importKeyPem(pem: string): Promise<CryptoKey> {
  const der = crypto.createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return wc.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

/** A positive 128-bit serial number in hex (the top bit cleared so DER never reads it as negative). */
function serialNumber(): string {
  const b = crypto.randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01;
  return b.toString('hex');
}

/** One spelling per address: `0:0:0:0:0:0:0:1` and `::1` compare equal. */
export function canonicalIp(ip: string): string {
  if (net.isIPv6(ip)) return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  return ip;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}
