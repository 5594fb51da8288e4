import type { CloudEventV1 } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import type { JobEvent } from '../../../shared/events/jobEvent.js';
import { jobEventHandler, RedeliveryRequest } from '../../../shared/job/cloudEventHandler.js';
import { TransientError } from '../../../shared/job/errors.js';
import type { JobOutcome, JobServices } from '../../../shared/job/lifecycle.js';
import { MESSAGE_PUBLISHED } from '../../../shared/job/pubsubCloudEvent.js';
import type { Logger } from '../../../shared/log.js';
import type { ModelDefinition } from '../../../shared/job/model.js';
import { createMontecarloModel, montecarloModel, type MonteCarloParams } from '../../../shared/models/montecarlo/job.js';
import type { PriceHistory } from '../../../shared/prices/history.js';
import type { PriceSource } from '../../../shared/prices/priceSource.js';
import { SHARD_TASK_KIND } from '../../../shared/models/montecarlo/shardTasks.js';
import type { InsertRow } from '../../../shared/warehouse/warehouse.js';
import { MemoryObjectStore, type StoreOperation } from '../../support/memoryObjectStore.js';

// The shard protocol through the montecarlo function's own handler (jobs and shard tasks
// alike), over stand-ins for Pub/Sub (a queue the test delivers from, in the order and as
// many times as it chooses), the bucket (in memory, atomic like Cloud Storage's
// preconditions, with a hook to kill a delivery at any operation), the warehouse and the
// job-events topic. A killed delivery stops touching anything from that operation on (its
// claim is not released, as after a kill -9) and is redelivered, as Pub/Sub would.

const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => log };
const LEASE_MS = 20_000;
const params = { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 120_000, time_steps: 12, seed: 3 };

interface Message { data: string; attributes: Readonly<Record<string, string>> }

