// The closed set of error codes every Kumo layer speaks. Each maps to one Kubernetes Status reason
// and HTTP code in exactly one place (`statusFor`), so a layer never invents its own error shape.

export const ErrorCodes = {
  NotFound: { reason: 'NotFound', httpCode: 404 },
  AlreadyExists: { reason: 'AlreadyExists', httpCode: 409 },
  Conflict: { reason: 'Conflict', httpCode: 409 },
  Invalid: { reason: 'Invalid', httpCode: 422 },
  BadRequest: { reason: 'BadRequest', httpCode: 400 },
  Forbidden: { reason: 'Forbidden', httpCode: 403 },
  Unauthorized: { reason: 'Unauthorized', httpCode: 401 },
  MethodNotAllowed: { reason: 'MethodNotAllowed', httpCode: 405 },
  Gone: { reason: 'Expired', httpCode: 410 },
  RequestEntityTooLarge: { reason: 'RequestEntityTooLarge', httpCode: 413 },
  TooManyRequests: { reason: 'TooManyRequests', httpCode: 429 },
  Timeout: { reason: 'Timeout', httpCode: 504 },
  Unavailable: { reason: 'ServiceUnavailable', httpCode: 503 },
  Internal: { reason: 'InternalError', httpCode: 500 },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorCause {
  /** The field path the cause is about, e.g. `spec.replicas` or `key`. */
  field?: string;
  /** Machine-readable cause type, e.g. `FieldValueInvalid`, `FieldValueTooLong`. */
  reason?: string;
  message: string;
}

/** An error with a code from the closed set. Throw it; the edge turns it into a `Status`. */
export class KumoError extends Error {
  override readonly name = 'KumoError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { causes?: ErrorCause[]; retryAfterSeconds?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isKumoError(err: unknown, code?: ErrorCode): err is KumoError {
  return err instanceof KumoError && (code === undefined || err.code === code);
}

/** Kubernetes `Status` body for an error (unknown errors become InternalError, message kept generic). */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
  details?: { causes?: { field?: string; reason?: string; message: string }[]; retryAfterSeconds?: number };
}

export function statusFor(err: unknown): StatusBody {
  const e = err instanceof KumoError ? err : new KumoError('Internal', 'an internal error occurred');
  const { reason, httpCode } = ErrorCodes[e.code];
  const body: StatusBody = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    reason,
    code: httpCode,
  };
  if (e.details.causes !== undefined || e.details.retryAfterSeconds !== undefined) {
    body.details = {};
    if (e.details.causes !== undefined) body.details.causes = e.details.causes;
    if (e.details.retryAfterSeconds !== undefined) body.details.retryAfterSeconds = e.details.retryAfterSeconds;
  }
  return body;
}
