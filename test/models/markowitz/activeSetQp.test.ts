import { describe, expect, it } from 'vitest';
import { solveBoundedQp, type BoundedQp, type BoundedQpSolution } from '../../../shared/models/markowitz/activeSetQp.js';
import { longOnlyEfficientSet, longOnlyMinimumVariance } from '../../../shared/models/markowitz/longOnly.js';
import { quadraticForm } from '../../../shared/numerics/linalg/matrixVector.js';
import { cholesky } from '../../../shared/numerics/linalg/cholesky.js';
import { seededNormal, seededUniform } from '../../support/seededRandom.js';

function lowerFactor(s: Float64Array, p: number): Float64Array {
  const f = cholesky(s, p);
  if (!f.ok) throw new Error('test covariance must be positive definite');
  return f.lower;
}

/** A factor-model covariance B B' + D (annualized scale, PD) and expected returns. */
function problem(p: number, seed: number) {
  const u = seededUniform(seed);
  const z = seededNormal(u);
  const factors = 3;
  // A strong common (market) factor and uneven specific risk: the unconstrained GMV then
  // shorts the high-beta, high-specific-risk assets, so bounds bind.
  const b = Array.from({ length: p * factors }, (_, k) => (k % factors === 0 ? 0.2 + 0.1 * z() : 0.1 * z()));
  const s = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let v = 0;
      for (let f = 0; f < factors; f++) v += b[i * factors + f] * b[j * factors + f];
      s[i * p + j] = v + (i === j ? 0.002 + 0.05 * u() ** 2 : 0);
    }
  }
  const mu = Float64Array.from({ length: p }, () => 0.02 + 0.15 * u());
  return { s, mu, p, u };
}

// KKT of min 1/2 w'Sw s.t. A w = b, w >= 0 with S w = A' nu + lambda. Entries of S are
// O(0.1) and weights O(1), so 1e-9 absolute is ~1e6 ulps of the terms: round-off passes,
// any real violation (a wrong active set moves these by >= 1e-4) fails.
const KKT_TOL = 1e-9;

function expectKkt(qp: BoundedQp, solution: BoundedQpSolution) {
  const { covariance: s, assets: p, equalities, rhs } = qp;
  const { weights: w, equalityMultipliers: nu, boundMultipliers: lambda } = solution;
  for (let i = 0; i < p; i++) {
    let g = 0;
    for (let j = 0; j < p; j++) g += s[i * p + j] * w[j];
    equalities.forEach((row, c) => (g -= nu[c] * row[i]));
    expect(Math.abs(g - lambda[i]), `stationarity at ${i}`).toBeLessThan(KKT_TOL);
    expect(w[i], `primal feasibility w[${i}] >= 0`).toBeGreaterThanOrEqual(0);
    expect(lambda[i], `dual feasibility lambda[${i}]`).toBeGreaterThanOrEqual(-KKT_TOL);
    expect(Math.abs(lambda[i] * w[i]), `complementary slackness at ${i}`).toBeLessThan(KKT_TOL);
  }
  equalities.forEach((row, c) => {
    let v = 0;
    for (let i = 0; i < p; i++) v += row[i] * w[i];
    expect(Math.abs(v - rhs[c]), `equality ${c}`).toBeLessThan(KKT_TOL);
  });
}

