import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../workerScript.js';
import type { ValuationTask, ValuedReply, WorkerMessage } from './worker.js';

/**
 * The worker script beside this module: `worker.ts` from source (vitest, tsx),
 * `blackscholesWorker.js` in a bundle, which the build writes beside the bundle's chunks.
 */
export function defaultWorkerUrl(here: string = import.meta.url): URL {
  return here.endsWith('.ts') ? new URL('./worker.ts', here) : new URL('./blackscholesWorker.js', here);
}

/**
 * The worker's young generation capped: everything it allocates but the JSON's bytes dies
 * within a group of entries, so a small nursery costs little, while V8's default (semi-spaces
 * growing to 16 MB each) let the worker's heap add up to ~60 MB to the process's peak in some
 * runs (peak RSS 243-253 MB with the cap in 15 runs; 243-314 MB without it in 8).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 6 };

/** A started worker, and what ends it if it fails or exits. */
export interface StartedWorker {
  readonly worker: Worker;
  readonly url: string;
  readonly ended: Promise<Error>;
}

/** Starts a valuation worker (throws if it cannot be made at all). */
export function startValuationWorker(url: URL): StartedWorker {
  const worker = startWorker(url, WORKER_LIMITS);
  const ended = new Promise<Error>((resolve) => {
    worker.once('error', resolve);
    worker.once('exit', (code) => resolve(new Error(`The Black-Scholes worker exited (${code}) before answering.`)));
  });
  return { worker, url: url.href, ended };
}

/** BS_THREADS as the environment gives it (the job reads it from its parsed config): a bad value counts as unset here. */
function threadsSetting(): number | undefined {
  const setting = Number(process.env.BS_THREADS);
  return setting === 1 || setting === 2 ? setting : undefined;
}

/** Whether a large batch will be valued on two threads here, as far as the environment tells before the job is parsed. */
export function secondThreadExpected(): boolean {
  return (threadsSetting() ?? availableParallelism()) >= 2;
}

let idle: StartedWorker | undefined;

/** Keeps a started, idle worker for the next batch (unreferenced: idle, it does not keep the process alive). */
export function keepIdleWorker(started: StartedWorker): void {
  if (idle !== undefined) void idle.worker.terminate();
  idle = started;
  started.worker.unref();
}

/**
 * Starts the worker a large batch will use, so that it is up (~40 ms, more on a busy machine)
 * by the time the batch is resolved: the job calls it once it sees a large batch.
 */
export function prewarmValuationWorker(url: URL = defaultWorkerUrl()): void {
  if (idle !== undefined || !secondThreadExpected()) return;
  try {
    keepIdleWorker(startValuationWorker(url));
  } catch {
    // valueBatch tries again, and falls back to this thread
  }
}

/**
 * Runs `task` on the idle worker or a new one, which is ended once it has answered (or
 * failed); the answer rejects if the worker fails or exits first.
 */
export function workerValuation(url: URL, task: ValuationTask): Promise<ValuedReply> {
  let started = idle;
  idle = undefined;
  if (started === undefined || started.url !== url.href) {
    if (started) void started.worker.terminate();
    try {
      started = startValuationWorker(url);
    } catch (error) {
      // Not started (a worker that cannot be made at all): this thread takes every chunk.
      const failed = Promise.reject(error as Error);
      failed.catch(() => undefined);
      return failed;
    }
  }
  const answered = answerOf(started, { keepAlive: true });
  started.worker.postMessage(task);
  return answered;
}

/**
 * The worker's answer to the task it has (or is about to be given); it is ended once answered
 * or failed. `keepAlive`: whether the process waits for it (a job waiting on it does).
 */
export function answerOf(started: StartedWorker, { keepAlive }: { keepAlive: boolean }): Promise<ValuedReply> {
  const { worker, ended } = started;
  if (keepAlive) worker.ref();
  const answered = Promise.race([
    new Promise<ValuedReply>((resolve) => {
      const onMessage = (message: WorkerMessage) => {
        if (!('chunks' in message)) return;
        worker.off('message', onMessage);
        resolve(message);
      };
      worker.on('message', onMessage);
    }),
    ended.then((error) => Promise.reject(error)),
  ]);
  answered.catch(() => undefined).finally(() => void worker.terminate());
  return answered;
}
