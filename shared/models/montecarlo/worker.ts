import { parentPort, workerData } from 'node:worker_threads';
import { simulateBlock, type SimulationBuffers, type SimulationPlan } from './simulation.js';

/** What the parallel runner hands each worker: the plan, shared outputs and the block counter. */
export interface WorkerInput {
  readonly plan: SimulationPlan;
  readonly buffers: SimulationBuffers;
  /** [next block to claim]; blocks are claimed with Atomics.add so no two workers share one. */
  readonly counter: Int32Array;
  readonly blocks: number;
}

/** Messages a worker posts: one per finished block (progress), then done. */
export type WorkerMessage = { readonly kind: 'block' } | { readonly kind: 'done' };

const input = workerData as WorkerInput;
for (;;) {
  const block = Atomics.add(input.counter, 0, 1);
  if (block >= input.blocks) break;
  simulateBlock(input.plan, block, input.buffers);
  parentPort?.postMessage({ kind: 'block' } satisfies WorkerMessage);
}
parentPort?.postMessage({ kind: 'done' } satisfies WorkerMessage);
