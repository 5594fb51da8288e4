// A Monte Carlo worker that dies on its first job, for the runner's failure test.
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => process.exit(3));
