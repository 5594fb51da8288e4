import { JobError } from '../../job/errors.js';

/**
 * Paths per block. Each block draws from its own generator keyed by its index (four lanes
 * and a slow-path stream, normalStepKernel.ts), so results depend on this constant (part of
 * what a seed means) but never on the thread count. At most KERNEL_CHUNK (4096): one
 * asset's block log-prices live in the kernel's memory.
 */
export const BLOCK_SIZE = 4096;

/** Most simulations per job: memory (terminal arrays) and selection time stay bounded. */
export const MAX_SIMULATIONS = 5_000_000;

/**
 * Most simulations x time_steps x symbols per job. bench/montecarlo.ts measured about
 * 2.5 ns per path-step for the simulation on one core of the (shared) development machine
 * (xoshiro128** + ziggurat + one multiply-add, fused, on the four-lane WebAssembly SIMD
 * kernel, slow path included; 5.5 ns in plain JavaScript, the fallback without SIMD), plus
 * ~0.1 s of statistics per million paths; 1e10 path-steps is then ~30 s single-threaded
 * on the kernel, and about as much for several symbols (their normals and Cholesky product
 * run on the same kernel, 1.0-1.2x the one-asset cost per symbol-path-step at three symbols),
 * a ~9x margin under a Cloud Function's 540 s timeout for a slower vCPU and the Cholesky
 * work of many symbols (O(k^2) per path-step, in JavaScript past KERNEL_MAX_ASSETS).
 */
export const MAX_PATH_STEPS = 10_000_000_000;

/**
 * Most stored terminal values, simulations x (symbols + 1) doubles (each symbol's terminal
 * price and the portfolio's terminal value): 48e6 x 8 B = 384 MiB, which with the band
 * store and one selection copy keeps a job well inside a 2 GiB instance.
 */
export const MAX_TERMINAL_VALUES = 48_000_000;

/** Most time steps per path (a daily grid of 40 years is 10,080). */
export const MAX_TIME_STEPS = 100_000;

/** Most band intervals: at most 51 time points (including t = 0) on the fan chart. */
export const MAX_BAND_INTERVALS = 50;

/**
 * Float32 values kept for the interior band points (simulations x points): 20 Mi values =
 * 80 MiB. A million paths get 22 band points (every ~12 trading days of a year) instead of
 * 51: each point costs a pass over every path's value, and a fan chart needs no more;
 * float32's 7 digits are ample for it (VaR and the terminal statistics use the float64
 * terminal values). One-asset jobs count their band values against brackets instead of
 * storing them (bandBrackets.ts) but keep the same points, so that the store they fall
 * back on gives the same result.
 */
export const BAND_VALUE_BUDGET = 20 * 1024 * 1024;

/** Below this many path-steps a job runs on the calling thread (no worker start-up cost). */
export const INLINE_PATH_STEPS = 20_000_000;

/**
 * Rejects a job too large for one function instance.
 * @throws JobError invalid_job naming the parameter and the limit
 */
export function checkSimulationLimits(simulations: number, timeSteps: number, symbols: number): void {
  const split = () =>
    simulations <= MAX_SHARDED_SIMULATIONS && simulations * timeSteps * symbols <= MAX_SHARDED_PATH_STEPS
      ? ` or set params.shards to at least ${minimumShards(simulations, timeSteps, symbols)} to split the job over instances`
      : '';
  if (simulations > MAX_SIMULATIONS) {
    throw new JobError('invalid_job', `params.simulations is ${simulations}; the limit is ${MAX_SIMULATIONS} per instance: lower simulations${split()}.`);
  }
  if (timeSteps > MAX_TIME_STEPS) {
    throw new JobError('invalid_job', `params.time_steps is ${timeSteps}; the limit is ${MAX_TIME_STEPS} per path.`);
  }
  const pathSteps = simulations * timeSteps * symbols;
  if (pathSteps > MAX_PATH_STEPS) {
    throw new JobError(
      'invalid_job',
      `params.simulations x params.time_steps x symbols is ${pathSteps.toExponential(2)}; the limit is ${MAX_PATH_STEPS.toExponential(0)} per instance (a job must finish within the function timeout): lower simulations or time_steps${split()}.`,
    );
  }
  const stored = simulations * (symbols + 1);
  if (stored > MAX_TERMINAL_VALUES) {
    throw new JobError(
      'invalid_job',
      `params.simulations x (symbols + 1) is ${stored}; the limit is ${MAX_TERMINAL_VALUES} stored terminal values per instance (instance memory): lower simulations or the number of symbols${split()}.`,
    );
  }
}

/** Most path-steps of a sharded job (simulations x time_steps x symbols). */
export const MAX_SHARDED_PATH_STEPS = 1e12;

/** Most shards of a job (the contract's range). */
export const MAX_SHARDS = 1000;

/**
 * Most paths of a sharded job: each of at most MAX_SHARDS shards within one instance's
 * MAX_SIMULATIONS. The merge keeps ~200 bytes a block for one asset (moments and the return
 * sums the expected shortfall needs): 5e9 paths are ~1.2 million blocks, ~250 MB.
 */
