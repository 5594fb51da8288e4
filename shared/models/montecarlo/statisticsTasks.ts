import { bandTotalsOf, bracketedOrderStatistics, type BandTotals } from './bandBrackets.js';
import { combineBlockMoments, MOMENT_FIELDS } from './blockMoments.js';
import { TerminalRegions, terminalTotalsOf, type TerminalTotals } from './terminalBrackets.js';
import { bandLogWeight, blockCount, type SimulationBuffers, type SimulationPlan } from './simulation.js';
import {
  BAND_PERCENTILES,
  TERMINAL_PERCENTILES,
  interiorBandQuantiles,
  portfolioSummary,
  storeReturnsUpTo,
  storeSource,
  summarizeTerminal,
  type OrderStatisticsOf,
  type ReturnsUpTo,
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
 * What the statistics tasks read: every block's moments (block order), the stores, and for
 * a one-asset job the brackets' totals. One instance's buffers give it directly
 * (statisticsInputsOf); merged shards build the same numbers (shards.ts).
 */
export interface StatisticsInputs {
  readonly blockMoments: Float64Array;
  /** Asset-major terminal prices over every path, or empty with terminal brackets. */
  readonly terminalPrices: Float64Array;
  readonly portfolioTerminal: Float64Array;
  /** Point-major interior band values over every path, or empty with band brackets. */
  readonly bandValues: Float32Array;
  /** The terminal brackets' totals (built when a task asks). */
  readonly terminal?: () => TerminalTotals;
  readonly band?: BandTotals;
  /**
   * Order statistics and the expected shortfall's tails found by selection passes instead
   * of stores (selectionPasses.ts: merged shards of several symbols); series as there.
   */
  readonly selected?: {
    readonly orderStatisticsOf: (series: number) => OrderStatisticsOf;
    readonly returnsUpTo: (series: number) => ReturnsUpTo;
  };
}

/** The statistics inputs of buffers that hold every block of `plan`. */
export function statisticsInputsOf(plan: SimulationPlan, buffers: SimulationBuffers): StatisticsInputs {
  const blocks = blockCount(plan);
  const { terminalBrackets: terminal, bandBrackets: band } = buffers;
  return {
    blockMoments: buffers.blockMoments,
    terminalPrices: buffers.terminalPrices,
    portfolioTerminal: buffers.portfolioTerminal,
    bandValues: buffers.bandValues,
    ...(terminal && { terminal: () => terminalTotalsOf(terminal.spec, terminal.buffers, blocks) }),
    ...(band && { band: bandTotalsOf(band.spec, band.buffers, blocks) }),
  };
}

/**
 * Runs task `task` (0 <= task < layout.tasks) on the simulated values, writing its
 * numbers to `out`. Tasks are numbered largest first (terminal summaries, then the band
 * points), so threads taking them in order share the work evenly.
 */
export function runStatisticsTask(
  task: number,
  plan: SimulationPlan,
  buffers: StatisticsInputs,
  confidenceLevels: ArrayLike<number>,
  layout: StatisticsLayout,
  out: Float64Array,
): void {
  const n = plan.simulations;
  const stride = (plan.assets + 1) * MOMENT_FIELDS;
  const terminal = buffers.terminal;
  const selected = buffers.selected;
  // One asset with terminal brackets: order statistics of x_T, mapped to S or V (the same
  // expressions simulateBlock evaluates); else the stored values.
  const regions = terminal && task <= layout.assets ? new TerminalRegions(terminal()) : undefined;
  const fromBrackets = (valueOf: (x: number) => number): OrderStatisticsOf => (ranks) => {
    const stats = new Float64Array(ranks.length);
    for (let i = 0; i < ranks.length; i++) {
      const x = regions?.orderStatistic(ranks[i]);
      if (x === undefined) return undefined;
      stats[i] = valueOf(x);
    }
    return stats;
  };
  if (task < layout.assets) {
    const moments = combineBlockMoments(buffers.blockMoments, n, stride, task * MOMENT_FIELDS);
    const s0 = plan.initialPrices[task];
    const source = selected
      ? selected.orderStatisticsOf(task)
      : regions
        ? fromBrackets((x) => s0 * Math.exp(x))
        : storeSource(buffers.terminalPrices.subarray(task * n, (task + 1) * n));
    const s = summarizeTerminal(source, n, moments);
    const numbers = s ? [s.mean, s.std, s.min, s.max, ...TERMINAL_KEYS.map((k) => s.percentiles[k]), moments.below / n] : new Array<number>(ASSET_FIELDS).fill(NaN);
    out.set(numbers, task * ASSET_FIELDS);
  } else if (task === layout.assets) {
    const levels = Array.from(confidenceLevels);
    const returns = combineBlockMoments(buffers.blockMoments, n, stride, plan.assets * MOMENT_FIELDS);
    const w = plan.weights[0];
    const valueOf = (x: number) => 0 + w * Math.exp(x);
    const summary = selected
      ? portfolioSummary(selected.orderStatisticsOf(plan.assets), selected.returnsUpTo(plan.assets), n, levels, returns)
      : regions
        ? portfolioSummary(fromBrackets(valueOf), bracketReturnsUpTo(regions, (x) => valueOf(x) - 1), n, levels, returns)
        : portfolioSummary(storeSource(buffers.portfolioTerminal), storeReturnsUpTo(buffers.portfolioTerminal), n, levels, returns);
    const numbers = summary
      ? [
          summary.risk.expected_return,
          summary.risk.volatility_of_return,
          ...levels.map((c) => summary.risk.var[String(c)]),
          ...levels.map((c) => summary.risk.cvar[String(c)]),
          ...BAND_KEYS.map((k) => summary.band[k]),
        ]
      : new Array<number>(portfolioFields(levels.length)).fill(NaN);
    out.set(numbers, portfolioOffset(layout));
  } else {
    const j = task - layout.assets;
    const totals = buffers.band;
    const bracketed = selected ? selected.orderStatisticsOf(plan.assets + j) : totals && ((ranks: number[]) => bracketedOrderStatistics(totals, n, j, ranks));
    interiorBandQuantiles(buffers.bandValues, n, j, out, bandOffset(layout, j), bandLogWeight(plan), bracketed);
  }
}

/** ReturnsUpTo from terminal brackets (each quantile's lower order statistic's bracket). */
function bracketReturnsUpTo(regions: TerminalRegions, returnOf: (x: number) => number): ReturnsUpTo {
  return (quantiles, ranks) => {
    const tails = quantiles.map((q, l) => regions.returnsUpTo(ranks[l], q, returnOf));
    return tails.every((t) => t !== undefined) ? (tails as { sum: number; count: number }[]) : undefined;
  };
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
