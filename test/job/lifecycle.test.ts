import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { JobError, TransientError } from '../../shared/job/errors.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { startFunction, type FunctionUnderTest } from '../support/functionServer.js';
import { postCloudEvent, pubsubData } from '../support/pubsubPost.js';

// A model made for exercising the lifecycle: it does what its params say.
const probeParams = z
  .object({
    value: z.number().positive(),
    behave: z.enum(['ok', 'job_error', 'transient', 'bug', 'slow', 'long']).default('ok'),
  })
  .strict();
type ProbeParams = z.infer<typeof probeParams>;

function probeModel() {
  const calls = { runs: 0 };
  const model: ModelDefinition<ProbeParams> = {
    name: 'blackscholes',
    params: probeParams,
    symbolsOptional: true,
    async run(job) {
      calls.runs++;
      const { value, behave } = job.params;
      if (behave === 'job_error') throw new JobError('insufficient_data', 'params.value is too small for this probe.');
      if (behave === 'transient') throw new TransientError('warehouse unavailable');
      if (behave === 'bug') throw new TypeError('cannot read x of undefined');
      if (behave === 'slow') await new Promise((r) => setTimeout(r, 300));
      if (behave === 'long') await new Promise((r) => setTimeout(r, 2500));
      return { inputs: { value }, result: { doubled: value * 2 }, metrics: [{ metric: 'doubled', value: value * 2 }], chart: '<svg xmlns="http://www.w3.org/2000/svg"/>' };
    },
  };
  return { model: model as unknown as ModelDefinition<never>, calls };
}

const open: FunctionUnderTest[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});

async function start(env: Record<string, string> = {}) {
  const probe = probeModel();
  const fn = await startFunction(probe.model, env);
  open.push(fn);
  return { fn, calls: probe.calls };
}

async function readJson(fn: FunctionUnderTest, object: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await fs.readFile(path.join(fn.dataDir, 'bucket', object), 'utf8'));
  } catch {
    return null;
  }
}

