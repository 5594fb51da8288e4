/**
 * The production delivery path on one machine: the Cloud SDK's Pub/Sub emulator, topics and
 * push subscriptions created as terraform/messaging.tf creates them (endpoint path,
 * acknowledgement deadline, dead-letter policy after 5 attempts, the dead-letter push
 * subscription), the built functions (dist/<fn>) served by the functions-framework, jobs
 * published through the real @google-cloud/pubsub client.
 *
 * One deliberate difference: the redelivery backoff is 0.1-1 s instead of Terraform's
 * 10-600 s, so that five attempts take seconds; the deployed values are held equal to
 * scripts/pubsub/topology.ts's DELIVERY by test/terraform.test.ts. The job lease is 2 s
 * (JOB_LEASE_SECONDS) for the same reason.
 */
import { mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locatePubsubEmulator, startPubsubEmulator, type PubsubEmulator } from '../../scripts/pubsub/emulator.js';
import { serveFunction, type ServedFunction } from '../../scripts/pubsub/servedFunction.js';
import { createJobTopology, topologyNames } from '../../scripts/pubsub/topology.js';
import { startReplayServer, type ReplayServer } from '../ingest/vendorReplayServer.js';

const FUNCTIONS = ['blackscholes', 'montecarlo', 'markowitz', 'ingest'] as const;
type Fn = (typeof FUNCTIONS)[number];
const PROJECT = 'quant-e2e';
const FAST_RETRY = { minimumBackoffSeconds: 0.1, maximumBackoffSeconds: 1 };
const root = path.resolve(import.meta.dirname, '..', '..');

const located = locatePubsubEmulator();
const missing = 'missing' in located ? located.missing : undefined;
if (missing && process.env.CI === 'true') {
  throw new Error(`The Pub/Sub emulator suite cannot run under CI: ${missing}.`);
}
if (missing) console.log(`Skipping the Pub/Sub emulator suite: ${missing}.`);

let emulator: PubsubEmulator | undefined;
let pubsub: PubSub;
let vendor: ReplayServer | undefined;
let dataDir: string;
let env: Record<string, string>;
const served = {} as Record<Fn, ServedFunction>;
const extraProcesses: ServedFunction[] = [];
const deadLettered: Message[] = [];

beforeAll(async () => {
  if (missing) return;
  emulator = await startPubsubEmulator((located as { bin: string }).bin);
  // No Compute Engine metadata server to look for credentials on (the emulator needs none).
  process.env.METADATA_SERVER_DETECTION = 'none';
  pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
  vendor = await startReplayServer();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'pubsub-e2e-'));
  env = {
    USE_FIXTURE: 'true',
    LOCAL_DATA_DIR: dataDir,
    LOG_LEVEL: 'INFO',
    JOB_LEASE_SECONDS: '2',
    MC_THREADS: '2',
    EODHD_BASE_URL: `${vendor.url}/api`,
    EODHD_API_KEY: 'e2e-secret-key-0123456789',
    NODE_ENV: 'production',
  };
  const started = await Promise.all(FUNCTIONS.map((fn) => serveFunction(fn, env)));
  for (const s of started) served[s.name as Fn] = s;
  await createJobTopology(pubsub, { project: PROJECT, functions: Object.fromEntries(started.map((s) => [s.name, s.url])), retry: FAST_RETRY });
  pubsub.subscription(topologyNames('blackscholes').deadLetterKept).on('message', (message: Message) => {
    deadLettered.push(message);
    message.ack();
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([...Object.values(served), ...extraProcesses].map((s) => s.stop()));
  await pubsub?.close();
  await emulator?.stop();
  await vendor?.close();
});

const suite = missing ? describe.skip : describe;

