import { availableParallelism, loadavg } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../workerScript.js';
import { allocateBatch, allocateValues, optionResults, valueOptions, type OptionBatch } from './optionBatch.js';
import type { BlackScholesOptionResult } from './result.js';
import type { ValuationReply, ValuationTask } from './worker.js';

/**
 * From this many options on, a batch is valued on two threads when a core is spare
 * (spareCore): a worker takes the second half and writes its part of the result's JSON, which
 * is most of the time of a large batch besides parsing (a worker costs ~40 ms to start, hidden
 * behind the first half).
 */
export const PARALLEL_OPTIONS = 20_000;

/** A valued batch: `result.options`, and, when valued on two threads, that array's JSON text. */
export interface ValuedBatch {
  readonly options: BlackScholesOptionResult[];
  /** `JSON.stringify(options)`, each half written by the thread that valued it. */
  readonly optionsJson?: string;
  /** Threads that valued it: 2 when a worker took half, else 1. */
  readonly threads: number;
}

/** How many threads value a batch of `count` options: 2 for a large batch when a core is spare, else 1. */
export function valuationThreads(count: number): number {
  return count >= PARALLEL_OPTIONS && spareCore() ? 2 : 1;
}

/**
 * Whether a second thread would have a core of its own: two cores or more, and the last
 * minute's load average leaves one idle. On a busy machine a worker only adds its start-up,
 * a second warm-up of the code and the copy of its answer: measured on the shared 2-core
 * machine at load 7-8, a 100,000-option job took 10-30% longer on two threads than on one
 * (and ~45 MB more memory).
 */
export function spareCore(): boolean {
  const cores = availableParallelism();
  return cores >= 2 && loadavg()[0] <= cores - 1;
}

/** An empty batch to fill, on shared memory when `threads` > 1. */
export function newBatch(count: number, symbols: readonly string[], threads: number): OptionBatch {
  return allocateBatch(count, symbols, threads > 1);
}

/**
 * The worker script beside this module: `worker.ts` from source (vitest, tsx),
 * `blackscholesWorker.js` in a bundle, which the build writes beside the bundle's chunks.
 */
export function defaultWorkerUrl(here: string = import.meta.url): URL {
  return here.endsWith('.ts') ? new URL('./worker.ts', here) : new URL('./blackscholesWorker.js', here);
}

/**
 * Prices every option of `batch` with its Greeks and solves its quotes' implied volatilities,
 * on this thread, or with `threads` = 2 (a batch from newBatch with 2) on this one and a
 * worker, each taking about half. The entries are the same either way (the same code on the
 * same numbers); if the worker cannot start or fails, this thread values its part too.
 */
export async function valueBatch(batch: OptionBatch, threads: number, workerUrl: URL = defaultWorkerUrl()): Promise<ValuedBatch> {
  const n = batch.count;
  const values = allocateValues(n, threads > 1);
  if (threads <= 1 || n < 2) {
    const errors = valueOptions(batch, values, 0, n);
    return { options: optionResults(batch, values, errors, 0, n), threads: 1 };
  }
  const split = Math.max(1, Math.floor(n * THIS_THREAD_SHARE));
  const reply = workerValuation(workerUrl, { batch, values, from: split, to: n });
  const firstErrors = valueOptions(batch, values, 0, split);
  const first = optionResults(batch, values, firstErrors, 0, split);
  const firstJson = JSON.stringify(first);
  let second: ValuationReply;
  let threadsUsed = 2;
  try {
    second = await reply;
  } catch {
    const errors = valueOptions(batch, values, split, n);
    second = { errors: [...errors], json: JSON.stringify(optionResults(batch, values, errors, split, n)) };
    threadsUsed = 1;
  }
  const options = first.concat(optionResults(batch, values, new Map(second.errors), split, n));
  // JSON.stringify of an array is '[' + its entries' JSON joined by ',' + ']': the parts' texts joined.
  return { options, optionsJson: `[${firstJson.slice(1, -1)},${second.json.slice(1, -1)}]`, threads: threadsUsed };
}

/**
 * The part of a two-thread batch this thread values. It also builds the worker's entries from
 * the shared values afterwards (~4% of valuing and encoding them), about what the worker's
 * answer takes to arrive (its 20 MB of JSON is copied across): measured, half and half.
 */
const THIS_THREAD_SHARE = 0.5;

/** A started worker, and what ends it if it fails or exits (it answers one task). */
interface StartedWorker {
  readonly worker: Worker;
  readonly url: string;
  readonly ended: Promise<Error>;
}

let prewarmed: StartedWorker | undefined;

/**
 * Starts the worker a large batch will use, so that it is up (~40 ms, more on a busy machine)
 * by the time the batch is resolved: the command line calls it once it has read a large job,
 * and the job once it sees a large batch. Idle, it does not keep the process alive.
 */
export function prewarmValuationWorker(url: URL = defaultWorkerUrl()): void {
  if (prewarmed !== undefined || !spareCore()) return;
  try {
    prewarmed = start(url);
    prewarmed.worker.unref();
  } catch {
    prewarmed = undefined; // valueBatch tries again, and falls back to this thread
  }
}

function start(url: URL): StartedWorker {
  const worker = startWorker(url);
  const ended = new Promise<Error>((resolve) => {
    worker.once('error', resolve);
    worker.once('exit', (code) => resolve(new Error(`The Black-Scholes worker exited (${code}) before answering.`)));
  });
  return { worker, url: url.href, ended };
}

/** Runs `task` on the prewarmed worker or a new one; rejects if the worker fails or exits without answering. */
async function workerValuation(url: URL, task: ValuationTask): Promise<ValuationReply> {
  let started = prewarmed;
  prewarmed = undefined;
  if (started === undefined || started.url !== url.href) {
    if (started) void started.worker.terminate();
    started = start(url);
  }
  const { worker, ended } = started;
  worker.ref(); // the job waits on it
  try {
    const answer = new Promise<ValuationReply>((resolve) => worker.once('message', resolve));
    worker.postMessage(task);
    return await Promise.race([answer, ended.then((error) => Promise.reject(error))]);
  } finally {
    void worker.terminate();
  }
}
