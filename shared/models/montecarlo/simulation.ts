import { addCorrelatedSteps, addLaneSteps, assetValues, blockAssetLogs, blockLogs, BlockNormals, type CorrelatedStep } from '../../numerics/random/normalStepKernel.js';
import { allocateBracketBuffers, bandBracketsFor, recordBlockBand, type BandBrackets, type BracketBuffers } from './bandBrackets.js';
import { MOMENT_FIELDS, recordBlockMoments } from './blockMoments.js';
import { BAND_VALUE_BUDGET, BLOCK_SIZE, MAX_BAND_INTERVALS } from './limits.js';
import { BAND_PERCENTILES, TERMINAL_PERCENTILES } from './statistics.js';
import {
  allocateTerminalBracketBuffers,
  recordBlockTerminal,
  terminalBracketsFor,
  type TerminalBracketBuffers,
  type TerminalBrackets,
} from './terminalBrackets.js';

/** How many portfolio paths are recorded for the chart: the first ones of block 0. */
export const SAMPLE_PATHS = 5;

/**
 * Everything a block of paths needs, as plain data (structured-cloneable to a worker).
 * Assets are indexed 0..assets-1; `cholesky` is the lower factor of their correlation,
 * row-major assets x assets.
 */
export interface SimulationPlan {
  readonly seed: number;
  readonly simulations: number;
  readonly timeSteps: number;
  readonly horizonYears: number;
  readonly assets: number;
  readonly initialPrices: Float64Array;
  readonly drift: Float64Array;
  readonly volatility: Float64Array;
  readonly cholesky: Float64Array;
  readonly weights: Float64Array;
  /** Steps of the band time points, 0 first and timeSteps last. */
  readonly bandSteps: Int32Array;
  /**
   * The law the brackets assume (default: the asset's own drift and volatility).
   * Only tests set it, to make the brackets miss and exercise the fallback.
   */
  readonly bracketLaw?: { readonly drift: number; readonly volatility: number };
}

/**
 * Where blocks write. Terminal prices are asset-major (`terminalPrices[a * simulations + p]`),
 * band values point-major for the interior band points 1..m-1
 * (`bandValues[(j - 1) * simulations + p]`), sample paths path-major over all band points.
 * Band values are the portfolio values V, or their logarithms ln(V / w) when
 * bandsHoldLogs(plan).
 */
export interface SimulationBuffers {
  readonly terminalPrices: Float64Array;
  readonly portfolioTerminal: Float64Array;
  readonly bandValues: Float32Array;
  readonly samplePaths: Float64Array;
  /**
   * Per block, for each asset's terminal prices (below = under its initial price) and then
   * the portfolio's returns V - 1, MOMENT_FIELDS numbers (blockMoments.ts): block b, series
   * s at (b * (assets + 1) + s) * MOMENT_FIELDS.
   */
  readonly blockMoments: Float64Array;
  /** Region counts, return sums and bracket values of one asset's horizon (terminalBrackets.ts). */
  readonly terminalBrackets?: { readonly spec: TerminalBrackets; readonly buffers: TerminalBracketBuffers };
  /** Region counts and bracket values of a log store's band points (bandBrackets.ts). */
  readonly bandBrackets?: { readonly spec: BandBrackets; readonly buffers: BracketBuffers };
  /**
   * The blocks these buffers hold, when they hold a shard's range only (shards.ts): per-block
   * slots are counted from `range.first`, and the stores are laid out over the range's
   * `range.paths` paths instead of the plan's. Absent: every block of the plan.
   */
  readonly range?: BlockRange;
}

/** A run of consecutive blocks: `first` .. `first + blocks - 1`, `paths` paths in all. */
export interface BlockRange {
  readonly first: number;
  readonly blocks: number;
  readonly paths: number;
}

/** The range of blocks `first` .. `first + blocks - 1` of a plan (the last block may be short). */
export function blockRange(plan: SimulationPlan, first: number, blocks: number): BlockRange {
  const from = first * BLOCK_SIZE;
  return { first, blocks, paths: Math.max(0, Math.min(plan.simulations, (first + blocks) * BLOCK_SIZE) - from) };
}

