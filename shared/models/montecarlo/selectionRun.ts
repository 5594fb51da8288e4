import { runShardSimulation, type RunOptions } from './parallelRunner.js';
import { firstPass, PassResults, selectionTargets, type PassSpec, type RankPair, type SelectionOptions, type SeriesValues } from './selectionPasses.js';
import { MOMENT_FIELDS } from './blockMoments.js';
import { blockCount, blockRange, type BlockRange, type SimulationBuffers, type SimulationPlan } from './simulation.js';

/**
 * Runs the selection passes (selectionPasses.ts) over a range of blocks: the range is
 * simulated a chunk of blocks at a time with stores for that chunk only (on the same
 * threads and kernel as any shard: the same numbers), and each chunk's values are counted
 * or kept; the chunk's stores are then dropped. Memory: one chunk's stores, whatever the
 * range.
 */

/** Blocks a chunk: 256 x 4096 paths, about 8 MiB a stored series. */
export const CHUNK_BLOCKS = 256;

/** Each series' values in buffers holding `paths` paths (the stores' layout, simulation.ts). */
export function seriesValuesOf(plan: SimulationPlan, buffers: SimulationBuffers, paths: number): SeriesValues {
  return (series) => {
    if (series < plan.assets) return buffers.terminalPrices.subarray(series * paths, (series + 1) * paths);
    if (series === plan.assets) return buffers.portfolioTerminal.subarray(0, paths);
    const j = series - plan.assets;
    return buffers.bandValues.subarray((j - 1) * paths, j * paths);
  };
}

/** What the first pass also records for the merge: every block's moments, and the sample paths if it holds block 0. */
export interface FirstPassExtras {
  readonly blockMoments: Float64Array;
  samplePaths: Float64Array;
}

/**
 * Runs pass `spec` over the blocks of `range`: its partial results, and with `extras` the
 * range's block moments and sample paths (the first pass's).
 */
export async function runSelectionPass(
  plan: SimulationPlan,
  confidenceLevels: readonly number[],
  range: BlockRange,
  spec: PassSpec,
  pairs: readonly RankPair[],
  options: RunOptions = {},
  extras?: FirstPassExtras,
): Promise<{ readonly results: PassResults; readonly threads: number }> {
  const results = new PassResults(spec, pairs);
  const stride = (plan.assets + 1) * MOMENT_FIELDS;
  let threads = 1;
  for (let first = range.first; first < range.first + range.blocks; first += CHUNK_BLOCKS) {
    const chunk = blockRange(plan, first, Math.min(CHUNK_BLOCKS, range.first + range.blocks - first));
    const ran = await runShardSimulation(plan, confidenceLevels, chunk, { ...options, brackets: false, onProgress: undefined });
    threads = Math.max(threads, ran.threads);
    results.scan(seriesValuesOf(plan, ran.buffers, chunk.paths), chunk.paths);
    if (extras) {
      extras.blockMoments.set(ran.buffers.blockMoments.subarray(0, chunk.blocks * stride), (first - range.first) * stride);
      if (first === 0) extras.samplePaths = Float64Array.from(ran.buffers.samplePaths);
    }
    options.onProgress?.((first + chunk.blocks - range.first) / range.blocks);
  }
  return { results, threads };
}

const pilots = new Map<string, Promise<PassSpec>>();

/**
 * The first pass of a job (its windows from a pilot of the job's first blocks), computed
 * once per process and key (the split's fingerprint).
 */
export function firstPassOf(
  key: string,
  plan: SimulationPlan,
  confidenceLevels: readonly number[],
  selection: SelectionOptions,
  options: RunOptions = {},
): Promise<PassSpec> {
  const known = pilots.get(key);
  if (known) return known;
  const pairs = selectionTargets(plan, confidenceLevels);
  const blocks = Math.min(blockCount(plan), selection.pilotBlocks ?? 8);
  const pilot = (async () => {
    const range = blockRange(plan, 0, blocks);
    const { buffers } = await runShardSimulation(plan, confidenceLevels, range, { ...options, brackets: false, onProgress: undefined });
    return firstPass(pairs, seriesValuesOf(plan, buffers, range.paths), selection);
  })();
  if (pilots.size >= 4) pilots.delete(pilots.keys().next().value!);
  pilots.set(key, pilot);
  pilot.catch(() => pilots.delete(key));
  return pilot;
}