async function tableRows(fn: FunctionUnderTest, dataset: string, table: string): Promise<Record<string, unknown>[]> {
  try {
    const text = await fs.readFile(path.join(fn.dataDir, 'bigquery', dataset, `${table}.ndjson`), 'utf8');
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

const job = (id: string, params: Record<string, unknown> = { value: 2 }) => ({ job_id: id, params });

describe('job lifecycle through the functions-framework', () => {
  it('a completed job leaves the result document, status, chart, one job_runs row and its metrics', async () => {
    const { fn } = await start();
    const { status } = await fn.publish(job('probe-1'));
    expect(status).toBeLessThan(300);
    const result = await readJson(fn, 'jobs/blackscholes/probe-1/result.json');
    expect(result).toMatchObject({ job_id: 'probe-1', model: 'blackscholes', status: 'completed', inputs: { value: 2 }, result: { doubled: 4 } });
    expect(Object.keys(result!).sort()).toEqual(['artifacts', 'duration_ms', 'finished_at', 'inputs', 'job_id', 'model', 'result', 'started_at', 'status']);
    expect(typeof result!.duration_ms).toBe('number');
    expect((result!.artifacts as { result: string }).result).toBe(pathToFileURL(path.resolve(fn.dataDir, 'bucket', 'jobs/blackscholes/probe-1/result.json')).href);
    expect(await readJson(fn, 'jobs/blackscholes/probe-1/status.json')).toMatchObject({ status: 'completed', job_id: 'probe-1' });
    expect(await fs.readFile(path.join(fn.dataDir, 'bucket/jobs/blackscholes/probe-1/chart.svg'), 'utf8')).toContain('<svg');
    const runs = await tableRows(fn, 'curated', 'job_runs');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ job_id: 'probe-1', model: 'blackscholes', status: 'completed', error_code: null });
    expect(await tableRows(fn, 'curated', 'model_metrics')).toEqual([
      expect.objectContaining({ job_id: 'probe-1', metric: 'doubled', value: 4, symbol: null }),
    ]);
    // No claim is left behind.
    expect(await readJson(fn, 'jobs/blackscholes/probe-1/claim.json')).toBeNull();
    const logs = fn.logLines.map((l) => JSON.parse(l));
    expect(logs.find((l) => l.message === 'Job completed.')).toMatchObject({ severity: 'INFO', job_id: 'probe-1', model: 'blackscholes', status: 'completed' });
  });

  it('a job delivered twice is computed and written once', async () => {
    const { fn, calls } = await start();
    await fn.publish(job('probe-dup'));
    const first = await fs.readFile(path.join(fn.dataDir, 'bucket/jobs/blackscholes/probe-dup/result.json'), 'utf8');
    const again = await fn.publish(job('probe-dup'));
    expect(again.status).toBeLessThan(300);
    expect(calls.runs).toBe(1);
    expect(await fs.readFile(path.join(fn.dataDir, 'bucket/jobs/blackscholes/probe-dup/result.json'), 'utf8')).toBe(first);
    expect(await tableRows(fn, 'curated', 'job_runs')).toHaveLength(1);
    expect(await tableRows(fn, 'curated', 'model_metrics')).toHaveLength(1);
  });

  it('two concurrent deliveries of one job produce exactly one result; the loser is retried and then acknowledged', async () => {
    const { fn, calls } = await start();
    const body = job('probe-race', { value: 3, behave: 'slow' });
    const statuses = (await Promise.all([fn.publish(body), fn.publish(body), fn.publish(body)])).map((r) => r.status);
    expect(statuses.filter((s) => s < 300)).toHaveLength(1);
    expect(statuses.filter((s) => s >= 500)).toHaveLength(2);
    expect(calls.runs).toBe(1);
    const redelivered = await fn.publish(body);
    expect(redelivered.status).toBeLessThan(300);
    expect(calls.runs).toBe(1);
    expect(await tableRows(fn, 'curated', 'job_runs')).toHaveLength(1);
  });

  it('a transient fault is thrown (HTTP 500, Pub/Sub retries), leaves no result and releases the claim', async () => {
    const { fn, calls } = await start();
    const { status } = await fn.publish(job('probe-transient', { value: 1, behave: 'transient' }));
    expect(status).toBe(500);
    expect(await readJson(fn, 'jobs/blackscholes/probe-transient/result.json')).toBeNull();
    expect(await readJson(fn, 'jobs/blackscholes/probe-transient/status.json')).toMatchObject({ status: 'running' });
    expect(await readJson(fn, 'jobs/blackscholes/probe-transient/claim.json')).toBeNull();
    expect(calls.runs).toBe(1);
  });

  it('job.json, written while the job runs, must be stored before the commit: a fault writing it leaves no result, and the claim is released only once the write settled', async () => {
    const { fn, calls } = await start();
    const order: string[] = [];
    const { store } = fn.services;
    const [put, deleteIf] = [store.put.bind(store), store.deleteIf.bind(store)];
    store.put = async (name, body, type) => {
      if (!name.endsWith('/job.json')) return put(name, body, type);
      order.push('job.json started');
      await new Promise((r) => setTimeout(r, 150)); // slower than the model
      order.push('job.json failed');
      throw new TransientError('storage unavailable');
    };
    store.deleteIf = async (name, generation) => {
      if (name.endsWith('/claim.json')) order.push('claim released');
      return deleteIf(name, generation);
    };
    const { status } = await fn.publish(job('probe-binding'));
    expect(status).toBe(500);
    expect(calls.runs).toBe(1);
    expect(order).toEqual(['job.json started', 'job.json failed', 'claim released']);
    expect(await readJson(fn, 'jobs/blackscholes/probe-binding/result.json')).toBeNull();
    expect(await readJson(fn, 'jobs/blackscholes/probe-binding/claim.json')).toBeNull();
    // A model that fails (transiently) before job.json is stored: the claim waits for the write.
    order.length = 0;
    store.put = async (name, body, type) => {
      if (!name.endsWith('/job.json')) return put(name, body, type);
      order.push('job.json started');
      await new Promise((r) => setTimeout(r, 150));
      await put(name, body, type);
      order.push('job.json stored');
    };
    expect((await fn.publish(job('probe-binding', { value: 1, behave: 'transient' }))).status).toBe(500);
    expect(order).toEqual(['job.json started', 'job.json stored', 'claim released']);
    // The redelivery completes the job, bound to it.
    store.put = put;
    expect((await fn.publish(job('probe-binding'))).status).toBeLessThan(300);
    expect(await readJson(fn, 'jobs/blackscholes/probe-binding/result.json')).toMatchObject({ status: 'completed' });
    expect(await readJson(fn, 'jobs/blackscholes/probe-binding/job.json')).toMatchObject({ job_id: 'probe-binding' });
  });

  it("a model's domain error is a failed result with its code, acknowledged", async () => {
    const { fn } = await start();
    const { status } = await fn.publish(job('probe-domain', { value: 1, behave: 'job_error' }));
    expect(status).toBeLessThan(300);
    const result = await readJson(fn, 'jobs/blackscholes/probe-domain/result.json');
    expect(result).toMatchObject({ status: 'failed', error: { code: 'insufficient_data', message: 'params.value is too small for this probe.' } });
    expect(await readJson(fn, 'jobs/blackscholes/probe-domain/status.json')).toMatchObject({ status: 'failed' });
    expect(await tableRows(fn, 'curated', 'job_runs')).toEqual([expect.objectContaining({ status: 'failed', error_code: 'insufficient_data' })]);
  });

  it('an unexpected error in a model is a failed result with code internal, not a redelivery loop', async () => {
    const { fn } = await start();
    const { status } = await fn.publish(job('probe-bug', { value: 1, behave: 'bug' }));
    expect(status).toBeLessThan(300);
    expect(await readJson(fn, 'jobs/blackscholes/probe-bug/result.json')).toMatchObject({ status: 'failed', error: { code: 'internal' } });
  });

  it('a stale claim left by a crashed run is taken over; a fresh one makes this delivery retry', async () => {
    const { fn, calls } = await start();
    const claimFile = path.join(fn.dataDir, 'bucket/jobs/blackscholes/probe-claim/claim.json');
    await fs.mkdir(path.dirname(claimFile), { recursive: true });
    await fs.writeFile(claimFile, JSON.stringify({ run_id: 'other', expires_at: new Date(Date.now() + 60_000).toISOString() }));
    expect((await fn.publish(job('probe-claim'))).status).toBe(500);
    expect(calls.runs).toBe(0);
    await fs.writeFile(claimFile, JSON.stringify({ run_id: 'dead', expires_at: new Date(Date.now() - 1000).toISOString() }));
    expect((await fn.publish(job('probe-claim'))).status).toBeLessThan(300);
    expect(calls.runs).toBe(1);
    expect(await readJson(fn, 'jobs/blackscholes/probe-claim/result.json')).toMatchObject({ status: 'completed' });
  });

  it('a crash before the commit leaves no completed-looking result; the redelivery completes the job', async () => {
    const { fn, calls } = await start();
    const store = fn.services.store;
    const createOnly = store.createOnly.bind(store);
    let failNext = true;
    store.createOnly = async (name, body, type) => {
      if (failNext && name.endsWith('result.json')) {
        failNext = false;
        throw new TransientError('bucket unavailable');
      }
      return createOnly(name, body, type);
    };
    expect((await fn.publish(job('probe-commit'))).status).toBe(500);
    expect(await readJson(fn, 'jobs/blackscholes/probe-commit/result.json')).toBeNull();
    expect(await readJson(fn, 'jobs/blackscholes/probe-commit/status.json')).toMatchObject({ status: 'running' });
    expect((await fn.publish(job('probe-commit'))).status).toBeLessThan(300);
    expect(calls.runs).toBe(2);
    expect(await readJson(fn, 'jobs/blackscholes/probe-commit/status.json')).toMatchObject({ status: 'completed' });
  });

  it('a crash after the commit is finished by the redelivery without recomputing, and rows are not doubled', async () => {
    const { fn, calls } = await start();
    const warehouse = fn.services.warehouse;
    const insertRows = warehouse.insertRows.bind(warehouse);
    let failures = 1;
    warehouse.insertRows = async (table, rows) => {
      if (table === 'model_metrics' && failures-- > 0) throw new TransientError('warehouse unavailable');
      return insertRows(table, rows);
    };
    expect((await fn.publish(job('probe-after'))).status).toBe(500);
    expect(await readJson(fn, 'jobs/blackscholes/probe-after/result.json')).toMatchObject({ status: 'completed' });
    expect(await readJson(fn, 'jobs/blackscholes/probe-after/status.json')).toMatchObject({ status: 'running' });
    expect((await fn.publish(job('probe-after'))).status).toBeLessThan(300);
    expect(calls.runs).toBe(1);
    expect(await readJson(fn, 'jobs/blackscholes/probe-after/status.json')).toMatchObject({ status: 'completed' });
    expect(await tableRows(fn, 'curated', 'job_runs')).toHaveLength(1);
    expect(await tableRows(fn, 'curated', 'model_metrics')).toHaveLength(1);
  });
});

