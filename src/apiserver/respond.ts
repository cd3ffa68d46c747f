// Writing responses: JSON (or YAML) bodies, Status errors, warnings, and watch event streams whose
// events are serialized once however many watchers receive them.
import type http from 'node:http';
import YAML from 'yaml';
import { KumoError, statusFor } from '../lib/errors.js';
import type { KeyValue } from '../store/types.js';
import type { ApiWatchEvent } from './rest.js';

export interface ResponseFormat {
  mediaType: 'application/json' | 'application/yaml';
  pretty?: boolean;
}

export function writeObject(res: http.ServerResponse, code: number, body: unknown, fmt: ResponseFormat = { mediaType: 'application/json' }, warnings: string[] = []): void {
  const text = fmt.mediaType === 'application/yaml' ? YAML.stringify(body) : fmt.pretty ? JSON.stringify(body, null, 2) + '\n' : JSON.stringify(body);
  const kept = limitWarnings(warnings);
  if (kept.length > 0) res.setHeader('Warning', kept.map((w) => `299 - ${quoteWarning(w)}`));
  res.writeHead(code, { 'Content-Type': fmt.mediaType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes a KumoError (or anything thrown) as a Kubernetes Status. */
export function writeError(res: http.ServerResponse, err: unknown, fmt?: ResponseFormat): void {
  const status = statusFor(err);
  if (err instanceof KumoError && err.details.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.details.retryAfterSeconds));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  writeObject(res, status.code, status, fmt);
}

/** kube's warning recorder limits: 4 Ki characters in all; past that each warning is cut to 256 and the rest dropped. */
export const WARNINGS_TOTAL_RUNES = 4 * 1024;
export const WARNING_ITEM_RUNES = 256;

/**
 * The warnings a response carries, as kube-apiserver's recorder keeps them: duplicates once; all of
 * them while their text totals at most 4 Ki characters; else each cut to 256 characters, in order,
 * until the total passes 4 Ki. (Unbounded, a write with thousands of unknown fields answered with a
 * header block larger than clients read: found by the API fuzz test.)
 */
export function limitWarnings(warnings: readonly string[]): string[] {
  const unique = [...new Set(warnings)];
  const runes = (s: string): number => [...s].length;
  if (unique.reduce((n, w) => n + runes(w), 0) <= WARNINGS_TOTAL_RUNES) return unique;
  const out: string[] = [];
  let written = 0;
  for (const w of unique) {
    if (written >= WARNINGS_TOTAL_RUNES) break;
    const cut = [...w].slice(0, WARNING_ITEM_RUNES).join('');
    out.push(cut);
    written += runes(cut);
  }
  return out;
}

function quoteWarning(w: string): string {
  // RFC 7234 warn-text is a quoted-string; keep it on one line and ASCII-safe.
  const clean = w.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return `"${clean.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Serialized watch event lines per store event and event type: built once, written to every watcher. */
const lineCache = new WeakMap<KeyValue, Map<string, Buffer>>();

/** One JSON line for a watch event; cached when the event carries its store identity. */
export function watchLine(ev: ApiWatchEvent, transform?: (obj: ApiWatchEvent['object']) => unknown, variant = ''): Buffer {
  const build = (): Buffer => Buffer.from(JSON.stringify({ type: ev.type, object: transform ? transform(ev.object) : ev.object }) + '\n');
  if (!ev.raw) return build();
  let byType = lineCache.get(ev.raw);
  if (!byType) lineCache.set(ev.raw, (byType = new Map<string, Buffer>()));
  // Versions of one kind (a CRD's) share store events: the object's apiVersion is part of the key.
  const k = `${ev.type}\0${variant}\0${String(ev.object.apiVersion)}`;
  let line = byType.get(k);
  if (!line) byType.set(k, (line = build()));
  return line;
}

/**
 * Streams watch events as JSON lines (chunked), until the events end, the client goes away or the
 * timeout passes. A client that does not read is dropped once its socket buffer passes `maxBuffered`
 * bytes (it relists), never buffered without bound.
 */
export async function streamWatch(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  events: AsyncIterable<ApiWatchEvent>,
  opts: { abort: AbortController; timeoutMs: number; line: (ev: ApiWatchEvent) => Buffer; maxBuffered?: number; contentType?: string },
): Promise<void> {
  const maxBuffered = opts.maxBuffered ?? 16 * 1024 * 1024;
  res.writeHead(200, { 'Content-Type': opts.contentType ?? 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const timer = setTimeout(() => opts.abort.abort(), opts.timeoutMs);
  const onClose = (): void => opts.abort.abort();
  req.socket.on('close', onClose);
  res.on('close', onClose);
  try {
    let corked = false;
    for await (const ev of events) {
      if (opts.abort.signal.aborted) break;
      // Events that arrive together (one commit's batch) leave in one TLS record and one write.
      if (!corked) {
        corked = true;
        res.cork();
        setImmediate(() => {
          corked = false;
          res.uncork();
        });
      }
      res.write(opts.line(ev));
      if (res.writableLength > maxBuffered) break;
      if (ev.type === 'ERROR') break;
    }
  } finally {
    clearTimeout(timer);
    req.socket.off('close', onClose);
    res.off('close', onClose);
    opts.abort.abort();
    if (!res.writableEnded) res.end();
  }
}
