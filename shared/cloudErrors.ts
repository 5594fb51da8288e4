import { JobError, TransientError } from './job/errors.js';

/** The HTTP status of a Google client error, if it carries one. */
export function httpStatus(error: unknown): number | undefined {
  const e = error as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const candidate of [e?.code, e?.status, e?.response?.status]) {
    if (typeof candidate === 'number') return candidate;
    if (typeof candidate === 'string' && /^\d{3}$/.test(candidate)) return Number(candidate);
  }
  return undefined;
}

/**
 * The `reason`s a Google API error lists (`rateLimitExceeded`, `quotaExceeded`, `invalid`...),
 * from the error itself, its `errors` array, or (for BigQuery's partial insert failures)
 * each failed row's errors.
 */
export function errorReasons(error: unknown): string[] {
  const reasons: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 3 || typeof value !== 'object' || value === null) return;
    const v = value as { reason?: unknown; errors?: unknown };
    if (typeof v.reason === 'string') reasons.push(v.reason);
    if (Array.isArray(v.errors)) for (const inner of v.errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  return reasons;
}

/** Reasons that pass with time: throttling and the services' own faults. */
const TRANSIENT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'backendError', 'internalError', 'timeout', 'jobBackendError', 'jobInternalError']);

/** Statuses that pass with time: timeouts, throttling, server faults. */
const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Whether a cloud client's failure may pass if the message is delivered again.
 * Transient: no HTTP status (network, DNS, socket reset), 408, 429, 5xx, and any error whose
 * reason is throttling or a backend fault (BigQuery answers its rate limits with 403
 * `rateLimitExceeded`). Permanent: every other 4xx — 400 (a bad request or invalid rows),
 * 401/403 (credentials, permissions, a `quotaExceeded` quota that resets daily at the
 * earliest, billing), 404 (no such bucket, dataset, table), 409, 413.
 */
export function isTransientCloudError(error: unknown): boolean {
  const reasons = errorReasons(error);
  if (reasons.some((r) => TRANSIENT_REASONS.has(r))) return true;
  const status = httpStatus(error);
  if (status === undefined) {
    // A partial insert failure carries no status: permanent when its rows were invalid
    // (the others are only "stopped" because of them), otherwise a backend fault.
    if (reasons.length > 0) return !reasons.every((r) => r === 'invalid' || r === 'stopped');
    return true;
  }
  return TRANSIENT_STATUSES.has(status) || status >= 500;
}

/**
 * A cloud client's failure as the lifecycle understands it: a `TransientError` (thrown so
 * that Pub/Sub redelivers) when it may pass, else a `JobError` with code `internal` carrying
 * the service's own message, so the job fails at once instead of being redelivered until
 * the dead-letter topic takes it.
 * @param what what was being done, e.g. "Writing gs://bucket/object"
 */
export function cloudFailure(what: string, error: unknown): TransientError | JobError {
  const status = httpStatus(error);
  const reasons = [...new Set(errorReasons(error))].filter((r) => r !== 'stopped');
  const detail = [status ? `HTTP ${status}` : '', ...reasons].filter(Boolean).join(', ');
  const message = `${what} failed${detail ? ` (${detail})` : ''}: ${serviceMessage(error)}`;
  return isTransientCloudError(error) ? new TransientError(message, { cause: error }) : new JobError('internal', message);
}

/** Wraps a failure as a TransientError whatever it is (for callers that classify permanent ones themselves, e.g. gRPC codes). */
export function transient(what: string, error: unknown): TransientError {
  const status = httpStatus(error);
  return new TransientError(`${what} failed${status ? ` (HTTP ${status})` : ''}: ${serviceMessage(error)}`, { cause: error });
}

/** The service's own words: the error's message, or (a partial insert failure has none) its rows' messages. */
function serviceMessage(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).trim();
  if (text !== '') return text;
  const rows = (error as { errors?: { index?: unknown; errors?: { message?: unknown; reason?: unknown }[] }[] })?.errors;
  if (Array.isArray(rows)) {
    // A row's own index in its request where the failure says it (BigQuery's insertErrors do).
    const messages = rows.flatMap((row, index) => (row.errors ?? []).filter((e) => e.reason !== 'stopped' && typeof e.message === 'string' && e.message !== '').map((e) => `row ${typeof row.index === 'number' ? row.index : index}: ${String(e.message)}`));
    if (messages.length > 0) return [...messages.slice(0, 5), ...(messages.length > 5 ? [`and ${messages.length - 5} more`] : [])].join('; ');
  }
  return 'no message from the service';
}
