// Sends fuzz requests to a running server over HTTPS with the admin client certificate of its
// kubeconfig, a bounded number at a time, each with a deadline: a request that outlives it is a hang.
import fs from 'node:fs';
import https from 'node:https';
import YAML from 'yaml';
import type { FuzzRequest } from './generate.js';

export interface Credentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** The CA and admin client certificate of a kubeconfig written by `kumo server`. */
export function credentialsFrom(kubeconfig: string): Credentials {
  const cfg = YAML.parse(fs.readFileSync(kubeconfig, 'utf8')) as { users: { user: Record<string, string> }[]; clusters: { cluster: Record<string, string> }[] };
  const user = cfg.users[0]?.user ?? {};
  const cluster = cfg.clusters[0]?.cluster ?? {};
  const b64 = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64');
  return { ca: b64(cluster['certificate-authority-data']), cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']) };
}

export interface FuzzResponse {
  /** HTTP status; 0 when there was none (see `error`). */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body (whole up to `maxBody` bytes). */
  body: Buffer;
  truncated: boolean;
  /** A transport failure: `timeout`, `reset`, or the client's own refusal to send (`client: …`). */
  error?: string;
  ms: number;
  /** The client's local port (which connection carried it) and whether that connection had carried earlier requests. */
  connection?: { localPort: number; reused: boolean };
}

export class FuzzClient {
  private readonly agent: https.Agent;

  constructor(
    private readonly port: number,
    creds: Credentials,
    concurrency: number,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: creds.ca, cert: creds.cert, key: creds.key });
  }

  close(): void {
    this.agent.destroy();
  }

  send(req: Pick<FuzzRequest, 'method' | 'path' | 'headers' | 'body' | 'chunked'>, timeoutMs: number, maxBody = 8 * 1024 * 1024): Promise<FuzzResponse> {
    const started = Date.now();
    return new Promise((resolve) => {
      let done = false;
      let connection: FuzzResponse['connection'];
      const finish = (r: Omit<FuzzResponse, 'ms'>): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(connection ? { ...r, ms: Date.now() - started, connection } : { ...r, ms: Date.now() - started });
      };
      const headers: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = v;
      if (req.body !== undefined && !req.chunked) headers['content-length'] = req.body.length;
      let r: ReturnType<typeof https.request>;
      try {
        r = https.request({ host: '127.0.0.1', port: this.port, method: req.method, path: req.path, headers, agent: this.agent }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          let truncated = false;
          res.on('data', (d: Buffer) => {
            if (size + d.length > maxBody) truncated = true;
            else chunks.push(d);
            size += d.length;
          });
          res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated }));
          res.on('error', (err) => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated, error: `reset: ${err.message}` }));
          res.on('aborted', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated, error: 'reset: response aborted' }));
        });
      } catch (err) {
        finish({ status: 0, headers: {}, body: Buffer.alloc(0), truncated: false, error: `client: ${err instanceof Error ? err.message : String(err)}` });
        return;
      }
      const timer = setTimeout(() => {
        finish({ status: 0, headers: {}, body: Buffer.alloc(0), truncated: false, error: `timeout: no complete answer within ${timeoutMs} ms` });
        r.destroy();
      }, timeoutMs);
      r.on('socket', (sock) => {
        const note = (): void => {
          connection = { localPort: sock.localPort ?? 0, reused: r.reusedSocket };
        };
        if (sock.localPort !== undefined) note();
        else sock.once('connect', note);
      });
      r.on('error', (err: NodeJS.ErrnoException) => finish({ status: 0, headers: {}, body: Buffer.alloc(0), truncated: false, error: `reset: ${err.code ?? ''} ${err.message}` }));
      if (req.body !== undefined) r.end(req.body);
      else r.end();
    });
  }
}

/** Runs `count` tasks, at most `concurrency` at once, in index order of start. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
}
