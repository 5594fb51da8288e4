import { choleskySolve } from '../../numerics/linalg/triangularSolve.js';
import { boundedQpSolver, type BoundedQpSolution } from './activeSetQp.js';
import { frontierTargets, portfolio, type EfficientSet, type Portfolio, type RiskReturn } from './portfolio.js';

/**
 * The efficient set without short sales (w >= 0, sum w = 1), by the active-set QP:
 * GMV: min w'Sw; frontier: the same with mu'w = r for r from the GMV's return to the largest
 * asset expected return (reached only by holding that asset); max Sharpe by the standard
 * homogenisation (Cornuejols & Tutuncu, Optimization Methods in Finance, 8.2):
 * min y'Sy s.t. (mu - rf)'y = 1, y >= 0, w = y / sum(y).
 * The unconstrained optima (from the Cholesky factor) seed the active sets: their positive
 * entries are usually most of the long-only support, so the QP starts near its answer
 * instead of freeing one asset per iteration.
 * @param s covariance (p*p row-major, positive definite), @param lower its Cholesky factor,
 * @param mu expected returns, @param riskFreeRate same period as mu, @param points frontier points.
 */
export function longOnlyEfficientSet(
  s: Float64Array,
  lower: Float64Array,
  mu: Float64Array,
  riskFreeRate: number,
  points: number,
): EfficientSet {
  const p = mu.length;
  const ones = new Float64Array(p).fill(1);

  const gmvSolution = longOnlyMinimumVariance(s, mu, positiveEntries(choleskySolve(lower, p, ones)));
  const gmv = portfolio(s, mu, gmvSolution.weights, riskFreeRate);

  let maxSharpe: Portfolio | null = null;
  let maxSharpeProblem: string | null = null;
  const excess = mu.map((m) => m - riskFreeRate);
  let best = -1;
  for (let i = 0; i < p; i++) {
    if (excess[i] > 0 && (best < 0 || excess[i] / Math.sqrt(s[i * p + i]) > excess[best] / Math.sqrt(s[best * p + best]))) best = i;
  }
  if (best < 0) {
    maxSharpeProblem =
      `no long-only portfolio has a maximum Sharpe ratio: no symbol's expected return exceeds ` +
      `risk_free_rate (${riskFreeRate}), so no mix of them beats the risk-free rate.`;
  } else {
    // The best single asset, scaled onto (mu - rf)'y = 1, is a feasible start.
    const start = new Float64Array(p);
    start[best] = 1 / excess[best];
    const hint = positiveEntries(choleskySolve(lower, p, excess));
    const y = boundedQpSolver({ covariance: s, assets: p, equalities: [excess] }).solve([1], start, hint).weights;
    let total = 0;
    for (const x of y) total += x;
    maxSharpe = portfolio(s, mu, y.map((x) => x / total), riskFreeRate);
  }

  let top = 0;
  for (let i = 1; i < p; i++) if (mu[i] > mu[top]) top = i;
  const targets = frontierTargets(gmv.expectedReturn, mu[top], points);
  const frontier: RiskReturn[] = [{ expectedReturn: gmv.expectedReturn, volatility: gmv.volatility }];
  const frontierSolver = boundedQpSolver({ covariance: s, assets: p, equalities: [ones, mu] });
  let previous = gmv.weights;
  let previousReturn = gmv.expectedReturn;
  for (let k = 1; k < targets.length; k++) {
    const r = targets[k];
    let weights: Float64Array;
    if (k === targets.length - 1) {
      // The top target is reachable only by the top asset alone (ties aside).
      weights = new Float64Array(p);
      weights[top] = 1;
    } else {
      // Warm start: moving from the previous point toward the top asset reaches return r
      // exactly, so the previous holdings plus one asset are the first free set.
      const t = (r - previousReturn) / (mu[top] - previousReturn);
      const start = previous.map((x) => (1 - t) * x);
      start[top] += t;
      weights = frontierSolver.solve([1, r], start).weights;
    }
    const point = portfolio(s, mu, weights, riskFreeRate);
    frontier.push({ expectedReturn: r, volatility: point.volatility });
    previous = weights;
    previousReturn = point.expectedReturn;
  }
  return { gmv, maxSharpe, maxSharpeProblem, frontier };
}

/**
 * Long-only minimum variance, min w'Sw s.t. sum w = 1, w >= 0, started from the
 * lowest-variance asset; exported with its multipliers for KKT checks.
 * @param alsoFree assets to free from the start (a guess at the support).
 */
export function longOnlyMinimumVariance(s: Float64Array, mu: Float64Array, alsoFree: readonly number[] = []): BoundedQpSolution {
  const p = mu.length;
  let lowest = 0;
  for (let i = 1; i < p; i++) if (s[i * p + i] < s[lowest * p + lowest]) lowest = i;
  const start = new Float64Array(p);
  start[lowest] = 1;
  return boundedQpSolver({ covariance: s, assets: p, equalities: [new Float64Array(p).fill(1)] }).solve([1], start, alsoFree);
}

function positiveEntries(x: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) if (x[i] > 0) out.push(i);
  return out;
}
