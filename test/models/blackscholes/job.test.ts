import { describe, expect, it } from 'vitest';
import type { Config } from '../../../shared/config.js';
import { parseJob } from '../../../shared/job/envelope.js';
import { JobError } from '../../../shared/job/errors.js';
import type { ModelContext, ModelOutput } from '../../../shared/job/model.js';
import type { Logger } from '../../../shared/log.js';
import type { PriceHistory } from '../../../shared/prices/history.js';
import { blackScholes } from '../../../shared/models/blackscholes/blackscholes.js';
import { blackscholesModel } from '../../../shared/models/blackscholes/job.js';
import type { BlackScholesOptionResult, BlackScholesResult } from '../../../shared/models/blackscholes/result.js';
import { annualizedLogReturnStats } from '../../../shared/numerics/historicalVolatility.js';

const TODAY = '2024-12-31';

const history = (symbol: string, prices: number[]): PriceHistory => ({
  symbol,
  prices,
  dates: prices.map((_, i) => new Date(Date.UTC(2024, 0, 2 + i)).toISOString().slice(0, 10)),
});
const AAPL = history('AAPL', [180, 182.5, 181.2, 185.9, 184.1, 187.3, 190.2, 189.5]);
const MSFT = history('MSFT', [400, 404, 398, 410, 415]);

function fakeContext(histories: PriceHistory[]): ModelContext & { calls: string[][] } {
  const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => log };
  const calls: string[][] = [];
  return {
    calls,
    history: async (symbols) => {
      calls.push([...symbols]);
      return symbols.map((s) => {
        const h = histories.find((x) => x.symbol === s);
        if (!h) throw new JobError('unknown_symbol', `${s} has no prices in the window.`);
        return h;
      });
    },
    log,
    config: {} as Config,
    warehouse: {} as ModelContext['warehouse'],
    secrets: {} as ModelContext['secrets'],
  };
}

const job = (params: unknown, symbols: string[] = ['AAPL', 'MSFT']) =>
  parseJob({ job_id: 'bs-test', symbols, start: '2024-01-01', end: '2024-12-31', params }, blackscholesModel, TODAY);

async function run(params: unknown, symbols?: string[], histories = [AAPL, MSFT]) {
  const context = fakeContext(histories);
  const output: ModelOutput = await blackscholesModel.run(job(params, symbols), context);
  return { output, options: (output.result as unknown as BlackScholesResult).options, context };
}

function jobError(f: () => unknown): JobError {
  try {
    f();
  } catch (e) {
    if (e instanceof JobError) return e;
    throw e;
  }
  throw new Error('expected a JobError');
}
async function asyncJobError(f: () => Promise<unknown>): Promise<JobError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof JobError) return e;
    throw e;
  }
  throw new Error('expected a JobError');
}

describe('params validation (through parseJob, as production)', () => {
  it('rejects an unknown key at the top level and inside an option, naming it', () => {
    const top = jobError(() => job({ strike: 100, time_to_expiry: 1, volatilty: 0.2 }));
    expect(top.code).toBe('invalid_job');
    expect(top.message).toMatch(/"volatilty".*params/);
    const nested = jobError(() => job({ options: [{ strike: 100 }, { strike: 90, expiry: 1 }] }));
    expect(nested.message).toMatch(/"expiry" in params\.options\[1\]/);
  });

  it('rejects bad types and values with the field path', () => {
    const cases: [unknown, RegExp][] = [
      [{ strike: '100', time_to_expiry: 1 }, /^params\.strike/],
      [{ strike: -5, time_to_expiry: 1 }, /^params\.strike/],
      [{ strike: 100, time_to_expiry: 0 }, /^params\.time_to_expiry/],
      [{ strike: 100, time_to_expiry: 1, volatility: 0 }, /^params\.volatility/],
      [{ strike: 100, time_to_expiry: 1, spot: 0 }, /^params\.spot/],
      [{ strike: 100, time_to_expiry: 1, option_type: 'straddle' }, /^params\.option_type/],
      [{ strike: 100, time_to_expiry: 1, market_price: -1 }, /^params\.market_price/],
      [{ time_to_expiry: 1, options: [{ strike: 100 }, {}, {}, { strike: 0 }] }, /^params\.options\[3\]\.strike/],
      [{ options: [] }, /^params\.options/],
    ];
    for (const [params, pattern] of cases) {
      const e = jobError(() => job(params));
      expect(e.code).toBe('invalid_job');
      expect(e.message, JSON.stringify(params)).toMatch(pattern);
    }
  });

  it('requires strike and time_to_expiry somewhere, naming the option', async () => {
    const e = await asyncJobError(() => run({ time_to_expiry: 1, options: [{ strike: 100 }, { volatility: 0.2 }] }));
    expect(e.code).toBe('invalid_job');
    expect(e.message).toMatch(/^params\.options\[1\]\.strike is required/);
    const single = await asyncJobError(() => run({ strike: 100 }));
    expect(single.message).toMatch(/^params\.time_to_expiry is required/);
  });

  it('rejects a symbol not among the job symbols', async () => {
    const e = await asyncJobError(() => run({ strike: 100, time_to_expiry: 1, options: [{}, { symbol: 'GOOG' }] }));
    expect(e.code).toBe('invalid_job');
    expect(e.message).toMatch(/params\.options\[1\]\.symbol is "GOOG" but must be one of AAPL, MSFT/);
  });

  it('without symbols, a missing spot or volatility is invalid and names the field', async () => {
    const spot = await asyncJobError(() => run({ strike: 100, time_to_expiry: 1, volatility: 0.2 }, []));
    expect(spot.message).toMatch(/^params\.spot is required when the job has no symbols/);
    const vol = await asyncJobError(() => run({ options: [{ strike: 100, time_to_expiry: 1, spot: 100 }] }, []));
    expect(vol.message).toMatch(/^params\.options\[0\]\.volatility is required/);
  });

  it('too short a history for a volatility is insufficient_data naming the symbol', async () => {
    const e = await asyncJobError(() => run({ strike: 100, time_to_expiry: 1 }, ['AAPL'], [history('AAPL', [100, 101])]));
    expect(e.code).toBe('insufficient_data');
    expect(e.message).toMatch(/^AAPL has 2 prices/);
  });
});

