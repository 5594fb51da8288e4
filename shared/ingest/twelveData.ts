import { JobError } from '../job/errors.js';
import type { CandidateBar } from './ohlcvRow.js';
import { apiKeyRejected, SymbolNotFoundError, SymbolNotInPlanError, SymbolWithoutDataError, type PriceVendor } from './priceVendor.js';
import { vendorMessage, type ReplyVerdict, type VendorHttp, type VendorReply } from './vendorHttp.js';

export const TWELVE_DATA_SECRET = 'TWELVE_DATA_API_KEY';
const NAME = 'Twelve Data';

/** Twelve Data's cap on points per time_series request. */
export const TWELVE_DATA_MAX_POINTS = 5000;

export interface TwelveDataClientOptions {
  /** TWELVE_DATA_BASE_URL, e.g. https://api.twelvedata.com */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly http: VendorHttp;
}

/**
 * Twelve Data (twelvedata.com): `GET {base}/time_series?symbol=&interval=1day&start_date=&end_date=&apikey=&format=JSON`,
 * answering `{meta, values: [{datetime, open, high, low, close, volume}], status: "ok"}` with
 * every number as a string, newest first, and no volume for FX pairs. It has no adjusted
 * close, so rows get `adj_close: null` and models fall back to `close`.
 * Errors come as `{code, message, status: "error"}`, sometimes with HTTP 200.
 * Corporate actions are not loaded from Twelve Data: its /dividends and /splits need a paid
 * plan and cost 20 credits a symbol (see the README).
 */
export class TwelveDataClient implements PriceVendor {
  readonly source = 'twelvedata' as const;
  readonly displayName = NAME;

  constructor(private readonly options: TwelveDataClientOptions) {}

  /**
   * Daily bars of `symbol` (Twelve Data naming: AAPL, EUR/USD, BTC/USD) from `start` to `end`
   * inclusive. A request returns at most 5,000 points, newest first: a longer window is
   * fetched in pages, each ending where the previous one's oldest bar is, until a page comes
   * back short or reaches `start`.
   */
  async dailyBars(symbol: string, start: string, end: string): Promise<CandidateBar[]> {
    const bars: CandidateBar[] = [];
    // end_date is asked one day later: with a bare date Twelve Data has been seen to leave the
    // end day out; rows past `end` are dropped in standardization either way.
    let pageEnd = nextDay(end);
    for (;;) {
      const values = await this.page(symbol, start, pageEnd);
      for (const v of values) {
        const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
        bars.push({ date: o.datetime, open: o.open, high: o.high, low: o.low, close: o.close, adj_close: null, volume: o.volume });
      }
      if (values.length < TWELVE_DATA_MAX_POINTS) return bars;
      const oldest = oldestDate(values);
      // The next page ends at this page's oldest day (asked again if end_date is inclusive:
      // the repeated bar is the same bar, kept once). No progress means nothing older.
      if (oldest === null || oldest <= start || oldest >= pageEnd) return bars;
      pageEnd = oldest;
    }
  }

  private page(symbol: string, start: string, end: string): Promise<unknown[]> {
    const url = new URL(`${this.options.baseUrl.replace(/\/+$/, '')}/time_series`);
    url.searchParams.set('symbol', symbol);
    url.searchParams.set('interval', '1day');
    url.searchParams.set('start_date', start);
    url.searchParams.set('end_date', end);
    url.searchParams.set('outputsize', String(TWELVE_DATA_MAX_POINTS));
    url.searchParams.set('format', 'JSON');
    url.searchParams.set('apikey', this.options.apiKey);
    return this.options.http.get(url, `daily bars of ${symbol}`, (reply) => judge(reply, symbol));
  }
}

/** The oldest calendar date among a page's bars, or null if none has a readable date. */
function oldestDate(values: readonly unknown[]): string | null {
  let oldest: string | null = null;
  for (const v of values) {
    const d = typeof v === 'object' && v !== null ? (v as { datetime?: unknown }).datetime : undefined;
    if (typeof d === 'string' && /^\d{4}-\d{2}-\d{2}/.test(d) && (oldest === null || d.slice(0, 10) < oldest)) oldest = d.slice(0, 10);
  }
  return oldest;
}

const planLimited = /available (starting with|exclusively|only)\b.*\bplan/i;

function judge(reply: VendorReply, symbol: string): ReplyVerdict<unknown[]> {
  const body = typeof reply.body === 'object' && reply.body !== null ? (reply.body as Record<string, unknown>) : {};
  const isError = body.status === 'error';
  if (reply.status === 200 && !isError) {
    return Array.isArray(body.values) ? { ok: body.values } : { retry: 'HTTP 200 without status "ok" and values' };
  }
  // The payload's code is the real status: a rate limit may arrive as HTTP 200 with code 429.
  const code = isError && typeof body.code === 'number' ? body.code : reply.status;
  const message = vendorMessage(reply.body);
  if (code === 429) return { retry: 'code 429', throttled: true };
  if (code >= 500) return { retry: `code ${code}` };
  // A plan limit (recorded: 404 "This symbol is available starting with the Grow or Venture
  // plan"; the same words have come with 403) is the account's, and only for this symbol.
  if ((code === 403 || code === 404) && planLimited.test(message)) return { fail: new SymbolNotInPlanError(symbol, NAME, message) };
  if (code === 401 || code === 403) return { fail: apiKeyRejected(NAME, TWELVE_DATA_SECRET, code) };
  // A known symbol with no bars in the window (a holiday-only window, a pair's closed days).
  if (code === 400 && /no data is available/i.test(message)) return { ok: [] };
  // The other 404s, told apart by their words (both recorded from the live API): a known
  // symbol with nothing behind it ("Data not found"), and an unknown symbol ("**symbol** or
  // **figi** parameter is missing or invalid", or the older 400 "**symbol** not found").
  if (code === 404 && /^data not found/i.test(message)) return { fail: new SymbolWithoutDataError(symbol, NAME, message) };
  if (code === 404 || (code === 400 && /not found/i.test(message))) {
    return { fail: new SymbolNotFoundError(symbol, NAME, message) };
  }
  return { fail: new JobError('internal', `${NAME} answered code ${code} for ${symbol}: ${message || 'no message'}.`) };
}

function nextDay(isoDate: string): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
