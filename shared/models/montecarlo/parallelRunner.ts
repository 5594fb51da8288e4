import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../workerScript.js';
import { INLINE_PATH_STEPS } from './limits.js';
import {
  BLOCKS_ABORTED,
  BLOCKS_DONE,
  COUNTERS,
  runClaimedStatistics,
  simulateClaimedBlocksYielding,
  type SharedJob,
} from './sharedJob.js';
import { allocateBuffers, blockCount, type BlockRange, type SimulationBuffers, type SimulationPlan } from './simulation.js';
import { readStatistics, statisticsLayout, type JobStatistics } from './statisticsTasks.js';
import type { WorkerMessage } from './worker.js';

/** Most worker threads one job starts, whatever the machine offers. */
export const MAX_THREADS = 16;

export interface RunOptions {
  /** Requested threads, the calling one included; default os.availableParallelism(), capped at MAX_THREADS. */
  readonly threads?: number;
  /** Called with the fraction of paths done, about every 10%, and once with 1. */
  readonly onProgress?: (fractionDone: number) => void;
  /** The worker script; default defaultWorkerUrl(). */
  readonly workerUrl?: URL;
  /**
   * Brackets instead of stores for large one-asset jobs (allocateBuffers); default true.
   * The results are the same either way (the expected shortfall to ~1e-15 relative: its
   * sum runs in another order).
   */
  readonly brackets?: boolean;
}

export interface RunOutcome {
  readonly buffers: SimulationBuffers;
  /** The job's statistics (statisticsTasks.ts), computed by every thread that simulated. */
  readonly statistics: JobStatistics;
  /** Threads that simulated (1 when the job ran inline). */
  readonly threads: number;
}

/**
 * The worker script beside this module: `worker.ts` when running from source (vitest, tsx),
 * `montecarloWorker.js` in a bundle, where the build writes the worker next to the
 * function's index.js (this module's code is then inside index.js, so import.meta.url
 * points at the bundle).
 */
export function defaultWorkerUrl(here: string = import.meta.url): URL {
  return here.endsWith('.ts') ? new URL('./worker.ts', here) : new URL('./montecarloWorker.js', here);
}

/** Threads a job gets: the request (or all cores) capped by MAX_THREADS and by its blocks. */
export function threadsFor(plan: SimulationPlan, requested?: number): number {
  const pathSteps = plan.simulations * plan.timeSteps * plan.assets;
  if (pathSteps < INLINE_PATH_STEPS) return 1;
  const wanted = requested ?? availableParallelism();
  return Math.max(1, Math.min(wanted, MAX_THREADS, blockCount(plan)));
}

/**
 * Simulates every block of `plan`, inline or on this thread and `threads - 1` pooled
 * workers writing shared buffers, then computes the statistics (terminal summaries at
 * `confidenceLevels`, band percentiles) as tasks the same threads take. Each block's output
 * depends only on (seed, block index), and each task's only on the buffers, so the results
 * are bit-identical whatever the thread count or the order blocks finish in. With workers,
 * this thread claims blocks and tasks like them (its event loop is busy meanwhile: a
 * function instance runs one job at a time).
 */
export async function runSimulation(plan: SimulationPlan, confidenceLevels: readonly number[], options: RunOptions = {}): Promise<RunOutcome> {
  const threads = threadsFor(plan, options.threads);
  const blocks = blockCount(plan);
  const shared = threads > 1;
  const layout = statisticsLayout(plan, confidenceLevels.length);
  const Buffer = shared ? SharedArrayBuffer : ArrayBuffer;
  const job: SharedJob = {
    plan,
    buffers: allocateBuffers(plan, shared, options.brackets === false ? null : { confidenceLevels }),
    counters: new Int32Array(new Buffer(4 * COUNTERS)),
    blocks,
    firstBlock: 0,
    confidenceLevels: Float64Array.from(confidenceLevels),
    layout,
    statistics: new Float64Array(new Buffer(8 * layout.length)),
    job: ++jobCount,
  };
  await runSharedJob(job, threads, options);
  // Brackets that missed leave NaN statistics (statisticsTasks.ts): a 1e-15 event for the
  // law they assume, so simulating again, with stores, costs nothing on average.
  if ((job.buffers.bandBrackets || job.buffers.terminalBrackets) && job.statistics.some(Number.isNaN)) {
    return runSimulation(plan, confidenceLevels, { ...options, brackets: false });
  }
  return { buffers: job.buffers, statistics: readStatistics(layout, confidenceLevels, job.statistics), threads };
}

/**
 * Simulates blocks `range.first` .. `range.first + range.blocks - 1` of `plan` into buffers
 * of their own (allocateBuffers with the range), on the same threads as runSimulation and
 * with the same brackets, but computes no statistics: a shard's part of a job (shards.ts).
 * Each block's output depends only on (seed, block index), so the buffers hold exactly the
 * numbers one instance's buffers hold for those blocks.
 */
