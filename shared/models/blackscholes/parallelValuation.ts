import { availableParallelism } from 'node:os';
import { allocateBatch, allocateValues, batchEntries, optionResults, optionsJsonChunks, valueOptions, type OptionBatch, type OptionEntries } from './optionBatch.js';
import { chunkCount, chunkCounter, valueChunk, valueChunks } from './sharedChunks.js';
import { adoptSpeculation } from './speculativeValuation.js';
import { defaultWorkerUrl, workerValuation } from './valuationWorker.js';

export { defaultWorkerUrl, prewarmValuationWorker } from './valuationWorker.js';

/**
 * From this many options on, a batch is valued on two threads when two cores are there
 * (valuationThreads): a worker takes chunks of it and writes their part of the result's
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
   * `JSON.stringify(options)` without its brackets, as UTF-8 chunks in order, each written by
   * the thread that valued it (optionsJsonChunks).
   */
  readonly optionsJson?: readonly Uint8Array[];
  /** Threads that valued it: 2 when a worker took part, else 1. */
  readonly threads: number;
  /** Whether a worker had started on it from the job's bytes (speculativeValuation.ts). */
  readonly speculative?: boolean;
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

/** How valueBatch goes about it. */
export interface ValueBatchOptions {
  /** Whether to write the options' JSON (ValuedBatch.optionsJson); always on two threads. @default false */
  readonly json?: boolean;
  /** @default defaultWorkerUrl() */
  readonly workerUrl?: URL;
  /**
   * Called on this thread once every option is valued, with the entries (the job draws its chart there).
   */
  readonly whenValued?: (entries: OptionEntries) => void;
}

/**
 * Prices every option of `batch` with its Greeks and solves its quotes' implied volatilities,
 * on this thread, or with `threads` = 2 (a batch from newBatch with 2) on this one and a
 * worker, which take chunks of it out of each other's way (sharedChunks.ts) and write each
 * chunk's JSON. Before taking its first chunk, this thread lets work already queued on it run
 * (the job's digest, which the lifecycle queues as the run starts): the worker values
 * meanwhile, and takes more chunks. The entries and their bytes are the same either way (the
 * same code on the same numbers); if the worker cannot start or fails, this thread values
 * and writes the chunks it has no answer for.
 */
export async function valueBatch(batch: OptionBatch, threads: number, options: ValueBatchOptions = {}): Promise<ValuedBatch> {
  const { json = false, workerUrl = defaultWorkerUrl(), whenValued } = options;
  const n = batch.count;
  if (threads <= 1 || n < 2) {
    const values = allocateValues(n, false);
    const errors = valueOptions(batch, values, 0, n);
    const entries = batchEntries(batch, values, errors);
    whenValued?.(entries);
    const optionsJson = json ? optionsJsonChunks(n, (a, b) => optionResults(batch, values, errors, a, b), false) : undefined;
    return { entries, ...(optionsJson && { optionsJson }), threads: 1 };
  }
  // A worker that started on these very options from the job's bytes carries on; else one starts now.
  const adopted = await adoptSpeculation(batch);
  const { batch: columns, values, next } = adopted?.task ?? { batch, values: allocateValues(n, true), next: chunkCounter() };
  const worker = adopted?.answered ?? workerValuation(workerUrl, { batch: columns, values, next });
  await new Promise<void>((resolve) => setImmediate(resolve));
  const done = valueChunks(columns, values, next);
  let threadsUsed = 2;
  try {
    const reply = await worker;
    for (const [i, error] of reply.errors) done.errors.set(i, error);
    for (const [chunk, bytes] of reply.chunks) done.json.set(chunk, bytes);
  } catch {
    // The worker's chunks, whatever it did of them, are valued and written again here (to the same values).
    for (let chunk = 0; chunk < chunkCount(n); chunk++) if (!done.json.has(chunk)) valueChunk(columns, values, chunk, done);
    threadsUsed = 1;
  }
  const entries = batchEntries(columns, values, done.errors);
  whenValued?.(entries);
  const optionsJson: Uint8Array[] = [];
  for (let chunk = 0; chunk < chunkCount(n); chunk++) optionsJson.push(...(done.json.get(chunk) as readonly Uint8Array[]));
  return { entries, optionsJson, threads: threadsUsed, speculative: adopted !== null };
}
