// A Kubernetes `Status` (a watch ERROR event, an HTTP error body) back into a `KumoError`: the inverse
// of lib/errors' `statusFor`, so every client implementation reports failures the same way.
import { ErrorCodes, KumoError, type ErrorCode, type ErrorDetails } from '../lib/errors.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const byReason = new Map<string, ErrorCode>(Object.entries(ErrorCodes).map(([code, v]) => [v.reason, code as ErrorCode]));
const byHttp = new Map<number, ErrorCode>();
for (const [code, v] of Object.entries(ErrorCodes)) if (!byHttp.has(v.httpCode)) byHttp.set(v.httpCode, code as ErrorCode);

/** The error a Status describes: by reason, else by HTTP code (410 is always Gone), else Internal. */
export function errorFromStatus(status: unknown): KumoError {
  const s = isRecord(status) ? status : {};
  const message = typeof s.message === 'string' && s.message !== '' ? s.message : 'unknown error';
  const reason = typeof s.reason === 'string' ? s.reason : '';
  const httpCode = typeof s.code === 'number' ? s.code : 0;
  const code: ErrorCode = httpCode === 410 ? 'Gone' : (byReason.get(reason) ?? byHttp.get(httpCode) ?? 'Internal');
  const details: ErrorDetails = isRecord(s.details) ? s.details : {};
  return new KumoError(code, message, details);
}
