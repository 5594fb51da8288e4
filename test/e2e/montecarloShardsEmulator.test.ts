import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PubSub, type ClientConfig } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../shared/config.js';
import type { ModelContext } from '../../shared/job/model.js';
import type { Logger } from '../../shared/log.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import { emulatorAuth } from '../../shared/emulatorAuth.js';
import { locatePubsubEmulator, startPubsubEmulator, type PubsubEmulator as RunningPubsubEmulator } from '../../scripts/pubsub/emulator.js';

// A sharded Monte Carlo job through the real Pub/Sub emulator: the job and its shard tasks
// pushed, through a round-robin front (Cloud Run's load balancer), to three montecarlo
// function processes sharing one local bucket. The job's delivery hands the run off and is
// acknowledged at once; one process is killed -9 while it simulates a shard (its push is
// answered 502 and redelivered); the task that stores the last state commits the job:
// one result.json, one job_runs row, one message on job-events.

const found = locatePubsubEmulator();
if ('missing' in found) {
  if (process.env.CI === 'true') throw new Error(`CI needs the Pub/Sub emulator: ${found.missing}`);
  console.warn(`skipping the Monte Carlo shards emulator test: ${found.missing}`);
}

const PROJECT = 'shards-test';
const root = path.resolve(import.meta.dirname, '..', '..');
const params = { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 800_000, time_steps: 400, seed: 21 };

interface FunctionProcess { child: ChildProcess; port: number; alive: boolean; log: string; inFlight: number }

function startFunctionProcess(env: NodeJS.ProcessEnv): Promise<FunctionProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test', 'support', 'montecarloProcess.ts')], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /listening (\d+)/.exec(out);
      if (match) {
        const fn: FunctionProcess = { child, port: Number(match[1]), alive: true, inFlight: 0, get log() { return log; } };
        child.on('exit', () => (fn.alive = false));
        resolve(fn);
      }
    });
    child.once('exit', (code) => reject(new Error(`function process exited (${code}) before listening`)));
  });
}

/** Forwards each push to the next live process, as a load balancer; 502 when the process fails it (counted in `failed`). */
/**
 * Forwards each push to the live processes in turn. The third shard-task delivery forwarded
 * is killed (-9) in the middle, with other shards running: its process dies 5 ms after the
 * request is sent, before it can answer (a shard task takes tens of ms), whatever the
 * machine's speed (waiting to see a delivery in flight raced the faster kernel's answers).
 * Not a process still answering the job's own delivery: the shard tasks are pushed as soon as
 * they are published, before that delivery has recorded and logged its hand-off, and killing
 * it there leaves the hand-off to a redelivery (another path, which the test does not wait
 * for); the next shard delivery, on another process, is killed instead.
 */
function roundRobin(processes: FunctionProcess[], failed: { count: number }, killer: { shardDeliveries: number; victim?: FunctionProcess }): Server {
  const answeringJob = new Set<FunctionProcess>();
  let next = 0;
  return createServer((incoming, answer) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => {
      const live = processes.filter((p) => p.alive);
      if (live.length === 0) return void answer.writeHead(503).end();
      const target = live[next++ % live.length]!;
      target.inFlight++;
      const jobDelivery = incoming.url?.includes('/topics/jobs-montecarlo') === true;
      if (jobDelivery) answeringJob.add(target);
      const answered = () => void (jobDelivery && answeringJob.delete(target));
      const forward = request(
        { host: '127.0.0.1', port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (reply) => {
          answer.writeHead(reply.statusCode ?? 502);
          reply.pipe(answer);
          reply.on('end', () => (target.inFlight--, answered()));
        },
      );
      forward.on('error', () => {
        target.inFlight--;
        answered();
        failed.count++;
        if (!answer.headersSent) answer.writeHead(502).end();
      });
      forward.end(Buffer.concat(chunks));
      if (incoming.url?.includes('/topics/montecarlo-shards') && ++killer.shardDeliveries >= 3 && !killer.victim && !answeringJob.has(target)) {
        killer.victim = target;
        setTimeout(() => target.child.kill('SIGKILL'), 5);
      }
    });
  });
}

