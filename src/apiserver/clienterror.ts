// Requests Node's HTTP parser refuses before any handler sees them (a method it does not know, a
// header block over its limit — `kumo server` reads 1 MiB, as Go does —, malformed framing). Node's default answer is a bare 400/431;
// an HTTP server with its own 'clientError' listener answers nothing unless the listener does. Kumo
// answers with a Status like every other error, then closes the connection (the parser cannot go on
// reading it). Without this the client saw its connection reset: found by the API fuzz test.
import type { Duplex } from 'node:stream';
import { KumoError, statusFor } from '../lib/errors.js';

/** The Status Kumo answers for a parser error code (`HPE_*`). */
export function clientErrorStatus(code: string | undefined): ReturnType<typeof statusFor> {
  if (code === 'HPE_INVALID_METHOD') return statusFor(new KumoError('MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  if (code === 'HPE_HEADER_OVERFLOW') return statusFor(new KumoError('BadRequest', 'the request line and headers are larger than the server reads'));
  return statusFor(new KumoError('BadRequest', `the request could not be parsed${code ? ` (${code})` : ''}`));
}

/** The server's 'clientError' listener: a Status when the connection can still carry one, then close. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response still being written on this connection cannot be followed by ours; one that has ended
  // (its 'finish' may not have run yet when a keep-alive client's next request arrives) can.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean; writableEnded?: boolean } | null })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || (inFlight?.headersSent === true && inFlight.writableEnded !== true)) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(err.code);
  const body = JSON.stringify(status);
  const reason = status.code === 405 ? 'Method Not Allowed' : 'Bad Request';
  // The answer to a HEAD has no body (a client reading one would take it for a next response). The
  // method is known only when the refused bytes begin the request; else the body goes out, as Go's
  // server sends it.
  const raw = (err as NodeJS.ErrnoException & { rawPacket?: unknown }).rawPacket;
  const head = Buffer.isBuffer(raw) && raw.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(`HTTP/1.1 ${status.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`);
}
