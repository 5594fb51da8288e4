import { parentPort } from 'node:worker_threads';
import { allocateValues, type OptionBatch, type OptionValues } from './optionBatch.js';
import { readOptionColumns, type ReadOptions } from './optionsReader.js';
import { chunkCounter, valueChunks } from './sharedChunks.js';

/**
 * What the job asks of a worker: take chunks of the batch from the shared counter `next`
 * (sharedChunks.ts) until none is left, valuing them into `values` (shared memory, like the
 * batch) and writing their JSON.
 */
export interface ValuationTask {
  readonly batch: OptionBatch;
  readonly values: OptionValues;
  readonly next: Int32Array;
}

/**
 * What the command line asks of a worker before the job is parsed (speculativeValuation.ts):
 * read the options from the job's bytes, say so with its columns (SpeculatedReply), and value
 * them as a ValuationTask. A worker that cannot read them says so (null) and waits for a task.
 */
export interface SpeculationTask {
  readonly jobBytes: Uint8Array;
  /** Fewer options than this: not worth a second thread, and not read. */
  readonly minimumOptions: number;
}

/**
 * The task a worker gave itself from a job's bytes, with what else the reading told: which
 * fields each option gave, where the options' array and each number lie in the bytes (ReadOptions).
 */
export interface SpeculatedTask extends ValuationTask, ReadOptions {}

/** The worker's first answer to a speculation: the task it gave itself, or null. */
export interface SpeculatedReply {
  readonly speculated: SpeculatedTask | null;
}

/**
 * The worker's answer once no chunk is left: the implied-volatility errors of the options it
 * valued, and the JSON of each chunk it took (UTF-8 chunks whose memory is handed over, not copied).
 */
export interface ValuedReply {
  readonly errors: readonly (readonly [number, string])[];
  readonly chunks: readonly (readonly [number, readonly Uint8Array[]])[];
}

export type WorkerMessage = SpeculatedReply | ValuedReply;

// One valuation a worker: the job starts it for a large batch and ends it once answered.
parentPort?.on('message', (task: ValuationTask | SpeculationTask) => {
  if ('jobBytes' in task) {
    const read = readOptionColumns(task.jobBytes, task.minimumOptions);
    const speculated = read && { ...read, values: allocateValues(read.batch.count, true), next: chunkCounter() };
    parentPort?.postMessage({ speculated } satisfies SpeculatedReply);
    if (speculated) value(speculated);
    return;
  }
  value(task);
});

function value(task: ValuationTask): void {
  const { errors, json } = valueChunks(task.batch, task.values, task.next);
  const chunks = [...json];
  parentPort?.postMessage({ errors: [...errors], chunks } satisfies ValuedReply, transferable(chunks.flatMap(([, bytes]) => bytes)));
}

/** The chunks' memory to hand over: each chunk's own ArrayBuffer (optionsJsonChunks never writes into Node's shared pool). */
function transferable(chunks: readonly Uint8Array[]): ArrayBuffer[] {
  return [...new Set(chunks.map((chunk) => chunk.buffer as ArrayBuffer))];
}
