// A Black-Scholes worker that values its range and gives its first answer, then dies before
// writing its JSON, for valueBatch's failure test.
import { parentPort } from 'node:worker_threads';
import { valueOptions } from '../../shared/models/blackscholes/optionBatch.js';
import type { ValuationTask, ValuedReply } from '../../shared/models/blackscholes/worker.js';

parentPort?.once('message', (task: ValuationTask) => {
  const errors = valueOptions(task.batch, task.values, task.from, task.to);
  parentPort?.postMessage({ errors: [...errors] } satisfies ValuedReply);
  setTimeout(() => process.exit(3), 10);
});