function system(model: ModelDefinition<MonteCarloParams> = montecarloModel, prices: PriceSource = { histories: () => Promise.reject(new Error('not used by single-asset Monte Carlo')) }) {
  const store = new MemoryObjectStore();
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const rows: (InsertRow & { table: string })[] = [];
  const events: JobEvent[] = [];
  const tasks: Message[] = [];
  let killAt: ((operation: StoreOperation | { op: 'insertRows' | 'publish'; name: string }) => boolean) | null = null;
  let dead = false;
  const fault = (operation: StoreOperation | { op: 'insertRows' | 'publish'; name: string }) => {
    if (dead) throw new TransientError(`killed (${operation.op} ${operation.name} after the kill)`);
    if (killAt?.(operation)) {
      killAt = null;
      dead = true;
      throw new TransientError(`killed at ${operation.op} ${operation.name}`);
    }
  };
  store.hook = fault;
  const unavailable = () => Promise.reject(new Error('not used by single-asset Monte Carlo'));
  const services: JobServices = {
    store,
    warehouse: {
      insertRows: async (table, inserted) => {
        fault({ op: 'insertRows', name: table });
        rows.push(...inserted.map((row) => ({ ...row, table })));
      },
      upsertRows: unavailable,
      mergeStaged: unavailable,
      queryBySymbols: unavailable,
    },
    prices,
    secrets: { get: unavailable },
    config: loadConfig({ MC_THREADS: '1', MC_SHARD_TOPIC: 'montecarlo-shards', GCP_PROJECT: 'test-project' }),
    log,
    leaseMs: LEASE_MS,
    now: () => new Date(clock),
    events: { publish: async (event) => void (fault({ op: 'publish', name: 'job-events' }), events.push(event)) },
    publisher: {
      publish: async (topic, data, attributes) => {
        expect(topic).toBe('montecarlo-shards');
        expect(attributes.kind).toBe(SHARD_TASK_KIND);
        fault({ op: 'publish', name: topic });
        tasks.push({ data, attributes });
      },
    },
  };
  const handler = jobEventHandler(model, async () => services);
  let ids = 0;
  const event = (topic: string, data: string, attributes: Record<string, string>): CloudEventV1<unknown> => {
    const id = `m${++ids}`;
    const publishTime = new Date(clock).toISOString();
    return {
      specversion: '1.0',
      id,
      type: MESSAGE_PUBLISHED,
      source: `//pubsub.googleapis.com/projects/test-project/topics/${topic}`,
      time: publishTime,
      data: { message: { data: Buffer.from(data).toString('base64'), attributes, messageId: id, publishTime }, subscription: `projects/test-project/subscriptions/${topic}-push` },
    };
  };
  /** One delivery: its outcome, or `redeliver` when it answered with an error (Pub/Sub retries after a backoff). */
  const deliver = async (cloudEvent: CloudEventV1<unknown>): Promise<JobOutcome | null | 'redeliver'> => {
    try {
      return await handler(cloudEvent);
    } catch (error) {
      if (!(error instanceof RedeliveryRequest)) throw error;
      clock += LEASE_MS + 1; // the backoff, and a killed delivery's claim runs out
      return 'redeliver';
    } finally {
      dead = false; // the next delivery is another instance
    }
  };
  return {
    store,
    rows,
    events,
    tasks,
    kill: (when: typeof killAt) => void (killAt = when),
    advance: (ms: number) => void (clock += ms),
    publishJob: (job: Record<string, unknown>) => deliver(event('jobs-montecarlo', JSON.stringify(job), {})),
    deliverTask: (task: Message) => deliver(event('montecarlo-shards', task.data, { ...task.attributes })),
    deadLetterTask: (task: Message) => deliver(event('montecarlo-shards-dead-letter', task.data, { ...task.attributes, CloudPubSubDeadLetterSourceDeliveryCount: '5' })),
    /** Delivers a task until it is acknowledged: how many deliveries that took. */
    deliverUntilAcked: async (task: Message): Promise<number> => {
      for (let deliveries = 1; deliveries <= 10; deliveries++) {
        if ((await deliver(event('montecarlo-shards', task.data, { ...task.attributes }))) !== 'redeliver') return deliveries;
      }
      throw new Error('a task was never acknowledged');
    },
  };
}

type System = ReturnType<typeof system>;
const folder = (jobId: string) => `jobs/montecarlo/${jobId}`;
const shardOf = (task: Message) => (JSON.parse(task.data) as { shard: number }).shard;
const jobRuns = (s: System, jobId: string) => s.rows.filter((r) => r.table === 'job_runs' && r.row.job_id === jobId);
const eventsOf = (s: System, jobId: string) => s.events.filter((e) => e.job_id === jobId);

/** The one-shard job's result, through the same handler (it completes in its own delivery). */
async function oneShardResult(jobParams: Record<string, unknown> = params, s: System = system(), envelope: Record<string, unknown> = {}): Promise<string> {
  expect(await s.publishJob({ ...envelope, job_id: 'mc-one', params: { ...jobParams, shards: 1 } })).toMatchObject({ status: 'completed' });
  return JSON.stringify(s.store.json(`${folder('mc-one')}/result.json`)!.result);
}

/** What must hold once a sharded job is committed: one result.json written once, one job_runs row, one job-events message, the final status. */
function expectCommittedOnce(s: System, jobId: string, status: 'completed' | 'failed') {
  const result = s.store.json<{ status: string; started_at: string }>(`${folder(jobId)}/result.json`)!;
  expect(result.status).toBe(status);
  expect(s.store.writes.get(`${folder(jobId)}/result.json`)).toBe(1);
  expect(jobRuns(s, jobId).map((r) => r.row.status)).toEqual([status]);
  expect(eventsOf(s, jobId).map((e) => e.status)).toEqual([status]);
  expect(s.store.json(`${folder(jobId)}/status.json`)).toMatchObject({ status, started_at: result.started_at });
  return result;
}

