import type { HttpAnswer } from './httpRequest.js';

/** What a Google JSON API's error answer says: its message and reasons. */
export interface GoogleApiErrorBody {
  readonly message: string;
  readonly errors: { reason?: string; message?: string }[];
}

/**
 * The message and reasons of a failed Google JSON API answer (`{ error: { message, errors } }`),
 * as Cloud Storage and BigQuery send them; an answer that is not JSON (a proxy's page) gives
 * its first 300 characters as the message.
 */
export function googleApiErrorBody(response: HttpAnswer): GoogleApiErrorBody {
  const text = response.body.toString('utf8');
  let message = text.slice(0, 300) || `HTTP ${response.status}`;
  let errors: { reason?: string; message?: string }[] = [];
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown; errors?: unknown } };
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
    if (Array.isArray(parsed.error?.errors)) errors = parsed.error.errors as typeof errors;
  } catch {
    // Not JSON: its first characters are the message.
  }
  return { message, errors };
}

/** An answer of a Google JSON API that is not a success, shaped as `cloudFailure` reads Google clients' errors. */
export class GoogleApiHttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly errors: readonly { reason?: string; message?: string }[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Exponential backoff as Google's clients state it: up to `maxRetries` more attempts, delays of
 * `multiplier^n` units plus up to `jitterMs` of jitter, at most `maxDelayMs`, none started after
 * `totalTimeoutMs`. Each adapter documents which client's values and exponent it keeps.
 */
export interface GoogleApiRetry {
  readonly maxRetries: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
  readonly totalTimeoutMs: number;
  /** The jitter's range (the clients': 1 s); tests shorten it with the other delays. */
  readonly jitterMs: number;
  /** Seconds unit of `multiplier^n` (1 s); tests shorten it. */
  readonly unitMs: number;
}
