/**
 * @module Black-Scholes (`blackscholes`): European option prices, Greeks and implied volatility.
 *
 * The folder: `blackscholes.ts` prices one option under the generalized (Merton) formula in
 * normalised-Black form and returns its Greeks with QuantLib's conventions; `impliedVolatility.ts`
 * inverts it after Jaeckel's "Let's Be Rational"; `result.ts` is the shape of `result.options`;
 * `chart.ts` draws value and delta against spot; this file is the job: the params schema
 * (per-option fields over job-wide defaults), resolution of spot and volatility from a symbol's
 * history, and the result document. Reference values: `test/fixtures/blackscholes/` (mpmath).
 */
import * as z from 'zod';
import { blackscholesChartSvg } from './chart.js';
import { fewObservationsWarning, withWarnings } from '../../job/calibrationWarning.js';
import { JobError } from '../../job/errors.js';
import { fastParse, NOT_SURE } from '../../job/fastParse.js';
import { periodsPerYearParam } from '../../job/periodsPerYear.js';
import type { Job, Metric, ModelContext, ModelDefinition, ModelOutput } from '../../job/model.js';
import type { PriceHistory } from '../../prices/history.js';
import { annualizedLogReturnStats } from '../../numerics/historicalVolatility.js';
import { allEntries, SOURCES, type OptionBatch, type OptionEntries } from './optionBatch.js';
import { newBatch, PARALLEL_OPTIONS, prewarmValuationWorker, valuationThreads, valueBatch } from './parallelValuation.js';
import { isPresentedOptions, PresentedOptions, type OptionsRead } from './presentedOptions.js';
import { speculationPending } from './speculativeValuation.js';
import type { BlackScholesOptionResult, BlackScholesResult, VolatilitySource } from './result.js';

/**
 * A Pub/Sub message holds 10 MB, about 100,000 options with their fields. The result is
 * ~400 bytes an option: 100,000 options peak at ~410 MB, which the 1 GiB deployment holds
 * with 30% to spare (test/limits/memoryLimits.test.ts).
 */
export const MAX_OPTIONS = 100_000;
/** Options whose price and implied volatility become `model_metrics` rows (the rest stay in the result). */
export const METRIC_OPTIONS = 100;

/**
 * Prices (spot, strike) between 1e-6 and 1e9, and at most 100 years to expiry: with rates
 * and yields within ±1, every discount factor (at most e^100) times a price stays far from
 * overflow, and no price underflows in a ratio; outside them a result would hold NaN or
 * Infinity (found by fuzzing: dividend_yield -1 over 1000 years, strike 1e308, spot 5e-324).
 */
export const PRICE_LIMITS = { min: 1e-6, max: 1e9 } as const;
export const MAX_TIME_TO_EXPIRY = 100;
const price = z
  .number()
  .finite()
  .min(PRICE_LIMITS.min, `must be at least ${PRICE_LIMITS.min} (the smallest price the model takes)`)
  .max(PRICE_LIMITS.max, `must be at most ${PRICE_LIMITS.max} (the largest price the model takes)`);

const optionFields = {
  option_type: z.enum(['call', 'put']).optional(),
  spot: price.optional(),
  strike: price.optional(),
  time_to_expiry: z.number().finite().positive().max(MAX_TIME_TO_EXPIRY, `must be at most ${MAX_TIME_TO_EXPIRY} years (the limit that keeps discount factors finite)`).optional(),
  risk_free_rate: z.number().finite().min(-1).max(1).optional(),
  dividend_yield: z.number().finite().min(-1).max(1).optional(),
  volatility: z.number().finite().positive().max(100).optional(),
  market_price: z.number().finite().min(0).optional(),
  symbol: z.string().min(1).optional(),
};

const optionSchema = z.object(optionFields).strict();

const paramsSchema = z
  .object({
    ...optionFields,
    options: z.array(optionSchema).min(1).max(MAX_OPTIONS).optional(),
    /**
     * Annualization of a historical volatility, job-wide (a property of the price data, not of
     * an option): 252 trading days as Monte Carlo and Markowitz; 365 for a coin traded every day.
     */
    periods_per_year: periodsPerYearParam,
  })
  .strict();

