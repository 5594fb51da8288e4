import { radixQuantiles } from '../quantile.js';

/** Percentile keys of a terminal-price summary and their probabilities. */
export const TERMINAL_PERCENTILES = { p1: 0.01, p5: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95, p99: 0.99 } as const;

/** Percentile keys of a band point and their probabilities. */
export const BAND_PERCENTILES = { p5: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95 } as const;

export type TerminalPercentiles = { [K in keyof typeof TERMINAL_PERCENTILES]: number };
export type BandPercentiles = { [K in keyof typeof BAND_PERCENTILES]: number };

export interface TerminalSummary {
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly percentiles: TerminalPercentiles;
}

export interface PortfolioRisk {
  /** E[V_T] - 1 */
  readonly expected_return: number;
  /** std(V_T - 1) */
  readonly volatility_of_return: number;
  /** VaR_c = -quantile_{1-c}(V_T - 1), keyed by String(c). */
  readonly var: Record<string, number>;
  /** CVaR_c = -mean(R : R <= quantile_{1-c}(R)), R = V_T - 1, keyed by String(c). */
  readonly cvar: Record<string, number>;
}

/**
 * Mean by Neumaier's compensated sum: a million terms summed naively lose ~1e-10
 * relative, which would show in the 4-standard-error tests of long horizons.
 */
export function compensatedMean(values: ArrayLike<number>): number {
  let sum = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return (sum + c) / values.length;
}

/** Population standard deviation (ddof = 0, numpy's np.std default), two-pass around `mean`. */
export function populationStd(values: ArrayLike<number>, mean: number): number {
  let squares = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - mean;
    const y = d * d - c;
    const t = squares + y;
    c = t - squares - y;
    squares = t;
  }
  return Math.sqrt(squares / values.length);
}

/**
 * Summary of simulated terminal values: mean, population std, extremes and numpy-linear
 * percentiles (by selection on `scratch`, a reusable copy).
 */
export function summarizeTerminal(values: Float64Array): TerminalSummary {
  const mean = compensatedMean(values);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const keys = Object.keys(TERMINAL_PERCENTILES) as (keyof typeof TERMINAL_PERCENTILES)[];
  const q = radixQuantiles(values, keys.map((k) => TERMINAL_PERCENTILES[k]));
  const percentiles = Object.fromEntries(keys.map((k, i) => [k, q[i]])) as TerminalPercentiles;
  return { mean, std: populationStd(values, mean), min, max, percentiles };
}

/** Fraction of values strictly below `threshold` (P[S_T < S_0] for a terminal array). */
export function fractionBelow(values: Float64Array, threshold: number): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] < threshold) count++;
  return count / values.length;
}

/**
 * Portfolio return statistics from terminal values V_T (V_0 = 1). VaR at confidence c is
 * minus the numpy-linear (1 - c)-quantile of R = V_T - 1; CVaR is minus the mean of the
 * returns at or below that quantile (the empirical expected shortfall; with ties or
 * interpolation it averages the floor((1-c)n)-ish worst returns). Both are fractions of the
 * initial value lost; a negative value means even that tail gains.
 */
export function portfolioRisk(terminalValues: Float64Array, confidenceLevels: readonly number[]): PortfolioRisk {
  const n = terminalValues.length;
  const returns = new Float64Array(n);
  for (let i = 0; i < n; i++) returns[i] = terminalValues[i] - 1;
  const mean = compensatedMean(returns);
  const std = populationStd(returns, mean);
  const tails = radixQuantiles(
    returns,
    confidenceLevels.map((c) => 1 - c),
  );
  const varByLevel: Record<string, number> = {};
  const cvarByLevel: Record<string, number> = {};
  confidenceLevels.forEach((c, i) => {
    const q = tails[i];
    let sum = 0;
    let count = 0;
    for (let p = 0; p < n; p++) {
      if (returns[p] <= q) {
        sum += returns[p];
        count++;
      }
    }
    varByLevel[String(c)] = -q;
    cvarByLevel[String(c)] = -(sum / count);
  });
  return { expected_return: mean, volatility_of_return: std, var: varByLevel, cvar: cvarByLevel };
}

/**
 * The band percentiles of the interior band point j (values bandValues[(j-1) n .. j n)),
 * written to out[(j - 1) * 5 ..] in BAND_PERCENTILES order. The same data give the same
 * numbers whichever thread computes them.
 */
export function interiorBandQuantiles(bandValues: Float32Array, simulations: number, j: number, out: Float64Array): void {
  const values = bandValues.subarray((j - 1) * simulations, j * simulations);
  const q = radixQuantiles(values, BAND_PROBABILITIES);
  for (let i = 0; i < q.length; i++) out[(j - 1) * BAND_PROBABILITIES.length + i] = q[i];
}

const BAND_PROBABILITIES = Object.values(BAND_PERCENTILES);

/** The BandPercentiles of interior point j from interiorBandQuantiles' output. */
export function bandPercentilesAt(quantiles: Float64Array, j: number): BandPercentiles {
  const keys = Object.keys(BAND_PERCENTILES) as (keyof typeof BAND_PERCENTILES)[];
  return Object.fromEntries(keys.map((k, i) => [k, quantiles[(j - 1) * keys.length + i]])) as BandPercentiles;
}

/** The band percentiles of one time point's values. */
export function bandPercentiles(values: Float32Array | Float64Array): BandPercentiles {
  const keys = Object.keys(BAND_PERCENTILES) as (keyof typeof BAND_PERCENTILES)[];
  const q = radixQuantiles(values, keys.map((k) => BAND_PERCENTILES[k]));
  return Object.fromEntries(keys.map((k, i) => [k, q[i]])) as BandPercentiles;
}