describe('resolution', () => {
  it('without options, params is one option with contract defaults (call, r = q = 0)', async () => {
    const { options } = await run({ spot: 100, strike: 105, time_to_expiry: 0.5, volatility: 0.3 }, []);
    expect(options).toHaveLength(1);
    const o = options[0];
    expect(o).toMatchObject({ option_type: 'call', symbol: null, risk_free_rate: 0, dividend_yield: 0, volatility_source: 'params' });
    const want = blackScholes({ optionType: 'call', spot: 100, strike: 105, timeToExpiry: 0.5, riskFreeRate: 0, dividendYield: 0, volatility: 0.3 });
    expect(o.price).toBe(want.price);
    expect(o.theta).toBe(want.theta);
    expect(o).not.toHaveProperty('implied_volatility');
  });

  it('option override ?? params default ?? contract default, in input order', async () => {
    const { options } = await run({
      strike: 100,
      time_to_expiry: 1,
      risk_free_rate: 0.04,
      volatility: 0.25,
      spot: 101,
      options: [{}, { option_type: 'put', strike: 90 }, { risk_free_rate: -0.01, dividend_yield: 0.02, symbol: 'MSFT', spot: 410 }],
    });
    expect(options.map((o) => [o.option_type, o.strike, o.risk_free_rate, o.dividend_yield, o.symbol, o.spot])).toEqual([
      ['call', 100, 0.04, 0, 'AAPL', 101],
      ['put', 90, 0.04, 0, 'AAPL', 101],
      ['call', 100, -0.01, 0.02, 'MSFT', 410],
    ]);
  });

  it('a missing spot is the last price, a missing volatility the historical one; one history call', async () => {
    const { options, output, context } = await run({
      strike: 185,
      time_to_expiry: 0.25,
      options: [{}, { symbol: 'MSFT', strike: 400 }, { spot: 200, volatility: 0.5 }],
    });
    expect(context.calls).toEqual([['AAPL', 'MSFT']]);
    const aaplVol = annualizedLogReturnStats(AAPL.prices).volatility;
    expect(options[0]).toMatchObject({ spot: 189.5, volatility: aaplVol, volatility_source: 'historical' });
    expect(options[1]).toMatchObject({ spot: 415, symbol: 'MSFT', volatility: annualizedLogReturnStats(MSFT.prices).volatility });
    expect(options[2]).toMatchObject({ spot: 200, volatility: 0.5, volatility_source: 'params' });
    const inputs = output.inputs as { option_count: number; symbols: Record<string, Record<string, unknown>> };
    expect(inputs.option_count).toBe(3);
    expect(inputs.symbols.AAPL).toMatchObject({ last_price: 189.5, last_date: AAPL.dates[7], historical_volatility: aaplVol, observations: 7 });
    expect(inputs.symbols.AAPL.window).toEqual({ start: AAPL.dates[0], end: AAPL.dates[7] });
  });

  it('annualizes a historical volatility with params.periods_per_year (default 252), reported in inputs', async () => {
    const daily = await run({ strike: 185, time_to_expiry: 0.25 }, ['AAPL']);
    const calendar = await run({ strike: 185, time_to_expiry: 0.25, periods_per_year: 365 }, ['AAPL']);
    expect(daily.output.inputs.periods_per_year).toBe(252);
    expect(calendar.output.inputs.periods_per_year).toBe(365);
    expect(calendar.options[0].volatility).toBeCloseTo(annualizedLogReturnStats(AAPL.prices, 365).volatility, 15);
    expect((calendar.options[0].volatility as number) / (daily.options[0].volatility as number)).toBeCloseTo(Math.sqrt(365 / 252), 14);
    // A given volatility is annual already: periods_per_year leaves it alone.
    expect((await run({ spot: 100, strike: 100, time_to_expiry: 1, volatility: 0.2, periods_per_year: 365 })).options[0].volatility).toBe(0.2);
  });

  it('validates periods_per_year as Markowitz does, job-wide only (not per option)', () => {
    for (const value of [0, -1, 100_001, '365']) {
      expect(jobError(() => job({ strike: 100, time_to_expiry: 1, periods_per_year: value })).message).toMatch(/periods_per_year/);
    }
    expect(jobError(() => job({ strike: 100, time_to_expiry: 1, options: [{ periods_per_year: 365 }] })).message).toMatch(/periods_per_year/);
  });

  it('does not load history when every option has spot and volatility', async () => {
    const { context } = await run({ spot: 100, strike: 100, time_to_expiry: 1, volatility: 0.2 });
    expect(context.calls).toEqual([]);
  });

  it('with market_price and no volatility: price and Greeks at the implied volatility', async () => {
    const terms = { optionType: 'call' as const, spot: 100, strike: 110, timeToExpiry: 0.5, riskFreeRate: 0.03, dividendYield: 0.01 };
    const quote = blackScholes({ ...terms, volatility: 0.37 }).price;
    const { options, context } = await run({ spot: 100, strike: 110, time_to_expiry: 0.5, risk_free_rate: 0.03, dividend_yield: 0.01, market_price: quote });
    expect(context.calls).toEqual([]); // the spot is given and the volatility implied: no history needed
    const o = options[0];
    expect(o.volatility_source).toBe('implied');
    expect(o.implied_volatility as number).toBeCloseTo(0.37, 12);
    expect(o.volatility).toBe(o.implied_volatility);
    expect(o.price as number).toBeCloseTo(quote, 12);
    expect(o.market_price).toBe(quote);
  });

  it('a quote outside the bounds gets implied_volatility null and a sentence, without failing the others', async () => {
    const { options, output } = await run({
      spot: 100,
      time_to_expiry: 1,
      options: [{ strike: 80, market_price: 5 }, { strike: 100, market_price: 8 }, { strike: 100, market_price: 8, volatility: 0.2 }],
    });
    const [bad, good, both] = options as BlackScholesOptionResult[];
    expect(bad.implied_volatility).toBeNull();
    expect(bad.implied_volatility_error).toMatch(/below its lower no-arbitrage bound 20/);
    expect([bad.price, bad.delta, bad.gamma, bad.theta, bad.vega, bad.rho, bad.volatility]).toEqual([null, null, null, null, null, null, null]);
    expect(good.implied_volatility).toBeGreaterThan(0);
    expect(good.implied_volatility_error).toBeUndefined();
    // With a volatility given, the price is at that volatility and the implied one is reported beside it.
    expect(both.volatility).toBe(0.2);
    expect(both.implied_volatility).toBe(good.implied_volatility);
    expect(output.metrics.map((m) => m.metric)).toEqual([
      'option_count', 'options.1.price', 'options.1.implied_volatility', 'options.2.price', 'options.2.implied_volatility',
    ]);
    expect(JSON.parse(JSON.stringify(output.result))).toEqual(output.result); // JSON-safe: no NaN or Infinity
  });
});