export type BlackScholesParams = z.infer<typeof paramsSchema>;
type OptionParams = z.infer<typeof optionSchema>;

interface SymbolInputs {
  /** equity, fx or crypto; null for the fixture CSV. */
  asset_class: string | null;
  last_price: number;
  last_date: string;
  window: { start: string; end: string };
  historical_volatility?: number;
  observations?: number;
}

/**
 * The `blackscholes` job: prices, Greeks and implied volatilities of a batch of European
 * options (generalized Black-Scholes-Merton). Each option's fields are its own, else the
 * defaults in `params`, else the contract's; a missing spot is the symbol's last price and a
 * missing volatility (without a market price) its historical volatility, each history loaded once.
 */
export const blackscholesModel: ModelDefinition<BlackScholesParams> = {
  name: 'blackscholes',
  params: paramsSchema,
  symbolsOptional: true,
  async run(job: Job<BlackScholesParams>, context: ModelContext): Promise<ModelOutput> {
    const { options: given, periods_per_year: periodsPerYear, ...defaults } = job.params;
    // Options the command line read into columns (presentedOptions.ts) are resolved already
    // when nothing else has a say: no symbols, no job-wide default. Otherwise they are read
    // as the objects they stand for.
    const presented = isPresentedOptions(given) && job.symbols.length === 0 && Object.keys(defaults).length === 0 ? given : undefined;
    const overrides = presented ? undefined : isPresentedOptions(given) ? (given.toJSON() as OptionParams[]) : given;
    const list: readonly OptionParams[] = presented ? [] : (overrides ?? [defaults]);
    const count = presented?.count ?? list.length;
    // A large batch's worker starts now, while the options are checked and resolved (unless one
    // already values them from the job's bytes: the command line's speculativeValuation).
    const threads = valuationThreads(count, context.config.BS_THREADS);
    if (threads > 1 && !speculationPending()) prewarmValuationWorker();
    const { batch, pricedFromSymbol, symbolInputs } = presented
      ? { batch: presented.batch, pricedFromSymbol: new Array<boolean>(count).fill(false), symbolInputs: new Map<string, SymbolInputs>() }
      : await resolveBatch(job, list, overrides !== undefined, defaults, threads, periodsPerYear, context);
    // A large batch's JSON is written by the threads that value it, in chunks (never one string),
    // and its entries are built as objects only where read (the chart, the metrics).
    const large = count >= PARALLEL_OPTIONS;
    let chart = '';
    const drawChart = (valued: OptionEntries) => void (chart = blackscholesChartSvg(valued, pricedFromSymbol));
    const { entries, optionsJson, threads: valuedOn, speculative = false } = await valueBatch(batch, threads, { json: large, whenValued: drawChart });
    context.log.debug('Options valued.', { options: entries.length, threads: valuedOn, speculative, presented: presented !== undefined });

    const warnings: string[] = [];
    for (const [symbol, entry] of symbolInputs) {
      if (entry.observations === undefined) continue;
      const warning = fewObservationsWarning(entry.observations, `${symbol}'s historical volatility`, entry.window);
      if (warning) (warnings.push(warning), context.log.warn(warning));
    }
    const result: BlackScholesResult = large ? lazyResult(entries, warnings) : { options: allEntries(entries), ...withWarnings(warnings) };
    return {
      inputs: { option_count: entries.length, periods_per_year: periodsPerYear, symbols: Object.fromEntries(symbolInputs) },
      result: result as unknown as Record<string, unknown>,
      metrics: optionMetrics(entries),
      chart,
      ...(optionsJson !== undefined && { resultText: resultJsonChunks(result, optionsJson) }),
    };
  },
};

/**
 * `JSON.stringify(result)` as UTF-8 chunks, given its options' JSON as chunks (ValuedBatch.optionsJson):
 * the same keys in the same order.
 */
export function resultJsonChunks(result: BlackScholesResult, optionsJson: readonly Uint8Array[]): Uint8Array[] {
  const tail = `]${result.warnings !== undefined ? `,"warnings":${JSON.stringify(result.warnings)}` : ''}}`;
  return [Buffer.from('{"options":['), ...optionsJson, Buffer.from(tail, 'utf8')];
}

