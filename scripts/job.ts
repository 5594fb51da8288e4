// npm run --silent job -- <function> <job.json | ->
// Sends one job through the function's CloudEvent handler (a Pub/Sub CloudEvent built
// around the file), with local storage, and fixture prices unless USE_FIXTURE=false;
// prints the result document on stdout; exits 0 completed, 1 failed, 75 when a transient
// fault would have had Pub/Sub retry, 2 on a usage error.
import type { CloudEventV1 } from 'cloudevents';
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FUNCTION_NAMES, MODEL_LOADERS, isFunctionName, type FunctionName } from '../shared/registry.js';

const USAGE = `usage: npm run --silent job -- <${FUNCTION_NAMES.join('|')}> <job.json | ->\n`;
const [name, source, ...extra] = process.argv.slice(2);
const usageError = (problem: string): never => {
  process.stderr.write(`${problem}\n${USAGE}`);
  process.exit(2);
};
if (!name) usageError('Missing the function name.');
if (!isFunctionName(name!)) usageError(`Unknown function "${name}": the first argument is one of ${FUNCTION_NAMES.join(', ')}.`);
if (!source) usageError(`Missing the job: give a job file (e.g. fixtures/jobs/${name}.json) or - for standard input.`);
if (extra.length > 0) usageError(`Unexpected argument "${extra[0]}" after the job file.`);

// A Monte Carlo job's worker threads load while the job is read and validated. Only a Monte
// Carlo job loads the runner (and the simulation code it shares with the workers): the other
// functions start without it.
const workers = name === 'montecarlo' ? await import('../shared/models/montecarlo/parallelRunner.js') : undefined;
workers?.prewarmWorkers(Number(process.env.MC_THREADS) || undefined);

// The job file is read first: a large Black-Scholes job's worker starts on its bytes while the
// handler's modules load and the job is parsed.
let jobBytes: Buffer | undefined = await readJobBytes();
// A large Black-Scholes batch is valued on two threads: its worker reads the options from the
// bytes and starts valuing them while this thread loads the handler; the job then takes those
// columns as its options rather than parsing them (withPresentedOptions below), or parses and
// validates them and adopts the work only if it is of the very options it validated
// (speculativeValuation.ts).
if (name === 'blackscholes' && jobBytes.length >= 1 << 20) {
  const [{ speculateValuation }, { PARALLEL_OPTIONS }] = await Promise.all([
    import('../shared/models/blackscholes/speculativeValuation.js'),
    import('../shared/models/blackscholes/parallelValuation.js'),
  ]);
  speculateValuation(jobBytes, PARALLEL_OPTIONS);
}
const [{ jobEventHandler, RedeliveryRequest }, { pubsubCloudEvent }, { utf8Chunks }, { createServices }] = await Promise.all([
  import('../shared/job/cloudEventHandler.js'),
  import('../shared/job/pubsubCloudEvent.js'),
  import('../shared/results/textChunks.js'),
  import('../shared/runtime.js'),
]);
// The job's bytes go into the message as they are (the handler checks that they are UTF-8);
// nothing here keeps them once the message is built.
let message: CloudEventV1<unknown> | undefined = await messageOf(jobBytes);
jobBytes = undefined;
process.env.USE_FIXTURE ??= 'true';
// The contract's command-line runner stores locally (LOCAL_DATA_DIR), whatever the shell exports.
delete process.env.GCS_BUCKET;
// ... and runs a sharded Monte Carlo job's shards in this process (no shard topic).
delete process.env.MC_SHARD_TOPIC;

try {
  const services = await createServices(process.env);
  const handler = jobEventHandler(await MODEL_LOADERS[name as FunctionName](), async () => services);
  const event = message!;
  message = undefined;
  const outcome = await handler(event);
  // A job that never reached its batch (invalid, a duplicate) leaves a speculative valuation behind.
  if (name === 'blackscholes') (await import('../shared/models/blackscholes/speculativeValuation.js')).dropSpeculation();
  // The local store's result is a file: its bytes are printed as they are, not read back into
  // a string (a 40 MB result would be decoded and encoded again, beside the job's own memory).
  const uri = outcome ? services.store.uri(outcome.resultObject) : '';
  const file = uri.startsWith('file:') ? await fs.open(fileURLToPath(uri)).catch(() => null) : null;
  const stored = outcome && !file ? await services.store.get(outcome.resultObject) : null;
  if (!outcome || (!file && !stored)) throw new Error('The job ended without a stored result document.');
  const code = outcome.status === 'completed' ? 0 : 1;
  // The job is committed: the Monte Carlo workers stop while the result is printed, and the
  // process exits once stdout has flushed, rather than waiting for their teardown at exit.
  const stopped = workers?.stopWorkers() ?? Promise.resolve();
  const done = () => void stopped.finally(() => process.exit(code));
  if (file) printFile(file).then(done, done);
  else print(stored!.body, done);
} catch (error) {
  const transient = error instanceof RedeliveryRequest;
  process.stderr.write(`${transient ? 'Transient fault (Pub/Sub would retry)' : 'Error'}: ${(error as Error).message}\n`);
  process.exitCode = transient ? 75 : 1;
}

