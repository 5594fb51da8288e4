import type { OptionBatch } from './optionBatch.js';
import { answerOf, defaultWorkerUrl, keepIdleWorker, secondThreadExpected, startValuationWorker, type StartedWorker } from './valuationWorker.js';
import type { SpeculatedReply, SpeculatedTask, ValuationTask, ValuedReply, WorkerMessage } from './worker.js';

/**
 * A large batch valued before its job is validated. The command line has the job's bytes
 * before the job's thread has validated them; a worker reads the options from the bytes in
 * ~0.1 s (optionsReader.ts) and starts valuing them, chunk by chunk, while that thread is
 * busy. The command line gives the job those very columns as its options where the schema
 * accepts them (speculatedRead, presentedOptions.ts). When the job's thread reaches its batch,
 * it adopts the worker's work only if the worker's columns are its own, bit for bit (the same
 * columns, for presented options): otherwise (a job with defaults or symbols, an invalid job)
 * the worker is stopped and the batch is valued as if nothing had happened. Either way the
 * result is the same bytes.
 */
interface Speculation {
  readonly started: StartedWorker;
  /** The task the worker gave itself, or null if it read no batch (or failed). */
  readonly speculated: Promise<SpeculatedTask | null>;
  /** Its answer, listened for from the start (it may come before the job's thread adopts it). */
  readonly answered: Promise<ValuedReply>;
}

let pending: Speculation | undefined;

/** Has a worker read and start valuing the options in `jobBytes` (a job's JSON; best on shared memory, which is not copied). */
export function speculateValuation(jobBytes: Uint8Array, minimumOptions: number, url: URL = defaultWorkerUrl()): void {
  if (pending !== undefined || !secondThreadExpected()) return;
  let started: StartedWorker;
  try {
    started = startValuationWorker(url);
  } catch {
    return;
  }
  const { worker, ended } = started;
  worker.unref(); // not adopted (an invalid job), it does not keep the process alive
  const speculated = Promise.race([
    new Promise<SpeculatedTask | null>((resolve) => {
      const onMessage = (message: WorkerMessage) => {
        if (!('speculated' in message)) return;
        worker.off('message', onMessage);
        resolve((message as SpeculatedReply).speculated);
      };
      worker.on('message', onMessage);
    }),
    ended.then(() => null),
  ]);
  const answered = answerOf(started, { keepAlive: false });
  worker.postMessage({ jobBytes, minimumOptions });
  pending = { started, speculated, answered };
}

/**
 * What the worker read of the job's bytes, once it has (null if it read no plain batch, or no
 * speculation is under way): the command line builds the job's options from it
 * (presentedOptions.ts) rather than parsing them. The speculation stays pending, for the batch
 * to adopt.
 */
export async function speculatedRead(): Promise<SpeculatedTask | null> {
  return (await pending?.speculated) ?? null;
}

/** What adopting a speculation gives valueBatch: the worker's task, which it is carrying out, and its coming answer. */
export interface AdoptedValuation {
  readonly task: ValuationTask;
  readonly answered: Promise<ValuedReply>;
}

/**
 * The speculation under way, if its columns are `batch`'s; null otherwise (none, a worker that
 * read no batch, which then waits idle for the batch's task, or other columns: that worker is stopped).
 */
export async function adoptSpeculation(batch: OptionBatch): Promise<AdoptedValuation | null> {
  const speculation = pending;
  pending = undefined;
  if (speculation === undefined) return null;
  const task = await speculation.speculated;
  if (task === null) {
    keepIdleWorker(speculation.started);
    return null;
  }
  // The batch the command line built from the worker's reading is the worker's own columns.
  if (task.batch !== batch && !sameColumns(task.batch, batch)) {
    Atomics.store(task.next, 0, STOP); // it takes no further chunk
    void speculation.started.worker.terminate();
    return null;
  }
  speculation.started.worker.ref(); // the job waits on it now
  return { task, answered: speculation.answered };
}

/** Whether a worker is reading or valuing a job's options that no batch has adopted yet. */
export function speculationPending(): boolean {
  return pending !== undefined;
}

/** Stops a speculation no batch adopted (the job ended without one: invalid, or small). */
export function dropSpeculation(): void {
  void pending?.started.worker.terminate();
  pending = undefined;
}

/** A chunk index past any batch's last. */
const STOP = 1 << 30;

/** Whether two batches hold the same options, every column bit for bit (-0 is not 0, NaN is its bits). */
export function sameColumns(a: OptionBatch, b: OptionBatch): boolean {
  if (a.count !== b.count || a.symbols.length !== b.symbols.length || a.symbols.some((s, i) => s !== b.symbols[i])) return false;
  const columns = ['isCall', 'spot', 'strike', 'timeToExpiry', 'riskFreeRate', 'dividendYield', 'marketPrice', 'hasMarketPrice', 'volatility', 'source', 'symbolIndex'] as const;
  return columns.every((key) => bytesOf(a[key], a.count).equals(bytesOf(b[key], b.count)));
}

function bytesOf(column: Uint8Array | Int32Array | Float64Array, count: number): Buffer {
  return Buffer.from(column.buffer, column.byteOffset, count * column.BYTES_PER_ELEMENT);
}
