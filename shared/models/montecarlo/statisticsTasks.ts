import { bandLogWeight, type SimulationBuffers, type SimulationPlan } from './simulation.js';
import {
  BAND_PERCENTILES,
  TERMINAL_PERCENTILES,
  fractionBelow,
  interiorBandQuantiles,
  portfolioSummary,
  summarizeTerminal,
  type BandPercentiles,
  type PortfolioSummary,
  type TerminalPercentiles,
  type TerminalSummary,
} from './statistics.js';

/**
 * The statistics of a simulated job are independent tasks, one per asset (its terminal
 * summary), one for the portfolio (risk and horizon band) and one per interior band point,
 * which any thread can take once every path is simulated (sharedJob.ts). Each task writes
 * plain numbers to its own stretch of one Float64Array (shared between threads), laid out
 * below; readStatistics turns them back into the result's objects. A task's numbers depend
 * only on the simulated values, never on the thread that computed them.
 */

const TERMINAL_KEYS = Object.keys(TERMINAL_PERCENTILES) as (keyof typeof TERMINAL_PERCENTILES)[];
const BAND_KEYS = Object.keys(BAND_PERCENTILES) as (keyof typeof BAND_PERCENTILES)[];
/** mean, std, min, max, the terminal percentiles, probability of loss. */
const ASSET_FIELDS = 4 + TERMINAL_KEYS.length + 1;

/** Where each task's numbers go, for a plan and its confidence levels. */
export interface StatisticsLayout {
  readonly assets: number;
  readonly levels: number;
  /** Interior band points (every band point but t = 0 and the horizon). */
  readonly interior: number;
  /** Tasks: assets, then the portfolio, then the interior band points. */
  readonly tasks: number;
  /** Numbers in all. */
  readonly length: number;
}

export function statisticsLayout(plan: SimulationPlan, levels: number): StatisticsLayout {
  const interior = Math.max(0, plan.bandSteps.length - 2);
  const assets = plan.assets;
  return {
    assets,
    levels,
    interior,
    tasks: assets + 1 + interior,
    length: assets * ASSET_FIELDS + portfolioFields(levels) + interior * BAND_KEYS.length,
  };
}

/** expected return, volatility, VaR and CVaR per level, the horizon band. */
function portfolioFields(levels: number): number {
  return 2 + 2 * levels + BAND_KEYS.length;
}

function portfolioOffset(layout: StatisticsLayout): number {
  return layout.assets * ASSET_FIELDS;
}

function bandOffset(layout: StatisticsLayout, j: number): number {
  return portfolioOffset(layout) + portfolioFields(layout.levels) + (j - 1) * BAND_KEYS.length;
}

/**
 * Runs task `task` (0 <= task < layout.tasks) on the simulated buffers, writing its
 * numbers to `out`. Tasks are numbered largest first (terminal summaries, then the band
 * points), so threads taking them in order share the work evenly.
 */
export function runStatisticsTask(
  task: number,
  plan: SimulationPlan,
  buffers: SimulationBuffers,
  confidenceLevels: ArrayLike<number>,
  layout: StatisticsLayout,
  out: Float64Array,
): void {
  const n = plan.simulations;
  if (task < layout.assets) {
    const terminal = buffers.terminalPrices.subarray(task * n, (task + 1) * n);
    const s = summarizeTerminal(terminal);
    out.set(
      [s.mean, s.std, s.min, s.max, ...TERMINAL_KEYS.map((k) => s.percentiles[k]), fractionBelow(terminal, plan.initialPrices[task])],
      task * ASSET_FIELDS,
    );
  } else if (task === layout.assets) {
    const levels = Array.from(confidenceLevels);
    const { risk, band } = portfolioSummary(buffers.portfolioTerminal, levels);
    out.set(
      [
        risk.expected_return,
        risk.volatility_of_return,
        ...levels.map((c) => risk.var[String(c)]),
        ...levels.map((c) => risk.cvar[String(c)]),
        ...BAND_KEYS.map((k) => band[k]),
      ],
      portfolioOffset(layout),
    );
  } else {
    const j = task - layout.assets;
    interiorBandQuantiles(buffers.bandValues, n, j, out, bandOffset(layout, j), bandLogWeight(plan));
  }
}