describe('shards over Pub/Sub', () => {
  it('are handed off by the delivery that receives the job, and the last shard commits the one-shard numbers once, every task delivered twice and one delivery killed', async () => {
    const s = system();
    // The receiving delivery plans, publishes one task a shard, marks the job running and acknowledges.
    expect(await s.publishJob({ job_id: 'mc-pubsub', params: { ...params, shards: 4 } })).toEqual({ job_id: 'mc-pubsub', status: 'running', resultObject: `${folder('mc-pubsub')}/result.json`, duplicate: false });
    expect(s.tasks.map(shardOf)).toEqual([0, 1, 2, 3]);
    expect(s.store.json(`${folder('mc-pubsub')}/status.json`)).toMatchObject({ status: 'running', progress: 0, shards_done: 0, shards: 4 });
    expect(s.store.json(`${folder('mc-pubsub')}/hand-off.json`)).toMatchObject({ dispatched: true });
    expect(s.store.objects.has(`${folder('mc-pubsub')}/result.json`)).toBe(false);
    expect(s.store.objects.has(`${folder('mc-pubsub')}/claim.json`)).toBe(false); // the job's delivery holds nothing while the shards run

    // Shard 1's first delivery is killed while it writes its state: redelivered, it simulates again.
    s.kill((op) => op.op === 'createOnly' && op.name.endsWith('/1.json'));
    const deliveries: (JobOutcome | null | 'redeliver')[] = [];
    for (const task of s.tasks.slice(0, 2)) for (let copy = 0; copy < 2; copy++) deliveries.push(await s.deliverTask(task));
    expect(deliveries).toEqual([null, null, 'redeliver', null]);
    expect(s.store.json(`${folder('mc-pubsub')}/status.json`)).toMatchObject({ status: 'running', progress: 0.5, shards_done: 2, shards: 4 });
    for (const task of s.tasks.slice(2)) for (let copy = 0; copy < 2; copy++) expect(await s.deliverTask(task)).toBeNull();

    const result = expectCommittedOnce(s, 'mc-pubsub', 'completed') as unknown as { result: unknown; inputs: { shards: number } };
    expect(JSON.stringify(result.result)).toBe(await oneShardResult());
    expect(result.inputs.shards).toBe(4);
    expect([...s.store.objects.keys()].filter((k) => /\/shards\/[0-9a-f]{32}\/\d+\.json$/.test(k))).toHaveLength(4);
    // A late copy of a task changes nothing.
    expect(await s.deliverTask(s.tasks[0])).toBeNull();
    expectCommittedOnce(s, 'mc-pubsub', 'completed');
  });

  it('keep one run when the job message is delivered again while its shards run: nothing published twice once dispatched, the same seed', async () => {
    const s = system();
    const { seed: _seed, ...unseeded } = params;
    const job = { job_id: 'mc-again', params: { ...unseeded, shards: 3 } };
    expect(await s.publishJob(job)).toMatchObject({ status: 'running' });
    const handOff = s.store.objects.get(`${folder('mc-again')}/hand-off.json`)!.body;
    await s.deliverTask(s.tasks[0]);
    // The same message again (at-least-once): the same run, its tasks not published again.
    expect(await s.publishJob(job)).toMatchObject({ status: 'running' });
    expect(s.tasks).toHaveLength(3);
    expect(s.store.objects.get(`${folder('mc-again')}/hand-off.json`)!.body).toBe(handOff);
    expect(s.store.json(`${folder('mc-again')}/status.json`)).toMatchObject({ status: 'running', shards_done: 1, shards: 3 });
    for (const task of s.tasks) await s.deliverTask(task);
    const result = expectCommittedOnce(s, 'mc-again', 'completed') as unknown as { inputs: { seed: number } };
    const manifests = [...s.store.objects.keys()].filter((k) => k.endsWith('manifest.json'));
    expect(manifests).toHaveLength(1);
    expect(result.inputs.seed).toBe(s.store.json<{ spec: { seed: number } }>(manifests[0]!)!.spec.seed);
    // After the commit the message is a duplicate.
    expect(await s.publishJob(job)).toMatchObject({ status: 'completed', duplicate: true });
  });

  it('publish the tasks again when the delivery that received the job is killed while publishing them', async () => {
    const s = system();
    let published = 0;
    s.kill((op) => op.op === 'publish' && op.name === 'montecarlo-shards' && ++published === 3);
    expect(await s.publishJob({ job_id: 'mc-dispatch', params: { ...params, shards: 4 } })).toBe('redeliver');
    expect(s.tasks.map(shardOf)).toEqual([0, 1]);
    await s.deliverTask(s.tasks[0]);
    // The redelivery continues the run and publishes the shards not stored.
    expect(await s.publishJob({ job_id: 'mc-dispatch', params: { ...params, shards: 4 } })).toMatchObject({ status: 'running' });
    expect(s.tasks.map(shardOf)).toEqual([0, 1, 1, 2, 3]);
    for (const task of s.tasks) await s.deliverTask(task);
    const result = expectCommittedOnce(s, 'mc-dispatch', 'completed') as unknown as { result: unknown };
    expect(JSON.stringify(result.result)).toBe(await oneShardResult());
  });

  it('finish the commit of a merging delivery killed after result.json, through its redelivery: one result.json, one job_runs row, one job-events message', async () => {
    const s = system();
    await s.publishJob({ job_id: 'mc-crash', params: { ...params, shards: 3 } });
    await s.deliverTask(s.tasks[0]);
    await s.deliverTask(s.tasks[1]);
    // The last shard's delivery merges, commits result.json, and is killed before the job_runs row.
    s.kill((op) => op.op === 'insertRows' && op.name === 'job_runs');
    expect(await s.deliverTask(s.tasks[2])).toBe('redeliver');
    expect(s.store.json(`${folder('mc-crash')}/result.json`)).toMatchObject({ status: 'completed' });
    expect(s.store.json(`${folder('mc-crash')}/status.json`)).toMatchObject({ status: 'running' });
    expect(jobRuns(s, 'mc-crash')).toHaveLength(0);
    expect(s.store.objects.has(`${folder('mc-crash')}/claim.json`)).toBe(true); // killed: never released
    // Its redelivery finds its state stored, all states stored, this run's result: writes the rest.
    expect(await s.deliverUntilAcked(s.tasks[2])).toBe(1);
    expectCommittedOnce(s, 'mc-crash', 'completed');
  });

  it('merge again when the merging delivery is killed before its commit', async () => {
    const s = system();
    await s.publishJob({ job_id: 'mc-merge-crash', params: { ...params, shards: 3 } });
    await s.deliverTask(s.tasks[0]);
    await s.deliverTask(s.tasks[1]);
    s.kill((op) => op.op === 'get' && /\/shards\/[0-9a-f]{32}\/1\.json$/.test(op.name)); // reading the states to merge
    expect(await s.deliverTask(s.tasks[2])).toBe('redeliver');
    expect(s.store.objects.has(`${folder('mc-merge-crash')}/result.json`)).toBe(false);
    expect(await s.deliverUntilAcked(s.tasks[2])).toBe(1);
    const result = expectCommittedOnce(s, 'mc-merge-crash', 'completed') as unknown as { result: unknown };
    expect(JSON.stringify(result.result)).toBe(await oneShardResult());
  });

  it('commit one result.json, one job_runs row and one job-events message when the last two shards finish at once', async () => {
    const s = system();
    await s.publishJob({ job_id: 'mc-race', params: { ...params, shards: 4 } });
    await s.deliverTask(s.tasks[0]);
    await s.deliverTask(s.tasks[1]);
    // Shards 2 and 3 wait for each other before writing their states, so both then count four
    // states and both go to commit the job: both try to take the job's claim.
    let release!: () => void;
    const bothReady = new Promise<void>((resolve) => (release = resolve));
    let ready = 0;
    let committing = 0;
    s.store.hook = async (op) => {
      if (op.op === 'createOnly' && /\/shards\/[0-9a-f]{32}\/[23]\.json$/.test(op.name)) {
        if (++ready === 2) release();
        await bothReady;
      }
      if (op.op === 'createOnly' && op.name.endsWith('/claim.json')) committing++;
    };
    const raced = await Promise.all([s.deliverTask(s.tasks[2]), s.deliverTask(s.tasks[3])]);
    s.store.hook = () => {};
    expect(committing).toBe(2);
    // One commits; the other finds the job claimed, is redelivered, and finds it committed.
    expect([...raced].sort()).toEqual([null, 'redeliver']);
    for (const [i, outcome] of raced.entries()) if (outcome === 'redeliver') expect(await s.deliverUntilAcked(s.tasks[2 + i]!)).toBe(1);
    expectCommittedOnce(s, 'mc-race', 'completed');
  });

  it('fail the job once, naming the shard, when a shard\'s task is dead-lettered; published again, the job completes from the stored shards', async () => {
    const s = system();
    const job = { job_id: 'mc-bad', params: { ...params, shards: 3 } };
    await s.publishJob(job);
    await s.deliverTask(s.tasks[0]);
    await s.deliverTask(s.tasks[1]);
    // Shard 2's task crashes at every delivery until Pub/Sub dead-letters it; the dead letter comes back to the function.
    expect(await s.deadLetterTask(s.tasks[2])).toBeNull();
    const failed = expectCommittedOnce(s, 'mc-bad', 'failed') as unknown as { error: { code: string; message: string } };
    expect(failed.error.code).toBe('internal');
    expect(failed.error.message).toMatch(/^Shard 2 of 3 failed: its task was delivered 5 times without an answer/);
    // A late delivery of it stores the state, finds every state and this run's result: nothing more.
    expect(await s.deliverTask(s.tasks[2])).toBeNull();
    expectCommittedOnce(s, 'mc-bad', 'failed');

    // An internal failure does not consume the job_id: published again, the new run finds every state stored and merges in its own delivery.
    const before = s.tasks.length;
    s.advance(1000);
    expect(await s.publishJob(job)).toMatchObject({ status: 'completed', duplicate: false });
    expect(s.tasks.length).toBe(before);
    const done = s.store.json<{ status: string; result: unknown }>(`${folder('mc-bad')}/result.json`)!;
    expect(done.status).toBe('completed');
    expect(JSON.stringify(done.result)).toBe(await oneShardResult());
    expect(jobRuns(s, 'mc-bad').map((r) => r.row.status)).toEqual(['failed', 'completed']);
    expect(eventsOf(s, 'mc-bad').map((e) => e.status)).toEqual(['failed', 'completed']);
    // A task of the earlier run arriving now finds a final result: nothing more.
    expect(await s.deliverTask(s.tasks[1])).toBeNull();
    expect(eventsOf(s, 'mc-bad')).toHaveLength(2);
  });

  it('publish only the missing shards when a job that failed on a shard is published again', async () => {
    const s = system();
    const job = { job_id: 'mc-rerun', params: { ...params, shards: 3 } };
    await s.publishJob(job);
    await s.deliverTask(s.tasks[0]);
    expect(await s.deadLetterTask(s.tasks[2])).toBeNull();
    expect(s.store.json(`${folder('mc-rerun')}/result.json`)).toMatchObject({ status: 'failed' });
    s.advance(1000);
    expect(await s.publishJob(job)).toMatchObject({ status: 'running' });
    expect(s.tasks.slice(3).map(shardOf)).toEqual([1, 2]);
    expect(s.store.json(`${folder('mc-rerun')}/status.json`)).toMatchObject({ status: 'running', shards_done: 1, shards: 3 });
    for (const task of s.tasks.slice(3)) expect(await s.deliverTask(task)).toBeNull();
    expect(s.store.json(`${folder('mc-rerun')}/result.json`)).toMatchObject({ status: 'completed' });
    expect(eventsOf(s, 'mc-rerun').map((e) => e.status)).toEqual(['failed', 'completed']);
  });

  it('fail the job once when every shard finds its manifest corrupt', async () => {
    const s = system();
    await s.publishJob({ job_id: 'mc-corrupt', params: { ...params, shards: 3 } });
    const manifest = [...s.store.objects.keys()].find((k) => k.startsWith(folder('mc-corrupt')) && k.endsWith('manifest.json'))!;
    s.store.objects.set(manifest, { body: '{"format":"montecarlo-shards/2"}', generation: 'x' });
    for (const task of s.tasks) expect(await s.deliverTask(task)).toBeNull();
    const failed = expectCommittedOnce(s, 'mc-corrupt', 'failed') as unknown as { error: { message: string } };
    expect(failed.error.message).toMatch(/^Shard 0 of 3 failed: its manifest is malformed/);
  });

  it('split a job too large for one instance by default, into the fewest shards within one instance\'s limits', async () => {
    const s = system();
    // 5,000,001 paths: one over one instance's limit; no params.shards.
    expect(await s.publishJob({ job_id: 'mc-big', params: { ...params, simulations: 5_000_001, time_steps: 1 } })).toMatchObject({ status: 'running' });
    expect(s.tasks).toHaveLength(2);
  });

  it('acknowledge a task that is not one, or whose job has no manifest', async () => {
    const s = system();
    const outcome = (data: string) => montecarloModel.tasks!.run(data, { jobFiles: () => ({ names: async () => [], createOnly: async () => true, read: async () => null }), log, config: loadConfig({}), commitJob: async () => 'stale', reportProgress: async () => {} });
    expect(await outcome('not json')).toEqual({ shard: 'unreadable' });
    expect(await outcome(JSON.stringify({ job_id: 'x', fingerprint: 'a'.repeat(32), shard: 0, shards: 1 }))).toEqual({ shard: 'no-manifest' });
    expect(await s.deliverTask({ data: 'not json', attributes: { kind: SHARD_TASK_KIND } })).toBeNull();
  });

});

