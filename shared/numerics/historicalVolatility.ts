/** Annualized statistics of daily log returns, as the job contract calibrates them. */
export interface LogReturnStats {
  /** stdev(r, sample) * sqrt(periodsPerYear). */
  readonly volatility: number;
  /** mean(r) * periodsPerYear + volatility^2 / 2, so that E[S_T] = S_0 exp(drift T). */
  readonly drift: number;
  /** mean(r), per period (not annualized). */
  readonly meanLogReturn: number;
  /** Number of log returns used (prices.length - 1). */
  readonly observations: number;
}

/**
 * Calibrates volatility and drift from a price series (oldest first) per the job contract:
 * r_t = ln(P_t / P_{t-1}), volatility = stdev(r, sample) * sqrt(periodsPerYear),
 * drift = mean(r) * periodsPerYear + volatility^2 / 2.
 * @param prices positive prices, oldest first; at least 2 (3 for a defined sample stdev)
 * @param periodsPerYear annualization factor (252 trading days)
 * @returns the statistics; volatility is NaN with a single return (sample stdev undefined)
 */
export function annualizedLogReturnStats(prices: ArrayLike<number>, periodsPerYear = 252): LogReturnStats {
  const n = prices.length - 1;
  if (n < 1) throw new RangeError(`annualizedLogReturnStats needs at least 2 prices, got ${prices.length}.`);
  // Two passes (mean, then centred sum of squares): the one-pass sum-of-squares formula
  // loses most digits when daily returns are tiny compared with their mean.
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += Math.log(prices[i] / prices[i - 1]);
  const mean = sum / n;
  let squares = 0;
  for (let i = 1; i <= n; i++) {
    const d = Math.log(prices[i] / prices[i - 1]) - mean;
    squares += d * d;
  }
  const volatility = n > 1 ? Math.sqrt((squares / (n - 1)) * periodsPerYear) : Number.NaN;
  return {
    volatility,
    drift: mean * periodsPerYear + (volatility * volatility) / 2,
    meanLogReturn: mean,
    observations: n,
  };
}
