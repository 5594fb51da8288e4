/**
 * The Black-Scholes benches' batches (bench/blackscholes.ts, bench/jobDigest.ts): the same
 * options for every bench, from fixed seeds.
 */
import { blackScholes, type BlackScholesInputs } from '../shared/models/blackscholes/blackscholes.js';

/** A deterministic spread of `count` options: strikes 50%..150% of spot, 1 day..10 years, vol 5%..105%. */
export function makeBatch(count: number): BlackScholesInputs[] {
  const out: BlackScholesInputs[] = [];
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < count; i++) {
    out.push({
      optionType: i % 2 ? 'put' : 'call',
      spot: 100,
      strike: 50 + 100 * next(),
      timeToExpiry: 1 / 365 + 10 * next(),
      riskFreeRate: 0.05 * next() - 0.01,
      dividendYield: 0.03 * next(),
      volatility: 0.05 + next(),
    });
  }
  return out;
}

/**
 * The whole-job batch: the same spread with inputs as quotes come (cents, basis points, four
 * decimals of a year) and a market price from a volatility 30% off the option's own, so that
 * every option is priced with Greeks and every quote's implied volatility is solved.
 */
export function quotedBatch(count: number): Record<string, number | string>[] {
  const round = (v: number, digits: number) => Number(v.toFixed(digits));
  let seed = 777;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  return makeBatch(count).map((o) => {
    const option = {
      option_type: o.optionType,
      spot: o.spot,
      strike: round(o.strike, 2),
      time_to_expiry: round(o.timeToExpiry, 4),
      risk_free_rate: round(o.riskFreeRate, 4),
      dividend_yield: round(o.dividendYield, 4),
      volatility: round(o.volatility, 4),
    };
    const quoteVolatility = option.volatility * (0.7 + 0.6 * next());
    const price = blackScholes({ ...o, strike: option.strike, timeToExpiry: option.time_to_expiry, riskFreeRate: option.risk_free_rate, dividendYield: option.dividend_yield, volatility: quoteVolatility }).price;
    return { ...option, market_price: Math.max(0.01, round(price, 2)) };
  });
}