/**
 * Band time points: m + 1 evenly spaced steps 0 = s_0 < ... < s_m = timeSteps, with m at
 * most MAX_BAND_INTERVALS and the interior points' float32 store within BAND_VALUE_BUDGET.
 */
export function bandStepsFor(timeSteps: number, simulations: number): Int32Array {
  const byBudget = 1 + Math.floor(BAND_VALUE_BUDGET / Math.max(1, simulations));
  const m = Math.max(1, Math.min(MAX_BAND_INTERVALS, timeSteps, byBudget));
  return Int32Array.from({ length: m + 1 }, (_, j) => Math.round((j * timeSteps) / m));
}

/**
 * Whether a plan's band store holds ln(V / w) rather than V: one asset with weight w > 0,
 * where V = w e^x is increasing in the log-price x, so V's order statistics are w e^x of
 * x's. The float64 log-prices are then stored as they are (to float32) with no exponential
 * per path and band point; the percentiles take e^x of the few order statistics they need
 * (interiorBandQuantiles).
 */
export function bandsHoldLogs(plan: SimulationPlan): boolean {
  return plan.assets === 1 && plan.weights[0] > 0;
}

/** The weight w of a log band store (interiorBandQuantiles' logWeight), else undefined. */
export function bandLogWeight(plan: SimulationPlan): number | undefined {
  return bandsHoldLogs(plan) ? plan.weights[0] : undefined;
}

/** Number of blocks a plan's paths are split into. */
export function blockCount(plan: SimulationPlan): number {
  return Math.ceil(plan.simulations / BLOCK_SIZE);
}

/**
 * Allocates the output buffers, on SharedArrayBuffers when workers will write them. Given
 * the job's confidence levels (`brackets`), a one-asset plan large enough gets brackets
 * instead of stores: band brackets (bandBrackets.ts) and terminal brackets
 * (terminalBrackets.ts), and neither a band store nor terminal arrays. Its percentiles come
 * from the brackets; in the rare case they cannot, the job is simulated again with stores
 * (runSimulation). `brackets` null: stores only.
 */
export function allocateBuffers(
  plan: SimulationPlan,
  shared: boolean,
  brackets: { readonly confidenceLevels: readonly number[] } | null,
  range?: BlockRange,
): SimulationBuffers {
  const Buffer = shared ? SharedArrayBuffer : ArrayBuffer;
  // The brackets are placed for the whole job (their widths depend on its path count);
  // only the slots and stores are the range's.
  const n = range ? range.paths : plan.simulations;
  const points = plan.bandSteps.length;
  const blocks = range ? range.blocks : blockCount(plan);
  const law = plan.bracketLaw ?? { drift: plan.drift[0], volatility: plan.volatility[0] };
  const logStore = brackets !== null && bandsHoldLogs(plan);
  const bandTimes = Array.from(plan.bandSteps.subarray(1, -1), (step) => (step * plan.horizonYears) / plan.timeSteps);
  const bandProbabilities = Object.values(BAND_PERCENTILES);
  const band = logStore ? bandBracketsFor(plan.simulations, law.drift, law.volatility, bandTimes, bandProbabilities) : undefined;
  const wanted = [...Object.values(TERMINAL_PERCENTILES), ...bandProbabilities, ...(brackets?.confidenceLevels ?? []).map((c) => 1 - c)];
  const terminal = logStore ? terminalBracketsFor(plan.simulations, law.drift, law.volatility, plan.horizonYears, wanted) : undefined;
  return {
    ...(band && { bandBrackets: { spec: band, buffers: allocateBracketBuffers(band, blocks, shared) } }),
    ...(terminal && { terminalBrackets: { spec: terminal, buffers: allocateTerminalBracketBuffers(terminal, blocks, shared) } }),
    terminalPrices: new Float64Array(new Buffer(terminal ? 0 : 8 * n * plan.assets)),
    portfolioTerminal: new Float64Array(new Buffer(terminal ? 0 : 8 * n)),
    bandValues: new Float32Array(new Buffer(band ? 0 : 4 * n * Math.max(0, points - 2))),
    samplePaths: new Float64Array(new Buffer(8 * Math.min(SAMPLE_PATHS, n) * points)),
    blockMoments: new Float64Array(new Buffer(8 * blocks * (plan.assets + 1) * MOMENT_FIELDS)),
    ...(range && { range }),
  };
}

