import { cloudAccessToken, type AccessTokenSource } from '../cloudAccessToken.js';
import { httpStatus } from '../cloudErrors.js';
import { httpRequest, type HttpAnswer } from '../httpRequest.js';
import type { InsertRow } from './warehouse.js';
import { GoogleApiHttpError, googleApiErrorBody, type GoogleApiRetry } from '../googleApiError.js';

/**
 * How a failed `insertAll` request is retried: the BigQuery client's rules (retry-request's
 * defaults), kept when the inserts left the client: up to `maxRetries` more attempts, delays of
 * `multiplier^n` seconds (n = 1, 2, ...) plus up to a second of jitter, at most `maxDelayMs`,
 * none started after `totalTimeoutMs`.
 */
export type InsertAllRetry = GoogleApiRetry;

export const INSERT_ALL_RETRY: InsertAllRetry = { maxRetries: 3, multiplier: 2, maxDelayMs: 64_000, totalTimeoutMs: 600_000, jitterMs: 1000, unitMs: 1000 };

const SCOPE = 'https://www.googleapis.com/auth/bigquery';

/** An answer of the REST API that is not a success, shaped as `cloudFailure` reads Google clients' errors. */
export class BigQueryHttpError extends GoogleApiHttpError {}

/**
 * An `insertAll` answered 200 with `insertErrors`: BigQuery stored none of the request's rows
 * (no `skipInvalidRows`). Shaped as the client's `PartialFailureError`, so `cloudFailure`
 * classifies and words it as before: no status, each failed row's reasons (`invalid` for the
 * culprits, `stopped` for the rest) and messages; an empty message (the rows' messages are the service's words).
 */
export class InsertAllPartialFailure extends Error {
  constructor(readonly errors: readonly { index: number; errors: readonly { reason?: string; message?: string }[] }[]) {
    super('');
    this.name = 'InsertAllPartialFailure';
  }
}

export interface InsertAllClientOptions {
  /** REST endpoint override (as the client's `apiEndpoint`). */
  readonly apiEndpoint?: string;
  /** An emulator's URL: used as the endpoint, and no Google credentials are sent. */
  readonly emulatorHost?: string;
  /** Where the access token comes from (default: the metadata server, or application default credentials; none with an emulator). */
  readonly token?: AccessTokenSource;
  readonly retry?: InsertAllRetry;
  /** One request's time limit (the client's: 60 s). */
  readonly requestTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The REST API's root as the BigQuery client builds it: `BIGQUERY_EMULATOR_HOST` from the
 * environment verbatim when set (the client's own rule, whatever the options say), else the
 * endpoint (`apiEndpoint`, or the emulator's URL) with `https://` if it names no protocol and
 * `/bigquery/v2` appended, else Google's.
 */
export function bigQueryApiRoot(options: { apiEndpoint?: string; emulatorHost?: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof env.BIGQUERY_EMULATOR_HOST === 'string') return env.BIGQUERY_EMULATOR_HOST;
  const endpoint = options.emulatorHost ?? options.apiEndpoint;
  if (!endpoint) return 'https://bigquery.googleapis.com/bigquery/v2';
  return `${(/^\w+:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`).replace(/\/+$/, '')}/bigquery/v2`;
}

/**
 * BigQuery's streaming insert (`tabledata.insertAll`) as direct JSON requests over
 * `node:http(s)`, without the BigQuery client: its module (~90 ms of evaluation with its auth
 * stack) was what a cloud function's first event waited for at its first insert. The request
 * is the one the client sent with `{ raw: true, partialRetries: 0 }`: `{"rows":[{"insertId",
 * "json"}]}`, no other option. Retried as the client retried it: no answer at all, 408, 429,
 * 500, 502, 503, 504, or a `rateLimitExceeded`/`userRateLimitExceeded` reason (BigQuery's 403
 * for its rate limits); a 401 once with a fresh token. Rows BigQuery refuses (`insertErrors`)
 * are never re-sent: they would be refused again.
 */
export class InsertAllClient {
  private readonly root: string;
  private readonly token: AccessTokenSource | undefined;
  private readonly retry: InsertAllRetry;
  private readonly requestTimeoutMs: number;

  constructor(options: InsertAllClientOptions = {}) {
    this.root = bigQueryApiRoot(options, options.env ?? process.env);
    this.token = options.token ?? (options.emulatorHost ? undefined : cloudAccessToken(SCOPE, options.env ?? process.env));
    this.retry = options.retry ?? INSERT_ALL_RETRY;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  /**
   * One `insertAll` request (retried as above) for `rows`, all stored or none.
   * @throws BigQueryHttpError (an HTTP failure), InsertAllPartialFailure (rows refused), or the network's error
   */
  async insert(project: string, dataset: string, table: string, rows: readonly InsertRow[]): Promise<void> {
    const url = `${this.root}/projects/${encodeURIComponent(project)}/datasets/${encodeURIComponent(dataset)}/tables/${encodeURIComponent(table)}/insertAll`;
    const body = Buffer.from(JSON.stringify({ rows: rows.map((r) => ({ insertId: r.insertId, json: r.row })) }), 'utf8');
    const answer = await this.request(url, body);
    const parsed = JSON.parse(answer.body.toString('utf8') || '{}') as { insertErrors?: { index?: number; errors?: { reason?: string; message?: string }[] }[] };
    const refused = parsed.insertErrors ?? [];
    if (refused.length > 0) throw new InsertAllPartialFailure(refused.map((e, i) => ({ index: e.index ?? i, errors: (e.errors ?? []).map(({ reason, message }) => ({ reason, message })) })));
  }

  private async request(url: string, body: Buffer): Promise<HttpAnswer> {
    const started = Date.now();
    let refreshedToken = false;
    for (let retries = 0; ; ) {
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (this.token) headers.authorization = `Bearer ${await this.token.token()}`;
        const response = await httpRequest('POST', url, { headers, body, timeoutMs: this.requestTimeoutMs });
        if (response.status >= 200 && response.status < 300) return response;
        throw httpError(response);
      } catch (error) {
        if (httpStatus(error) === 401 && this.token && !refreshedToken) {
          refreshedToken = true;
          this.token.invalidate();
          continue;
        }
        retries++;
        const delay = Math.min(this.retry.multiplier ** retries * this.retry.unitMs + Math.floor(Math.random() * this.retry.jitterMs), this.retry.maxDelayMs, this.retry.totalTimeoutMs - (Date.now() - started));
        if (retries > this.retry.maxRetries || !retryable(error) || delay <= 0) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

/** A failed answer as a `BigQueryHttpError`: the service's message and reasons from its JSON error body. */
function httpError(response: HttpAnswer): BigQueryHttpError {
  const { message, errors } = googleApiErrorBody(response);
  return new BigQueryHttpError(response.status, message, errors);
}

/** The client's rule (`shouldRetryRequest`, and any failure without an answer). */
function retryable(error: unknown): boolean {
  const status = httpStatus(error);
  if (status === undefined) return !(error instanceof InsertAllPartialFailure);
  if ([408, 429, 500, 502, 503, 504].includes(status)) return true;
  const reasons = error instanceof BigQueryHttpError ? error.errors.map((e) => e.reason) : [];
  return reasons.some((r) => r === 'rateLimitExceeded' || r === 'userRateLimitExceeded');
}
