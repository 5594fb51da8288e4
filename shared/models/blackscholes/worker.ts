import { parentPort } from 'node:worker_threads';
import { optionResults, valueOptions, type OptionBatch, type OptionValues } from './optionBatch.js';

/** What the job asks of a worker: value options `from` to `to` of the batch into `values` (shared memory). */
export interface ValuationTask {
  readonly batch: OptionBatch;
  readonly values: OptionValues;
  readonly from: number;
  readonly to: number;
}

/** The worker's answer: the range's implied-volatility errors and its entries of `result.options` as JSON (an array). */
export interface ValuationReply {
  readonly errors: readonly (readonly [number, string])[];
  readonly json: string;
}

// One task a worker: the job starts it for a large batch and ends it once answered.
parentPort?.once('message', (task: ValuationTask) => {
  const errors = valueOptions(task.batch, task.values, task.from, task.to);
  const json = JSON.stringify(optionResults(task.batch, task.values, errors, task.from, task.to));
  parentPort?.postMessage({ errors: [...errors], json } satisfies ValuationReply);
});
