import { JobError } from '../../job/errors.js';
import type { AlignedPrices } from '../../prices/history.js';
import { annualizedLogReturnStats } from '../../numerics/historicalVolatility.js';

/** GBM parameters of several symbols estimated from their aligned daily history. */
export interface Calibration {
  readonly symbols: readonly string[];
  /** Last price of the window (the first simulated price). */
  readonly initialPrices: number[];
  readonly drift: number[];
  readonly volatility: number[];
  /** Sample correlation of daily log returns, symbols x symbols. */
  readonly correlation: number[][];
  /** Daily log returns used per symbol (aligned dates - 1). */
  readonly observations: number;
  readonly window: { readonly start: string; readonly end: string };
}

/**
 * Calibrates drift, volatility (annualized with `periodsPerYear`: the job's
 * `periods_per_year`, 252 trading days by default) and the correlation of log returns on the
 * dates all symbols share.
 * @throws JobError insufficient_data when too few common dates or a non-positive price
 */
export function calibrateFromHistory(aligned: AlignedPrices, periodsPerYear = 252): Calibration {
  const { symbols, dates, prices } = aligned;
  const k = symbols.length;
  const returnsNeeded = Math.max(2, k + 1);
  if (dates.length - 1 < returnsNeeded) {
    throw new JobError(
      'insufficient_data',
      `${symbols.join(', ')} share ${dates.length} dates in the window; calibrating ${k} symbol(s) needs at least ${returnsNeeded + 1} common dates: widen start..end.`,
    );
  }
  const logReturns = prices.map((series, a) => {
    for (let t = 0; t < series.length; t++) {
      if (!(series[t] > 0)) {
        throw new JobError('insufficient_data', `${symbols[a]} has a non-positive price (${series[t]}) on ${dates[t]}; log returns need positive prices.`);
      }
    }
    const r = new Float64Array(series.length - 1);
    for (let t = 1; t < series.length; t++) r[t - 1] = Math.log(series[t] / series[t - 1]);
    return r;
  });
  const stats = prices.map((series) => annualizedLogReturnStats(series, periodsPerYear));
  return {
    symbols,
    initialPrices: prices.map((series) => series[series.length - 1]),
    drift: stats.map((s) => s.drift),
    volatility: stats.map((s) => s.volatility),
    correlation: sampleCorrelation(logReturns),
    observations: dates.length - 1,
    window: { start: dates[0], end: dates[dates.length - 1] },
  };
}

/**
 * Pearson correlation matrix of equally long series (two-pass, centred). A constant series
 * (zero variance, e.g. a cash-like symbol) has no defined correlation; it gets 0 against the
 * others, harmless because its volatility of 0 multiplies its shocks away.
 */
export function sampleCorrelation(series: readonly Float64Array[]): number[][] {
  const k = series.length;
  const centred = series.map((s) => {
    let mean = 0;
    for (let t = 0; t < s.length; t++) mean += s[t];
    mean /= s.length;
    return Float64Array.from(s, (v) => v - mean);
  });
  const norms = centred.map((c) => Math.sqrt(c.reduce((acc, v) => acc + v * v, 0)));
  return Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) => {
      if (i === j) return 1;
      if (norms[i] === 0 || norms[j] === 0) return 0;
      let dot = 0;
      for (let t = 0; t < centred[i].length; t++) dot += centred[i][t] * centred[j][t];
      return dot / (norms[i] * norms[j]);
    }),
  );
}
