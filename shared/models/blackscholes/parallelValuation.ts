import { availableParallelism } from 'node:os';
import { startWorker } from '../../workerScript.js';
import { allocateBatch, allocateValues, optionResults, valueOptions, type OptionBatch } from './optionBatch.js';
import type { BlackScholesOptionResult } from './result.js';
import type { ValuationReply, ValuationTask } from './worker.js';

/**
 * From this many options on, a batch is valued on two threads: a worker takes the second half
 * and writes its part of the result's JSON, which is most of the time of a large batch besides
 * parsing (a worker costs ~40 ms to start, hidden behind the first half).
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

/** How many threads value a batch of `count` options: 2 for a large batch on a machine with two cores, else 1. */
export function valuationThreads(count: number): number {
  return count >= PARALLEL_OPTIONS && availableParallelism() >= 2 ? 2 : 1;
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
 * worker, each taking half. The entries are the same either way (the same code on the same
 * numbers); if the worker cannot start or fails, this thread values its half too.
 */
export async function valueBatch(batch: OptionBatch, threads: number, workerUrl: URL = defaultWorkerUrl()): Promise<ValuedBatch> {
  const n = batch.count;
  const values = allocateValues(n, threads > 1);
  if (threads <= 1 || n < 2) {
    const errors = valueOptions(batch, values, 0, n);
    return { options: optionResults(batch, values, errors, 0, n), threads: 1 };
  }
  const half = n >> 1;
  const reply = workerValuation(workerUrl, { batch, values, from: half, to: n });
  const firstErrors = valueOptions(batch, values, 0, half);
  const first = optionResults(batch, values, firstErrors, 0, half);
  const firstJson = JSON.stringify(first);
  let second: ValuationReply;
  let threadsUsed = 2;
  try {
    second = await reply;
  } catch {
    const errors = valueOptions(batch, values, half, n);
    second = { errors: [...errors], json: JSON.stringify(optionResults(batch, values, errors, half, n)) };
    threadsUsed = 1;
  }
  const options = first.concat(optionResults(batch, values, new Map(second.errors), half, n));
  // JSON.stringify of an array is '[' + its entries' JSON joined by ',' + ']': the halves' texts joined.
  return { options, optionsJson: `[${firstJson.slice(1, -1)},${second.json.slice(1, -1)}]`, threads: threadsUsed };
}

/** Runs `task` on a new worker thread; rejects if the worker fails or exits without answering. */
function workerValuation(url: URL, task: ValuationTask): Promise<ValuationReply> {
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = startWorker(url);
    } catch (error) {
      reject(error as Error);
      return;
    }
    worker.once('message', (reply: ValuationReply) => {
      resolve(reply);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`The Black-Scholes worker exited (${code}) before answering.`)));
    worker.postMessage(task);
  });
}
