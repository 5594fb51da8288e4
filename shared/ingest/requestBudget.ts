/** How many requests a vendor key may make, and how the client reacts when told to slow down. */
export interface RequestBudgetOptions {
  /** Requests started in any 60 s, at most. */
  readonly perMinute: number;
  /** The pause after a first 429 without Retry-After; doubles with each 429 in a row. Default 1 s. */
  readonly firstPauseMs?: number;
  /** The longest such pause (and the ceiling of a Retry-After). Default one minute. */
  readonly maxPauseMs?: number;
  /** Injected in tests; default Date.now. */
  readonly now?: () => number;
  /** Injected in tests; default setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const MINUTE_MS = 60_000;

/**
 * A per-vendor budget of requests per minute, shared by every concurrent request of a job.
 * A sliding window (the start times of the last minute's requests), so that the client never
 * sends more in any 60 s than the vendor's per-minute limit allows, however it counts.
 * A 429 slows the client down: every request waits out the vendor's Retry-After (or a
 * doubling pause), and the budget shrinks by a fifth (once a pause), growing back by one a
 * success: a limit lower than configured (a smaller plan, another job on the same key) is
 * found instead of hit again and again.
 */
export class RequestBudget {
  private readonly starts: number[] = [];
  private limit: number;
  private readonly configured: number;
  private pausedUntil = 0;
  private throttledInARow = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly firstPauseMs: number;
  private readonly maxPauseMs: number;
  /** 429s seen (for the result and the logs). */
  throttles = 0;

  constructor(options: RequestBudgetOptions) {
    if (!(options.perMinute >= 1)) throw new Error(`A request budget needs at least 1 request a minute, not ${options.perMinute}.`);
    this.limit = this.configured = Math.floor(options.perMinute);
    this.now = options.now ?? Date.now;
    this.firstPauseMs = options.firstPauseMs ?? 1_000;
    this.maxPauseMs = options.maxPauseMs ?? MINUTE_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Requests a minute the budget allows now (lower after 429s). */
  get perMinute(): number {
    return this.limit;
  }

  /** Resolves when one more request may start; requests start in the order they asked. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.waitForRoom());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** The vendor said 429: pause everyone for `retryAfterMs` (or a doubling pause) and lower the budget. */
  throttled(retryAfterMs: number | null): void {
    this.throttles++;
    this.throttledInARow++;
    // Concurrent requests hit by the same limit count once: the budget shrinks once per pause.
    if (this.pausedUntil <= this.now()) this.limit = Math.max(1, Math.floor(this.limit * 0.8));
    const pause = Math.min(this.maxPauseMs, retryAfterMs ?? this.firstPauseMs * 2 ** (this.throttledInARow - 1));
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + pause);
  }

  /** A request got through: the next 429 starts again from the first pause, and the budget creeps back up (one a success). */
  succeeded(): void {
    this.throttledInARow = 0;
    this.limit = Math.min(this.configured, this.limit + 1);
  }

  private async waitForRoom(): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.starts.length > 0 && this.starts[0] <= now - MINUTE_MS) this.starts.shift();
      const untilWindow = this.starts.length >= this.limit ? this.starts[this.starts.length - this.limit] + MINUTE_MS - now : 0;
      const wait = Math.max(this.pausedUntil - now, untilWindow);
      if (wait <= 0) break;
      await this.sleep(wait);
    }
    this.starts.push(this.now());
  }
}
