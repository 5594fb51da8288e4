import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workerScript.js';
import { jobIdentity, jobIdentityFrom, type JobIdentity } from './jobDigest.js';
import type { Job, ModelName } from './model.js';

/**
 * A large job's digest on a helper thread, in parallel with the run: the thread decodes,
 * validates and digests the message's bytes itself (the same code on the same bytes gives the
 * same job), so nothing of the parsed job is copied to it, and hands back the digest and the
 * canonical text for job.json. The job's thread then spends nothing on it (~0.2 s of a
 * 100,000-option job) but starting the thread and copying the bytes. Whatever goes wrong on
 * the thread, the digest is computed here as before: the same identity either way.
 */

/** From this many bytes of message on, the digest is computed on a helper thread (when there is a core for it). */
export const THREAD_BYTES = 1 << 20;

/** The models whose messages reach THREAD_BYTES (Black-Scholes batches); the thread knows only these. */
const THREAD_MODELS: ReadonlySet<ModelName> = new Set(['blackscholes']);

/** What the helper thread is given. */
export interface IdentityTask {
  readonly model: ModelName;
  /** The message's bytes (the job's JSON, as UTF-8). */
  readonly bytes: Uint8Array;
  /** The publish time the job's thread decoded the message with (ISO). */
  readonly publishTime: string;
}

/** The thread's answer: the digest and the job's canonical text (UTF-8 pieces, in order), or why there is none. */
export type IdentityReply = { readonly jobId: string; readonly digest: string; readonly canonical: readonly Uint8Array[] } | { readonly error: string };

/** A digest under way on a helper thread. */
export interface IdentityOnThread {
  /** The job's identity: from the thread's answer, or computed here if the thread failed. */
  identity<P>(model: ModelName, job: Job<P>): Promise<JobIdentity>;
  /** Stops the thread (the job did not validate: its identity is not the thread's to compute). */
  cancel(): void;
  /** Whether the thread answered with a digest (rather than failing): for tests. */
  readonly answered: Promise<boolean>;
}

/**
 * Starts the digest of a message's job on a helper thread, or returns null: a small message, a
 * model whose messages are never large, no second core to spare, no worker script (a deployed function's bundle has none), or
 * IDENTITY_THREAD=0. IDENTITY_THREAD=1 uses the thread whatever the load (tests, comparisons).
 */
export function identityOnThread(model: ModelName, bytes: Uint8Array | undefined, publishTime: Date, url: URL = identityWorkerUrl()): IdentityOnThread | null {
  if (bytes === undefined || bytes.length < THREAD_BYTES || !THREAD_MODELS.has(model) || !threadWanted() || !existsSync(url)) return null;
  let worker: Worker;
  try {
    worker = startWorker(url);
  } catch {
    return null;
  }
  const answer = new Promise<IdentityReply>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (error) => resolve({ error: error.message }));
    worker.once('exit', (code) => resolve({ error: `the identity thread exited (${code}) before answering` }));
  });
  // Copied, unless in shared memory (the command line reads its job file there): the message keeps its bytes.
  worker.postMessage({ model, bytes, publishTime: publishTime.toISOString() } satisfies IdentityTask);
  const settled = answer.finally(() => void worker.terminate());
  return {
    async identity(model, job) {
      const reply = await settled;
      // The thread validated the same bytes: it names the same job, or its answer is not used.
      if ('error' in reply || reply.jobId !== job.job_id) return jobIdentity(model, job);
      return jobIdentityFrom(model, job, reply.digest, reply.canonical);
    },
    cancel: () => void worker.terminate(),
    answered: settled.then((reply) => !('error' in reply)),
  };
}

/**
 * Whether a helper thread would have a core of its own: three or more, and the last minute's
 * load average under two fewer (the job's thread and its valuation worker take two: on a
 * 2-core machine, measured calm, the digest thread gained no wall time against the valuation
 * worker and raised the peak by ~50 MB, past 250 MB).
 */
function threadWanted(): boolean {
  const setting = process.env.IDENTITY_THREAD;
  if (setting === '0' || setting === '1') return setting === '1';
  const cores = availableParallelism();
  return cores >= 3 && loadavg()[0] < cores - 2;
}

/**
 * The worker script beside this module: `identityWorker.ts` from source (vitest, tsx),
 * `identityWorker.js` in the command line's bundle, which the build writes beside its chunks.
 */
export function identityWorkerUrl(here: string = import.meta.url): URL {
  return here.endsWith('.ts') ? new URL('./identityWorker.ts', here) : new URL('./identityWorker.js', here);
}
