/** The error codes a failed job may carry (see the job contract). */
export type ErrorCode = 'invalid_job' | 'unknown_symbol' | 'insufficient_data' | 'internal';

/**
 * A permanent failure of one job: recorded as a `failed` result and acknowledged,
 * never retried. The message is one human sentence naming the field or symbol at fault.
 */
export class JobError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'JobError';
  }
}

/**
 * A fault that may pass (storage or warehouse unavailable, timeouts, vendor 429/5xx):
 * thrown out of the handler so that Pub/Sub redelivers the message.
 */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}