describe.skipIf('missing' in found)('Monte Carlo shards over the Pub/Sub emulator', () => {
  let emulator: RunningPubsubEmulator;
  let client: PubSub;
  let front: Server;
  const processes: FunctionProcess[] = [];
  const failedForwards = { count: 0 };
  const killer: { shardDeliveries: number; victim?: FunctionProcess } = { shardDeliveries: 0 };
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mc-shards-e2e-'));

  beforeAll(async () => {
    emulator = await startPubsubEmulator((found as { bin: string }).bin);
    client = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host, authClient: emulatorAuth() as unknown as NonNullable<ClientConfig['authClient']> });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GCP_PROJECT: PROJECT,
      PUBSUB_EMULATOR_HOST: emulator.host,
      MC_SHARD_TOPIC: 'montecarlo-shards',
      MC_THREADS: '1',
      USE_FIXTURE: 'true',
      LOCAL_DATA_DIR: dataDir,
      LOG_LEVEL: 'INFO',
      JOB_LEASE_SECONDS: '3',
    };
    delete env.GCS_BUCKET;
    processes.push(...(await Promise.all([0, 1, 2].map(() => startFunctionProcess(env)))));
    front = roundRobin(processes, failedForwards, killer);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const { port } = front.address() as { port: number };
    const [events] = await client.createTopic('job-events');
    await events.createSubscription('job-events-test');
    for (const topic of ['jobs-montecarlo', 'montecarlo-shards']) {
      const [created] = await client.createTopic(topic);
      // The functions-framework builds the CloudEvent's source from the /projects/<p>/topics/<t> path.
      await created.createSubscription(`${topic}-push`, { ackDeadlineSeconds: 60, pushConfig: { pushEndpoint: `http://127.0.0.1:${port}/projects/${PROJECT}/topics/${topic}` } });
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of processes) if (p.alive) p.child.kill('SIGKILL');
    await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
    await client?.close();
    await emulator?.stop();
  });

  const folder = (jobId: string) => path.join(dataDir, 'bucket', 'jobs', 'montecarlo', jobId);
  const states = (jobId: string) => {
    const dir = path.join(folder(jobId), 'shards');
    if (!existsSync(dir)) return [];
    return readdirSync(dir).flatMap((f) => readdirSync(path.join(dir, f)).filter((n) => /^\d+\.json$/.test(n)));
  };

  it('hands the job off, runs its shards on several processes, survives a kill -9 of one, and commits the one-shard numbers once', async () => {
    await client.topic('jobs-montecarlo').publishMessage({ data: Buffer.from(JSON.stringify({ job_id: 'mc-e2e', params: { ...params, shards: 8 } })) });
    const deadline = Date.now() + 150_000;
    const status = () => (existsSync(path.join(folder('mc-e2e'), 'status.json')) ? (JSON.parse(readFileSync(path.join(folder('mc-e2e'), 'status.json'), 'utf8')) as { status: string; shards_done?: number }) : null);
    // Handed off: the job is running before any shard is stored, and its delivery acknowledged (the process that took it logs so).
    while (!processes.some((p) => p.log.includes('Job handed off to its tasks')) && Date.now() < deadline) await sleep(20);
    expect(status()).toMatchObject({ status: 'running', shards: 8 });
    // The front kills -9 the process taking the third shard task, in the middle of its delivery.
    while (!killer.victim && Date.now() < deadline) await sleep(5);
    expect(killer.victim, 'a third shard task was delivered').toBeDefined();
    const result = path.join(folder('mc-e2e'), 'result.json');
    while (!(existsSync(result) && status()?.status === 'completed') && Date.now() < deadline) await sleep(100);
    expect(existsSync(result)).toBe(true);
    const document = JSON.parse(readFileSync(result, 'utf8'));
    expect(document.status, JSON.stringify(document.error)).toBe('completed');
    expect(document.inputs.shards).toBe(8);
    expect(states('mc-e2e')).toHaveLength(8);

    const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => log };
    const context: ModelContext = { history: async () => [], log, config: { MC_THREADS: 1 } as Config, warehouse: {} as ModelContext['warehouse'], secrets: {} as ModelContext['secrets'] };
    const single = await montecarloModel.run({ job_id: 'mc-one', symbols: [], start: '2024-01-01', end: '2024-12-31', params: montecarloModel.params.parse(params) }, context);
    expect(JSON.stringify(document.result)).toBe(JSON.stringify(single.result));
    const runs = readFileSync(path.join(dataDir, 'bigquery', 'curated', 'job_runs.ndjson'), 'utf8').split('\n').filter((l) => l.includes('"mc-e2e"'));
    expect(runs).toHaveLength(1);
    // One job-events message, published by the shard task that committed the job.
    const announced: string[] = [];
    const subscription = client.subscription('job-events-test');
    subscription.on('message', (m: { data: Buffer; ack: () => void }) => (announced.push(m.data.toString('utf8')), m.ack()));
    await sleep(2000);
    await subscription.close();
    expect(announced.filter((m) => JSON.parse(m).job_id === 'mc-e2e').map((m) => JSON.parse(m).status)).toEqual(['completed']);
    // The killed delivery was answered 502 and redelivered by the emulator.
    expect(failedForwards.count).toBeGreaterThanOrEqual(1);
    // The shard tasks went through Pub/Sub to more than one process, and a task's delivery committed the job.
    expect(processes.filter((p) => p.log.includes('"message":"Shard simulated."')).length).toBeGreaterThanOrEqual(2);
    expect(processes.some((p) => p.log.split('\n').some((line) => line.includes('"message":"Job completed."') && line.includes('"plan"')))).toBe(true);
  }, 180_000);
});
