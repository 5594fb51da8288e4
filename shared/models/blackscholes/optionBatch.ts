import { blackScholes, type BlackScholesInputs, type BlackScholesValuationBuffer, type OptionType } from './blackscholes.js';
import { impliedVolatility, type ImpliedVolatilityInputs } from './impliedVolatility.js';
import type { BlackScholesOptionResult, VolatilitySource } from './result.js';

/**
 * A batch of options with every input resolved (per-option fields over the job's defaults,
 * spot and volatility from a symbol's history), one typed column a field: what a worker
 * thread values half of without copying 100,000 objects across (the columns may sit on
 * SharedArrayBuffers).
 */
export interface OptionBatch {
  readonly count: number;
  /** 1 for a call, 0 for a put. */
  readonly isCall: Uint8Array;
  readonly spot: Float64Array;
  readonly strike: Float64Array;
  readonly timeToExpiry: Float64Array;
  readonly riskFreeRate: Float64Array;
  readonly dividendYield: Float64Array;
  /** Where `hasMarketPrice` is 1: the option's quote, whose implied volatility is solved. */
  readonly marketPrice: Float64Array;
  readonly hasMarketPrice: Uint8Array;
  /** The volatility to price with where the source is given or historical (SOURCES). */
  readonly volatility: Float64Array;
  /** An index into SOURCES. */
  readonly source: Uint8Array;
  /** An index into `symbols`, or -1 for an option with no symbol (null). */
  readonly symbolIndex: Int32Array;
  readonly symbols: readonly string[];
}

/** What `valueOptions` writes: one column a result field, valid where `state` says so. */
export interface OptionValues {
  /** PRICED and SOLVED bits a option. */
  readonly state: Uint8Array;
  /** The volatility priced with (the given, historical or implied one), where PRICED. */
  readonly volatility: Float64Array;
  readonly price: Float64Array;
  readonly delta: Float64Array;
  readonly gamma: Float64Array;
  readonly theta: Float64Array;
  readonly vega: Float64Array;
  readonly rho: Float64Array;
  /** Where SOLVED. */
  readonly impliedVolatility: Float64Array;
}

export const SOURCES: readonly VolatilitySource[] = ['params', 'historical', 'implied'];
export const IMPLIED_SOURCE = 2;
/** The option had a volatility and was priced (its price and Greeks are set). */
export const PRICED = 1;
/** The option's quote has an implied volatility. */
export const SOLVED = 2;

type ColumnKey = Exclude<keyof OptionBatch, 'count' | 'symbols'>;

/**
 * An empty batch of `count` options; on SharedArrayBuffers when `shared` (for worker threads).
 * @param symbols the symbols `symbolIndex` points into
 */
export function allocateBatch(count: number, symbols: readonly string[], shared: boolean): OptionBatch {
  const Buffer = shared ? SharedArrayBuffer : ArrayBuffer;
  const float = () => new Float64Array(new Buffer(8 * count));
  const byte = () => new Uint8Array(new Buffer(count));
  return {
    count,
    isCall: byte(),
    spot: float(),
    strike: float(),
    timeToExpiry: float(),
    riskFreeRate: float(),
    dividendYield: float(),
    marketPrice: float(),
    hasMarketPrice: byte(),
    volatility: float(),
    source: byte(),
    symbolIndex: new Int32Array(new Buffer(4 * count)),
    symbols,
  } satisfies Record<ColumnKey, unknown> & { count: number; symbols: readonly string[] };
}

/** Columns for the values of `count` options; on SharedArrayBuffers when `shared`. */
export function allocateValues(count: number, shared: boolean): OptionValues {
  const Buffer = shared ? SharedArrayBuffer : ArrayBuffer;
  const float = () => new Float64Array(new Buffer(8 * count));
  return {
    state: new Uint8Array(new Buffer(count)),
    volatility: float(),
    price: float(),
    delta: float(),
    gamma: float(),
    theta: float(),
    vega: float(),
    rho: float(),
    impliedVolatility: float(),
  };
}

