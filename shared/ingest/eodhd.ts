import { JobError, TransientError } from '../job/errors.js';
import type { CandidateAction, CandidateBar } from './ohlcvRow.js';
import { apiKeyRejected, SymbolNotFoundError, type PriceVendor } from './priceVendor.js';
import { vendorMessage, type ReplyVerdict, type VendorHttp, type VendorReply } from './vendorHttp.js';

/** A row of the bulk endpoint: the ticker (`code`, without exchange) and its bar. */
export interface ExchangeBar {
  readonly code: unknown;
  readonly bar: CandidateBar;
}

export const EODHD_SECRET = 'EODHD_API_KEY';
const NAME = 'EODHD';

export interface EodhdClientOptions {
  /** EODHD_BASE_URL, e.g. https://eodhd.com/api */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly http: VendorHttp;
}

/**
 * EOD Historical Data (eodhd.com): `GET {base}/eod/{SYMBOL}` for daily bars,
 * `/div/{SYMBOL}` for dividends and `/splits/{SYMBOL}` for splits, each with
 * `api_token`, `fmt=json`, `from` and `to`. Bars are raw OHLC with `adjusted_close`
 * adjusted for splits and dividends.
 */
export class EodhdClient implements PriceVendor {
  readonly source = 'eodhd' as const;
  readonly displayName = NAME;

  constructor(private readonly options: EodhdClientOptions) {}

  /** Daily bars of `symbol` (EODHD naming, e.g. AAPL.US) from `start` to `end` inclusive. */
  async dailyBars(symbol: string, start: string, end: string): Promise<CandidateBar[]> {
    const rows = await this.getArray('eod', symbol, { from: start, to: end, period: 'd' }, `daily bars of ${symbol}`);
    return rows.map((r) => {
      const o = asRecord(r);
      return { date: o.date, open: o.open, high: o.high, low: o.low, close: o.close, adj_close: o.adjusted_close, volume: o.volume };
    });
  }

  /**
   * Dividends (on the ex-date `date`: `value`, adjusted for splits after it, and
   * `unadjustedValue`, the amount paid: AAPL's 2014-05-08 dividend is 0.47 and 3.29) and
   * splits (`split`, "new/old") of `symbol` from `start` to `end` inclusive.
   */
  readonly corporateActions = async (symbol: string, start: string, end: string): Promise<CandidateAction[]> => {
    const dividends = await this.getArray('div', symbol, { from: start, to: end }, `dividends of ${symbol}`);
    const splits = await this.getArray('splits', symbol, { from: start, to: end }, `splits of ${symbol}`);
    return [
      ...dividends.map((d): CandidateAction => ({ date: asRecord(d).date, action: 'dividend', value: asRecord(d).value, unadjustedValue: asRecord(d).unadjustedValue })),
      ...splits.map((s): CandidateAction => ({ date: asRecord(s).date, action: 'split', value: asRecord(s).split })),
    ];
  };

  /**
   * One trading day of a whole exchange from the bulk endpoint
   * `GET {base}/eod-bulk-last-day/{EXCHANGE}?date=YYYY-MM-DD`: one request for every symbol.
   * Rows carry `code` (the ticker without exchange) besides the usual bar fields.
   * @throws JobError `invalid_job` naming params.exchange when EODHD does not know the exchange.
   */
  async exchangeDay(exchange: string, date: string): Promise<ExchangeBar[]> {
    const url = new URL(`${this.options.baseUrl.replace(/\/+$/, '')}/eod-bulk-last-day/${encodeURIComponent(exchange)}`);
    url.searchParams.set('api_token', this.options.apiKey);
    url.searchParams.set('fmt', 'json');
    url.searchParams.set('date', date);
    const rows = await this.options.http.get(url, `bulk end-of-day of ${exchange} on ${date}`, (reply) => {
      const verdict = judge(reply, exchange);
      if ('fail' in verdict && verdict.fail instanceof SymbolNotFoundError) {
        return { fail: new JobError('invalid_job', `params.exchange: EODHD does not know the exchange "${exchange}" (${vendorMessage(reply.body) || 'HTTP 404'}); use an EODHD exchange code such as US, LSE or XETRA.`) };
      }
      return verdict;
    });
    return rows.map((r) => {
      const o = asRecord(r);
      return { code: o.code, bar: { date: o.date, open: o.open, high: o.high, low: o.low, close: o.close, adj_close: o.adjusted_close, volume: o.volume } };
    });
  }

  private getArray(endpoint: string, symbol: string, query: Record<string, string>, what: string): Promise<unknown[]> {
    const url = new URL(`${this.options.baseUrl.replace(/\/+$/, '')}/${endpoint}/${encodeURIComponent(symbol)}`);
    url.searchParams.set('api_token', this.options.apiKey);
    url.searchParams.set('fmt', 'json');
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return this.options.http.get(url, what, (reply) => judge(reply, symbol));
  }
}

function judge(reply: VendorReply, symbol: string): ReplyVerdict<unknown[]> {
  const { status, body } = reply;
  if (status === 200) {
    // A 200 that is not the documented array (an HTML page from a proxy, a truncated body) may pass.
    return Array.isArray(body) ? { ok: body } : { retry: 'HTTP 200 without the JSON array of rows' };
  }
  if (status === 404) return { fail: new SymbolNotFoundError(symbol, NAME, vendorMessage(body)) };
  if (status === 401 || status === 403) return { fail: apiKeyRejected(NAME, EODHD_SECRET, status) };
  // 402: the plan's daily call quota is spent. Retrying within seconds cannot help; a later
  // redelivery can, so it goes straight back to Pub/Sub.
  if (status === 402) return { fail: new TransientError(`${NAME} daily API call quota is exhausted (HTTP 402); the job will be retried.`) };
  if (status === 429) return { retry: 'HTTP 429', throttled: true };
  if (status >= 500) return { retry: `HTTP ${status}` };
  // Anything else (400: a request this client built wrongly) will not pass by itself.
  return { fail: new JobError('internal', `${NAME} answered HTTP ${status} for ${symbol}: ${vendorMessage(body) || 'no message'}.`) };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