describe('active-set QP: KKT conditions', () => {
  it.each([5, 30, 120])('long-only GMV of %i assets satisfies KKT to 1e-9 with some bounds active', (p) => {
    const { s, mu } = problem(p, 1000 + p);
    const solution = longOnlyMinimumVariance(s, mu);
    expectKkt({ covariance: s, assets: p, equalities: [new Float64Array(p).fill(1)], rhs: [1] }, solution);
    if (p >= 30) expect(solution.weights.filter((w) => w === 0).length).toBeGreaterThan(0);
  });

  it('cold start (one asset, freeing one per iteration) and a support hint reach the same optimum', () => {
    const p = 80;
    const { s, mu } = problem(p, 2024);
    const cold = longOnlyMinimumVariance(s, mu);
    // A deliberately poor hint (every asset) forces many drops through the Cholesky downdate.
    const hinted = longOnlyMinimumVariance(s, mu, Array.from({ length: p }, (_, i) => i));
    const ones = { covariance: s, assets: p, equalities: [new Float64Array(p).fill(1)], rhs: [1] };
    expectKkt(ones, cold);
    expectKkt(ones, hinted);
    expect(hinted.weights.filter((w) => w === 0).length).toBeGreaterThan(10);
    for (let i = 0; i < p; i++) expect(Math.abs(cold.weights[i] - hinted.weights[i])).toBeLessThan(1e-10);
  });

  it('a frontier point (sum w = 1, mu\'w = r) from a warm start satisfies KKT', () => {
    const p = 60;
    const { s, mu } = problem(p, 7);
    const gmv = longOnlyMinimumVariance(s, mu).weights;
    let top = 0;
    for (let i = 1; i < p; i++) if (mu[i] > mu[top]) top = i;
    let r0 = 0;
    for (let i = 0; i < p; i++) r0 += mu[i] * gmv[i];
    for (const fraction of [0.1, 0.5, 0.9]) {
      const r = r0 + fraction * (mu[top] - r0);
      const start = gmv.map((x) => (1 - fraction) * x);
      start[top] += fraction;
      const qp = { covariance: s, assets: p, equalities: [new Float64Array(p).fill(1), mu], rhs: [1, r] };
      expectKkt(qp, solveBoundedQp(qp, start));
    }
  });

  it('the max-Sharpe transformation (mu - rf)\'y = 1, y >= 0 satisfies KKT', () => {
    const p = 40;
    const { s, mu } = problem(p, 99);
    const excess = mu.map((m) => m - 0.05);
    let best = 0;
    for (let i = 1; i < p; i++) if (excess[i] > excess[best]) best = i;
    const start = new Float64Array(p);
    start[best] = 1 / excess[best];
    const qp = { covariance: s, assets: p, equalities: [excess], rhs: [1] };
    expectKkt(qp, solveBoundedQp(qp, start));
  });
});

describe('long-only efficient set: invariants', () => {
  it('no random feasible long-only portfolio has lower variance than the GMV', () => {
    const p = 12;
    const { s, mu, u } = problem(p, 4242);
    const set = longOnlyEfficientSet(s, lowerFactor(s, p), mu, 0.01, 10);
    const gmvVariance = set.gmv.volatility ** 2;
    for (let trial = 0; trial < 20000; trial++) {
      // Exponential weights are uniform on the simplex; zeroing some also samples its faces,
      // where a long-only optimum usually lies.
      const w = Float64Array.from({ length: p }, () => (u() < 0.3 ? 0 : -Math.log(1 - u())));
      const total = w.reduce((a, b) => a + b, 0);
      if (total === 0) continue;
      for (let i = 0; i < p; i++) w[i] /= total;
      expect(quadraticForm(s, p, w)).toBeGreaterThanOrEqual(gmvVariance * (1 - 1e-12));
    }
  });

  it('no random long-only portfolio beats the long-only max-Sharpe ratio', () => {
    const p = 10;
    const { s, mu, u } = problem(p, 31337);
    const rf = 0.03;
    const set = longOnlyEfficientSet(s, lowerFactor(s, p), mu, rf, 5);
    const best = set.maxSharpe!.sharpe;
    for (let trial = 0; trial < 20000; trial++) {
      const w = Float64Array.from({ length: p }, () => (u() < 0.3 ? 0 : -Math.log(1 - u())));
      const total = w.reduce((a, b) => a + b, 0);
      if (total === 0) continue;
      let er = 0;
      for (let i = 0; i < p; i++) {
        w[i] /= total;
        er += mu[i] * w[i];
      }
      expect((er - rf) / Math.sqrt(quadraticForm(s, p, w))).toBeLessThanOrEqual(best * (1 + 1e-12));
    }
  });

  it('frontier weights sum to 1, are non-negative, hit their targets and rise in volatility', () => {
    const p = 50;
    const { s, mu } = problem(p, 5);
    const set = longOnlyEfficientSet(s, lowerFactor(s, p), mu, 0, 15);
    expect(set.frontier).toHaveLength(15);
    expect(set.frontier[14].expectedReturn).toBe(Math.max(...mu));
    for (let k = 1; k < set.frontier.length; k++) {
      expect(set.frontier[k].volatility).toBeGreaterThan(set.frontier[k - 1].volatility);
    }
    expect(set.gmv.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 13);
    expect(Math.min(...set.gmv.weights)).toBeGreaterThanOrEqual(0);
  });
});