/**
 * Prices options `from` to `to` (exclusive) with their Greeks and solves their quotes'
 * implied volatilities into `values`.
 * @returns the implied-volatility errors of the range, by option index (a sparse record)
 */
export function valueOptions(batch: OptionBatch, values: OptionValues, from: number, to: number): Map<number, string> {
  const errors = new Map<number, string>();
  // Reused across the batch: no allocation per option.
  const terms: { -readonly [K in keyof BlackScholesInputs]: BlackScholesInputs[K] } = {
    optionType: 'call', spot: 0, strike: 0, timeToExpiry: 0, riskFreeRate: 0, dividendYield: 0, volatility: 0,
  };
  const valuation: BlackScholesValuationBuffer = { price: 0, delta: 0, gamma: 0, theta: 0, vega: 0, rho: 0 };
  const quote: { -readonly [K in keyof ImpliedVolatilityInputs]: ImpliedVolatilityInputs[K] } = {
    optionType: 'call', price: 0, spot: 0, strike: 0, timeToExpiry: 0, riskFreeRate: 0, dividendYield: 0,
  };
  for (let i = from; i < to; i++) {
    const optionType: OptionType = batch.isCall[i] === 1 ? 'call' : 'put';
    terms.optionType = optionType;
    terms.spot = batch.spot[i];
    terms.strike = batch.strike[i];
    terms.timeToExpiry = batch.timeToExpiry[i];
    terms.riskFreeRate = batch.riskFreeRate[i];
    terms.dividendYield = batch.dividendYield[i];
    let state = 0;
    if (batch.hasMarketPrice[i] === 1) {
      quote.optionType = optionType;
      quote.price = batch.marketPrice[i];
      quote.spot = terms.spot;
      quote.strike = terms.strike;
      quote.timeToExpiry = terms.timeToExpiry;
      quote.riskFreeRate = terms.riskFreeRate;
      quote.dividendYield = terms.dividendYield;
      const iv = impliedVolatility(quote);
      if (iv.ok) {
        values.impliedVolatility[i] = iv.volatility;
        state |= SOLVED;
      } else errors.set(i, iv.reason);
    }
    // A volatility to be implied prices the option only when its quote had one.
    const implied = batch.source[i] === IMPLIED_SOURCE;
    if (!implied || state & SOLVED) {
      const volatility = implied ? values.impliedVolatility[i] : batch.volatility[i];
      terms.volatility = volatility;
      blackScholes(terms, valuation);
      values.volatility[i] = volatility;
      values.price[i] = valuation.price;
      values.delta[i] = valuation.delta;
      values.gamma[i] = valuation.gamma;
      values.theta[i] = valuation.theta;
      values.vega[i] = valuation.vega;
      values.rho[i] = valuation.rho;
      state |= PRICED;
    }
    values.state[i] = state;
  }
  return errors;
}

/** Option `i`'s entry of `result.options`, from its inputs and values (the contract's field order). */
export function optionResult(batch: OptionBatch, values: OptionValues, errors: ReadonlyMap<number, string>, i: number): BlackScholesOptionResult {
  const state = values.state[i];
  const priced = (state & PRICED) !== 0;
  const symbolIndex = batch.symbolIndex[i];
  const out: BlackScholesOptionResult = {
    option_type: batch.isCall[i] === 1 ? 'call' : 'put',
    symbol: symbolIndex < 0 ? null : batch.symbols[symbolIndex],
    spot: batch.spot[i],
    strike: batch.strike[i],
    time_to_expiry: batch.timeToExpiry[i],
    risk_free_rate: batch.riskFreeRate[i],
    dividend_yield: batch.dividendYield[i],
    volatility: priced ? values.volatility[i] : null,
    volatility_source: SOURCES[batch.source[i]],
    price: priced ? values.price[i] : null,
    delta: priced ? values.delta[i] : null,
    gamma: priced ? values.gamma[i] : null,
    theta: priced ? values.theta[i] : null,
    vega: priced ? values.vega[i] : null,
    rho: priced ? values.rho[i] : null,
  };
  if (batch.hasMarketPrice[i] === 1) {
    out.market_price = batch.marketPrice[i];
    out.implied_volatility = state & SOLVED ? values.impliedVolatility[i] : null;
    const error = errors.get(i);
    if (error !== undefined) out.implied_volatility_error = error;
  }
  return out;
}

