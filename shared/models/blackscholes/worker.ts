import { parentPort } from 'node:worker_threads';
import { optionResults, optionsJsonChunks, valueOptions, type OptionBatch, type OptionValues } from './optionBatch.js';

/** What the job asks of a worker: value options `from` to `to` of the batch into `values` (shared memory). */
export interface ValuationTask {
  readonly batch: OptionBatch;
  readonly values: OptionValues;
  readonly from: number;
  readonly to: number;
}

/** The worker's first answer, once its range is valued (into the shared values): the range's implied-volatility errors. */
export interface ValuedReply {
  readonly errors: readonly (readonly [number, string])[];
}

/**
 * Its second: the range's entries of `result.options` as JSON in UTF-8 chunks (after a ',':
 * the job's own entries come first), whose memory is handed over, not copied.
 */
export interface WrittenReply {
  readonly json: readonly Uint8Array[];
}

// One task a worker: the job starts it for a large batch and ends it once answered. The job
// reads the values as soon as they are in (it draws the chart) while the JSON is written here.
parentPort?.once('message', (task: ValuationTask) => {
  const { batch, values, from, to } = task;
  const errors = valueOptions(batch, values, from, to);
  parentPort?.postMessage({ errors: [...errors] } satisfies ValuedReply);
  const json = optionsJsonChunks(to - from, (a, b) => optionResults(batch, values, errors, from + a, from + b), true);
  parentPort?.postMessage({ json } satisfies WrittenReply, transferable(json));
});

/** The chunks' memory to hand over: each chunk's own ArrayBuffer (optionsJsonChunks never writes into Node's shared pool). */
function transferable(chunks: readonly Uint8Array[]): ArrayBuffer[] {
  return [...new Set(chunks.map((chunk) => chunk.buffer as ArrayBuffer))];
}