describe('bad messages end as failed / invalid_job, acknowledged', () => {
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const cases: { name: string; raw?: string; job?: unknown; file: 'job' | 'rejected'; message: RegExp }[] = [
    { name: 'not base64', raw: '%%%not-base64%%%', file: 'rejected', message: /message\.data is not valid base64/ },
    { name: 'not UTF-8', raw: Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'), file: 'rejected', message: /not UTF-8/ },
    { name: 'not JSON', raw: base64('{"job_id": "x",'), file: 'rejected', message: /message\.data is not JSON/ },
    { name: 'a JSON array', raw: base64('[1,2]'), file: 'rejected', message: /must be a JSON object/ },
    { name: 'an empty body', raw: '', file: 'rejected', message: /message\.data is empty/ },
    { name: 'no job_id', job: { params: { value: 1 } }, file: 'rejected', message: /^job_id: / },
    { name: 'a job_id with a slash', job: { job_id: '../etc', params: { value: 1 } }, file: 'rejected', message: /^job_id: must be 1-128 characters/ },
    { name: 'a job_id too long', job: { job_id: 'x'.repeat(129), params: { value: 1 } }, file: 'rejected', message: /^job_id: / },
    { name: 'an unknown top-level key', job: { job_id: 'bad-top', param: {} }, file: 'job', message: /Unknown key "param" at the top level/ },
    { name: 'an unknown params key', job: { job_id: 'bad-key', params: { value: 1, valeu: 2 } }, file: 'job', message: /Unknown key "valeu" in params/ },
    { name: 'a wrong type', job: { job_id: 'bad-type', params: { value: 'two' } }, file: 'job', message: /^params\.value: expected number, received string/ },
    { name: 'a missing field', job: { job_id: 'bad-missing', params: {} }, file: 'job', message: /^params\.value: / },
    { name: 'an out-of-domain number', job: { job_id: 'bad-domain', params: { value: -1 } }, file: 'job', message: /^params\.value: / },
    { name: 'a bad date', job: { job_id: 'bad-date', start: '2024-02-30', params: { value: 1 } }, file: 'job', message: /^start: "2024-02-30" is not a calendar date \(day 30 of a 29-day month\)/ },
    { name: 'start after end', job: { job_id: 'bad-window', start: '2024-05-01', end: '2024-01-01', params: { value: 1 } }, file: 'job', message: /start \(2024-05-01\) is after end/ },
    { name: 'symbols not a list', job: { job_id: 'bad-symbols', symbols: 'AAPL', params: { value: 1 } }, file: 'job', message: /^symbols: expected array/ },
    { name: 'a symbol listed twice', job: { job_id: 'bad-dup', symbols: ['AAPL', 'AAPL'], params: { value: 1 } }, file: 'job', message: /"AAPL" more than once/ },
  ];

  it.each(cases)('$name', async ({ raw, job: body, file, message }) => {
    const { fn, calls } = await start();
    const { status, messageId } = await fn.publish(body, raw !== undefined ? { raw } : {});
    expect(status).toBeLessThan(300);
    expect(calls.runs).toBe(0);
    const folder = file === 'job' ? `jobs/blackscholes/${(body as { job_id: string }).job_id}` : `jobs/blackscholes/_rejected/${messageId}`;
    const result = await readJson(fn, `${folder}/result.json`);
    expect(result).toMatchObject({ model: 'blackscholes', status: 'failed', error: { code: 'invalid_job' } });
    expect((result!.error as { message: string }).message).toMatch(message);
    expect(result!.job_id).toBe(file === 'job' ? (body as { job_id: string }).job_id : null);
    // Redelivery of the same bad message does not write a second row.
    await fn.publish(body, raw !== undefined ? { raw, messageId } : { messageId });
    expect(await tableRows(fn, 'curated', 'job_runs')).toHaveLength(1);
  });

  it('an event that is not a Pub/Sub message is rejected, not crashed on', async () => {
    const { fn } = await start();
    expect(await fn.post({ hello: 'world' }, 'evt-1')).toBeLessThan(300);
    expect(await readJson(fn, 'jobs/blackscholes/_rejected/evt-1/result.json')).toMatchObject({ status: 'failed', error: { code: 'invalid_job' } });
  });
});

describe('rejections under load and faults', () => {
  it('a storage fault while recording a rejected message is thrown (redelivered), not acked as internal', async () => {
    const { fn } = await start();
    const store = fn.services.store;
    const createOnly = store.createOnly.bind(store);
    let failures = 1;
    store.createOnly = async (name, body, type) => {
      if (name.includes('_rejected') && failures-- > 0) throw new TransientError('bucket unavailable');
      return createOnly(name, body, type);
    };
    const { status, messageId } = await fn.publish(undefined, { raw: Buffer.from('not json').toString('base64') });
    expect(status).toBe(500);
    expect(await readJson(fn, `jobs/blackscholes/_rejected/${messageId}/result.json`)).toBeNull();
    expect((await fn.publish(undefined, { raw: Buffer.from('not json').toString('base64'), messageId })).status).toBeLessThan(300);
    expect(await readJson(fn, `jobs/blackscholes/_rejected/${messageId}/result.json`)).toMatchObject({ error: { code: 'invalid_job' } });
  });

  it('concurrent bad messages each get their own job_runs row (insert ids from message ids, not a clock)', async () => {
    const { fn } = await start();
    const raw = Buffer.from('[]').toString('base64');
    await Promise.all(Array.from({ length: 40 }, () => fn.publish(undefined, { raw })));
    const rows = await tableRows(fn, 'curated', 'job_runs');
    expect(rows).toHaveLength(40);
  });

  it('a push body with attributes and no data (which the functions-framework passes through unconverted) is rejected under its message id', async () => {
    const { fn } = await start();
    const response = await fetch(`${fn.url}projects/p/topics/jobs-blackscholes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: { data: '', attributes: { kind: 'probe' }, messageId: 'attr-only-1', publishTime: new Date().toISOString() }, subscription: 'projects/p/subscriptions/s' }),
    });
    expect(response.status).toBe(204);
    expect(await readJson(fn, 'jobs/blackscholes/_rejected/attr-only-1/result.json')).toMatchObject({ error: { code: 'invalid_job', message: expect.stringMatching(/message\.data is empty/) } });
  });

  it('the answer to a push is an empty 204, the job result staying in the bucket', async () => {
    const { fn } = await start();
    const response = await fetch(`${fn.url}projects/p/topics/jobs-blackscholes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: { data: Buffer.from(JSON.stringify(job('probe-empty'))).toString('base64'), messageId: 'm-empty' }, subscription: 'projects/p/subscriptions/s' }),
    });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(await readJson(fn, 'jobs/blackscholes/probe-empty/result.json')).toMatchObject({ status: 'completed' });
  });
});

