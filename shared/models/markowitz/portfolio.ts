import { dot, quadraticForm } from '../../numerics/linalg/matrixVector.js';

/** A point of the mean-volatility plane (annualized, as fractions). */
export interface RiskReturn {
  readonly expectedReturn: number;
  readonly volatility: number;
}

/** A fully invested portfolio: weights in asset order summing to 1, and its statistics. */
export interface Portfolio extends RiskReturn {
  readonly weights: Float64Array;
  /** (expectedReturn - riskFreeRate) / volatility. */
  readonly sharpe: number;
}

/** The efficient set of one covariance and one vector of expected returns. */
export interface EfficientSet {
  readonly gmv: Portfolio;
  /** Null when no portfolio on the efficient branch beats the risk-free rate. */
  readonly maxSharpe: Portfolio | null;
  /** Why `maxSharpe` is null: one sentence for the result document. */
  readonly maxSharpeProblem: string | null;
  /** From the GMV portfolio upward, in increasing expected return. */
  readonly frontier: readonly RiskReturn[];
}

/** The statistics of weights `w` under covariance `s` (p*p) and expected returns `mu`. */
export function portfolio(s: Float64Array, mu: Float64Array, w: Float64Array, riskFreeRate: number): Portfolio {
  const expectedReturn = dot(mu, w);
  // max(0, .) guards against a round-off negative for a (near) riskless combination.
  const volatility = Math.sqrt(Math.max(0, quadraticForm(s, mu.length, w)));
  return { weights: w, expectedReturn, volatility, sharpe: (expectedReturn - riskFreeRate) / volatility };
}

/**
 * Expected-return targets of the frontier: `points` evenly spaced from `low` to `high`,
 * or the single point `low` when the range is empty (every portfolio earns the same).
 */
export function frontierTargets(low: number, high: number, points: number): number[] {
  if (!(high > low) || points < 2) return [low];
  return Array.from({ length: points }, (_, k) => (k === points - 1 ? high : low + ((high - low) * k) / (points - 1)));
}
