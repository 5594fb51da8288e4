import { optionResults, optionsJsonChunks, valueOptions, type OptionBatch, type OptionValues } from './optionBatch.js';

/**
 * Options a chunk: the unit the two threads of a large batch take from each other's way
 * (valueChunks). Small enough that the thread left with the last chunk keeps the other
 * waiting ~10 ms at most; large enough that a chunk's JSON (~0.9 MB) fills one buffer.
 */
export const CHUNK_OPTIONS = 2000;

/** How many chunks a batch of `count` options has. */
export function chunkCount(count: number): number {
  return Math.ceil(count / CHUNK_OPTIONS);
}

/** The chunks one thread valued: their implied-volatility errors, and each chunk's JSON by its index. */
export interface ChunksDone {
  readonly errors: Map<number, string>;
  readonly json: Map<number, readonly Uint8Array[]>;
}

/**
 * Takes chunks of the batch, one at a time, from the counter both threads share (`next`, an
 * Int32Array on shared memory), until none is left: values each chunk's options into `values`
 * and writes their entries of `result.options` as JSON (after a ',' unless it is the first
 * chunk). Whichever thread is free takes the next chunk, so neither waits for a fixed half
 * while the other is busy with something else (the job's thread with the job's digest, a
 * worker still starting). Atomics.add hands every chunk to exactly one thread.
 */
export function valueChunks(batch: OptionBatch, values: OptionValues, next: Int32Array, done: ChunksDone = { errors: new Map(), json: new Map() }): ChunksDone {
  const chunks = chunkCount(batch.count);
  for (let chunk = Atomics.add(next, 0, 1); chunk < chunks; chunk = Atomics.add(next, 0, 1)) valueChunk(batch, values, chunk, done);
  return done;
}

/** Values and writes one chunk (valueChunks's step; also this thread's way of redoing a failed worker's chunks). */
export function valueChunk(batch: OptionBatch, values: OptionValues, chunk: number, done: ChunksDone): void {
  const from = chunk * CHUNK_OPTIONS;
  const to = Math.min(batch.count, from + CHUNK_OPTIONS);
  const errors = valueOptions(batch, values, from, to);
  for (const [i, error] of errors) done.errors.set(i, error);
  done.json.set(chunk, optionsJsonChunks(to - from, (a, b) => optionResults(batch, values, errors, from + a, from + b), chunk > 0));
}

/** A counter for valueChunks, at 0, on shared memory. */
export function chunkCounter(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}