describe('batches', () => {
  it('100,000 options resolve with one history call and bounded metrics', async () => {
    const options = Array.from({ length: 100_000 }, (_, i) => ({
      strike: 150 + (i % 80),
      time_to_expiry: 0.05 + (i % 37) / 10,
      option_type: i % 2 ? ('put' as const) : ('call' as const),
    }));
    const { output, context, options: results } = await run({ risk_free_rate: 0.02, options }, ['AAPL'], [AAPL]);
    expect(context.calls).toEqual([['AAPL']]);
    expect(results).toHaveLength(100_000);
    expect(results.every((o) => o.price !== null && o.price >= 0)).toBe(true);
    expect(output.metrics.length).toBe(1 + 100);
    expect(output.chart).toMatch(/^<svg|<\?xml/);
  });
});

describe('chart', () => {
  it('draws one panel per distinct option, up to six, with value and delta', async () => {
    const { output } = await run({
      spot: 100,
      volatility: 0.3,
      time_to_expiry: 1,
      options: [{ strike: 90 }, { strike: 90 }, { strike: 110, option_type: 'put' }],
    });
    const svg = output.chart as string;
    expect(svg).toContain('</svg>');
    expect(svg).toContain('K=90');
    expect(svg).toContain('put K=110');
    expect(svg.match(/K=90 /g)?.length).toBe(1); // the duplicate is not drawn twice
    expect(svg).toContain('Delta');
  });
});
