import { TransientError } from './job/errors.js';

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
 * Wraps a cloud client's failure as a TransientError, so the message is redelivered:
 * outages, throttling and timeouts pass; a permission or configuration error is retried
 * until the dead-letter topic takes the message, where an operator sees it.
 */
export function transient(what: string, error: unknown): TransientError {
  const status = httpStatus(error);
  const reason = error instanceof Error ? error.message : String(error);
  return new TransientError(`${what} failed${status ? ` (HTTP ${status})` : ''}: ${reason}`, { cause: error });
}
