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
  NotAcceptable: { reason: 'NotAcceptable', httpCode: 406 },
  UnsupportedMediaType: { reason: 'UnsupportedMediaType', httpCode: 415 },
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

/** Status `details`: which object the error is about, and why (kube's StatusDetails). */
export interface ErrorDetails {
  name?: string;
  group?: string;
  /** The resource (plural) for NotFound/AlreadyExists/Conflict, the Kind for Invalid — as kube does. */
  kind?: string;
  uid?: string;
  causes?: ErrorCause[];
  retryAfterSeconds?: number;
}

/** An error with a code from the closed set. Throw it; the edge turns it into a `Status`. */
export class KumoError extends Error {
  override readonly name = 'KumoError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
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
  details?: ErrorDetails;
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
  const d = e.details;
  if (Object.values(d).some((v) => v !== undefined)) {
    // Field order as kube-apiserver writes it.
    const details: ErrorDetails = {};
    if (d.name !== undefined) details.name = d.name;
    if (d.group !== undefined) details.group = d.group;
    if (d.kind !== undefined) details.kind = d.kind;
    if (d.uid !== undefined) details.uid = d.uid;
    if (d.causes !== undefined) details.causes = d.causes;
    if (d.retryAfterSeconds !== undefined) details.retryAfterSeconds = d.retryAfterSeconds;
    body.details = details;
  }
  return body;
}
