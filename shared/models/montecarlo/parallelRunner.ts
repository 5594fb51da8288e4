import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { INLINE_PATH_STEPS } from './limits.js';
import {
  allocateBuffers,
  blockCount,
  simulateBlock,
  type SimulationBuffers,
  type SimulationPlan,
} from './simulation.js';
import { interiorBandQuantiles } from './statistics.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

/** Most worker threads one job starts, whatever the machine offers. */
export const MAX_THREADS = 16;

export interface RunOptions {
  /** Requested threads; default os.availableParallelism(), capped at MAX_THREADS. */
  readonly threads?: number;
  /** Called with the fraction of paths done, about every 10%, and once with 1. */
  readonly onProgress?: (fractionDone: number) => void;
  /** The worker script; default defaultWorkerUrl(). */
  readonly workerUrl?: URL;
}

/**
 * Work on the terminal values for the main thread, run as soon as every path is simulated:
 * with workers, while they compute the band percentiles.
 */
export type TerminalWork = (buffers: SimulationBuffers) => void;

export interface RunOutcome {
  readonly buffers: SimulationBuffers;
  /**
   * Percentiles of the interior band points (interiorBandQuantiles), computed where the
   * paths were: on the workers, in parallel. The band values are left reordered.
   */
  readonly bandQuantiles: Float64Array;
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
 * Simulates every block of `plan`, inline or on worker threads writing shared buffers.
 * Each block's output depends only on (seed, block index), so the buffers are bit-identical
 * whatever the thread count or the order blocks finish in.
 */
export async function runSimulation(plan: SimulationPlan, options: RunOptions = {}, terminalWork: TerminalWork = () => {}): Promise<RunOutcome> {
  const threads = threadsFor(plan, options.threads);
  const blocks = blockCount(plan);
  let simulated = 0;
  let terminalFailure: unknown;
  const reportProgress = progressReporter(blocks, options.onProgress);
  const progress = () => {
    reportProgress();
    if (++simulated !== blocks) return;
    // Runs inside a worker's message event: keep a failure for the caller, not the event loop.
    try {
      terminalWork(buffers);
    } catch (error) {
      terminalFailure = error;
    }
  };
  const interior = Math.max(0, plan.bandSteps.length - 2);
  const buffers = allocateBuffers(plan, threads > 1);
  if (threads === 1) {
    for (let b = 0; b < blocks; b++) {
      simulateBlock(plan, b, buffers);
      progress();
    }
    if (terminalFailure) throw terminalFailure;
    const bandQuantiles = new Float64Array(5 * interior);
    for (let j = 1; j <= interior; j++) interiorBandQuantiles(buffers.bandValues, plan.simulations, j, bandQuantiles);
    return { buffers, bandQuantiles, threads };
  }
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const url = options.workerUrl ?? defaultWorkerUrl();
  const bandQuantiles = new Float64Array(new SharedArrayBuffer(8 * 5 * Math.max(1, interior)));
  const input: WorkerInput = {
    plan,
    buffers,
    counter,
    blocks,
    finished: new Int32Array(new SharedArrayBuffer(4)),
    threads,
    bandCounter: new Int32Array(new SharedArrayBuffer(4)),
    bandQuantiles,
    job: ++jobCount,
  };
  const workers = pooledWorkers(url, threads);
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          const onMessage = (message: WorkerMessage) => {
            if (message.job !== input.job) return;
            if (message.kind === 'block') progress();
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
          worker.postMessage(input);
        }),
    ),
  );
  if (terminalFailure) throw terminalFailure;
  return { buffers, bandQuantiles, threads };
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
 * Starts the worker threads a large job will use, so that they load while the process does
 * other start-up work. Called by the montecarlo function when it loads.
 */
export function prewarmWorkers(threads?: number, url: URL = defaultWorkerUrl()): void {
  pooledWorkers(url, Math.max(1, Math.min(threads ?? availableParallelism(), MAX_THREADS)));
}

/**
 * Starts a worker on `url`. A .ts worker (vitest, tsx) is loaded through tsx's CommonJS
 * register hook from a small eval'd bootstrap: under Node 20 a worker does not inherit the
 * parent's ESM loader hooks, and `execArgv: ['--import', 'tsx']` is not honoured when the
 * parent itself runs under tsx. A bundled .js worker is started directly.
 */
function startWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const tsxRegister = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsxRegister)}).register(); require(${JSON.stringify(fileURLToPath(url))});`;
  return new Worker(bootstrap, { eval: true });
}

/** Counts finished blocks and reports each crossing of a 10% mark of paths. */
function progressReporter(blocks: number, onProgress?: (fractionDone: number) => void): () => void {
  let done = 0;
  let reported = 0;
  return () => {
    done++;
    if (!onProgress) return;
    const fraction = done / blocks;
    if (fraction >= 1 || Math.floor(fraction * 10) > Math.floor(reported * 10)) {
      reported = fraction;
      onProgress(fraction);
    }
  };
}
