import type { ReturnMoments } from './returnMoments.js';

/** A covariance estimate (p*p row-major, per period of the returns) and its shrinkage intensity. */
export interface CovarianceEstimate {
  readonly covariance: Float64Array;
  /** Ledoit-Wolf intensity in [0, 1]; 0 for the sample estimator. */
  readonly shrinkage: number;
}

/**
 * The unbiased sample covariance G / (n - 1), numpy's `np.cov` default (ddof=1).
 * Singular when there are fewer returns than assets + 1.
 */
export function sampleCovariance(moments: ReturnMoments): CovarianceEstimate {
  const { crossProducts: g, observations: n } = moments;
  const covariance = new Float64Array(g.length);
  const scale = 1 / (n - 1);
  for (let i = 0; i < g.length; i++) covariance[i] = g[i] * scale;
  return { covariance, shrinkage: 0 };
}

/**
 * Ledoit & Wolf (2004) shrinkage toward mu*I, computed exactly as scikit-learn's
 * `LedoitWolf().fit(X)` (`sklearn.covariance.ledoit_wolf_shrinkage`): on demeaned returns,
 * from the biased empirical covariance S = G / n, with mu = trace(S) / p,
 * delta = ||S - mu I||_F^2 / p, beta = min(delta, (sum_t ||x_t||^4 / n - ||S||_F^2) / (p n)),
 * shrinkage = beta / delta and estimate (1 - shrinkage) S + shrinkage mu I.
 * Positive definite for any number of observations >= 2 when returns are not all constant.
 */
export function ledoitWolfCovariance(moments: ReturnMoments): CovarianceEstimate {
  const { crossProducts: g, observations: n, assets: p, demeaned } = moments;
  const empirical = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) empirical[i] = g[i] / n;
  // sklearn special-cases one feature: the biased variance, no shrinkage.
  if (p === 1) return { covariance: empirical, shrinkage: 0 };

  let trace = 0;
  for (let i = 0; i < p; i++) trace += empirical[i * p + i];
  const mu = trace / p;

  // beta_ = sum((X^2)' X^2) = sum_t (sum_i x_ti^2)^2: accumulated per observation so the
  // O(n p) pass replaces sklearn's O(n p^2) product of squares.
  const rowSquares = new Float64Array(n);
  for (let k = 0; k < p; k++) {
    const base = k * n;
    for (let t = 0; t < n; t++) {
      const x = demeaned[base + t];
      rowSquares[t] += x * x;
    }
  }
  let betaSum = 0;
  for (let t = 0; t < n; t++) betaSum += rowSquares[t] * rowSquares[t];

  // delta_ = sum((X'X)^2) / n^2 = ||S||_F^2.
  let frobenius = 0;
  for (let i = 0; i < empirical.length; i++) frobenius += empirical[i] * empirical[i];

  const betaRaw = (1 / (p * n)) * (betaSum / n - frobenius);
  // Same expression and order as sklearn: delta_ - 2 mu trace + p mu^2, over p.
  const delta = (frobenius - 2 * mu * trace + p * mu * mu) / p;
  const beta = Math.min(betaRaw, delta);
  const shrinkage = beta === 0 ? 0 : beta / delta;

  const covariance = empirical;
  const keep = 1 - shrinkage;
  for (let i = 0; i < covariance.length; i++) covariance[i] *= keep;
  for (let i = 0; i < p; i++) covariance[i * p + i] += shrinkage * mu;
  return { covariance, shrinkage };
}
