import { parentPort } from 'node:worker_threads';
import { BLOCKS_ABORTED, BLOCKS_DONE, runClaimedStatistics, simulateClaimedBlocks, type SharedJob } from './sharedJob.js';

/** Messages a worker posts: one per finished block (progress), then done, for each job. */
export type WorkerMessage = { readonly kind: 'block' | 'done'; readonly job: number };

// A pooled worker: it lives as long as the process and takes one job message at a time.
parentPort?.on('message', (input: SharedJob) => run(input));

function run(input: SharedJob): void {
  simulateClaimedBlocks(input, () => parentPort?.postMessage({ kind: 'block', job: input.job } satisfies WorkerMessage));
  // Every path must be simulated before any statistics: wait for the other threads.
  const { counters, blocks } = input;
  for (let done = Atomics.load(counters, BLOCKS_DONE); done < blocks; done = Atomics.load(counters, BLOCKS_DONE)) {
    Atomics.wait(counters, BLOCKS_DONE, done);
  }
  if (counters[BLOCKS_DONE] < BLOCKS_ABORTED) runClaimedStatistics(input);
  parentPort?.postMessage({ kind: 'done', job: input.job } satisfies WorkerMessage);
}
