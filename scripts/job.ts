// npm run --silent job -- <function> <job.json | ->
// Sends one job through the function's CloudEvent handler (a Pub/Sub CloudEvent built
// around the file), with local storage, and fixture prices unless USE_FIXTURE=false;
// prints the result document on stdout; exits 0 completed, 1 failed, 75 when a transient
// fault would have had Pub/Sub retry, 2 on a usage error.
import type { CloudEventV1 } from 'cloudevents';
import { promises as fs } from 'node:fs';
import { cloudEventHandler } from '../shared/job/cloudEventHandler.js';
import { resultJson } from '../shared/job/documents.js';
import { TransientError } from '../shared/job/errors.js';
import { pubsubCloudEvent } from '../shared/job/pubsubCloudEvent.js';
import { prewarmWorkers, stopWorkers } from '../shared/models/montecarlo/parallelRunner.js';
import { FUNCTION_NAMES, MODEL_LOADERS, isFunctionName } from '../shared/registry.js';
import { utf8Chunks } from '../shared/results/textChunks.js';
import { createServices } from '../shared/runtime.js';

const [name, source] = process.argv.slice(2);
if (!name || !source || !isFunctionName(name)) {
  process.stderr.write(`usage: npm run --silent job -- <${FUNCTION_NAMES.join('|')}> <job.json | ->\n`);
  process.exit(2);
}

// A Monte Carlo job's worker threads load while the job is read and validated.
if (name === 'montecarlo') prewarmWorkers(Number(process.env.MC_THREADS) || undefined);

// The job's bytes go into the message as they are (the handler checks that they are UTF-8);
// nothing here keeps them once the message is built.
const readJob = (): Promise<Buffer> =>
  source === '-'
    ? readStdin()
    : fs.readFile(source).catch((error: NodeJS.ErrnoException) => {
        process.stderr.write(`Cannot read the job file ${source}: ${error.code ?? error.message}\n`);
        process.exit(2);
      });
let message: CloudEventV1<unknown> | undefined = pubsubCloudEvent(await readJob(), `jobs-${name}`);
process.env.USE_FIXTURE ??= 'true';
// The contract's command-line runner stores locally (LOCAL_DATA_DIR), whatever the shell exports.
delete process.env.GCS_BUCKET;

try {
  const handler = cloudEventHandler(await MODEL_LOADERS[name](), () => createServices(process.env));
  const event = message;
  message = undefined;
  const document = await handler(event);
  const code = document.status === 'completed' ? 0 : 1;
  // The job is committed: the Monte Carlo workers stop while the result is printed, and the
  // process exits once stdout has flushed, rather than waiting for their teardown at exit.
  const stopped = stopWorkers();
  print(resultJson(document), () => void stopped.finally(() => process.exit(code)));
} catch (error) {
  const transient = error instanceof TransientError;
  process.stderr.write(`${transient ? 'Transient fault (Pub/Sub would retry)' : 'Error'}: ${(error as Error).message}\n`);
  process.exitCode = transient ? 75 : 1;
}

/** Writes a result of any size to stdout in chunks (no second full copy as bytes), then calls done. */
function print(text: string, done: () => void): void {
  const chunks = utf8Chunks(text);
  const next = (): void => {
    for (let chunk = chunks.next(); !chunk.done; chunk = chunks.next()) {
      if (!process.stdout.write(chunk.value)) {
        process.stdout.once('drain', next);
        return;
      }
    }
    process.stdout.write('', done);
  };
  next();
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
