import { describe, expect, it } from 'vitest';
import { cloudFailure, isTransientCloudError } from '../shared/cloudErrors.js';
import { JobError, TransientError } from '../shared/job/errors.js';

/** An error shaped like the Google clients' ApiError: HTTP status in `code`, reasons in `errors`. */
const apiError = (code: number, reason: string, message = 'from the service') => Object.assign(new Error(message), { code, errors: [{ reason, message }] });
/** BigQuery's PartialFailureError: no status, no message, one entry per failed row. */
const partialFailure = (...reasons: string[]) =>
  Object.assign(new Error(''), { name: 'PartialFailureError', errors: reasons.map((reason, i) => ({ row: { i }, errors: [{ reason, message: reason === 'stopped' ? '' : `row ${i} is ${reason}` }] })) });

describe('cloud errors classified by status and reason', () => {
  it.each([
    ['a socket reset (no status)', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['408', apiError(408, 'timeout'), true],
    ['429 rateLimitExceeded', apiError(429, 'rateLimitExceeded'), true],
    ["BigQuery's 403 rateLimitExceeded", apiError(403, 'rateLimitExceeded', 'Exceeded rate limits: too many table update operations'), true],
    ['500 backendError', apiError(500, 'backendError'), true],
    ['503', apiError(503, 'backendError'), true],
    ['400 invalid', apiError(400, 'invalid'), false],
    ['401', apiError(401, 'authError'), false],
    ['403 accessDenied', apiError(403, 'accessDenied'), false],
    ['403 quotaExceeded (a daily quota)', apiError(403, 'quotaExceeded', 'Quota exceeded: Your table exceeded quota for Number of partition modifications'), false],
    ['404 notFound', apiError(404, 'notFound', 'Not found: Table p:curated.job_runs'), false],
    ['rows rejected as invalid (the others stopped)', partialFailure('invalid', 'stopped'), false],
    ['rows failed by a backend fault', partialFailure('backendError', 'stopped'), true],
  ] as const)('%s: transient %s', (_name, error, transient) => {
    expect(isTransientCloudError(error)).toBe(transient);
    expect(cloudFailure('Doing it', error)).toBeInstanceOf(transient ? TransientError : JobError);
  });

  it("a permanent error is a JobError internal carrying the service's message and reason", () => {
    const error = cloudFailure('Inserting 1 rows into curated.job_runs', apiError(404, 'notFound', 'Not found: Table p:curated.job_runs'));
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('internal');
    expect(error.message).toBe('Inserting 1 rows into curated.job_runs failed (HTTP 404, notFound): Not found: Table p:curated.job_runs');
  });

  it("a partial insert failure, which has no message of its own, is described by its rows' messages", () => {
    expect(cloudFailure('Inserting 2 rows', partialFailure('invalid', 'stopped')).message).toBe('Inserting 2 rows failed (invalid): row 0: row 0 is invalid');
  });
});
