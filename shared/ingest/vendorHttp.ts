import { TransientError } from '../job/errors.js';
import { redact, type Logger } from '../log.js';
import type { RequestBudget } from './requestBudget.js';

/** How hard a vendor request is tried before the job is handed back to Pub/Sub. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** Delay before the first retry; doubles with every further one. */
  readonly baseDelayMs: number;
  /** Ceiling of one delay, Retry-After included. */
  readonly maxDelayMs: number;
  /** Per attempt, via AbortSignal.timeout. */
  readonly timeoutMs: number;
}

// 4 attempts with 0.5 s, 1 s, 2 s (+ jitter) between them: about 4 s of waiting, which rides
// out a per-minute rate limit's tail or a load balancer blip while staying far inside the
// function's timeout; a longer outage is Pub/Sub's to retry.
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, timeoutMs: 20_000 };

/** A vendor's answer: the HTTP status and the body, parsed as JSON when it is JSON, else text. */
export interface VendorReply {
  readonly status: number;
  readonly body: unknown;
  /** From a Retry-After header, if the vendor sent one. */
  readonly retryAfterMs: number | null;
}

/**
 * What a client makes of a reply: a value, a fault worth retrying (`throttled` when it is
 * the vendor's rate limit), or a final error to throw.
 */
export type ReplyVerdict<T> = { readonly ok: T } | { readonly retry: string; readonly throttled?: boolean } | { readonly fail: Error };

export interface VendorHttpOptions {
  /** Display name for messages: "EODHD", "Twelve Data". */
  readonly vendor: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly log?: Logger;
  /** Injected in tests; defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected in tests; defaults to Math.random. */
  readonly random?: () => number;
  /**
   * The vendor's request budget, shared by concurrent requests. With one, a rate-limit
   * answer does not use up an attempt: it slows every request down (see RequestBudget), up
   * to `maxThrottles` times for one request.
   */
  readonly budget?: RequestBudget;
  /** Rate-limit answers one request may get before the job is handed back to Pub/Sub; default 20. */
  readonly maxThrottles?: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * GET with retries for one vendor. Network errors and timeouts are retried; what else is
 * retried is the client's call (`judge`), since a vendor may report a rate limit inside an
 * HTTP 200. Error messages name the vendor and the request's purpose, never its URL: the
 * URL carries the API key.
 */
export class VendorHttp {
  readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: VendorHttpOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /**
   * Fetches `url` until `judge` accepts or rejects the reply, or the attempts run out.
   * @param what the request's purpose for messages, e.g. "daily bars of AAPL.US"
   * @returns the accepted value
   * @throws the `fail` error of a verdict, or TransientError once every attempt needed a retry
   */
  async get<T>(url: URL, what: string, judge: (reply: VendorReply) => ReplyVerdict<T>): Promise<T> {
    const { attempts } = this.policy;
    const { budget, maxThrottles = 20 } = this.options;
    let lastReason = '';
    let throttles = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let retryAfterMs: number | null = null;
      await budget?.acquire();
      const reply = await this.fetchOnce(url);
      if ('fault' in reply) {
        lastReason = reply.fault;
      } else {
        const verdict = judge(reply);
        if ('ok' in verdict) {
          budget?.succeeded();
          return verdict.ok;
        }
        if ('fail' in verdict) throw verdict.fail;
        lastReason = verdict.retry;
        retryAfterMs = reply.retryAfterMs;
        if (budget && verdict.throttled && throttles < maxThrottles) {
          throttles++;
          budget.throttled(retryAfterMs);
          this.options.log?.warn(`${this.options.vendor} ${what}: rate limited (${redact(lastReason)}), retrying at a lower rate`, {
            vendor: this.options.vendor,
            request: what,
            reason: redact(lastReason),
            retry_after_ms: retryAfterMs,
            requests_per_minute: budget.perMinute,
          });
          attempt--;
          continue;
        }
      }
      if (attempt === attempts) break;
      const delay = this.delayBefore(attempt, retryAfterMs);
      this.options.log?.warn(`${this.options.vendor} ${what}: retrying`, {
        vendor: this.options.vendor,
        request: what,
        attempt,
        reason: redact(lastReason),
        delay_ms: Math.round(delay),
      });
      await this.sleep(delay);
    }
    throw new TransientError(
      redact(`${this.options.vendor} ${what} still failing after ${attempts} attempts (last: ${lastReason}); the job will be retried.`),
    );
  }

  /** Exponential backoff with equal jitter (half fixed, half random), never below a Retry-After. */
  private delayBefore(attempt: number, retryAfterMs: number | null): number {
    const { baseDelayMs, maxDelayMs } = this.policy;
    const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const jittered = exponential / 2 + (exponential / 2) * this.random();
    return Math.min(maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  private async fetchOnce(url: URL): Promise<VendorReply | { fault: string }> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.policy.timeoutMs), headers: { accept: 'application/json' } });
      text = await response.text();
    } catch (error) {
      return { fault: describeFetchFailure(error, this.policy.timeoutMs) };
    }
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: EODHD answers some errors in plain text ("Ticker Not Found."); the judge sees the text.
    }
    return { status: response.status, body, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  }
}

/** A fetch failure in words that cannot contain the URL (undici may quote it in messages). */
function describeFetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.name : 'unknown';
  return `network error (${code})`;
}

function parseRetryAfter(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** Shortens a vendor's error text for a message: one line, at most 200 characters, secrets redacted. */
export function vendorMessage(body: unknown): string {
  const raw =
    typeof body === 'string'
      ? body
      : typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
        ? (body as { message: string }).message
        : '';
  const line = raw.replace(/\s+/g, ' ').trim();
  return redact(line.length > 200 ? `${line.slice(0, 197)}...` : line);
}
