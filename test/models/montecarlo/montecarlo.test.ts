import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { markowitzParams } from '../../../shared/models/markowitz/job.js';
import { JobError } from '../../../shared/job/errors.js';
import type { ModelContext } from '../../../shared/job/model.js';
import type { Config } from '../../../shared/config.js';
import type { LogFields, Logger } from '../../../shared/log.js';
import type { PriceHistory } from '../../../shared/prices/history.js';
import { quantiles, radixQuantiles } from '../../../shared/numerics/quantile.js';
import { runMonteCarlo, type MonteCarloOutcome, type MonteCarloSpec } from '../../../shared/models/montecarlo/gbmModel.js';
import { runSimulation } from '../../../shared/models/montecarlo/parallelRunner.js';
import { bandStepsFor, type SimulationPlan } from '../../../shared/models/montecarlo/simulation.js';
import { correlationFactor } from '../../../shared/models/montecarlo/correlationFactor.js';
import { bandBracketsFor } from '../../../shared/models/montecarlo/bandBrackets.js';
import { terminalBracketsFor } from '../../../shared/models/montecarlo/terminalBrackets.js';
import { combineBlockMoments, MOMENT_FIELDS, recordBlockMoments } from '../../../shared/models/montecarlo/blockMoments.js';
import { BLOCK_SIZE } from '../../../shared/models/montecarlo/limits.js';
import { MAX_PATH_STEPS, MAX_SIMULATIONS } from '../../../shared/models/montecarlo/limits.js';
import { montecarloModel, type MonteCarloParams } from '../../../shared/models/montecarlo/job.js';
import { inverseNormalCdf, normalPdf } from '../../../shared/numerics/normal.js';

const readFixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../fixtures/montecarlo/${name}`, import.meta.url), 'utf8')) as T;

interface QuantileFixture { cases: { values: number[]; probabilities: number[]; quantiles: number[] }[] }
interface LognormalCase {
  initial_price: number; drift: number; volatility: number; horizon_years: number;
  mean: number; std: number; percentiles: Record<string, number>; probability_of_loss: number;
  var: Record<string, number>; cvar: Record<string, number>;
}

describe('quantiles by selection', () => {
  // numpy.quantile(method="linear") from quantile_reference.py: same order statistics and
  // the same lerp formula, so the values must match exactly, not just closely.
  it.each(readFixture<QuantileFixture>('quantile_reference.json').cases)('match numpy bit for bit on $values.length values', (c) => {
    const values = Float64Array.from(c.values);
    expect(quantiles(values, c.probabilities)).toEqual(c.quantiles);
    expect(Array.from(values)).toEqual(c.values); // the input is left untouched
  });

  it('radixQuantiles equals selection exactly, float32 and float64, on spread, clustered, signed and tied data', () => {
    let seed = 99;
    const uniform = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const datasets: Record<string, Float32Array> = {
      lognormal: Float32Array.from({ length: 200_001 }, () => Math.exp(0.3 * (uniform() - 0.5))),
      clustered: Float32Array.from({ length: 50_000 }, () => 1 + 1e-6 * uniform()),
      signed: Float32Array.from({ length: 30_001 }, () => 10 * (uniform() - 0.5)),
      ties: Float32Array.from({ length: 9_999 }, (_, i) => i % 7),
      tiny: Float32Array.of(3, 1, 2),
      single: Float32Array.of(42),
    };
    const probabilities = [0.05, 0.25, 0.5, 0.75, 0.95, 0, 1, 0.999];
    for (const [name, single] of Object.entries(datasets)) {
      for (const data of [single, Float64Array.from(single, (v, i) => v + (i % 3) * 1e-12 * v)]) {
        const before = data.slice();
        expect(radixQuantiles(data, probabilities), name).toEqual(quantiles(data, probabilities));
        expect(data, `${name} untouched`).toEqual(before);
      }
    }
  });

  it('accepts probabilities in any order', () => {
    const values = Float64Array.from({ length: 1001 }, (_, i) => (i * 7919) % 1001);
    expect(quantiles(values, [0.9, 0.1, 0.5])).toEqual([900, 100, 500]);
  });
});

const baseSpec = (c: LognormalCase, simulations: number, timeSteps: number, seed = 1): MonteCarloSpec => ({
  assets: [{ name: 'asset', initialPrice: c.initial_price, drift: c.drift, volatility: c.volatility }],
  correlation: [[1]],
  weights: [1],
  simulations,
  timeSteps,
  horizonYears: c.horizon_years,
  seed,
  confidenceLevels: [0.95, 0.99],
});

describe('single-asset GBM against the lognormal closed form (scipy, lognormal_reference.py)', () => {
  const n = 200_000;
  it.each(readFixture<{ cases: LognormalCase[] }>('lognormal_reference.json').cases)(
    'S0 $initial_price, mu $drift, sigma $volatility, T $horizon_years',
    async (c) => {
      const { result } = await runMonteCarlo(baseSpec(c, n, 16));
      const s = result.symbols.asset;
      // Mean: 4 standard errors of a sample mean (std / sqrt(n)).
      expect(Math.abs(s.expected_terminal_price - c.mean)).toBeLessThan((4 * c.std) / Math.sqrt(n));
      expect(s.terminal_price.mean).toBe(s.expected_terminal_price);
      // Std: 4 standard errors using the lognormal's kurtosis-free bound sd(s) ~ s sqrt((k-1)/4n), k <= 10 here.
      expect(Math.abs(s.terminal_price.std - c.std)).toBeLessThan(4 * c.std * Math.sqrt(9 / (4 * n)));
      // Quantiles: 4 asymptotic standard errors sqrt(p(1-p)/n) / density at the quantile.
      const sigmaT = c.volatility * Math.sqrt(c.horizon_years);
      const m = Math.log(c.initial_price) + (c.drift - c.volatility ** 2 / 2) * c.horizon_years;
      const density = (x: number) => normalPdf((Math.log(x) - m) / sigmaT) / (x * sigmaT);
      const quantileTolerance = (p: number, q: number) => (4 * Math.sqrt((p * (1 - p)) / n)) / density(q);
      for (const [key, p] of [['p5', 0.05], ['p50', 0.5], ['p95', 0.95], ['p1', 0.01], ['p99', 0.99]] as const) {
        const expected = c.percentiles[key];
        expect(Math.abs(s.terminal_price.percentiles[key] - expected), key).toBeLessThan(quantileTolerance(p, expected));
      }
      // P[S_T < S_0]: 4 binomial standard errors.
      const pl = c.probability_of_loss;
      expect(Math.abs(s.probability_of_loss - pl)).toBeLessThan(4 * Math.sqrt((pl * (1 - pl)) / n));
      // One asset with weight 1: the portfolio is S_T / S_0, VaR the lognormal quantile of the return.
      for (const level of ['0.95', '0.99']) {
        const p = 1 - Number(level);
        const q = c.initial_price * (1 - c.var[level]);
        expect(Math.abs(result.portfolio.var[level] - c.var[level]), `VaR ${level}`).toBeLessThan(quantileTolerance(p, q) / c.initial_price);
        // CVaR averages n(1-c) tail values: allow 4 standard errors of that mean plus the VaR error.
        const tailSd = c.std / c.initial_price;
        expect(Math.abs(result.portfolio.cvar[level] - c.cvar[level]), `CVaR ${level}`).toBeLessThan(
          4 * tailSd / Math.sqrt(n * p) + quantileTolerance(p, q) / c.initial_price,
        );
        expect(result.portfolio.cvar[level]).toBeGreaterThanOrEqual(result.portfolio.var[level]);
      }
      expect(result.portfolio.expected_return).toBeCloseTo(s.expected_terminal_price / c.initial_price - 1, 12);
    },
  );

  it('steps exactly in log space: one step and 252 steps give the same distribution of S_T', async () => {
    const c = readFixture<{ cases: LognormalCase[] }>('lognormal_reference.json').cases[1];
    const one = (await runMonteCarlo(baseSpec(c, n, 1))).result.symbols.asset;
    const many = (await runMonteCarlo(baseSpec(c, 50_000, 252))).result.symbols.asset;
    // An Euler scheme would bias the mean by O(dt); the exact transition has none at any step count.
    expect(Math.abs(one.expected_terminal_price - c.mean)).toBeLessThan((4 * c.std) / Math.sqrt(n));
    expect(Math.abs(many.expected_terminal_price - c.mean)).toBeLessThan((4 * c.std) / Math.sqrt(50_000));
  });
});

describe('terminal brackets', () => {
  it('merge brackets of coinciding or close quantiles and keep the bin regions in order', () => {
    const spec = terminalBracketsFor(1_000_000, 0.08, 0.2, 1, [0.05, 0.05, 0.5, 0.5001, 0.95, 0.01, 0.99])!;
    // 0.05 twice and 0.5 / 0.5001 (1e-4 apart, brackets +-1e-3 wide) each make one bracket.
    expect(spec.brackets).toBe(5);
    expect(spec.regions).toBe(11);
    for (let bin = 1; bin < spec.regionOfBin.length; bin++) expect(spec.regionOfBin[bin]).toBeGreaterThanOrEqual(spec.regionOfBin[bin - 1]);
    expect(spec.regionOfBin[0]).toBe(1); // the first bin starts at the lowest bracket edge
    expect(spec.regionOfBin.at(-1)).toBe(9);
    // The median bracket in x: mean (mu - sigma^2/2) T = 0.06 lies inside it.
    const medianBin = Math.floor((0.06 - spec.low) * spec.scale);
    expect(spec.regionOfBin[medianBin]).toBe(5);
  });

  it('are not used for small jobs or without volatility', () => {
    expect(terminalBracketsFor(99_999, 0.08, 0.2, 1, [0.5])).toBeUndefined();
    expect(terminalBracketsFor(1_000_000, 0.08, 0, 1, [0.5])).toBeUndefined();
  });
});

describe('block moments', () => {
  it('combine per-block sums into the two-pass mean and std, and exact extremes and counts', () => {
    // 10,001 values in 3 blocks (the last short), spread over orders of magnitude around 1e3.
    const n = 2 * BLOCK_SIZE + 1809;
    const values = Float64Array.from({ length: n }, (_, i) => 1000 + 300 * Math.sin(i * 1.3) ** 5 + 1e-3 * (i % 7));
    const shift = 1;
    const out = new Float64Array(3 * MOMENT_FIELDS);
    for (let b = 0; b < 3; b++) recordBlockMoments(values.subarray(b * BLOCK_SIZE, Math.min(n, (b + 1) * BLOCK_SIZE)), shift, 1000, out, b * MOMENT_FIELDS);
    const m = combineBlockMoments(out, n, MOMENT_FIELDS, 0);
    // Reference: a plain two-pass mean and std over all values.
    const x = Array.from(values, (v) => v - shift);
    const mean = x.reduce((s, v) => s + v, 0) / n;
    const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
    expect(Math.abs(m.mean - mean) / mean).toBeLessThan(1e-14);
    expect(Math.abs(m.std - std) / std).toBeLessThan(1e-12);
    expect(m.min).toBe(Math.min(...x));
    expect(m.max).toBe(Math.max(...x));
    expect(m.below).toBe(values.filter((v) => v < 1000).length);
  });
});

describe('bands and sample paths', () => {
  it('start at 1, include the horizon and are ordered p5 <= p25 <= p50 <= p75 <= p95', async () => {
    const c = readFixture<{ cases: LognormalCase[] }>('lognormal_reference.json').cases[0];
    const { result } = await runMonteCarlo(baseSpec(c, 20_000, 252));
    expect(result.bands[0]).toEqual({ step: 0, t: 0, p5: 1, p25: 1, p50: 1, p75: 1, p95: 1 });
    expect(result.bands.at(-1)!.step).toBe(252);
    expect(result.bands.at(-1)!.t).toBeCloseTo(1, 12);
    expect(result.bands.length).toBe(51);
    for (const b of result.bands) expect(b.p5 <= b.p25 && b.p25 <= b.p50 && b.p50 <= b.p75 && b.p75 <= b.p95).toBe(true);
    // The terminal band is the portfolio's V_T, i.e. S_T / S_0 percentiles of the asset.
    expect(result.bands.at(-1)!.p50).toBeCloseTo(result.symbols.asset.terminal_price.percentiles.p50 / 100, 12);
    expect(result.sample_paths).toHaveLength(5);
    for (const path of result.sample_paths) {
      expect(path).toHaveLength(51);
      expect(path[0]).toBe(1);
    }
  });

  it('follow the lognormal quantiles of S_t / S_0 at every time point (one asset, log store)', async () => {
    const c = readFixture<{ cases: LognormalCase[] }>('lognormal_reference.json').cases[0];
    const n = 100_000;
    const { result } = await runMonteCarlo(baseSpec(c, n, 252, 7));
    const probabilities = { p5: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95 } as const;
    for (const band of result.bands.slice(1)) {
      const sd = c.volatility * Math.sqrt(band.t);
      for (const [key, q] of Object.entries(probabilities) as [keyof typeof probabilities, number][]) {
        const z = inverseNormalCdf(q);
        const exact = (c.drift - 0.5 * c.volatility ** 2) * band.t + sd * z;
        // Standard error of a sample quantile, in log space: sqrt(q (1 - q) / n) / phi(z) sd.
        const se = (Math.sqrt((q * (1 - q)) / n) / normalPdf(z)) * sd;
        expect(Math.abs(Math.log(band[key]) - exact), `${key} at step ${band.step}`).toBeLessThan(4 * se + 1e-7);
      }
    }
  });

  it('keep at most the band budget of float32 values for a million paths', () => {
    const steps = bandStepsFor(252, 1_000_000);
    expect(steps[0]).toBe(0);
    expect(steps.at(-1)).toBe(252);
    expect(steps.length).toBeLessThan(51);
    expect(steps.length).toBeGreaterThan(20);
  });
});

describe('correlated assets', () => {
  it('simulate terminal log returns with the input correlation (3 symbols, 20,000 paths)', async () => {
    const rho = [
      [1, 0.6, -0.3],
      [0.6, 1, 0.2],
      [-0.3, 0.2, 1],
    ];
    const sims = 20_000;
    const plan: SimulationPlan = {
      seed: 11, simulations: sims, timeSteps: 5, horizonYears: 1, assets: 3,
      initialPrices: Float64Array.of(10, 20, 30), drift: Float64Array.of(0.05, 0.1, -0.02),
      volatility: Float64Array.of(0.2, 0.3, 0.5), cholesky: correlationFactor(rho, ['A', 'B', 'C']),
      weights: Float64Array.of(0.5, 0.3, 0.2), bandSteps: bandStepsFor(5, sims),
    };
    const { buffers } = await runSimulation(plan, [0.95]);
    const logs = [0, 1, 2].map((a) => Float64Array.from(buffers.terminalPrices.subarray(a * sims, (a + 1) * sims), (s) => Math.log(s / plan.initialPrices[a])));
    const corr = (x: Float64Array, y: Float64Array) => {
      const mx = x.reduce((s, v) => s + v, 0) / sims;
      const my = y.reduce((s, v) => s + v, 0) / sims;
      let sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < sims; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) ** 2;
        syy += (y[i] - my) ** 2;
      }
      return sxy / Math.sqrt(sxx * syy);
    };
    for (const [i, j] of [[0, 1], [0, 2], [1, 2]]) {
      // Sample correlation's standard error is about (1 - rho^2) / sqrt(n); 4 of them.
      expect(Math.abs(corr(logs[i], logs[j]) - rho[i][j]), `${i},${j}`).toBeLessThan((4 * (1 - rho[i][j] ** 2)) / Math.sqrt(sims));
    }
    // Each log return is N((mu - sigma^2/2) T, sigma^2 T): its sample sd within 4 standard errors.
    logs.forEach((l, a) => {
      const m = l.reduce((s, v) => s + v, 0) / sims;
      const sd = Math.sqrt(l.reduce((s, v) => s + (v - m) ** 2, 0) / sims);
      expect(Math.abs(sd - plan.volatility[a])).toBeLessThan(4 * plan.volatility[a] / Math.sqrt(2 * sims));
    });
    // The portfolio value is the weighted sum of growth factors, path by path.
    const p = 123;
    const v = [0, 1, 2].reduce((s, a) => s + plan.weights[a] * Math.exp(logs[a][p]), 0);
    expect(buffers.portfolioTerminal[p]).toBeCloseTo(v, 12);
  });

  it('keep the numbers of a fixed seed (pinned from the code before the correlated steps moved to the kernel)', async () => {
    // 20,001 paths (a short last block, an odd path count) x 37 steps, a short weight.
    const spec: MonteCarloSpec = {
      assets: ['AAA', 'BBB', 'CCC'].map((name, a) => ({ name, initialPrice: 50 + 10 * a, drift: 0.05 + 0.01 * a, volatility: 0.15 + 0.05 * a })),
      correlation: [[1, 0.6, 0.36], [0.6, 1, 0.6], [0.36, 0.6, 1]],
      weights: [0.6, -0.2, 0.6],
      simulations: 20_001, timeSteps: 37, horizonYears: 1, seed: 12348, confidenceLevels: [0.95, 0.99],
    };
    const { result } = await runMonteCarlo(spec, { threads: 1 });
    expect([1, 10, 37].map((j) => result.sample_paths[0][j])).toEqual([1.0317689607524976, 1.0727766550963074, 1.0246256925063173]);
    expect(result.sample_paths[4][37]).toBe(0.8958102823034668);
    expect(Object.values(result.symbols).map((s) => [s.expected_terminal_price, s.terminal_price.min, s.terminal_price.max])).toEqual([
      [52.49667979009297, 28.71602708476341, 103.77284907591505],
      [63.73241722589896, 27.75960494158868, 141.19754925018108],
      [75.04523788432837, 25.49306586819849, 209.35512570335368],
    ]);
  });

  it('rejects a degenerate correlation (correlation 1) naming both symbols', () => {
    expect(() => correlationFactor([[1, 1], [1, 1]], ['AAPL', 'AAPL2'])).toThrow(/AAPL and AAPL2/);
    expect(() => correlationFactor([[1, 0, 0.6], [0, 1, 0.8], [0.6, 0.8, 1]], ['A', 'B', 'C'])).toThrow(/C's log returns are a linear combination of A, B/);
  });

  it('repairs rounding noise (entries 1e-16 outside [-1, 1], asymmetry) by clipping and symmetrizing', () => {
    const l = correlationFactor([[1 + 1e-16, 0.5], [0.5 + 1e-17, 1]], ['A', 'B']);
    expect(l[0]).toBe(1);
    expect(l[2]).toBe(0.5);
    expect(l[3]).toBeCloseTo(Math.sqrt(0.75), 15);
  });
});

describe('reproducibility', () => {
  const c = readFixture<{ cases: LognormalCase[] }>('lognormal_reference.json').cases[0];
  // 40,000 x 504 = 2.0e7 path-steps: just at INLINE_PATH_STEPS, so threads > 1 really starts workers.
  const spec = baseSpec(c, 40_000, 504, 99);

  it('gives bit-identical results on 1 thread and on 2 worker threads', async () => {
    const inline = await runMonteCarlo(spec, { threads: 1 });
    const threaded = await runMonteCarlo(spec, { threads: 2 });
    expect(inline.threads).toBe(1);
    expect(threaded.threads).toBe(2);
    expect(threaded.result).toEqual(inline.result);
    expect(JSON.stringify(threaded.result)).toBe(JSON.stringify(inline.result));
  });

  // Everything but the expected shortfall bit for bit; that sum runs in another order.
  const expectSameStatistics = (actual: MonteCarloOutcome, expected: MonteCarloOutcome) => {
    const { cvar, ...risk } = actual.result.portfolio;
    const { cvar: expectedCvar, ...expectedRisk } = expected.result.portfolio;
    expect({ ...actual.result, portfolio: risk }).toEqual({ ...expected.result, portfolio: expectedRisk });
    for (const level of Object.keys(expectedCvar)) expect(Math.abs(cvar[level] / expectedCvar[level] - 1)).toBeLessThan(1e-13);
  };

  it('gives the same statistics from brackets as from stored values, on 1 and 2 threads', async () => {
    // 120,000 paths: above the bracket thresholds, so the default run uses brackets.
    const large = { ...baseSpec(c, 120_000, 200, 5), confidenceLevels: [0.9, 0.95, 0.99, 0.999] };
    const withStores = await runMonteCarlo(large, { threads: 1, brackets: false });
    expectSameStatistics(await runMonteCarlo(large, { threads: 1 }), withStores);
    const threaded = await runMonteCarlo(large, { threads: 2 });
    expect(threaded.threads).toBe(2);
    expectSameStatistics(threaded, withStores);
    expect(threaded.result).toEqual((await runMonteCarlo(large, { threads: 1 })).result);
  });

  it('simulates again with stores when the brackets miss, with the same results', async () => {
    const plan: SimulationPlan = {
      seed: 3, simulations: 120_000, timeSteps: 20, horizonYears: 1, assets: 1,
      initialPrices: Float64Array.of(100), drift: Float64Array.of(0.08), volatility: Float64Array.of(0.2),
      cholesky: Float64Array.of(1), weights: Float64Array.of(1), bandSteps: bandStepsFor(20, 120_000),
    };
    // Brackets placed for a volatility of 0.05 cannot hold the quantiles of a 0.2 one.
    const missed = { ...plan, bracketLaw: { drift: 0.08, volatility: 0.05 } };
    expect(bandBracketsFor(120_000, 0.08, 0.05, [0.5], [0.05, 0.25, 0.5, 0.75, 0.95])).toBeDefined();
    let progressCalls = 0;
    const outcome = await runSimulation(missed, [0.95], { threads: 1, onProgress: () => progressCalls++ });
    const reference = await runSimulation(plan, [0.95], { threads: 1, brackets: false });
    const bracketed = await runSimulation(plan, [0.95], { threads: 1 });
    expect(bracketed.buffers.bandBrackets).toBeDefined(); // well-placed brackets: no rerun
    expect(bracketed.buffers.terminalBrackets).toBeDefined();
    expect(bracketed.buffers.bandValues).toHaveLength(0);
    expect(bracketed.buffers.terminalPrices).toHaveLength(0);
    expect(bracketed.statistics.interiorBands).toEqual(reference.statistics.interiorBands);
    expect(bracketed.statistics.assets).toEqual(reference.statistics.assets);
    expect(bracketed.statistics.portfolio.band).toEqual(reference.statistics.portfolio.band);
    expect(bracketed.statistics.portfolio.risk.var).toEqual(reference.statistics.portfolio.risk.var);
    expect(outcome.buffers.bandBrackets).toBeUndefined(); // the rerun's buffers: stores
    expect(outcome.buffers.terminalBrackets).toBeUndefined();
    expect(outcome.statistics).toEqual(reference.statistics);
    expect(progressCalls).toBeGreaterThan(10); // two simulations reported
    for (const band of outcome.statistics.interiorBands) expect(Object.values(band).every(Number.isFinite)).toBe(true);
  });

  it('reports progress about every 10% of paths from the threads together, ending at 1', async () => {
    const plan: SimulationPlan = {
      seed: 4, simulations: 100_000, timeSteps: 200, horizonYears: 1, assets: 1,
      initialPrices: Float64Array.of(100), drift: Float64Array.of(0.05), volatility: Float64Array.of(0.3),
      cholesky: Float64Array.of(1), weights: Float64Array.of(1), bandSteps: bandStepsFor(200, 100_000),
    };
    const fractions: number[] = [];
    await runSimulation(plan, [0.95], { threads: 2, onProgress: (f) => fractions.push(f) });
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.length).toBeGreaterThanOrEqual(5);
    expect(fractions.length).toBeLessThanOrEqual(11);
    for (let i = 1; i < fractions.length; i++) {
      expect(fractions[i]).toBeGreaterThan(fractions[i - 1]);
      expect(Math.floor(fractions[i] * 10)).toBeGreaterThan(Math.floor(fractions[i - 1] * 10));
    }
  });

  it('fails the job, rather than hanging, when a worker dies, and the next job runs', async () => {
    const plan: SimulationPlan = {
      seed: 8, simulations: 40_000, timeSteps: 504, horizonYears: 1, assets: 1,
      initialPrices: Float64Array.of(100), drift: Float64Array.of(0.05), volatility: Float64Array.of(0.3),
      cholesky: Float64Array.of(1), weights: Float64Array.of(1), bandSteps: bandStepsFor(504, 40_000),
    };
    const workerUrl = new URL('../../support/exitingWorker.mjs', import.meta.url);
    await expect(runSimulation(plan, [0.95], { threads: 2, workerUrl })).rejects.toThrow(/exited with code 3/);
    const next = await runSimulation(plan, [0.95], { threads: 2 });
    expect(next.threads).toBe(2);
    expect(next.statistics.assets[0].terminal.mean).toBeGreaterThan(0);
  });

  it('gives different results for different seeds', async () => {
    const a = await runMonteCarlo(baseSpec(c, 5000, 10, 1));
    const b = await runMonteCarlo(baseSpec(c, 5000, 10, 2));
    expect(a.result.symbols.asset.expected_terminal_price).not.toBe(b.result.symbols.asset.expected_terminal_price);
  });
});

// A job through the model definition, with a context that serves synthetic histories.
function contextFor(histories: PriceHistory[], lines: { message: string; fields?: LogFields }[] = []): ModelContext {
  const log: Logger = {
    debug: () => {}, warn: () => {}, error: () => {},
    info: (message, fields) => lines.push({ message, fields }),
    child: () => log,
  };
  return {
    history: async (symbols) => symbols.map((s) => histories.find((h) => h.symbol === s)!),
    log,
    config: {} as Config,
    warehouse: {} as ModelContext['warehouse'],
    secrets: {} as ModelContext['secrets'],
  };
}

function syntheticHistory(symbol: string, days: number, seed: number, scale = 1): PriceHistory {
  const dates: string[] = [];
  const prices: number[] = [];
  let p = 100 * scale;
  let x = seed;
  for (let d = 0; d < days; d++) {
    dates.push(new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10));
    x = (x * 1103515245 + 12345) % 2147483648;
    p *= Math.exp(0.0003 + 0.015 * inverseNormalCdf((x + 0.5) / 2147483648));
    prices.push(p);
  }
  return { symbol, dates, prices };
}

const parse = (params: unknown): MonteCarloParams => montecarloModel.params.parse(params);
const job = (params: unknown, symbols: string[] = []) => ({ job_id: 'mc-test', symbols, start: '2024-01-01', end: '2024-12-31', params: parse(params) });

describe('montecarlo job definition', () => {
  it('runs a single-asset job, reports the drawn seed and logs progress', async () => {
    const lines: { message: string; fields?: LogFields }[] = [];
    const out = await montecarloModel.run(job({ initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 20_000, time_steps: 12 }), contextFor([], lines));
    const seed = out.inputs.seed as number;
    expect(Number.isSafeInteger(seed)).toBe(true);
    expect(out.inputs.mode).toBe('single_asset');
    expect(out.inputs.horizon_years).toBeCloseTo(12 / 252, 15);
    expect(Object.keys(out.result.symbols as object)).toEqual(['asset']);
    expect(out.metrics.map((m) => m.metric)).toEqual(expect.arrayContaining(['expected_terminal_price', 'probability_of_loss', 'var.0.95', 'cvar.0.99', 'expected_return', 'volatility_of_return']));
    expect(out.chart).toMatch(/^<svg|<\?xml/);
    expect(lines.some((l) => l.message === 'progress' && l.fields?.fraction === 1 && l.fields?.paths_done === 20_000)).toBe(true);
    // Repeating with the reported seed reproduces the result.
    const again = await montecarloModel.run(job({ initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 20_000, time_steps: 12, seed }), contextFor([]));
    expect(again.result).toEqual(out.result);
  });

  it('calibrates symbols from history and echoes the calibration', async () => {
    const histories = [syntheticHistory('AAA', 200, 1), syntheticHistory('BBB', 200, 2, 3)];
    const out = await montecarloModel.run(job({ simulations: 5000, time_steps: 10, seed: 3, weights: [0.25, 0.75] }, ['AAA', 'BBB']), contextFor(histories));
    expect(out.inputs.mode).toBe('calibrated');
    expect(out.inputs.observations).toBe(199);
    expect(out.inputs.window).toEqual({ start: '2024-01-01', end: histories[0].dates[199] });
    expect((out.inputs.initial_price as Record<string, number>).BBB).toBe(histories[1].prices[199]);
    expect(Object.keys(out.result.symbols as object)).toEqual(['AAA', 'BBB']);
    expect(out.inputs.weights).toEqual({ AAA: 0.25, BBB: 0.75 });
  });

  const ctx = contextFor([syntheticHistory('AAA', 100, 1), syntheticHistory('BBB', 100, 2)]);
  const rejects = async (params: unknown, symbols: string[], pattern: RegExp, context = ctx) => {
    const error = await montecarloModel.run(job(params, symbols), context).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('invalid_job');
    expect((error as JobError).message).toMatch(pattern);
  };

  it('rejects a single-asset job missing volatility, naming params.volatility', () =>
    rejects({ initial_price: 100, drift: 0.05 }, [], /params\.volatility is required/));
  it('rejects initial_price together with symbols', () => rejects({ initial_price: 100 }, ['AAA'], /params\.initial_price is for single-asset mode/));
  it('rejects weights of the wrong length, naming params.weights', () => rejects({ weights: [1] }, ['AAA', 'BBB'], /params\.weights has 1 entries but symbols has 2/));
  it('rejects weights that do not sum to 1', () => rejects({ weights: [0.5, 0.6] }, ['AAA', 'BBB'], /params\.weights sum to 1\.1/));
  it('takes weights keyed by symbol: the same numbers as the array in symbols order', async () => {
    const histories = [syntheticHistory('AAA', 200, 1), syntheticHistory('BBB', 200, 2, 3)];
    const keyed = await montecarloModel.run(job({ simulations: 2000, time_steps: 5, seed: 9, weights: { BBB: 0.75, AAA: 0.25 } }, ['AAA', 'BBB']), contextFor(histories));
    const array = await montecarloModel.run(job({ simulations: 2000, time_steps: 5, seed: 9, weights: [0.25, 0.75] }, ['AAA', 'BBB']), contextFor(histories));
    expect(keyed.inputs.weights).toEqual({ AAA: 0.25, BBB: 0.75 });
    expect(keyed.result).toEqual(array.result);
  });
  it('warns in the result when the calibration rests on fewer than 60 returns, and not otherwise', async () => {
    const few = [syntheticHistory('AAA', 23, 1), syntheticHistory('BBB', 23, 2)];
    const out = await montecarloModel.run(job({ simulations: 100, time_steps: 2, seed: 1 }, ['AAA', 'BBB']), contextFor(few));
    expect(out.result.warnings).toEqual([
      `The calibration of AAA, BBB rests on 22 daily returns (2024-01-01 to ${few[0]!.dates[22]}), fewer than 60: the estimate is noisy; widen start/end for a steadier one.`,
    ]);
    const enough = [syntheticHistory('AAA', 61, 1), syntheticHistory('BBB', 61, 2)];
    expect((await montecarloModel.run(job({ simulations: 100, time_steps: 2, seed: 1 }, ['AAA', 'BBB']), contextFor(enough))).result).not.toHaveProperty('warnings');
  });
  it('rejects a weight keyed by a symbol not among symbols, naming it', () =>
    rejects({ weights: { AAA: 0.5, MSFTT: 0.5 } }, ['AAA', 'BBB'], /params\.weights has a weight for "MSFTT", which is not among symbols \(AAA, BBB\)/));
  it('rejects keyed weights that leave a symbol out, naming it', () =>
    rejects({ weights: { AAA: 1 } }, ['AAA', 'BBB'], /params\.weights has no weight for BBB; give every symbol a weight \(0 to leave one out\)/));
  it('rejects keyed weights that do not sum to 1', () => rejects({ weights: { AAA: 0.5, BBB: 0.6 } }, ['AAA', 'BBB'], /params\.weights sum to 1\.1/));
  it('rejects a symbol listed twice', () => rejects({}, ['AAA', 'AAA'], /symbols lists AAA twice/));
  it('rejects two symbols with perfectly correlated returns, naming both', () => {
    const a = syntheticHistory('AAA', 100, 1);
    const twin = { ...a, symbol: 'TWIN', prices: a.prices.map((p) => 2 * p) };
    return rejects({}, ['AAA', 'TWIN'], /AAA and TWIN have log-return correlation/, contextFor([a, twin]));
  });
  it('rejects a job over the path-step limit, naming the limit', () =>
    rejects({ initial_price: 1, drift: 0, volatility: 0.1, simulations: MAX_SIMULATIONS, time_steps: Math.ceil((2 * MAX_PATH_STEPS) / MAX_SIMULATIONS) }, [], /limit is 1e\+10/));
  it('rejects too many simulations', () =>
    rejects({ initial_price: 1, drift: 0, volatility: 0.1, simulations: MAX_SIMULATIONS + 1, time_steps: 1 }, [], new RegExp(`limit is ${MAX_SIMULATIONS}`)));

  it('validates periods_per_year exactly as Markowitz does', () => {
    for (const value of [0, -252, 100_001, '365', null, Number.NaN]) {
      expect(montecarloModel.params.safeParse({ periods_per_year: value }).success, String(value)).toBe(false);
      expect(markowitzParams.safeParse({ periods_per_year: value }).success, String(value)).toBe(false);
    }
    for (const value of [1, 52, 252, 365, 100_000]) expect(parse({ periods_per_year: value }).periods_per_year).toBe(value);
  });

  it('annualizes the calibration with periods_per_year, reports it, and steps one period by default', async () => {
    const histories = [syntheticHistory('AAA', 200, 1)];
    const run = (params: Record<string, unknown>) => montecarloModel.run(job({ simulations: 1000, time_steps: 30, seed: 5, ...params }, ['AAA']), contextFor(histories));
    const trading = await run({});
    const calendar = await run({ periods_per_year: 365 });
    expect(trading.inputs).toMatchObject({ periods_per_year: 252, horizon_years: 30 / 252 });
    expect(calendar.inputs).toMatchObject({ periods_per_year: 365, horizon_years: 30 / 365 });
    const vol = (out: typeof trading) => (out.inputs.volatility as Record<string, number>).AAA;
    const drift = (out: typeof trading) => (out.inputs.drift as Record<string, number>).AAA;
    expect(vol(calendar) / vol(trading)).toBeCloseTo(Math.sqrt(365 / 252), 14);
    // drift = mean(r) * periods + vol^2 / 2: the mean daily log return is the same in both.
    const meanReturn = (out: typeof trading, periods: number) => (drift(out) - vol(out) ** 2 / 2) / periods;
    expect(meanReturn(calendar, 365)).toBeCloseTo(meanReturn(trading, 252), 15);
    expect(await run({ periods_per_year: 365, horizon_years: 1 }).then((o) => o.inputs.horizon_years)).toBe(1);
  });

  it('rejects unknown params keys and bad confidence levels in the schema', () => {
    expect(montecarloModel.params.safeParse({ simulation: 10 }).success).toBe(false);
    expect(montecarloModel.params.safeParse({ confidence_levels: [1] }).success).toBe(false);
    expect(montecarloModel.params.safeParse({ confidence_levels: [0.95, 0.95] }).success).toBe(false);
    expect(montecarloModel.params.safeParse({ seed: -1 }).success).toBe(false);
    expect(montecarloModel.params.parse({})).toEqual({ simulations: 10_000, time_steps: 252, periods_per_year: 252, confidence_levels: [0.95, 0.99] });
  });
});