export async function runShardSimulation(
  plan: SimulationPlan,
  confidenceLevels: readonly number[],
  range: BlockRange,
  options: RunOptions = {},
): Promise<{ readonly buffers: SimulationBuffers; readonly threads: number }> {
  const slice: SimulationPlan = { ...plan, simulations: range.paths };
  const threads = threadsFor(slice, options.threads);
  const shared = threads > 1;
  const Buffer = shared ? SharedArrayBuffer : ArrayBuffer;
  const layout = { ...statisticsLayout(plan, confidenceLevels.length), tasks: 0 };
  const job: SharedJob = {
    plan,
    buffers: allocateBuffers(plan, shared, options.brackets === false ? null : { confidenceLevels }, range),
    counters: new Int32Array(new Buffer(4 * COUNTERS)),
    blocks: range.blocks,
    firstBlock: range.first,
    confidenceLevels: Float64Array.from(confidenceLevels),
    layout,
    statistics: new Float64Array(0),
    job: ++jobCount,
  };
  await runSharedJob(job, threads, options);
  return { buffers: job.buffers, threads };
}

/** Simulates every block of `job` and runs its statistics tasks, inline or with `threads - 1` pooled workers. */
async function runSharedJob(job: SharedJob, threads: number, options: RunOptions): Promise<void> {
  const { blocks } = job;
  const reportProgress = progressReporter(blocks, options.onProgress);
  const blocksDone = () => Math.min(blocks, Atomics.load(job.counters, BLOCKS_DONE));
  if (threads <= 1) {
    await simulateClaimedBlocksYielding(job, () => reportProgress(blocksDone()));
    runClaimedStatistics(job);
    return;
  }

  let allSimulated: () => void = () => {};
  const simulated = new Promise<void>((resolve) => (allSimulated = resolve));
  const onBlock = () => {
    const done = blocksDone();
    const reported = reportProgress(done);
    if (done === blocks) allSimulated();
    return reported;
  };
  const workers = pooledWorkers(options.workerUrl ?? defaultWorkerUrl(), threads - 1);
  const finished = Promise.all(workers.map((worker) => runOnWorker(worker, job, onBlock)));
  try {
    await simulateClaimedBlocksYielding(job, onBlock);
    // A worker may still be finishing a block; a failed worker rejects `finished`.
    await Promise.race([simulated, finished]);
    runClaimedStatistics(job);
    await finished;
  } catch (error) {
    // Release workers waiting for blocks that will never be simulated; the job has failed,
    // so what they do next (or a later failure of theirs) no longer matters.
    Atomics.add(job.counters, BLOCKS_DONE, BLOCKS_ABORTED);
    Atomics.notify(job.counters, BLOCKS_DONE);
    finished.catch(() => undefined);
    throw error;
  }
}

/**
 * Hands `job` to a pooled worker: resolves when it has finished its blocks and statistics tasks,
 * rejects if it fails or exits. `onBlock` runs for each block it reports.
 */
function runOnWorker(worker: Worker, job: SharedJob, onBlock: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (message: WorkerMessage) => {
      if (message.job !== job.job) return;
      if (message.kind === 'block') onBlock();
      else settle(resolve);
    };
    const onError = (error: Error) => settle(() => reject(error));
    const onExit = (code: number) => settle(() => reject(new Error(`Monte Carlo worker exited with code ${code} before finishing its blocks.`)));
    const settle = (then: () => void) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      worker.unref();
      then();
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.ref(); // a job in flight keeps the process alive
    worker.postMessage(job);
  });
}

let jobCount = 0;
const pools = new Map<string, Worker[]>();

/**
 * The first `count` workers of the pool for `url`, started if missing. Workers live for the
 * process (unref'd, so they never keep it alive): a warm function instance pays their
 * start-up and the JIT of their code once, not per job. A worker that dies leaves the pool.
 */
function pooledWorkers(url: URL, count: number): Worker[] {
  const pool = pools.get(url.href) ?? [];
  pools.set(url.href, pool);
  while (pool.length < count) {
    const worker = startWorker(url);
    worker.unref();
    worker.on('exit', () => pool.splice(pool.indexOf(worker) >>> 0, 1));
    worker.on('error', () => undefined); // reported to the job that was running
    pool.push(worker);
  }
  return pool.slice(0, count);
}

/**
 * Starts the worker threads a large job will use (one fewer than its threads: the calling
 * thread simulates too), so that they load while the process does other start-up work.
 * Called by the montecarlo function when it loads.
 */
export function prewarmWorkers(threads?: number, url: URL = defaultWorkerUrl()): void {
  pooledWorkers(url, Math.max(1, Math.min(threads ?? availableParallelism(), MAX_THREADS)) - 1);
}

/**
 * Stops every pooled worker (they restart on the next job). For one-shot processes such as
 * the command-line runner: stopping them while the result is written spares the wait for
 * their teardown at exit.
 */
export function stopWorkers(): Promise<void> {
  const all = [...pools.values()].flat();
  pools.clear();
  return Promise.all(all.map((worker) => worker.terminate())).then(() => undefined);
}

/**
 * Reports each crossing of a 10% mark of paths, given the number of blocks done so far
 * (from any thread, so calls may repeat a count), and 1 once when all are done.
 */
function progressReporter(blocks: number, onProgress?: (fractionDone: number) => void): (done: number) => boolean {
  let reported = 0;
  return (done) => {
    if (!onProgress || reported >= 1) return false;
    const fraction = done / blocks;
    if (fraction >= 1 || Math.floor(fraction * 10) > Math.floor(reported * 10)) {
      reported = fraction;
      onProgress(fraction);
      return true;
    }
    return false;
  };
}
