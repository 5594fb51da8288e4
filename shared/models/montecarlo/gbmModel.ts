import { runSimulation, type RunOptions } from './parallelRunner.js';
import { SAMPLE_PATHS, bandStepsFor, type SimulationPlan } from './simulation.js';
import type { BandPercentiles, PortfolioRisk, TerminalSummary } from './statistics.js';
import type { JobStatistics } from './statisticsTasks.js';
import { correlationFactor } from './correlationFactor.js';

/** One simulated asset's GBM parameters (annual drift mu and volatility sigma). */
export interface GbmAsset {
  readonly name: string;
  readonly initialPrice: number;
  readonly drift: number;
  readonly volatility: number;
}

/** A fully resolved Monte Carlo job: calibrated or given parameters, validated. */
export interface MonteCarloSpec {
  readonly assets: readonly GbmAsset[];
  /** Correlation of the assets' Brownian motions, assets x assets (identity for one asset). */
  readonly correlation: readonly (readonly number[])[];
  /** Portfolio weights over assets, summing to 1. */
  readonly weights: readonly number[];
  readonly simulations: number;
  readonly timeSteps: number;
  readonly horizonYears: number;
  readonly seed: number;
  readonly confidenceLevels: readonly number[];
}

export interface SymbolResult {
  readonly initial_price: number;
  readonly drift: number;
  readonly volatility: number;
  readonly expected_terminal_price: number;
  readonly terminal_price: TerminalSummary;
  readonly probability_of_loss: number;
}

export interface BandPoint extends BandPercentiles {
  readonly step: number;
  /** Years from the start. */
  readonly t: number;
}

/** The contract's `result` of a Monte Carlo job, plus sample paths for the chart. */
export interface MonteCarloResult {
  readonly symbols: Record<string, SymbolResult>;
  readonly portfolio: PortfolioRisk;
  readonly bands: BandPoint[];
  /** Portfolio values of the first paths of block 0 at the band time points. */
  readonly sample_paths: number[][];
}

export interface MonteCarloOutcome {
  readonly result: MonteCarloResult;
  /** Threads that simulated. */
  readonly threads: number;
}

/** The simulation plan of a spec: its numbers as the blocks read them. */
export function simulationPlanOf(spec: MonteCarloSpec): SimulationPlan {
  const k = spec.assets.length;
  const names = spec.assets.map((a) => a.name);
  return {
    seed: spec.seed,
    simulations: spec.simulations,
    timeSteps: spec.timeSteps,
    horizonYears: spec.horizonYears,
    assets: k,
    initialPrices: Float64Array.from(spec.assets, (a) => a.initialPrice),
    drift: Float64Array.from(spec.assets, (a) => a.drift),
    volatility: Float64Array.from(spec.assets, (a) => a.volatility),
    cholesky: k === 1 ? Float64Array.of(1) : correlationFactor(spec.correlation, names),
    weights: Float64Array.from(spec.weights),
    bandSteps: bandStepsFor(spec.timeSteps, spec.simulations),
  };
}

/**
 * Simulates correlated GBM paths and summarizes terminal prices, portfolio risk and
 * percentile bands of the portfolio value. Bit-identical for a seed whatever the threads.
 * @param spec validated parameters (see job.ts for validation and limits)
 * @param options threads, progress callback, worker script
 * @throws JobError invalid_job when the correlation is degenerate
 */
export async function runMonteCarlo(spec: MonteCarloSpec, options: RunOptions = {}): Promise<MonteCarloOutcome> {
  const plan = simulationPlanOf(spec);
  const { buffers, statistics, threads } = await runSimulation(plan, spec.confidenceLevels, options);
  return { result: monteCarloResult(spec, plan, statistics, buffers.samplePaths), threads };
}

/** The contract's result from a plan's statistics and sample paths (one instance's or merged shards'). */
export function monteCarloResult(spec: MonteCarloSpec, plan: SimulationPlan, statistics: JobStatistics, samplePaths: Float64Array): MonteCarloResult {
  const n = spec.simulations;
  const symbols: Record<string, SymbolResult> = {};
  spec.assets.forEach((asset, a) => {
    const { terminal, probabilityOfLoss } = statistics.assets[a];
    symbols[asset.name] = {
      initial_price: asset.initialPrice,
      drift: asset.drift,
      volatility: asset.volatility,
      expected_terminal_price: terminal.mean,
      terminal_price: terminal,
      probability_of_loss: probabilityOfLoss,
    };
  });

  const steps = plan.bandSteps;
  const last = steps.length - 1;
  const dt = spec.horizonYears / spec.timeSteps;
  const start: BandPercentiles = { p5: 1, p25: 1, p50: 1, p75: 1, p95: 1 };
  const bands: BandPoint[] = Array.from(steps, (step, j) => {
    const p = j === 0 ? start : j === last ? statistics.portfolio.band : statistics.interiorBands[j - 1];
    return { step, t: step * dt, ...p };
  });

  const points = steps.length;
  const sample_paths = Array.from({ length: Math.min(SAMPLE_PATHS, n) }, (_, p) => Array.from(samplePaths.subarray(p * points, (p + 1) * points)));
  return { symbols, portfolio: statistics.portfolio.risk, bands, sample_paths };
}
