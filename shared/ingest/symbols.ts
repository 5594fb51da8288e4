import { JobError } from '../job/errors.js';
import type { AssetClass, VendorName } from './ohlcvRow.js';

/**
 * How a job's symbol maps to the warehouse and to each vendor.
 *
 * The stored symbol is what models query, the same whatever vendor loaded it:
 * - equity: the ticker without EODHD's `.US` suffix (`AAPL.US` and `AAPL` -> `AAPL`).
 *   Other exchange suffixes are kept (`VOD.LSE` stays `VOD.LSE`) so that two listings of
 *   one ticker never share rows; EODHD is then asked for exactly that listing. Twelve Data
 *   names exchanges differently, so it takes US tickers only.
 * - fx: the six letters of the pair (`EURUSD.FOREX`, `EUR/USD`, `EUR-USD`, `EURUSD` -> `EURUSD`);
 *   EODHD `EURUSD.FOREX`, Twelve Data `EUR/USD`.
 * - crypto: base and quote run together (`BTC-USD.CC`, `BTC/USD`, `BTC-USD`, `BTCUSD` -> `BTCUSD`);
 *   EODHD `BTC-USD.CC`, Twelve Data `BTC/USD`. A run-together name is split at a known quote
 *   currency (see `cryptoQuotes`).
 */
export interface ResolvedSymbol {
  /** As written in the job. */
  readonly requested: string;
  /** As stored in the warehouse and queried by models. */
  readonly stored: string;
  /** As the vendor's API wants it. */
  readonly vendor: string;
}

/** Quote currencies a run-together crypto pair may end with, longest first so USDT wins over USD. */
const cryptoQuotes = ['USDT', 'USDC', 'BUSD', 'USD', 'EUR', 'GBP', 'JPY', 'BTC', 'ETH'];

const ticker = /^[A-Z0-9][A-Z0-9-]{0,19}$/;
const exchangeCode = /^[A-Z0-9]{1,10}$/;

/**
 * Maps a job's symbol to its stored and vendor names.
 * @throws JobError `invalid_job` naming the symbol when it cannot be a symbol of that asset class and vendor.
 */
export function resolveSymbol(requested: string, source: VendorName, assetClass: AssetClass): ResolvedSymbol {
  const upper = requested.trim().toUpperCase();
  const invalid = (why: string) =>
    new JobError('invalid_job', `symbols: "${requested}" is not a valid ${assetClass} symbol for ${source} (${why}).`);
  if (assetClass === 'equity') {
    const [base, exchange, ...rest] = upper.split('.');
    if (rest.length > 0 || !ticker.test(base ?? '') || (exchange !== undefined && !exchangeCode.test(exchange))) {
      throw invalid('expected a ticker such as AAPL or AAPL.US');
    }
    const isUs = exchange === undefined || exchange === 'US';
    if (source === 'twelvedata') {
      if (!isUs) throw invalid('Twelve Data jobs take US tickers only; use source eodhd for other exchanges');
      return { requested, stored: base, vendor: base };
    }
    return { requested, stored: isUs ? base : `${base}.${exchange}`, vendor: `${base}.${exchange ?? 'US'}` };
  }
  const suffix = assetClass === 'fx' ? '.FOREX' : '.CC';
  const bare = upper.endsWith(suffix) ? upper.slice(0, -suffix.length) : upper;
  const pair = splitPair(bare, assetClass);
  if (!pair) {
    throw invalid(assetClass === 'fx' ? 'expected a pair such as EURUSD, EUR/USD or EURUSD.FOREX' : 'expected a pair such as BTC-USD, BTC/USD or BTC-USD.CC');
  }
  const [base, quote] = pair;
  const stored = `${base}${quote}`;
  if (source === 'twelvedata') return { requested, stored, vendor: `${base}/${quote}` };
  return { requested, stored, vendor: assetClass === 'fx' ? `${stored}.FOREX` : `${base}-${quote}.CC` };
}

function splitPair(bare: string, assetClass: 'fx' | 'crypto'): [string, string] | null {
  const separated = /^([A-Z0-9]{2,10})[/-]([A-Z0-9]{2,10})$/.exec(bare);
  if (separated) {
    const [, base, quote] = separated;
    if (assetClass === 'fx' && (base.length !== 3 || quote.length !== 3)) return null;
    return [base, quote];
  }
  if (assetClass === 'fx') {
    return /^[A-Z]{6}$/.test(bare) ? [bare.slice(0, 3), bare.slice(3)] : null;
  }
  const quote = cryptoQuotes.find((q) => bare.endsWith(q) && bare.length - q.length >= 2);
  return quote && /^[A-Z0-9]+$/.test(bare) ? [bare.slice(0, -quote.length), quote] : null;
}