export const MAX_SHARDED_SIMULATIONS = MAX_SHARDS * MAX_SIMULATIONS;

/**
 * Most simulations x (symbols + 1) of a sharded job whose merge keeps no stores (several
 * symbols beyond one instance's stores: selection passes, selectionPasses.ts). The merge's
 * percentiles take a bounded amount of memory whatever the path count (KEPT_VALUES_BUDGET
 * and the passes' counts), but every block's moments (40 bytes a series) are kept to be
 * combined in block order as one instance does: 24e9 / 4096 x 40 B = 234 MiB.
 */
export const MAX_SHARDED_SERIES_PATHS = 24_000_000_000;

/**
 * Values the selection passes keep in all (float64) once the windows are narrow enough:
 * 2^23 x 8 B = 64 MiB, shared among the rank pairs (a window holding more is counted again,
 * one more pass, instead of kept).
 */
export const KEPT_VALUES_BUDGET = 2 ** 23;

/** Paths in the largest of `shards` shards (whole blocks, split as evenly as they allow). */
export function largestShardPaths(simulations: number, shards: number): number {
  const blocks = Math.ceil(simulations / BLOCK_SIZE);
  return Math.min(simulations, Math.ceil(blocks / Math.min(shards, blocks)) * BLOCK_SIZE);
}

/**
 * The fewest shards that keep every shard of a job within one instance's limits: one when
 * one instance can run it.
 */
export function minimumShards(simulations: number, timeSteps: number, symbols: number): number {
  const pathSteps = simulations * timeSteps * symbols;
  if (simulations <= MAX_SIMULATIONS && pathSteps <= MAX_PATH_STEPS && simulations * (symbols + 1) <= MAX_TERMINAL_VALUES) return 1;
  let shards = Math.max(Math.ceil(pathSteps / MAX_PATH_STEPS), Math.ceil(simulations / MAX_SIMULATIONS));
  const fits = (count: number) => {
    const paths = largestShardPaths(simulations, count);
    return paths <= MAX_SIMULATIONS && paths * timeSteps * symbols <= MAX_PATH_STEPS;
  };
  while (shards < MAX_SHARDS && !fits(shards)) shards++;
  return Math.min(shards, MAX_SHARDS);
}

/**
 * Rejects a sharded job (shards > 1) that is too large: beyond MAX_SHARDED_PATH_STEPS or
 * MAX_SHARDED_SIMULATIONS paths, a shard beyond one instance's limits, or, for a merge
 * without brackets or stores (several symbols, or one asset without volatility, beyond
 * one instance's stores), more block moments than MAX_SHARDED_SERIES_PATHS allows.
 * @param bracketed whether the job's percentiles come from brackets (one asset, volatility > 0)
 * @throws JobError invalid_job naming the parameter and the limit
 */
export function checkShardedLimits(simulations: number, timeSteps: number, symbols: number, shards: number, bracketed: boolean): void {
  if (timeSteps > MAX_TIME_STEPS) {
    throw new JobError('invalid_job', `params.time_steps is ${timeSteps}; the limit is ${MAX_TIME_STEPS} per path.`);
  }
  const pathSteps = simulations * timeSteps * symbols;
  if (pathSteps > MAX_SHARDED_PATH_STEPS) {
    throw new JobError(
      'invalid_job',
      `params.simulations x params.time_steps x symbols is ${pathSteps.toExponential(2)}; the limit is ${MAX_SHARDED_PATH_STEPS.toExponential(0)} for a sharded job: lower simulations or time_steps.`,
    );
  }
  if (simulations > MAX_SHARDED_SIMULATIONS) {
    throw new JobError('invalid_job', `params.simulations is ${simulations}; the limit is ${MAX_SHARDED_SIMULATIONS.toExponential(0)} for a sharded job (${MAX_SHARDS} shards of ${MAX_SIMULATIONS}).`);
  }
  const seriesPaths = simulations * (symbols + 1);
  if (!bracketed && seriesPaths > MAX_SHARDED_SERIES_PATHS) {
    throw new JobError(
      'invalid_job',
      `params.simulations x (symbols + 1) is ${seriesPaths.toExponential(2)}; the limit is ${MAX_SHARDED_SERIES_PATHS.toExponential(1)} for a sharded job (the merge keeps every block's moments of each symbol and the portfolio): lower simulations or the number of symbols.`,
    );
  }
  const paths = largestShardPaths(simulations, shards);
  const shardSteps = paths * timeSteps * symbols;
  if (paths > MAX_SIMULATIONS || shardSteps > MAX_PATH_STEPS) {
    const needed = minimumShards(simulations, timeSteps, symbols);
    throw new JobError(
      'invalid_job',
      `params.shards is ${shards}: a shard would simulate ${paths} paths (${shardSteps.toExponential(2)} path-steps); the limit per shard is ${MAX_SIMULATIONS} paths and ${MAX_PATH_STEPS.toExponential(0)} path-steps (one instance's memory and timeout): use at least ${needed} shards.`,
    );
  }
}