/**
 * A large batch's result: `options` is built as an array the first time it is read (a test, a
 * caller of run()); the job itself writes it from its chunks and never reads it.
 */
function lazyResult(entries: OptionEntries, warnings: readonly string[]): BlackScholesResult {
  let options: BlackScholesOptionResult[] | undefined;
  return {
    get options() {
      return (options ??= allEntries(entries));
    },
    ...withWarnings([...warnings]),
  };
}

/**
 * The job's options from what the command line's worker read of its bytes (ReadOptions), in
 * their place in `params` (presentedValue.ts), if the schema accepts every one as it is: each
 * is checked by the validator compiled from optionSchema (zod's own checks, fastParse.ts), and
 * there are at most MAX_OPTIONS. Null otherwise: the job then parses its options as usual, and
 * zod names the field at fault.
 */
export function presentOptions(read: OptionsRead, bytes: Uint8Array): PresentedOptions | null {
  const presented = new PresentedOptions(read, bytes);
  if (presented.count < 1 || presented.count > MAX_OPTIONS) return null;
  return presented.every((option) => fastParse(optionSchema, option) !== NOT_SURE) ? presented : null;
}

/**
 * The options' inputs resolved into a batch's columns: each field the option's own, else the
 * job-wide default, else the contract's; spot and volatility from a symbol's history where
 * missing (each history loaded once). Throws JobError `invalid_job` naming the option at fault.
 */
async function resolveBatch(
  job: Job<BlackScholesParams>,
  list: readonly OptionParams[],
  perOption: boolean,
  defaults: Omit<BlackScholesParams, 'options' | 'periods_per_year'>,
  threads: number,
  periodsPerYear: number,
  context: ModelContext,
): Promise<{ batch: OptionBatch; pricedFromSymbol: boolean[]; symbolInputs: Map<string, SymbolInputs> }> {
  const fieldName = (i: number, key: string) => (perOption ? `params.options[${i}].${key}` : `params.${key}`);

  // First pass: check what needs history, per symbol.
  const needsSpot = new Set<string>();
  const needsVolatility = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const o = list[i];
    const symbol = o.symbol ?? defaults.symbol;
    if (symbol !== undefined && !job.symbols.includes(symbol)) {
      const listed = job.symbols.length > 0 ? `one of ${job.symbols.join(', ')}` : 'listed in symbols (the job has none)';
      throw new JobError('invalid_job', `${fieldName(i, 'symbol')} is "${symbol}" but must be ${listed}.`);
    }
    const resolvedSymbol = symbol ?? job.symbols[0];
    for (const key of ['strike', 'time_to_expiry'] as const) {
      if (o[key] === undefined && defaults[key] === undefined) {
        throw new JobError('invalid_job', `${fieldName(i, key)} is required: give it in the option or as a default in params.`);
      }
    }
    const spotMissing = o.spot === undefined && defaults.spot === undefined;
    const volatilityMissing =
      o.volatility === undefined && defaults.volatility === undefined && o.market_price === undefined && defaults.market_price === undefined;
    if ((spotMissing || volatilityMissing) && resolvedSymbol === undefined) {
      const key = spotMissing ? 'spot' : 'volatility';
      const from = spotMissing ? 'last price' : 'historical volatility';
      throw new JobError(
        'invalid_job',
        `${fieldName(i, key)} is required when the job has no symbols: give it, or list a symbol to use its ${from}${key === 'volatility' ? ' (or give market_price to imply it)' : ''}.`,
      );
    }
    if (spotMissing) needsSpot.add(resolvedSymbol as string);
    if (volatilityMissing) needsVolatility.add(resolvedSymbol as string);
  }

  const symbolInputs = await loadSymbolInputs([...new Set([...needsSpot, ...needsVolatility])], needsVolatility, periodsPerYear, context);

  // Resolve every option's inputs into columns, which this thread and a worker value half each.
  const symbols = [...new Set(list.map((o) => o.symbol ?? defaults.symbol ?? job.symbols[0]).filter((s) => s !== undefined))];
  const symbolIndex = new Map(symbols.map((s, i) => [s, i]));
  const batch = newBatch(list.length, symbols, threads);
  const pricedFromSymbol: boolean[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const o = list[i];
    const symbol = o.symbol ?? defaults.symbol ?? job.symbols[0];
    const fromHistory = symbol === undefined ? undefined : symbolInputs.get(symbol);
    const marketPrice = o.market_price ?? defaults.market_price;
    const givenVolatility = o.volatility ?? defaults.volatility;
    const givenSpot = o.spot ?? defaults.spot;
    batch.isCall[i] = (o.option_type ?? defaults.option_type ?? 'call') === 'call' ? 1 : 0;
    batch.spot[i] = givenSpot ?? (fromHistory as SymbolInputs).last_price;
    batch.strike[i] = (o.strike ?? defaults.strike) as number;
    batch.timeToExpiry[i] = (o.time_to_expiry ?? defaults.time_to_expiry) as number;
    batch.riskFreeRate[i] = o.risk_free_rate ?? defaults.risk_free_rate ?? 0;
    batch.dividendYield[i] = o.dividend_yield ?? defaults.dividend_yield ?? 0;
    if (marketPrice !== undefined) {
      batch.hasMarketPrice[i] = 1;
      batch.marketPrice[i] = marketPrice;
    }
    let source: VolatilitySource;
    if (givenVolatility !== undefined) {
      source = 'params';
      batch.volatility[i] = givenVolatility;
    } else if (marketPrice !== undefined) source = 'implied';
    else {
      source = 'historical';
      batch.volatility[i] = (fromHistory as SymbolInputs).historical_volatility as number;
    }
    batch.source[i] = SOURCES.indexOf(source);
    batch.symbolIndex[i] = symbol === undefined ? -1 : (symbolIndex.get(symbol) as number);
    pricedFromSymbol[i] = givenSpot === undefined || source === 'historical';
  }
  return { batch, pricedFromSymbol, symbolInputs };
}

