import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../workerScript.js';
import { allocateBatch, allocateValues, batchEntries, optionResults, optionsJsonChunks, valueOptions, type OptionBatch, type OptionEntries } from './optionBatch.js';
import type { ValuationTask, ValuedReply, WrittenReply } from './worker.js';

/**
 * From this many options on, a batch is valued on two threads when two cores are there
 * (valuationThreads): a worker values the second half and writes its part of the result's
 * JSON, which with the valuation is most of the time of a large batch besides parsing (a
 * worker costs ~40 ms of start-up, hidden behind reading the job when the command line or the
 * job prewarms it). From this many options on, too, the result's JSON is written in chunks.
 */
export const PARALLEL_OPTIONS = 20_000;

/** A valued batch: `result.options`, and when asked for (or valued on two threads), their JSON. */
export interface ValuedBatch {
  /** The entries of `result.options`, each built from the batch's columns when read. */
  readonly entries: OptionEntries;
  /**
   * `JSON.stringify(options)` without its brackets, as UTF-8 chunks in order, each half
   * written by the thread that valued it (optionsJsonChunks).
   */
  readonly optionsJson?: readonly Uint8Array[];
  /** Threads that valued it: 2 when a worker took half, else 1. */
  readonly threads: number;
}

/**
 * How many threads value a batch of `count` options: 2 for a large batch on a machine with
 * two cores or more, else 1; `setting` (config BS_THREADS) says 1 or 2 instead of the cores.
 *
 * Not the load average: a user's machine normally has a core to spare, and a second thread
 * that finds none costs only its start-up and its share of the copy-free hand-over. (An
 * earlier rule, "the last minute's load leaves a core idle", kept the worker off on every
 * shared or busy machine, which is where it was measured.)
 */
