import type { Moments } from './blockMoments.js';
import { ExactSum } from '../../numerics/exactSum.js';
import { lerpQuantile, orderStatistics, quantilePosition } from '../../numerics/quantile.js';

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
 * Where a summary takes its order statistics from: the stored values (radix selection,
 * storeSource) or the blocks' brackets (terminalBrackets.ts). Undefined when they cannot be
 * had (brackets that missed); the summary is then undefined too.
 */
export type OrderStatisticsOf = (ranks: number[]) => Float64Array | undefined;

/**
 * Summary of simulated terminal values: mean, population std and extremes from the blocks'
 * moments (blockMoments.ts), and numpy-linear percentiles from `orderStatisticsOf` over n.
 */
export function summarizeTerminal(orderStatisticsOf: OrderStatisticsOf, n: number, moments: Moments): TerminalSummary | undefined {
  const keys = Object.keys(TERMINAL_PERCENTILES) as (keyof typeof TERMINAL_PERCENTILES)[];
  const positions = keys.map((k) => quantilePosition(n, TERMINAL_PERCENTILES[k]));
  const stats = orderStatisticsOf(positions.flatMap((p) => [p.below, p.above]));
  if (!stats) return undefined;
  const percentiles = Object.fromEntries(keys.map((k, i) => [k, lerpQuantile(stats[2 * i], stats[2 * i + 1], positions[i].g)])) as TerminalPercentiles;
  return { mean: moments.mean, std: moments.std, min: moments.min, max: moments.max, percentiles };
}

/** Order statistics of stored values by radix selection. */
export function storeSource(values: Float64Array): OrderStatisticsOf {
  return (ranks) => orderStatistics(values, ranks);
}

/**
 * Sum and count of the returns R = V - 1 at or below each quantile q_l, given the rank of
 * the order statistic just below each (see portfolioSummary); undefined when unavailable.
 */
export type ReturnsUpTo = (quantiles: number[], ranks: number[]) => { sum: number; count: number }[] | undefined;

/**
 * ReturnsUpTo over stored portfolio values: one pass for every level at once; only returns
 * below the highest quantile (a few percent) reach the inner loop. The sums are exact
 * (ExactSum), rounded once: the same number in any order, so shards that find the tail's
 * values in several passes (selectionPasses.ts) give one instance's digits.
 */
export function storeReturnsUpTo(terminalValues: Float64Array): ReturnsUpTo {
  return (quantiles) => {
    const highest = Math.max(...quantiles);
    const sums = quantiles.map(() => new ExactSum());
    const counts = new Float64Array(quantiles.length);
    for (let i = 0; i < terminalValues.length; i++) {
      const r = terminalValues[i] - 1;
      if (r > highest) continue;
      for (let l = 0; l < quantiles.length; l++) {
        if (r <= quantiles[l]) {
          sums[l].add(r);
          counts[l]++;
        }
      }
    }
    return quantiles.map((_, l) => ({ sum: sums[l].value(), count: counts[l] }));
  };
}

/** The portfolio's statistics at the horizon: its risk figures and its fan-chart percentiles. */
export interface PortfolioSummary {
  readonly risk: PortfolioRisk;
  readonly band: BandPercentiles;
}

/**
 * Portfolio statistics from terminal values V_T (V_0 = 1). VaR at confidence c is minus
 * the numpy-linear (1 - c)-quantile of R = V_T - 1; CVaR is minus the mean of the returns
 * at or below that quantile (the empirical expected shortfall; with ties or interpolation
 * it averages the floor((1-c)n)-ish worst returns). Both are fractions of the initial value
 * lost; a negative value means even that tail gains. The band is V_T's percentiles; the
 * mean and spread of R come from the blocks' moments (`returns`).
 * R is never stored: R_i = V_i - 1 rounded is non-decreasing in V_i, so R's order
 * statistics are V's minus 1, and one radix selection on V gives both the VaR and the band
 * order statistics, exactly as numpy would get them from an array of R.
 */
