// kubeconfig documents (clientcmd v1 `Config`) with every credential embedded, so one file is enough.
import net from 'node:net';
import { stringify } from 'yaml';

export interface KubeconfigInput {
  /** https://host:port */
  server: string;
  caPem: string;
  clusterName?: string;
  userName: string;
  /** Client certificate + key (PEM), embedded as *-data. */
  clientCertPem: string;
  clientKeyPem: string;
  contextName?: string;
}

export function renderKubeconfig(k: KubeconfigInput): string {
  const cluster = k.clusterName ?? 'kumo';
  const context = k.contextName ?? cluster;
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: k.server, 'certificate-authority-data': b64(k.caPem) } }],
    users: [{ name: k.userName, user: { 'client-certificate-data': b64(k.clientCertPem), 'client-key-data': b64(k.clientKeyPem) } }],
    contexts: [{ name: context, context: { cluster, user: k.userName } }],
    'current-context': context,
    preferences: {},
  });
}

/** `https://host:port` for a listener; wildcard hosts become loopback, IPv6 gets brackets. */
export function serverUrl(host: string, port: number): string {
  let h = host;
  if (h === '' || h === '0.0.0.0') h = '127.0.0.1';
  else if (h === '::') h = '::1';
  return `https://${net.isIPv6(h) ? `[${h}]` : h}:${port}`;
}