// This thread's room for one block's terminal prices and portfolio values when the job
// keeps no terminal arrays (terminal brackets).
const blockPrices = new Float64Array(BLOCK_SIZE);
const blockValues = new Float64Array(BLOCK_SIZE);
// This thread's room for one block's portfolio values at a band point (several assets),
// and their float32 roundings for the band store.
const bandPointValues = new Float64Array(BLOCK_SIZE);
const bandPointValues32 = new Float32Array(BLOCK_SIZE);

/**
 * Simulates block `block` of the plan (paths block*BLOCK_SIZE onward) and writes its
 * terminal prices, portfolio values and band values. Paths are stepped together, one time
 * step at a time, in log space: x += (mu - sigma^2/2) dt + sigma sqrt(dt) (L z), the exact
 * GBM transition, so E[S_T] = S_0 exp(mu T) with no discretization bias. Only the block's
 * current log-prices are held, never simulations x time_steps. The normals come from the
 * block's four-lane generator (normalStepKernel.ts, keyed by seed and block index): one
 * asset steps on the WebAssembly SIMD kernel in place, several assets draw their k n
 * normals per step from the same generator (path p's asset j is z[p k + j]), sum them over
 * the steps up to the next band point and correlate the sums once (addCorrelatedSteps),
 * their log-prices in its memory too, where their portfolio values and terminal prices
 * are also computed (assetValues). Either way every step up to the next band point is one
 * call.
 */
export function simulateBlock(plan: SimulationPlan, block: number, out: SimulationBuffers): void {
  const k = plan.assets;
  const sims = plan.simulations;
  const start = block * BLOCK_SIZE;
  const n = Math.min(BLOCK_SIZE, sims - start);
  if (n <= 0) return;
  const gen = BlockNormals.forBlock(plan.seed, block);
  // Where this block's numbers go: its slot among the buffers' blocks, its first path
  // among their paths, and the stores' stride (the same as block, start and sims when the
  // buffers hold every block).
  const slot = block - (out.range?.first ?? 0);
  const local = slot * BLOCK_SIZE;
  const stride = out.range?.paths ?? sims;
  const dt = plan.horizonYears / plan.timeSteps;
  const driftStep = Float64Array.from(plan.drift, (mu, a) => (mu - 0.5 * plan.volatility[a] ** 2) * dt);
  const volStep = Float64Array.from(plan.volatility, (sigma) => sigma * Math.sqrt(dt));
  // logs[a * n + p] = ln(S_a / S_a,0) of path p: a view of the kernel's memory.
  const logs = k === 1 ? blockLogs(n) : blockAssetLogs(k, n);
  const correlated: CorrelatedStep = { assets: k, cholesky: plan.cholesky, drift: driftStep, vol: volStep };
  const bandSteps = plan.bandSteps;
  const lastPoint = bandSteps.length - 1;
  const samples = block === 0 ? Math.min(SAMPLE_PATHS, n) : 0;
  const points = bandSteps.length;
  for (let p = 0; p < samples; p++) out.samplePaths[p * points] = 1;
  let nextPoint = 1;

  for (let step = 1; step <= plan.timeSteps; step++) {
    // Every step up to the next band point (or the horizon) in one call. One asset: fused
    // generator word -> ziggurat normal -> log-price step, no array of normals.
    const until = nextPoint < lastPoint ? bandSteps[nextPoint] : plan.timeSteps;
    if (k === 1) addLaneSteps(gen, logs, n, driftStep[0], volStep[0], until - step + 1);
    else addCorrelatedSteps(gen, logs, n, correlated, until - step + 1);
    step = until;
    if (step === bandSteps[nextPoint] && nextPoint < lastPoint) {
      const offset = (nextPoint - 1) * stride + local;
      if (bandsHoldLogs(plan)) {
        if (out.bandBrackets) recordBlockBand(out.bandBrackets.spec, out.bandBrackets.buffers, slot, nextPoint, logs, n);
        else out.bandValues.set(logs.subarray(0, n), offset);
        for (let p = 0; p < samples; p++) out.samplePaths[p * points + nextPoint] = portfolioValue(plan.weights, logs, k, n, p);
      } else {
        const values = bandPointValues.subarray(0, n);
        if (k === 1) {
          portfolioValues(plan.weights, logs, k, n, values);
          out.bandValues.set(values, offset);
        } else {
          const values32 = bandPointValues32.subarray(0, n);
          assetValues(logs, k, n, plan.weights, values, values32, null);
          out.bandValues.set(values32, offset);
        }
        for (let p = 0; p < samples; p++) out.samplePaths[p * points + nextPoint] = values[p];
      }
      nextPoint++;
    }
  }

  if (k === 1) {
    // One exponential per path: portfolioValue is 0 + w e^x, the same number.
    const s0 = plan.initialPrices[0];
    const w = plan.weights[0];
    const terminal = out.terminalBrackets;
    const prices = terminal ? blockPrices.subarray(0, n) : out.terminalPrices.subarray(local, local + n);
    const values = terminal ? blockValues.subarray(0, n) : out.portfolioTerminal.subarray(local, local + n);
    for (let p = 0; p < n; p++) {
      const e = Math.exp(logs[p]);
      prices[p] = s0 * e;
      values[p] = 0 + w * e;
    }
    if (terminal) recordBlockTerminal(terminal.spec, terminal.buffers, slot, logs, values, n);
    recordTerminalMoments(out, slot, 0, 1, prices, values, s0, samples, points);
  } else {
    // One exponential per asset and path for both its price (written over its log-price)
    // and its term of the portfolio value, as at the band points.
    const values = out.portfolioTerminal.subarray(local, local + n);
    assetValues(logs, k, n, plan.weights, values, null, plan.initialPrices);
    for (let a = 0; a < k; a++) {
      const prices = out.terminalPrices.subarray(a * stride + local, a * stride + local + n);
      prices.set(logs.subarray(a * n, a * n + n));
      recordBlockMoments(prices, 0, plan.initialPrices[a], out.blockMoments, (slot * (k + 1) + a) * MOMENT_FIELDS);
    }
    recordTerminalMoments(out, slot, k, k, null, out.portfolioTerminal.subarray(local, local + n), 0, samples, points);
  }
}