/** Last price (and historical volatility where needed) of each symbol, one history request for all. */
async function loadSymbolInputs(
  symbols: readonly string[],
  needsVolatility: ReadonlySet<string>,
  periodsPerYear: number,
  context: ModelContext,
): Promise<Map<string, SymbolInputs>> {
  const out = new Map<string, SymbolInputs>();
  if (symbols.length === 0) return out;
  const histories: PriceHistory[] = await context.history(symbols);
  for (const h of histories) {
    const n = h.prices.length;
    if (n === 0) throw new JobError('insufficient_data', `${h.symbol} has no prices in the job's window.`);
    const entry: SymbolInputs = {
      asset_class: h.assetClass ?? null,
      last_price: h.prices[n - 1],
      last_date: h.dates[n - 1],
      window: { start: h.dates[0], end: h.dates[n - 1] },
    };
    if (needsVolatility.has(h.symbol)) {
      // A sample standard deviation needs two returns, i.e. three prices.
      if (n < 3) {
        throw new JobError(
          'insufficient_data',
          `${h.symbol} has ${n} price${n === 1 ? '' : 's'} in the window, too few for a historical volatility (at least 3); widen start/end or give volatility.`,
        );
      }
      const stats = annualizedLogReturnStats(h.prices, periodsPerYear);
      entry.historical_volatility = stats.volatility;
      entry.observations = stats.observations;
    }
    out.set(h.symbol, entry);
  }
  return out;
}

/**
 * `options.<i>.price` and `options.<i>.implied_volatility` for the first METRIC_OPTIONS options
 * (a batch of 100,000 would otherwise write 200,000 rows), plus `option_count`.
 */
function optionMetrics(results: OptionEntries): Metric[] {
  const metrics: Metric[] = [{ metric: 'option_count', value: results.length }];
  const n = Math.min(results.length, METRIC_OPTIONS);
  for (let i = 0; i < n; i++) {
    const r = results.at(i) as BlackScholesOptionResult;
    const symbol = r.symbol === null ? {} : { symbol: r.symbol };
    if (r.price !== null && Number.isFinite(r.price)) metrics.push({ metric: `options.${i}.price`, value: r.price, ...symbol });
    if (typeof r.implied_volatility === 'number') {
      metrics.push({ metric: `options.${i}.implied_volatility`, value: r.implied_volatility, ...symbol });
    }
  }
  return metrics;
}
