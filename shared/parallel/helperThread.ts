import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workerScript.js';
import type { TileRowsHelper } from '../models/markowitz/returnMoments.js';
import type { HelperReply, HelperTask, HelperTasks } from './helperTasks.js';

/**
 * A second thread for the parts of a job that split in two (half a CSV, half the tiles of a
 * covariance product): `run` hands it a task (helperTasks.ts: pure functions of their input)
 * while the calling thread does the other half. An execution detail: callers get null where
 * there is no second core or no worker script (a bundle built without it) and do all the work
 * themselves, with the same results.
 */
export interface HelperThread {
  run<K extends keyof HelperTasks>(task: HelperTask<K>, transfer?: ArrayBuffer[]): Promise<HelperTasks[K]['output']>;
}

/**
 * The worker script beside this module: `helperWorker.ts` when running from source (vitest,
 * tsx), `helperWorker.js` in a bundle, where the build writes it next to the entry point
 * (this module's code is then inside the entry's chunk, so import.meta.url points there).
 */
function workerUrl(here: string = import.meta.url): URL {
  return here.endsWith('.ts') ? new URL('./helperWorker.ts', here) : new URL('./helperWorker.js', here);
}

let started: { worker: Worker; thread: HelperThread } | null | undefined;

/**
 * The process's helper thread, started on first use and kept for later jobs; unref'd between
 * tasks, so it never keeps the process alive. Null with one core
 * (HELPER_THREAD=0 forces that: the single-thread path, for tests and comparisons).
 */
export function helperThread(): HelperThread | null {
  if (started !== undefined) return started?.thread ?? null;
  const url = workerUrl();
  if (availableParallelism() < 2 || process.env.HELPER_THREAD === '0' || !existsSync(url)) return (started = null);
  const worker = startWorker(url);
  worker.unref();
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  let failed: Error | undefined;
  const failAll = (error: Error) => {
    failed ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
    if (started?.worker === worker) started = undefined; // the next job starts a new one
  };
  worker.on('message', (reply: HelperReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if ('error' in reply) p.reject(new Error(`helper thread: ${reply.error}`));
    else p.resolve(reply.output as never);
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the helper thread exited with code ${code}`)));
  const thread: HelperThread = {
    run(task, transfer = []) {
      const id = nextId++;
      if (failed) return Promise.reject(failed);
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref(); // a task in flight keeps the process alive
        worker.postMessage({ id, task }, transfer);
      });
    },
  };
  started = { worker, thread };
  return thread;
}

/**
 * The helper thread as the Markowitz model's helper for the covariance product: started on
 * the first product large enough to be split (a small job never starts it); its tiles are
 * null where there is no helper thread, and the model computes them itself.
 */
export function tileRowsOnHelperThread(thread: () => HelperThread | null = helperThread): TileRowsHelper {
  return {
    tileRows: async (d, p, n, chunk, rows) => {
      const helper = thread();
      return helper ? helper.run({ kind: 'crossProductTiles', input: { d, p, n, chunk, rows } }) : null;
    },
  };
}

/**
 * The JSON text of a p*p matrix (matrixJsonChunks) written on the helper thread, so the calling
 * thread goes on meanwhile; null where there is no helper thread or it fails (the caller
 * writes it itself).
 */
export function matrixJsonOnHelperThread(values: Float64Array, p: number, thread: () => HelperThread | null = helperThread): Promise<Uint8Array[] | null> {
  const helper = thread();
  return helper ? helper.run({ kind: 'matrixJson', input: { values, p } }).catch(() => null) : Promise.resolve(null);
}
