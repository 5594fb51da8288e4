import { parentPort } from 'node:worker_threads';
import { simulateBlock, type SimulationBuffers, type SimulationPlan } from './simulation.js';
import { interiorBandQuantiles } from './statistics.js';

/** What the parallel runner hands each worker: the plan, shared outputs and the block counter. */
export interface WorkerInput {
  readonly plan: SimulationPlan;
  readonly buffers: SimulationBuffers;
  /** [next block to claim]; blocks are claimed with Atomics.add so no two workers share one. */
  readonly counter: Int32Array;
  readonly blocks: number;
  /** [workers done simulating]: a barrier before the band statistics, which need every path. */
  readonly finished: Int32Array;
  readonly threads: number;
  /** [next interior band point to claim, from 0]. */
  readonly bandCounter: Int32Array;
  /** Band percentiles of the interior points, 5 per point (see interiorBandQuantiles). */
  readonly bandQuantiles: Float64Array;
  /** Tells this job's messages from another's on a shared worker. */
  readonly job: number;
}

/** Messages a worker posts: one per finished block (progress), then done, for each job. */
export type WorkerMessage = { readonly kind: 'block' | 'done'; readonly job: number };

// A pooled worker: it lives as long as the process and takes one job message at a time.
parentPort?.on('message', (input: WorkerInput) => run(input));

function run(input: WorkerInput): void {
  for (;;) {
    const block = Atomics.add(input.counter, 0, 1);
    if (block >= input.blocks) break;
    simulateBlock(input.plan, block, input.buffers);
    parentPort?.postMessage({ kind: 'block', job: input.job } satisfies WorkerMessage);
  }

  // Every path must be simulated before a band point's percentiles: wait for the others.
  Atomics.add(input.finished, 0, 1);
  Atomics.notify(input.finished, 0);
  for (let seen = Atomics.load(input.finished, 0); seen < input.threads; seen = Atomics.load(input.finished, 0)) {
    Atomics.wait(input.finished, 0, seen);
  }
  const interior = input.plan.bandSteps.length - 2;
  for (;;) {
    const point = Atomics.add(input.bandCounter, 0, 1);
    if (point >= interior) break;
    interiorBandQuantiles(input.buffers.bandValues, input.plan.simulations, point + 1, input.bandQuantiles);
  }
  parentPort?.postMessage({ kind: 'done', job: input.job } satisfies WorkerMessage);
}