async function publish(fn: Fn, data: Buffer | object, attributes?: Record<string, string>): Promise<string> {
  const topic = pubsub.topic(topologyNames(fn).jobTopic);
  return Buffer.isBuffer(data) || data === undefined
    ? topic.publishMessage({ data: data as Buffer, attributes })
    : topic.publishMessage({ json: data, attributes });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const objectPath = (fn: Fn, folder: string, file: string) => path.join(dataDir, 'bucket', 'jobs', fn, folder, file);

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const result = (fn: Fn, jobId: string) => waitFor(`${fn}/${jobId}/result.json`, () => readJson(objectPath(fn, jobId, 'result.json')));

async function jobRuns(jobId: string): Promise<Record<string, unknown>[]> {
  const text = await fs.readFile(path.join(dataDir, 'bigquery', 'curated', 'job_runs.ndjson'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.job_id === jobId);
}

/** Parsed log lines of a function's processes about one message (its event id). */
function logs(fn: Fn, messageId: string): Record<string, unknown>[] {
  const lines = [served[fn], ...extraProcesses.filter((p) => p.name === fn)].flatMap((p) => p.lines);
  return lines.filter((l) => l.includes(messageId)).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event_id === messageId);
}

/** A line the functions-framework printed for a delivery answered 500 (redelivered): a transient or a permanent cloud fault. */
const redelivery = (l: Record<string, unknown>) => /^(Transient fault|Cloud error that retrying will not fix)/.test(String(l.message));

const fixtureJob = (fn: Fn) => JSON.parse(readFileSync(path.join(root, 'fixtures', 'jobs', `${fn}.json`), 'utf8')) as Record<string, unknown>;

suite('the production delivery path (Pub/Sub emulator, push subscriptions, built functions)', () => {
  it.each(FUNCTIONS)("%s: the fixture job is pushed, completes, and is acknowledged with an empty answer", async (fn) => {
    const job = { ...fixtureJob(fn), job_id: `e2e-fixture-${fn}` };
    const messageId = await publish(fn, job);
    const document = await result(fn, job.job_id as string);
    expect(document).toMatchObject({ job_id: job.job_id, model: fn, status: 'completed' });
    await waitFor('the final status', async () => ((await readJson(objectPath(fn, job.job_id as string, 'status.json')))?.status === 'completed' ? true : undefined));
    expect(await jobRuns(job.job_id as string)).toHaveLength(1);
    // Acknowledged by the first answer: one delivery, no transient fault.
    await new Promise((r) => setTimeout(r, 500));
    expect(logs(fn, messageId).filter((l) => l.message === 'Job started.')).toHaveLength(1);
    expect(logs(fn, messageId).filter(redelivery)).toEqual([]);
  });

  it('a job published twice gives one result and one job_runs row; the duplicate reads no result', async () => {
    const job = { ...fixtureJob('blackscholes'), job_id: 'e2e-duplicate' };
    const first = await publish('blackscholes', job);
    await result('blackscholes', 'e2e-duplicate');
    const stored = await fs.readFile(objectPath('blackscholes', 'e2e-duplicate', 'result.json'), 'utf8');
    const second = await publish('blackscholes', job);
    await waitFor('the duplicate delivery', () => logs('blackscholes', second).find((l) => String(l.message).includes('duplicate')));
    expect(logs('blackscholes', first).filter((l) => l.message === 'Job started.')).toHaveLength(1);
    expect(logs('blackscholes', second).filter((l) => l.message === 'Job started.')).toHaveLength(0);
    expect(await fs.readFile(objectPath('blackscholes', 'e2e-duplicate', 'result.json'), 'utf8')).toBe(stored);
    expect(await jobRuns('e2e-duplicate')).toHaveLength(1);
  });

  it('the push answer is an empty 204, for a new job and for a duplicate of a finished one', async () => {
    const body = (id: string) =>
      JSON.stringify({
        message: { data: Buffer.from(JSON.stringify({ ...fixtureJob('blackscholes'), job_id: 'e2e-empty-answer' })).toString('base64'), messageId: id, publishTime: new Date().toISOString() },
        subscription: `projects/${PROJECT}/subscriptions/blackscholes-push`,
      });
    for (const id of ['direct-1', 'direct-2']) {
      const response = await fetch(`${served.blackscholes.url}/projects/${PROJECT}/topics/jobs-blackscholes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(id) });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
    }
  });

  it('a message that is not JSON is rejected as invalid_job and acknowledged once', async () => {
    const messageId = await publish('markowitz', Buffer.from('this is not json', 'utf8'));
    const document = await result('markowitz', `_rejected/${messageId}`);
    expect(document).toMatchObject({ job_id: null, status: 'failed', error: { code: 'invalid_job' } });
    expect(String((document.error as { message: string }).message)).toMatch(/message\.data is not JSON/);
    // Longer than the emulator's redelivery interval: a second delivery would have logged.
    await new Promise((r) => setTimeout(r, 4000));
    expect(logs('markowitz', messageId).filter((l) => String(l.message).startsWith('Job failed'))).toHaveLength(1);
    expect(logs('markowitz', messageId).filter(redelivery)).toEqual([]);
  });

  it('a message with attributes and no data is rejected under its own message id', async () => {
    const [a, b] = await Promise.all([publish('markowitz', Buffer.alloc(0), { kind: 'probe' }), publish('markowitz', Buffer.alloc(0), { kind: 'probe' })]);
    for (const id of [a, b]) {
      const document = await result('markowitz', `_rejected/${id}`);
      expect(document).toMatchObject({ job_id: null, status: 'failed', error: { code: 'invalid_job', message: expect.stringMatching(/message\.data is empty/) } });
    }
  });

  it('a transient fault is redelivered and the job completes once the fault is gone', async () => {
    // A folder where claim.json belongs: every claim attempt fails with EISDIR, a storage fault.
    const claim = objectPath('blackscholes', 'e2e-transient', 'claim.json');
    await fs.mkdir(claim, { recursive: true });
    const messageId = await publish('blackscholes', { ...fixtureJob('blackscholes'), job_id: 'e2e-transient' });
    await waitFor('a fault answered 500', () => logs('blackscholes', messageId).find(redelivery));
    await fs.rm(claim, { recursive: true });
    expect(await result('blackscholes', 'e2e-transient')).toMatchObject({ status: 'completed' });
    const faults = logs('blackscholes', messageId).filter(redelivery);
    expect(faults.length).toBeGreaterThanOrEqual(1);
    expect(faults.length).toBeLessThan(5);
    expect(await jobRuns('e2e-transient')).toHaveLength(1);
  });

  it('a permanent fault goes to the dead-letter topic after 5 attempts, and the job is recorded failed without a result', async () => {
    const claim = objectPath('blackscholes', 'e2e-permanent', 'claim.json');
    await fs.mkdir(claim, { recursive: true });
    const messageId = await publish('blackscholes', { ...fixtureJob('blackscholes'), job_id: 'e2e-permanent' });
    const dead = await waitFor('the dead-lettered message', () => deadLettered.find((m) => JSON.parse(m.data.toString('utf8')).job_id === 'e2e-permanent'));
    expect(dead.attributes.CloudPubSubDeadLetterSourceDeliveryCount).toBe('5');
    expect(logs('blackscholes', messageId).filter(redelivery)).toHaveLength(5);
    const status = await waitFor('the dead-letter record', async () => {
      const s = await readJson(objectPath('blackscholes', 'e2e-permanent', 'status.json'));
      return s?.dead_lettered === true ? s : undefined;
    });
    expect(status).toMatchObject({ job_id: 'e2e-permanent', status: 'failed', error: { code: 'internal', message: expect.stringMatching(/delivered 5 times/) } });
    expect(await readJson(objectPath('blackscholes', 'e2e-permanent', 'result.json'))).toBeUndefined();
    await fs.rm(claim, { recursive: true });
  });

  it('a run killed mid-job (kill -9) is taken over by a redelivery and completes bit-identical to an uninterrupted run, one row', async () => {
    const params = { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 2_000_000, time_steps: 400, seed: 20240601 };
    const reference = { job_id: 'e2e-uninterrupted', params };
    await publish('montecarlo', reference);
    const uninterrupted = await result('montecarlo', 'e2e-uninterrupted');

    const crashed = { job_id: 'e2e-crash', params };
    await publish('montecarlo', crashed);
    await waitFor('the run to start', async () => ((await readJson(objectPath('montecarlo', 'e2e-crash', 'status.json')))?.status === 'running' ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    const victim = served.montecarlo;
    victim.process.kill('SIGKILL');
    await new Promise((r) => victim.process.once('exit', r));
    expect(await readJson(objectPath('montecarlo', 'e2e-crash', 'result.json'))).toBeUndefined();
    // The instance comes back where the push subscription points.
    const replacement = await serveFunction('montecarlo', env, { port: victim.port });
    extraProcesses.push(replacement);

    const document = await result('montecarlo', 'e2e-crash');
    expect(document.status).toBe('completed');
    expect(document.result).toEqual(uninterrupted.result);
    expect(document.inputs).toEqual(uninterrupted.inputs);
    // The chart's title names the job; everything else must be the same bytes.
    const chart = async (id: string) => (await fs.readFile(objectPath('montecarlo', id, 'chart.svg'), 'utf8')).replace(id, '<job>');
    expect(await chart('e2e-crash')).toBe(await chart('e2e-uninterrupted'));
    await waitFor('the final status', async () => ((await readJson(objectPath('montecarlo', 'e2e-crash', 'status.json')))?.status === 'completed' ? true : undefined));
    expect(await jobRuns('e2e-crash')).toHaveLength(1);
  });

  it('every line every function wrote is one JSON object (transient faults included)', () => {
    const all = [...Object.values(served), ...extraProcesses].flatMap((p) => p.lines);
    expect(all.length).toBeGreaterThan(0);
    for (const line of all) expect(() => JSON.parse(line), line).not.toThrow();
    expect(all.join('\n')).not.toContain('e2e-secret-key-0123456789');
  });
});
