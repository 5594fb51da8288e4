// A Black-Scholes worker that takes chunks of the batch and values them (into the shared
// values), then dies before answering, for valueBatch's failure test: the chunks it took are
// the job's thread's to value and write again.
import { parentPort } from 'node:worker_threads';
import { valueOptions } from '../../shared/models/blackscholes/optionBatch.js';
import { CHUNK_OPTIONS, chunkCount } from '../../shared/models/blackscholes/sharedChunks.js';
import type { ValuationTask } from '../../shared/models/blackscholes/worker.js';

parentPort?.once('message', (task: ValuationTask) => {
  const { batch, values, next } = task;
  // Two chunks at most, so that the job's thread has taken some too.
  for (let taken = 0; taken < 2; taken++) {
    const chunk = Atomics.add(next, 0, 1);
    if (chunk >= chunkCount(batch.count)) break;
    valueOptions(batch, values, chunk * CHUNK_OPTIONS, Math.min(batch.count, (chunk + 1) * CHUNK_OPTIONS));
  }
  process.exit(3);
});