/**
 * `result.options` read one entry at a time, by index from 0 to `length` - 1: an array, or a
 * batch's entries built from its columns as they are read (batchEntries), so that a large
 * batch's 100,000 entries are never all held as objects (each is ~20 allocations that would
 * live to the end of the job).
 */
export interface OptionEntries {
  readonly length: number;
  at(index: number): BlackScholesOptionResult | undefined;
  /**
   * What a scan over every entry (the chart's) asks of each, read without building the entry:
   * whether it was priced (its volatility and price are not null), whether its implied
   * volatility is a number, its strike.
   */
  readonly scan?: {
    priced(index: number): boolean;
    solved(index: number): boolean;
    strike(index: number): number;
  };
}

/** The entries of a valued batch, each built from its columns when read. */
export function batchEntries(batch: OptionBatch, values: OptionValues, errors: ReadonlyMap<number, string>): OptionEntries {
  return {
    length: batch.count,
    at: (i) => (i >= 0 && i < batch.count ? optionResult(batch, values, errors, i) : undefined),
    scan: {
      priced: (i) => (values.state[i] & PRICED) !== 0,
      solved: (i) => batch.hasMarketPrice[i] === 1 && (values.state[i] & SOLVED) !== 0,
      strike: (i) => batch.strike[i],
    },
  };
}

/** Every entry of `entries`, as an array. */
export function allEntries(entries: OptionEntries): BlackScholesOptionResult[] {
  const out: BlackScholesOptionResult[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) out[i] = entries.at(i) as BlackScholesOptionResult;
  return out;
}

/** Entries `from` to `to` (exclusive) of `result.options`. */
export function optionResults(batch: OptionBatch, values: OptionValues, errors: ReadonlyMap<number, string>, from: number, to: number): BlackScholesOptionResult[] {
  const out: BlackScholesOptionResult[] = new Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = optionResult(batch, values, errors, i);
  return out;
}

/**
 * Entries JSON.stringify writes at a time: ~90 KB of text, which V8 keeps in its young
 * generation (a string over ~128 KB goes to its large-object space, freed only by a full
 * collection), so each group's objects and text die young.
 */
export const JSON_CHUNK_OPTIONS = 200;

/** Bytes of a chunk of a batch's JSON: each group's text is written into the current chunk while it fits. */
const CHUNK_BYTES = 1 << 20;

/**
 * `count` entries of `result.options` as JSON, in UTF-8 chunks: joined, their bytes are the
 * text `JSON.stringify` writes for those entries inside the array's brackets (after a ',' when
 * `afterOthers`: entries before them are written elsewhere). Each chunk has an ArrayBuffer
 * of its own (never Node's shared pool), so a worker can hand it over.
 * @param entries the entries `from` to `to` (exclusive) of the range, 0 being its first
 */
export function optionsJsonChunks(count: number, entries: (from: number, to: number) => readonly BlackScholesOptionResult[], afterOthers: boolean): Buffer[] {
  const chunks: Buffer[] = [];
  let chunk: Buffer | undefined;
  let start = 0;
  let end = 0;
  for (let from = 0; from < count; from += JSON_CHUNK_OPTIONS) {
    const text = JSON.stringify(entries(from, Math.min(count, from + JSON_CHUNK_OPTIONS)));
    const bytes = Buffer.byteLength(text, 'utf8');
    if (chunk === undefined || end + bytes > chunk.length) {
      if (chunk !== undefined) chunks.push(chunk.subarray(start, end));
      chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bytes));
      start = end = 0;
    }
    chunk.write(text, end, 'utf8');
    // '[' entries ']': the '[' becomes the ',' after the entries before, the ']' gives way to the next group.
    if (from === 0 && !afterOthers) start = end + 1;
    else chunk[end] = 0x2c;
    end += bytes - 1;
  }
  if (chunk !== undefined) chunks.push(chunk.subarray(start, end));
  return chunks;
}