/** The job's bytes: the file's (a usage error if it cannot be read), or standard input's. */
async function readJobBytes(): Promise<Buffer> {
  return source === '-'
    ? await readStdin()
    : await readShared(source as string).catch((error: NodeJS.ErrnoException) => {
        process.stderr.write(`Cannot read the job file ${source}: ${error.code ?? error.message}\n`);
        return process.exit(2);
      });
}

/** The Pub/Sub CloudEvent around the job's bytes, with their parse (a usage error if they are not JSON). */
async function messageOf(bytes: Buffer): Promise<CloudEventV1<unknown>> {
  // A job file that is not JSON is the caller's mistake with this command, not a job to record.
  let document: unknown;
  try {
    document = (await withPresentedOptions(bytes)) ?? JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    usageError(`The job ${source === '-' ? 'on standard input' : `file ${source}`} is not JSON: ${(error as Error).message}`);
  }
  // The handler takes this parse rather than parsing the message's copy of the file again.
  return pubsubCloudEvent(bytes, `jobs-${name}`, undefined, { document });
}

/**
 * A large Black-Scholes job's parse without its 100,000 option objects, or undefined: the
 * worker read the options from the bytes (speculativeValuation.ts), so the rest of the
 * document is parsed with the options' array left empty, and the array's place holds the
 * options as read (presentedOptions.ts), if the schema accepts every one of them as it is. The
 * job's thread then neither parses, validates nor resolves an option (~0.4 s of CPU less).
 * Anything else (symbols to resolve the options with, an option the schema refuses, JSON
 * the reader did not take) is parsed whole, as before: the same job, the same messages.
 */
async function withPresentedOptions(bytes: Buffer): Promise<Record<string, unknown> | undefined> {
  if (name !== 'blackscholes' || bytes.length < 1 << 20) return undefined;
  const [{ speculatedRead }, { presentOptions }] = await Promise.all([
    import('../shared/models/blackscholes/speculativeValuation.js'),
    import('../shared/models/blackscholes/job.js'),
  ]);
  const read = await speculatedRead();
  if (read === null) return undefined;
  let document: { symbols?: unknown; params: { options: unknown } };
  try {
    document = JSON.parse(Buffer.concat([bytes.subarray(0, read.start), Buffer.from('[]'), bytes.subarray(read.end)]).toString('utf8'));
  } catch {
    return undefined; // said by the whole document's parse, with its own positions
  }
  if (document.symbols !== undefined && !(Array.isArray(document.symbols) && document.symbols.length === 0)) return undefined;
  const options = presentOptions(read, bytes);
  if (options === null) return undefined;
  document.params.options = options;
  return document;
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

/**
 * Copies a file to stdout through one reused buffer. Memory touched for the first time is what a
 * large result costs here (~3 ms a MB on the 2-core VM): reading a 40 MB result back in fresh
 * 1 MB chunks faulted in 40 MB more, at the end of the job.
 */
async function printFile(file: fs.FileHandle): Promise<void> {
  const buffer = Buffer.allocUnsafeSlow(1 << 18);
  for (let position = 0; ; ) {
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    // The buffer is reused only once stdout has taken these bytes.
    await new Promise<void>((resolve, reject) => process.stdout.write(buffer.subarray(0, bytesRead), (error) => (error ? reject(error) : resolve())));
  }
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
}

/**
 * A job file's bytes in shared memory: a large job's digest thread (shared/job/identityThread.ts)
 * then reads them where they are, without a 16 MB copy. Anything but a regular file is read as
 * it comes.
 */
async function readShared(file: string): Promise<Buffer> {
  const handle = await fs.open(file);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return await handle.readFile();
    const bytes = Buffer.from(new SharedArrayBuffer(stats.size));
    let at = 0;
    for (let read = 1; at < bytes.length && read > 0; at += read) read = (await handle.read(bytes, at, bytes.length - at, at)).bytesRead;
    return bytes.subarray(0, at);
  } finally {
    await handle.close();
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