// Several symbols past one instance's stores merge by selection passes; the later passes run
// as rounds of shard tasks. The test hook forces the passes on a small job, with settings
// (16 bins, 40 kept values, a one-block pilot a tenth of a standard error wide: it misses)
// that need several count passes, so there are rounds 2, 3 and more.
const SELECTION = { bins: 16, maxKept: 40, pilotBlocks: 1, pilotWidth: 0.1 };
const passesModel = createMontecarloModel({ selection: SELECTION });
/** Two symbols' closes on 300 weekdays (a deterministic walk), as the warehouse would give them. */
const twoSymbols: PriceSource = {
  histories: async (symbols) =>
    symbols.map((symbol, k): PriceHistory => {
      const dates: string[] = [];
      const prices: number[] = [];
      let price = 100 + 50 * k;
      for (let day = 0; dates.length < 300; day++) {
        const date = new Date(Date.UTC(2025, 0, 1) + day * 86_400_000);
        if (date.getUTCDay() === 0 || date.getUTCDay() === 6) continue;
        price *= Math.exp(0.0004 + 0.012 * Math.sin(day * (1.3 + 0.7 * k)) + 0.004 * Math.cos(day * 0.37));
        dates.push(date.toISOString().slice(0, 10));
        prices.push(price);
      }
      return { symbol, dates, prices };
    }),
};
const passesJob = { symbols: ['AAA', 'BBB'], start: '2025-01-01', end: '2026-03-31' };
const passesParams = { simulations: 40_000, time_steps: 12, seed: 7 };
const passOf = (task: Message) => (JSON.parse(task.data) as { pass?: number }).pass ?? 1;
const passObjects = (s: System, jobId: string, pass: number) => [...s.store.objects.keys()].filter((k) => k.startsWith(`${folder(jobId)}/shards/`) && k.includes(`-pass${pass}/`));

