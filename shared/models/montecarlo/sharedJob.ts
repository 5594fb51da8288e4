import { simulateBlock, type SimulationBuffers, type SimulationPlan } from './simulation.js';
import { runStatisticsTask, statisticsInputsOf, type StatisticsLayout } from './statisticsTasks.js';

/**
 * One job as every thread that works on it sees it: the plan, shared outputs and counters.
 * The calling thread and the pooled workers simulate on the same counters, then take the
 * statistics tasks (parallelRunner.ts).
 */
export interface SharedJob {
  readonly plan: SimulationPlan;
  readonly buffers: SimulationBuffers;
  /**
   * [NEXT_BLOCK]: next block to claim (claimed with Atomics.add, so no two threads share
   * one); [BLOCKS_DONE]: blocks simulated, notified on each, BLOCKS_ABORTED past the block
   * count when the job is given up; [NEXT_TASK]: next statistics task to claim.
   */
  readonly counters: Int32Array;
  readonly blocks: number;
  /** The plan's block that claim 0 simulates: 0, or a shard's first block (shards.ts). */
  readonly firstBlock: number;
  readonly confidenceLevels: Float64Array;
  readonly layout: StatisticsLayout;
  /** The statistics tasks' numbers (statisticsTasks.ts). */
  readonly statistics: Float64Array;
  /** Tells this job's messages from another's on a shared worker. */
  readonly job: number;
}

/** Indices into SharedJob.counters. */
export const NEXT_BLOCK = 0;
export const BLOCKS_DONE = 1;
export const NEXT_TASK = 2;
export const COUNTERS = 3;
/** Added to counters[BLOCKS_DONE] to release the workers of a job that was given up. */
export const BLOCKS_ABORTED = 1 << 30;

/** Simulates blocks until none is left to claim, counting each and calling `onBlock`. */
export function simulateClaimedBlocks(job: SharedJob, onBlock: () => void): void {
  const { counters, blocks } = job;
  for (let block = Atomics.add(counters, NEXT_BLOCK, 1); block < blocks; block = Atomics.add(counters, NEXT_BLOCK, 1)) {
    simulateBlock(job.plan, job.firstBlock + block, job.buffers);
    Atomics.add(counters, BLOCKS_DONE, 1);
    Atomics.notify(counters, BLOCKS_DONE);
    onBlock();
  }
}

/**
 * `simulateClaimedBlocks` for the calling thread of a job that reports progress: after a
 * block whose `onBlock` returns true (a progress mark was reported, about ten times a job)
 * it lets the event loop run once, so that the progress write to status.json goes out
 * while the paths are simulated rather than after. The blocks and their order of reduction
 * are the same, so the numbers are too.
 */
export async function simulateClaimedBlocksYielding(job: SharedJob, onBlock: () => boolean): Promise<void> {
  const { counters, blocks } = job;
  for (let block = Atomics.add(counters, NEXT_BLOCK, 1); block < blocks; block = Atomics.add(counters, NEXT_BLOCK, 1)) {
    simulateBlock(job.plan, job.firstBlock + block, job.buffers);
    Atomics.add(counters, BLOCKS_DONE, 1);
    Atomics.notify(counters, BLOCKS_DONE);
    if (onBlock()) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Runs statistics tasks until none is left to claim. Every path must be simulated. */
export function runClaimedStatistics(job: SharedJob): void {
  const { counters, layout } = job;
  if (layout.tasks === 0) return; // a shard's run: its statistics come after the merge
  const inputs = statisticsInputsOf(job.plan, job.buffers);
  for (let task = Atomics.add(counters, NEXT_TASK, 1); task < layout.tasks; task = Atomics.add(counters, NEXT_TASK, 1)) {
    runStatisticsTask(task, job.plan, inputs, job.confidenceLevels, layout, job.statistics);
  }
}
