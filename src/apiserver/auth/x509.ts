// Client certificates (k8s.io/apiserver's x509 authenticator): the TLS handshake verified the chain
// against the Kumo CA (the listener requests a certificate but does not insist on one, so requests
// without a certificate reach the other authenticators). The user is the subject's CN, the groups its
// O values. A certificate the handshake could not verify (another CA, expired), or one not meant for
// client authentication, is refused with 401.
import type { IncomingMessage } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { unauthorized } from './common.js';
import type { Authenticator, UserInfo } from './types.js';

const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

export class ClientCertAuthenticator implements Authenticator {
  readonly name = 'x509';
  /**
   * The decision per TLS connection (its peer certificate cannot change; reading it costs a parse per
   * call), with the certificate's notAfter so a connection outliving its certificate is refused.
   */
  private readonly bySocket = new WeakMap<object, { user: UserInfo | null; notAfterMs: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  // async: a refusal is a rejected promise, never a synchronous throw at the caller.
  // eslint-disable-next-line @typescript-eslint/require-await
  async authenticate(req: IncomingMessage): Promise<UserInfo | null> {
    const sock = req.socket as Partial<TLSSocket>;
    const cached = this.bySocket.get(sock);
    if (cached !== undefined) {
      if (cached.user !== null && this.now() > cached.notAfterMs) throw unauthorized('client certificate has expired');
      return cached.user === null ? null : { ...cached.user, groups: [...cached.user.groups] };
    }
    const user = this.fromSocket(sock);
    let notAfterMs = Infinity;
    if (user !== null && typeof sock.getPeerCertificate === 'function') notAfterMs = Date.parse(sock.getPeerCertificate().valid_to);
    this.bySocket.set(sock, { user, notAfterMs });
    return user === null ? null : { ...user, groups: [...user.groups] };
  }

  /** The decision, from the TLS socket alone. */
  fromSocket(sock: Partial<TLSSocket>): UserInfo | null {
    if (typeof sock.getPeerCertificate !== 'function') return null; // plain HTTP (tests)
    const cert: PeerCertificate | Record<string, never> = sock.getPeerCertificate();
    if (cert === null || Object.keys(cert).length === 0) return null; // no certificate presented
    if (sock.authorized !== true) throw unauthorized(`client certificate not verified: ${String(sock.authorizationError ?? 'unknown reason')}`);
    const eku = cert.ext_key_usage;
    if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH_EKU) && !eku.includes(ANY_EKU)) {
      throw unauthorized('client certificate is not valid for client authentication (extended key usage)');
    }
    return userFromCertificate(cert);
  }
}

/** CN → username, O → groups (kube's CommonNameUserConversion), the fingerprint as credential id. */
export function userFromCertificate(cert: PeerCertificate): UserInfo {
  const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
  const cn = first(subject.CN);
  if (cn === undefined || cn === '') throw unauthorized('client certificate has no common name');
  const org = subject.O;
  const groups = org === undefined ? [] : Array.isArray(org) ? [...org] : [org];
  const user: UserInfo = { username: cn, groups };
  if (typeof cert.fingerprint256 === 'string' && cert.fingerprint256 !== '') {
    user.extra = { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${cert.fingerprint256.replace(/:/g, '').toLowerCase()}`] };
  }
  return user;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