/** Delivers every task published and not yet delivered, in order (a round's last task publishes the next round): how many deliveries were acknowledged. */
async function deliverAll(s: System, from: number, each: (task: Message, index: number) => Promise<void> = async (task) => void (await s.deliverUntilAcked(task))): Promise<number> {
  let index = from;
  for (; index < s.tasks.length; index++) await each(s.tasks[index]!, index);
  return index;
}

describe('selection passes over Pub/Sub', () => {
  it('run as rounds of pass tasks published by the delivery completing each round: duplicates, a kill while publishing and a killed pass delivery, one commit of one instance\'s numbers', async () => {
    const s = system(passesModel, twoSymbols);
    const job = { ...passesJob, job_id: 'mc-rounds', params: { ...passesParams, shards: 3 } };
    expect(await s.publishJob(job)).toMatchObject({ status: 'running' });
    expect(s.tasks.map((t) => [passOf(t), shardOf(t)])).toEqual([[1, 0], [1, 1], [1, 2]]);
    expect(s.store.json(`${folder('mc-rounds')}/status.json`)).toMatchObject({ status: 'running', progress: 0, pass: 1, shards_done: 0, shards: 3 });
    for (const task of s.tasks.slice(0, 2)) expect(await s.deliverTask(task)).toBeNull();
    // Progress over the rounds: the first is half of at least two.
    expect(s.store.json(`${folder('mc-rounds')}/status.json`)).toMatchObject({ progress: 0.3333, pass: 1, shards_done: 2 });

    // The last first-round delivery merges, plans pass 2, and is killed publishing its second task.
    let publishes = 0;
    s.kill((op) => op.op === 'publish' && op.name === 'montecarlo-shards' && ++publishes === 2);
    expect(await s.deliverTask(s.tasks[2]!)).toBe('redeliver');
    const windows = passObjects(s, 'mc-rounds', 2).find((k) => k.endsWith('/pass.json'))!;
    expect(windows).toBeDefined();
    expect(s.tasks.slice(3).map((t) => [passOf(t), shardOf(t)])).toEqual([[2, 0]]);
    // Its redelivery reads the stored windows back and publishes the round; a late copy of a first-round task publishes nothing more.
    expect(await s.deliverUntilAcked(s.tasks[2]!)).toBe(1);
    expect(await s.deliverTask(s.tasks[0]!)).toBeNull();
    expect(s.tasks.slice(3).map((t) => [passOf(t), shardOf(t)])).toEqual([[2, 0], [2, 0], [2, 1], [2, 2]]);
    expect(s.tasks.slice(3).every((t) => t.attributes.kind === SHARD_TASK_KIND && t.attributes.pass === '2')).toBe(true);
    expect(s.store.writes.get(windows)).toBe(1);
    expect(s.store.objects.has(`${folder('mc-rounds')}/result.json`)).toBe(false);
    expect(s.store.objects.has(`${folder('mc-rounds')}/claim.json`)).toBe(false); // nothing held while the round runs
    expect(s.store.json(`${folder('mc-rounds')}/status.json`)).toMatchObject({ status: 'running', progress: 0.5, pass: 2, shards_done: 0 });

    // Pass 2's task of shard 1 is killed as it stores its results (redelivered: computed again); every task is delivered twice.
    s.kill((op) => op.op === 'createOnly' && /-pass2\/1\.json$/.test(op.name));
    const outcomes: (JobOutcome | null | 'redeliver')[] = [];
    await deliverAll(s, 3, async (task) => {
      for (let copy = 0; copy < 2; copy++) {
        const outcome = await s.deliverTask(task);
        outcomes.push(outcome);
        if (outcome === 'redeliver') await s.deliverUntilAcked(task);
      }
    });
    expect(outcomes.filter((o) => o === 'redeliver')).toHaveLength(1);

    const result = expectCommittedOnce(s, 'mc-rounds', 'completed') as unknown as { result: unknown; inputs: { shards: number } };
    expect(JSON.stringify(result.result)).toBe(await oneShardResult(passesParams, system(passesModel, twoSymbols), passesJob));
    expect(result.inputs.shards).toBe(3);
    // Rounds 2, 3 and more (the pilot missed): each published once for its three shards, by the delivery completing the round before.
    const rounds = Math.max(...s.tasks.map(passOf));
    expect(rounds).toBeGreaterThanOrEqual(3);
    for (let pass = 3; pass <= rounds; pass++) expect(s.tasks.filter((t) => passOf(t) === pass).map(shardOf)).toEqual([0, 1, 2]);
    for (let pass = 2; pass <= rounds; pass++) {
      const stored = passObjects(s, 'mc-rounds', pass).filter((k) => /\/\d+\.json$/.test(k));
      expect(stored).toHaveLength(3);
      for (const key of stored) expect(s.store.writes.get(key)).toBe(1);
    }
    // A late copy of any task changes nothing.
    const published = s.tasks.length;
    expect(await s.deliverTask(s.tasks[4]!)).toBeNull();
    expect(await s.deliverTask(s.tasks[1]!)).toBeNull();
    expect(s.tasks).toHaveLength(published);
    expectCommittedOnce(s, 'mc-rounds', 'completed');
  });

  it('fail the job once, naming the shard and the pass, when a pass task is dead-lettered; published again, the new run publishes the missing pass tasks and completes', async () => {
    const s = system(passesModel, twoSymbols);
    const job = { ...passesJob, job_id: 'mc-pass-bad', params: { ...passesParams, shards: 3 } };
    await s.publishJob(job);
    await deliverAll(s, 0, async (task) => void (passOf(task) === 1 && (await s.deliverTask(task))));
    const round2 = s.tasks.filter((t) => passOf(t) === 2);
    expect(round2.map(shardOf)).toEqual([0, 1, 2]);
    expect(await s.deliverTask(round2[0]!)).toBeNull();
    expect(await s.deadLetterTask(round2[1]!)).toBeNull();
    const failed = expectCommittedOnce(s, 'mc-pass-bad', 'failed') as unknown as { error: { code: string; message: string } };
    expect(failed.error).toMatchObject({ code: 'internal' });
    expect(failed.error.message).toMatch(/^Shard 1 of 3 failed in selection pass 2: its task was delivered 5 times without an answer/);
    // A late delivery of the round's other task stores its results and changes nothing.
    expect(await s.deliverTask(round2[2]!)).toBeNull();
    expectCommittedOnce(s, 'mc-pass-bad', 'failed');

    // Published again: a new run; the last shard's task goes on from the stored states and publishes pass 2's missing task.
    s.advance(1000);
    const before = s.tasks.length;
    expect(await s.publishJob(job)).toMatchObject({ status: 'running' });
    expect(s.tasks.slice(before).map((t) => [passOf(t), shardOf(t)])).toEqual([[1, 2]]);
    await s.deliverUntilAcked(s.tasks[before]!);
    expect(s.tasks.slice(before + 1).map((t) => [passOf(t), shardOf(t)])).toEqual([[2, 1]]);
    await deliverAll(s, before + 1);
    const done = s.store.json<{ status: string; result: unknown }>(`${folder('mc-pass-bad')}/result.json`)!;
    expect(done.status).toBe('completed');
    expect(JSON.stringify(done.result)).toBe(await oneShardResult(passesParams, system(passesModel, twoSymbols), passesJob));
    expect(eventsOf(s, 'mc-pass-bad').map((e) => e.status)).toEqual(['failed', 'completed']);
  });
});
