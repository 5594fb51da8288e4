import { choleskySolve } from '../../numerics/linalg/triangularSolve.js';
import { dot } from '../../numerics/linalg/matrixVector.js';
import { frontierTargets, portfolio, type EfficientSet, type RiskReturn } from './portfolio.js';

/**
 * The efficient set with short sales allowed, in closed form (Merton 1972): with
 * u = S^{-1} 1 and v = S^{-1} mu, A = 1'u, B = 1'v, C = mu'v, D = AC - B^2,
 * GMV = u / A, tangency = (v - rf u) / (B - rf A), and the frontier variance at return r is
 * 1/A + A (r - B/A)^2 / D. Two Cholesky solves; S is never inverted.
 * @param s covariance (p*p row-major), @param lower its Cholesky factor,
 * @param mu expected returns, @param riskFreeRate same period as mu,
 * @param points frontier points from the GMV return up to the largest asset expected return
 *   (or, when the GMV already earns more than every asset, as far again as the assets' spread).
 */
export function closedFormEfficientSet(
  s: Float64Array,
  lower: Float64Array,
  mu: Float64Array,
  riskFreeRate: number,
  points: number,
): EfficientSet {
  const p = mu.length;
  const u = choleskySolve(lower, p, new Float64Array(p).fill(1));
  const v = choleskySolve(lower, p, mu);
  let a = 0;
  let b = 0;
  for (let i = 0; i < p; i++) {
    a += u[i];
    b += v[i];
  }
  const c = dot(mu, v);
  const gmv = portfolio(s, mu, u.map((x) => x / a), riskFreeRate);

  // The tangency portfolio exists only when the GMV return exceeds rf; otherwise
  // normalising S^{-1}(mu - rf) gives the *minimum*-Sharpe portfolio of the lower branch.
  const excessSum = b - riskFreeRate * a;
  let maxSharpe = null;
  let maxSharpeProblem: string | null = null;
  if (excessSum > 0) {
    const y = new Float64Array(p);
    for (let i = 0; i < p; i++) y[i] = (v[i] - riskFreeRate * u[i]) / excessSum;
    maxSharpe = portfolio(s, mu, y, riskFreeRate);
  } else {
    maxSharpeProblem =
      `no portfolio has a maximum Sharpe ratio: the minimum-variance portfolio's expected return ` +
      `(${gmv.expectedReturn.toPrecision(4)}) does not exceed risk_free_rate (${riskFreeRate}), ` +
      `so every efficient portfolio's Sharpe ratio keeps rising with its volatility.`;
  }

  // D = AC - B^2 >= 0 (Cauchy-Schwarz in the S^{-1} inner product); relative to AC it is
  // zero up to round-off when mu is a multiple of 1 and the frontier is a single point.
  const d = a * c - b * b;
  let maxMu = -Infinity;
  let minMu = Infinity;
  for (const m of mu) {
    maxMu = Math.max(maxMu, m);
    minMu = Math.min(minMu, m);
  }
  const high = maxMu > gmv.expectedReturn ? maxMu : gmv.expectedReturn + (maxMu - minMu);
  const degenerate = !(d > 1e-12 * Math.abs(a * c));
  const targets = degenerate ? [gmv.expectedReturn] : frontierTargets(gmv.expectedReturn, high, points);
  const frontier: RiskReturn[] = targets.map((r) => ({
    expectedReturn: r,
    volatility: Math.sqrt(1 / a + (a * (r - b / a) ** 2) / (degenerate ? 1 : d)),
  }));
  return { gmv, maxSharpe, maxSharpeProblem, frontier };
}