/** One asset's statistics as read back from the task output. */
export interface AssetStatistics {
  readonly terminal: TerminalSummary;
  readonly probabilityOfLoss: number;
}

export interface JobStatistics {
  readonly assets: AssetStatistics[];
  readonly portfolio: PortfolioSummary;
  /** Band percentiles of interior points 1..interior, in order. */
  readonly interiorBands: BandPercentiles[];
}

/** The statistics objects from every task's numbers in `out`. */
export function readStatistics(layout: StatisticsLayout, confidenceLevels: ArrayLike<number>, out: Float64Array): JobStatistics {
  const assets = Array.from({ length: layout.assets }, (_, a): AssetStatistics => {
    const at = a * ASSET_FIELDS;
    const percentiles = Object.fromEntries(TERMINAL_KEYS.map((k, i) => [k, out[at + 4 + i]])) as TerminalPercentiles;
    return {
      terminal: { mean: out[at], std: out[at + 1], min: out[at + 2], max: out[at + 3], percentiles },
      probabilityOfLoss: out[at + 4 + TERMINAL_KEYS.length],
    };
  });
  const levels = Array.from(confidenceLevels);
  const at = portfolioOffset(layout);
  const L = levels.length;
  const portfolio: PortfolioSummary = {
    risk: {
      expected_return: out[at],
      volatility_of_return: out[at + 1],
      var: Object.fromEntries(levels.map((c, l) => [String(c), out[at + 2 + l]])),
      cvar: Object.fromEntries(levels.map((c, l) => [String(c), out[at + 2 + L + l]])),
    },
    band: bandAt(out, at + 2 + 2 * L),
  };
  const interiorBands = Array.from({ length: layout.interior }, (_, i) => bandAt(out, bandOffset(layout, i + 1)));
  return { assets, portfolio, interiorBands };
}

function bandAt(out: Float64Array, at: number): BandPercentiles {
  return Object.fromEntries(BAND_KEYS.map((k, i) => [k, out[at + i]])) as BandPercentiles;
}

/**
 * Runs every statistics task once on a small synthetic job, so that V8 has compiled their
 * loops before a real job needs them: a function's first pass over a million values
 * otherwise runs largely in the interpreter while the optimizing compiler catches up.
 * Called by an idle worker when it starts, and by the function when it loads.
 */
export function warmUpStatistics(): void {
  const n = 16_384;
  const plan: SimulationPlan = {
    seed: 0,
    simulations: n,
    timeSteps: 2,
    horizonYears: 1,
    assets: 1,
    initialPrices: Float64Array.of(1),
    drift: Float64Array.of(0),
    volatility: Float64Array.of(0.2),
    cholesky: Float64Array.of(1),
    weights: Float64Array.of(1),
    bandSteps: Int32Array.of(0, 1, 2),
  };
  // Any spread values serve: a low-discrepancy sequence mapped to a lognormal-like shape.
  const terminal = Float64Array.from({ length: n }, (_, i) => Math.exp(0.2 * Math.tan(Math.PI * (((i * 0.6180339887498949) % 1) - 0.5)) * 0.1));
  const buffers: SimulationBuffers = {
    terminalPrices: terminal,
    portfolioTerminal: terminal,
    bandValues: Float32Array.from(terminal, Math.log),
    samplePaths: new Float64Array(0),
  };
  const layout = statisticsLayout(plan, 2);
  const out = new Float64Array(layout.length);
  for (let task = 0; task < layout.tasks; task++) runStatisticsTask(task, plan, buffers, [0.95, 0.99], layout, out);
}