export function valuationThreads(count: number, setting?: number): number {
  return count >= PARALLEL_OPTIONS && (setting ?? availableParallelism()) >= 2 ? 2 : 1;
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

/** How valueBatch goes about it. */
export interface ValueBatchOptions {
  /** Whether to write the options' JSON (ValuedBatch.optionsJson); always on two threads. @default false */
  readonly json?: boolean;
  /** @default defaultWorkerUrl() */
  readonly workerUrl?: URL;
  /**
   * Called on this thread once every option is valued, with the entries: on two threads,
   * while the worker still writes its JSON (the job draws its chart there, off the critical path).
   */
  readonly whenValued?: (entries: OptionEntries) => void;
}

/**
 * Prices every option of `batch` with its Greeks and solves its quotes' implied volatilities,
 * on this thread, or with `threads` = 2 (a batch from newBatch with 2) on this one and a
 * worker, each taking half and writing that half's JSON. The entries and their bytes are the
 * same either way (the same code on the same numbers); if the worker cannot start or fails,
 * this thread values its half too.
 */
export async function valueBatch(batch: OptionBatch, threads: number, options: ValueBatchOptions = {}): Promise<ValuedBatch> {
  const { json = false, workerUrl = defaultWorkerUrl(), whenValued } = options;
  const n = batch.count;
  const values = allocateValues(n, threads > 1);
  if (threads <= 1 || n < 2) {
    const errors = valueOptions(batch, values, 0, n);
    const entries = batchEntries(batch, values, errors);
    whenValued?.(entries);
    const optionsJson = json ? optionsJsonChunks(n, (a, b) => optionResults(batch, values, errors, a, b), false) : undefined;
    return { entries, ...(optionsJson && { optionsJson }), threads: 1 };
  }
  const split = Math.max(1, Math.floor(n * THIS_THREAD_SHARE));
  const worker = workerValuation(workerUrl, { batch, values, from: split, to: n });
  const errors = valueOptions(batch, values, 0, split);
  const firstJson = optionsJsonChunks(split, (a, b) => optionResults(batch, values, errors, a, b), false);
  // The worker's half written here, should the worker fail (its values, if it gave them, are in the shared columns).
  const secondHalfJson = () => optionsJsonChunks(n - split, (a, b) => optionResults(batch, values, errors, split + a, split + b), true);
  let secondJson: Promise<readonly Uint8Array[]>;
  let threadsUsed = 2;
  try {
    for (const [i, error] of (await worker.valued).errors) errors.set(i, error);
    secondJson = worker.written.then((reply) => reply.json, secondHalfJson);
  } catch {
    for (const [i, error] of valueOptions(batch, values, split, n)) errors.set(i, error);
    secondJson = Promise.resolve(secondHalfJson());
    threadsUsed = 1;
  }
  const entries = batchEntries(batch, values, errors);
  whenValued?.(entries);
  return { entries, optionsJson: [...firstJson, ...(await secondJson)], threads: threadsUsed };
}

/**
 * The part of a two-thread batch this thread values (and writes); it then draws the chart
 * (whenValued) while the worker still writes. More than half: the worker runs its code cold
 * (it has not warmed it up on anything), and measured with half each this thread waited for it
 * after the chart (0-320 ms of 2-3 s, on the loaded 2-core machine).
 */
const THIS_THREAD_SHARE = 0.55;

/**
 * The worker's young generation capped: everything it allocates but the JSON's bytes dies
 * within a group of entries, so a small nursery costs little, while V8's default (semi-spaces
 * growing to 16 MB each) let the worker's heap add up to ~60 MB to the process's peak in some
 * runs (peak RSS 243-253 MB with the cap in 15 runs; 243-314 MB without it in 8).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 6 };

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
  if (prewarmed !== undefined || valuationThreads(PARALLEL_OPTIONS, threadsSetting()) < 2) return;
  try {
    prewarmed = start(url);
    prewarmed.worker.unref();
  } catch {
    prewarmed = undefined; // valueBatch tries again, and falls back to this thread
  }
}

/** BS_THREADS as the environment gives it (the job reads it from its parsed config): a bad value counts as unset here. */
function threadsSetting(): number | undefined {
  const setting = Number(process.env.BS_THREADS);
  return setting === 1 || setting === 2 ? setting : undefined;
}

function start(url: URL): StartedWorker {
  const worker = startWorker(url, WORKER_LIMITS);
  const ended = new Promise<Error>((resolve) => {
    worker.once('error', resolve);
    worker.once('exit', (code) => resolve(new Error(`The Black-Scholes worker exited (${code}) before answering.`)));
  });
  return { worker, url: url.href, ended };
}

/** A worker's two answers to a task; each rejects if the worker fails or exits before giving it. */
interface WorkerValuation {
  readonly valued: Promise<ValuedReply>;
  readonly written: Promise<WrittenReply>;
}

/** Runs `task` on the prewarmed worker or a new one, which is ended once it has answered (or failed). */
function workerValuation(url: URL, task: ValuationTask): WorkerValuation {
  let started = prewarmed;
  prewarmed = undefined;
  if (started === undefined || started.url !== url.href) {
    if (started) void started.worker.terminate();
    try {
      started = start(url);
    } catch (error) {
      // Not started (a worker that cannot be made at all): both answers fail, and the job values on.
      const failed = Promise.reject(error as Error);
      failed.catch(() => undefined);
      return { valued: failed, written: failed };
    }
  }
  const { worker, ended } = started;
  worker.ref(); // the job waits on it
  const failed = ended.then((error) => Promise.reject(error));
  // One listener for both answers, told apart by their fields: none can slip past between two.
  let onValued: (reply: ValuedReply) => void = () => {};
  let onWritten: (reply: WrittenReply) => void = () => {};
  worker.on('message', (reply: ValuedReply | WrittenReply) => ('errors' in reply ? onValued(reply) : onWritten(reply)));
  const valued = Promise.race([new Promise<ValuedReply>((resolve) => (onValued = resolve)), failed]);
  const written = Promise.race([new Promise<WrittenReply>((resolve) => (onWritten = resolve)), failed]);
  written.catch(() => undefined).finally(() => void worker.terminate());
  worker.postMessage(task);
  return { valued, written };
}