export function portfolioSummary(
  orderStatisticsOf: OrderStatisticsOf,
  returnsUpTo: ReturnsUpTo,
  n: number,
  confidenceLevels: readonly number[],
  returns: Moments,
): PortfolioSummary | undefined {
  const tails = confidenceLevels.map((level) => quantilePosition(n, 1 - level));
  const bands = BAND_PROBABILITIES.map((q) => quantilePosition(n, q));
  const stats = orderStatisticsOf([...tails, ...bands].flatMap((p) => [p.below, p.above]));
  if (!stats) return undefined;
  const tailQuantiles = tails.map((p, i) => lerpQuantile(stats[2 * i] - 1, stats[2 * i + 1] - 1, p.g));
  const bandQuantiles = bands.map((p, i) => lerpQuantile(stats[2 * (tails.length + i)], stats[2 * (tails.length + i) + 1], p.g));
  const shortfall = returnsUpTo(tailQuantiles, tails.map((p) => p.below));
  if (!shortfall) return undefined;
  const tailSums = shortfall.map((t) => t.sum);
  const tailCounts = shortfall.map((t) => t.count);
  const varByLevel: Record<string, number> = {};
  const cvarByLevel: Record<string, number> = {};
  confidenceLevels.forEach((level, l) => {
    varByLevel[String(level)] = -tailQuantiles[l];
    cvarByLevel[String(level)] = -(tailSums[l] / tailCounts[l]);
  });
  return {
    risk: { expected_return: returns.mean, volatility_of_return: returns.std, var: varByLevel, cvar: cvarByLevel },
    band: bandPercentilesFrom(bandQuantiles),
  };
}

/**
 * The band percentiles of the interior band point j (values bandValues[(j-1) n .. j n)),
 * written to out[at ..] in BAND_PERCENTILES order. When the store holds log-values
 * ln(V / w) (`logWeight` = w, see bandsHoldLogs), the order statistics found among them
 * are mapped to V = w e^x before numpy's interpolation. `bracketed` may supply the order
 * statistics without a pass over the store (bandBrackets.ts); when it cannot, they are
 * selected from the store, or, when there is no store, written as NaN.
 */
export function interiorBandQuantiles(
  bandValues: Float32Array,
  simulations: number,
  j: number,
  out: Float64Array,
  at: number,
  logWeight?: number,
  bracketed?: (ranks: number[]) => Float64Array | undefined,
): void {
  const positions = BAND_PROBABILITIES.map((q) => quantilePosition(simulations, q));
  const ranks = positions.flatMap((p) => [p.below, p.above]);
  const stats = bracketed?.(ranks) ?? (bandValues.length > 0 ? storeOrderStatistics(bandValues, simulations, j, ranks) : undefined);
  if (!stats) {
    // Brackets that missed and no store to fall back on: the caller simulates again with one.
    out.fill(NaN, at, at + BAND_PROBABILITIES.length);
    return;
  }
  const value = logWeight === undefined ? (x: number) => x : (x: number) => logWeight * Math.exp(x);
  positions.forEach((p, i) => {
    out[at + i] = lerpQuantile(value(stats[2 * i]), value(stats[2 * i + 1]), p.g);
  });
}

/** Order statistics of band point j by radix selection over the whole store. */
function storeOrderStatistics(bandValues: Float32Array, simulations: number, j: number, ranks: number[]): Float64Array {
  // Widened into this thread's scratch array: orderStatistics works on float64 only.
  if (bandScratch.length < simulations) bandScratch = new Float64Array(simulations);
  const values = bandScratch.subarray(0, simulations);
  values.set(bandValues.subarray((j - 1) * simulations, j * simulations));
  return orderStatistics(values, ranks);
}

const BAND_PROBABILITIES = Object.values(BAND_PERCENTILES);
let bandScratch = new Float64Array(0);

function bandPercentilesFrom(quantiles: ArrayLike<number>): BandPercentiles {
  const keys = Object.keys(BAND_PERCENTILES) as (keyof typeof BAND_PERCENTILES)[];
  return Object.fromEntries(keys.map((k, i) => [k, quantiles[i]])) as BandPercentiles;
}