describe('crash recovery: a short lease kept alive by a heartbeat', () => {
  it('a run longer than its lease keeps the job: the heartbeat renews the claim, so a redelivery meanwhile is retried', async () => {
    const { fn, calls } = await start({ JOB_LEASE_SECONDS: '1' });
    const body = job('probe-long', { value: 1, behave: 'long' });
    const first = fn.publish(body);
    await new Promise((r) => setTimeout(r, 1700)); // past the 1 s lease: only renewals keep it
    const claim = await readJson(fn, 'jobs/blackscholes/probe-long/claim.json');
    expect(Date.parse(String(claim?.expires_at))).toBeGreaterThan(Date.now());
    expect((await fn.publish(body)).status).toBe(500);
    expect((await first).status).toBeLessThan(300);
    expect(calls.runs).toBe(1);
    expect(await readJson(fn, 'jobs/blackscholes/probe-long/claim.json')).toBeNull();
  });

  it("a message from the dead-letter topic marks the job failed (dead_lettered, no result.json); a replay then runs it", async () => {
    const { fn, calls } = await start();
    const data = pubsubData(job('probe-dead'), 'dl-1') as { message: Record<string, unknown> };
    data.message.attributes = { CloudPubSubDeadLetterSourceDeliveryCount: '5', CloudPubSubDeadLetterSourceSubscription: 'blackscholes-push' };
    expect(await postCloudEvent(fn.url, data, { id: 'dl-1', topic: 'blackscholes-dead-letter' })).toBeLessThan(300);
    expect(calls.runs).toBe(0);
    expect(await readJson(fn, 'jobs/blackscholes/probe-dead/result.json')).toBeNull();
    expect(await readJson(fn, 'jobs/blackscholes/probe-dead/status.json')).toMatchObject({
      job_id: 'probe-dead', status: 'failed', dead_lettered: true, error: { code: 'internal', message: expect.stringMatching(/^The job's message was delivered 5 times without an answer/) },
    });
    const logged = fn.logLines.map((l) => JSON.parse(l)).find((l) => String(l.message).startsWith('Job dead-lettered'));
    expect(logged).toMatchObject({ severity: 'ERROR', job_id: 'probe-dead', delivery_attempts: '5' });
    // Replayed to the job topic: it runs and completes.
    expect((await fn.publish(job('probe-dead'))).status).toBeLessThan(300);
    expect(calls.runs).toBe(1);
    expect(await readJson(fn, 'jobs/blackscholes/probe-dead/status.json')).toMatchObject({ status: 'completed' });
    expect((await readJson(fn, 'jobs/blackscholes/probe-dead/status.json'))?.dead_lettered).toBeUndefined();
  });

  it('a dead-letter message of a job that has a result leaves it alone', async () => {
    const { fn } = await start();
    await fn.publish(job('probe-done'));
    expect(await postCloudEvent(fn.url, pubsubData(job('probe-done'), 'dl-2'), { id: 'dl-2', topic: 'blackscholes-dead-letter' })).toBeLessThan(300);
    expect(await readJson(fn, 'jobs/blackscholes/probe-done/status.json')).toMatchObject({ status: 'completed' });
  });
});
