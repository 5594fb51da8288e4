// npm run stack: the whole system on one machine, wired as production is. The Pub/Sub
// emulator at PUBSUB_EMULATOR_HOST (default 127.0.0.1:8085); every built function served by
// the functions-framework on 127.0.0.1; per function the topics and push subscriptions of
// terraform/messaging.tf (scripts/pubsub/topology.ts) and the job-events topic; local
// storage in LOCAL_DATA_DIR, fixture prices. Prints a line with "ready" once jobs can be
// submitted (npm run submit); Ctrl-C stops everything it started.
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PubSub } from '@google-cloud/pubsub';
import { locatePubsubEmulator, startPubsubEmulator, type PubsubEmulator } from './pubsub/emulator.js';
import { serveFunction, type ServedFunction } from './pubsub/servedFunction.js';
import { createJobTopology, createMontecarloShardTopology } from './pubsub/topology.js';
import { STACK_FILE, type StackInfo } from './stackInfo.js';
import { FUNCTION_NAMES } from '../shared/registry.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const project = process.env.GCP_PROJECT ?? 'local-project';
const hostSetting = process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085';
const dataDir = path.resolve(process.env.LOCAL_DATA_DIR ?? '.local');
const eventsTopic = process.env.JOB_EVENTS_TOPIC ?? 'job-events';

function fail(message: string, code = 1): never {
  process.stderr.write(message + '\n');
  process.exit(code);
}

const match = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(hostSetting);
if (!match) fail(`PUBSUB_EMULATOR_HOST=${hostSetting}: the stack starts its own emulator on this machine, so it must be 127.0.0.1:<port>.`, 2);
const port = Number(match[2]);
const functions = FUNCTION_NAMES.filter((fn) => existsSync(path.join(root, 'dist', fn, 'index.js')));
if (functions.length === 0) fail('No function is built: npm run build (npm run stack does it first).', 2);
const located = locatePubsubEmulator();
if ('missing' in located) fail(`Cannot start the stack: ${located.missing}.`, 2);
if (!(await portIsFree(port))) {
  fail(`Port ${port} of PUBSUB_EMULATOR_HOST is already in use (another npm run stack, or an emulator?): stop it, or choose another, e.g. PUBSUB_EMULATOR_HOST=127.0.0.1:${port + 1} npm run stack (and the same for npm run submit).`);
}

let emulator: PubsubEmulator | undefined;
const served: ServedFunction[] = [];
let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    process.stderr.write('\nStopping the stack...\n');
    await Promise.all(served.map((s) => s.stop()));
    await emulator?.stop();
    await fs.rm(path.join(dataDir, STACK_FILE), { force: true });
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  process.stderr.write(`Starting the Pub/Sub emulator on 127.0.0.1:${port}...\n`);
  emulator = await startPubsubEmulator(located.bin, { port });
  const env = {
    PUBSUB_EMULATOR_HOST: emulator.host,
    GCP_PROJECT: project,
    JOB_EVENTS: 'pubsub',
    JOB_EVENTS_TOPIC: eventsTopic,
    USE_FIXTURE: process.env.USE_FIXTURE ?? 'true',
    LOCAL_DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'INFO',
    // Sharded Monte Carlo jobs publish their shard tasks here (created below, as montecarloShards.tf).
    MC_SHARD_TOPIC: 'montecarlo-shards',
  };
  for (const fn of functions) {
    const server = await serveFunction(fn, env);
    served.push(server);
    // The function's log lines, prefixed by its name (as Cloud Logging would filter them).
    server.process.stdout?.on('data', (chunk: Buffer) => printLines(fn, chunk));
    server.process.stderr?.on('data', (chunk: Buffer) => printLines(fn, chunk));
    server.process.once('exit', (code) => {
      if (!stopping) {
        process.stderr.write(`${fn} exited (code ${code}): stopping the stack.\n`);
        void stop(1);
      }
    });
  }
  // The client finds the emulator as every Google Pub/Sub client does: PUBSUB_EMULATOR_HOST.
  process.env.PUBSUB_EMULATOR_HOST = emulator.host;
  // No Google metadata server to look for (and warn about) on a laptop.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const pubsub = new PubSub({ projectId: project });
  await createJobTopology(pubsub, { project, functions: Object.fromEntries(served.map((s) => [s.name, s.url])) });
  await pubsub.createTopic(eventsTopic);
  const montecarlo = served.find((s) => s.name === 'montecarlo');
  if (montecarlo) await createMontecarloShardTopology(pubsub, { project, functionUrl: montecarlo.url });
  await pubsub.close();
  const info: StackInfo = { emulator_host: emulator.host, project, pid: process.pid, local_data_dir: dataDir, functions: Object.fromEntries(served.map((s) => [s.name, s.url])) };
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(path.join(dataDir, STACK_FILE), JSON.stringify(info, null, 2) + '\n');
  for (const s of served) process.stdout.write(`  ${s.name.padEnd(13)} ${s.url}  <- push from jobs-${s.name}\n`);
  process.stdout.write(
    `ready: Pub/Sub emulator ${emulator.host} (project ${project}), ${served.length} functions, topic ${eventsTopic}, artifacts in ${path.join(dataDir, 'bucket')}/\n` +
      `  submit from another terminal: npm run --silent submit -- montecarlo fixtures/jobs/montecarlo.json --wait\n` +
      `  Ctrl-C stops the stack.\n`,
  );
} catch (error) {
  process.stderr.write(`The stack could not start: ${(error as Error).message}\n`);
  await stop(1);
}

function printLines(fn: string, chunk: Buffer): void {
  for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') process.stderr.write(`[${fn}] ${line}\n`);
}

function portIsFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(p, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