/**
 * Block moments of one asset's prices (unless null) and of the portfolio's returns, and the
 * sample paths' last point.
 */
function recordTerminalMoments(
  out: SimulationBuffers,
  block: number,
  asset: number,
  assets: number,
  prices: Float64Array | null,
  values: Float64Array,
  initialPrice: number,
  samples: number,
  points: number,
): void {
  const series = block * (assets + 1) * MOMENT_FIELDS;
  if (prices) recordBlockMoments(prices, 0, initialPrice, out.blockMoments, series + asset * MOMENT_FIELDS);
  recordBlockMoments(values, 1, -Infinity, out.blockMoments, series + assets * MOMENT_FIELDS);
  for (let p = 0; p < samples; p++) out.samplePaths[p * points + points - 1] = values[p];
}

/** V = sum_a w_a S_a / S_a,0 for path p: the portfolio's value per 1.0 invested at t = 0. */
function portfolioValue(weights: Float64Array, logs: Float64Array, k: number, n: number, p: number): number {
  let v = 0;
  for (let a = 0; a < k; a++) v += weights[a] * Math.exp(logs[a * n + p]);
  return v;
}

/**
 * portfolioValue of paths 0..n-1 into `out`, asset by asset over all paths (contiguous
 * reads): each path's sum 0 + w_0 e^x_0 + w_1 e^x_1 + ... in the same order, so the same numbers.
 */
function portfolioValues(weights: Float64Array, logs: Float64Array, k: number, n: number, out: Float64Array): void {
  out.fill(0, 0, n);
  for (let a = 0; a < k; a++) {
    const w = weights[a];
    for (let p = 0, x = a * n; p < n; p++, x++) out[p] += w * Math.exp(logs[x]);
  }
}
