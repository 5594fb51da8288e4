import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../shared/job/errors.js';
import { runJobEvent, type JobServices } from '../../shared/job/lifecycle.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { createLogger } from '../../shared/log.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { GcsObjectStore, STORAGE_RETRY } from '../../shared/results/gcsObjectStore.js';
import { createServices } from '../../shared/runtime.js';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';
import { pubsubData } from '../support/pubsubPost.js';

// The whole lifecycle with the cloud adapters chosen from configuration (Cloud Storage's
// JSON API over fetch, the BigQuery client) talking to a local stand-in for both services
// (which keeps Cloud Storage's one-update-per-second-per-object limit).
const fake = new FakeGoogleApis();
let services: JobServices;
const previousEmulator = process.env.STORAGE_EMULATOR_HOST;

beforeAll(async () => {
  const base = await fake.start();
  process.env.STORAGE_EMULATOR_HOST = base;
  services = await createServices(
    { GCS_BUCKET: 'quant-artifacts', GCP_PROJECT: 'quant-project', BIGQUERY_EMULATOR_HOST: base, BQ_DATASET_CURATED: 'curated_eu', USE_FIXTURE: 'true', PUBSUB_EMULATOR_HOST: base.replace(/^http:\/\//, '') },
    createLogger('ERROR'),
  );
});
afterAll(async () => {
  await fake.close();
  if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST;
  else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
});
beforeEach(() => {
  fake.faults.length = 0;
  fake.lostReplies.length = 0;
});

const job = (jobId: string) => ({ job_id: jobId, params: { spot: 100, strike: 95, volatility: 0.2, time_to_expiry: 1 } });
const deliverOutcome = (jobId: string, id: string, using: JobServices = services) => runJobEvent(blackscholesModel as ModelDefinition<never>, { id, data: pubsubData(job(jobId), id) }, using);
/** Delivers a job; resolves with the document its outcome points at (read from the stand-in directly, no request). */
const deliver = async (jobId: string, id: string, using: JobServices = services): Promise<Record<string, unknown>> => {
  const outcome = await deliverOutcome(jobId, id, using);
  return JSON.parse(fake.objects.get(`quant-artifacts/${outcome.resultObject}`)!.body.toString()) as Record<string, unknown>;
};
const object = (jobId: string, name: string) => fake.objects.get(`quant-artifacts/jobs/blackscholes/${jobId}/${name}`);
const objectJson = (jobId: string, name: string) => JSON.parse(object(jobId, name)!.body.toString()) as Record<string, unknown>;
const uploads = (jobId: string, name: string) => fake.requests.filter((r) => r.method === 'POST' && r.query.get('name') === `jobs/blackscholes/${jobId}/${name}`);
const rowsOf = (table: string, jobId: string) => fake.rows(`curated_eu.${table}`).filter((r) => r.job_id === jobId);

describe('job lifecycle on Cloud Storage and BigQuery', () => {
  it('commits result.json create-only, writes the artifacts and the rows with job-derived insert ids', async () => {
    const outcome = await deliverOutcome('cloud-bs-1', 'm-1');
    expect(outcome).toEqual({ job_id: 'cloud-bs-1', status: 'completed', resultObject: 'jobs/blackscholes/cloud-bs-1/result.json', duplicate: false });
    const document = objectJson('cloud-bs-1', 'result.json');
    expect(document).toMatchObject({ status: 'completed', artifacts: { result: 'gs://quant-artifacts/jobs/blackscholes/cloud-bs-1/result.json', chart: 'gs://quant-artifacts/jobs/blackscholes/cloud-bs-1/chart.svg' } });
    const resultUploads = uploads('cloud-bs-1', 'result.json');
    expect(resultUploads).toHaveLength(1);
    expect(resultUploads[0]!.query.get('ifGenerationMatch')).toBe('0');
    expect(uploads('cloud-bs-1', 'claim.json')[0]?.query.get('ifGenerationMatch')).toBe('0');
    expect([...fake.objects.keys()].filter((k) => k.includes('/cloud-bs-1/')).sort()).toEqual([
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/chart.svg',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/claim.json',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/job.json',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/metrics.json',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/report.html',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/result.json',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/status.json',
    ]);
    // A job faster than a second leaves its claim: deleting it so soon would be throttled
    // (429), and with result.json committed the claim guards nothing.
    expect(fake.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/cloud-bs-1/claim.json'))).toEqual([]);
    expect(objectJson('cloud-bs-1', 'status.json')).toMatchObject({ status: 'completed' });
    const runs = fake.insertedRows.filter((r) => r.table === 'curated_eu.job_runs' && r.json.job_id === 'cloud-bs-1');
    expect(runs.map((r) => r.insertId)).toEqual(['blackscholes/cloud-bs-1']);
    expect(runs[0]!.json).toMatchObject({ job_id: 'cloud-bs-1', model: 'blackscholes', status: 'completed', result_uri: 'gs://quant-artifacts/jobs/blackscholes/cloud-bs-1/result.json' });
    const metrics = fake.insertedRows.filter((r) => r.table === 'curated_eu.model_metrics' && r.json.job_id === 'cloud-bs-1');
    expect(metrics.map((r) => r.insertId)).toContain('blackscholes/cloud-bs-1/options.0.price/');
    // One event on job-events (REST topics.publish), after the rows, before the final status.
    expect(fake.published).toEqual([
      {
        topic: 'job-events',
        attributes: { model: 'blackscholes', status: 'completed', job_id: 'cloud-bs-1' },
        data: {
          job_id: 'cloud-bs-1', model: 'blackscholes', status: 'completed', duration_ms: document.duration_ms,
          result_uri: 'gs://quant-artifacts/jobs/blackscholes/cloud-bs-1/result.json', chart_uri: 'gs://quant-artifacts/jobs/blackscholes/cloud-bs-1/chart.svg',
        },
      },
    ]);
    const order = fake.requests.map((r) => (r.path.endsWith(':publish') ? 'event' : r.path.endsWith('/insertAll') ? 'rows' : r.query.get('name')?.endsWith('status.json') ? 'status' : null)).filter(Boolean);
    expect(order.slice(-3)).toEqual(['rows', 'event', 'status']);
  });

  it('a transient fault publishing the event is thrown, and the redelivery publishes the same event once', async () => {
    const flaky = { job_id: 'cloud-bs-2', params: { spot: 100, strike: 90, volatility: 0.2, time_to_expiry: 1 } };
    fake.faults.push({ match: (r) => r.path.endsWith(':publish'), status: 503, times: 1 });
    await expect(runJobEvent(blackscholesModel as ModelDefinition<never>, { id: 'm-2', data: pubsubData(flaky, 'm-2') }, services)).rejects.toThrow(/job-events failed: HTTP 503/);
    // Committed, but not finished: no final status (a fast job has written none at all, see StatusWriter).
    const interim = fake.objects.get('quant-artifacts/jobs/blackscholes/cloud-bs-2/status.json');
    expect(interim === undefined ? 'none' : (JSON.parse(interim.body.toString()) as { status: string }).status).not.toBe('completed');
    expect(fake.objects.has('quant-artifacts/jobs/blackscholes/cloud-bs-2/result.json')).toBe(true);
    const before = fake.published.length;
    await runJobEvent(blackscholesModel as ModelDefinition<never>, { id: 'm-2', data: pubsubData(flaky, 'm-2') }, services);
    await runJobEvent(blackscholesModel as ModelDefinition<never>, { id: 'm-3', data: pubsubData(flaky, 'm-3') }, services);
    const events = fake.published.slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ job_id: 'cloud-bs-2', status: 'completed' });
    expect(JSON.parse(fake.objects.get('quant-artifacts/jobs/blackscholes/cloud-bs-2/status.json')!.body.toString())).toMatchObject({ status: 'completed' });
  });

  it('a redelivery writes nothing and never downloads the result document (O(1) whatever its size)', async () => {
    const before = fake.requests.length;
    const rowsBefore = fake.insertedRows.length;
    const outcome = await deliverOutcome('cloud-bs-1', 'm-1');
    expect(outcome).toMatchObject({ status: 'completed', duplicate: true });
    const since = fake.requests.slice(before);
    expect(since.filter((r) => r.method !== 'GET')).toEqual([]);
    // Metadata of result.json, then status.json and job.json: never result.json's media.
    const downloads = since.filter((r) => r.query.get('alt') === 'media').map((r) => r.path);
    expect(downloads.some((p) => p.endsWith('result.json'))).toBe(false);
    expect(downloads.some((p) => p.endsWith('status.json'))).toBe(true);
    expect(fake.insertedRows.length).toBe(rowsBefore);
  });

  it('a job faster than a second writes status.json once, its final status, without waiting', async () => {
    await deliver('cloud-bs-rate', 'm-rate');
    expect(uploads('cloud-bs-rate', 'status.json')).toHaveLength(1); // a 429 would have made the client send it again
    expect(objectJson('cloud-bs-rate', 'status.json')).toMatchObject({ status: 'completed' });
  });

  it('a longer job writes `running`, then its final status a second or more later, so Cloud Storage never throttles it', async () => {
    const model = blackscholesModel as ModelDefinition<never>;
    const slow: ModelDefinition<never> = {
      ...model,
      run: async (...args) => {
        await new Promise((r) => setTimeout(r, 1300));
        return model.run(...args);
      },
    };
    const id = 'm-slow';
    await runJobEvent(slow, { id, data: pubsubData(job('cloud-bs-slow'), id) }, services);
    const statusWrites = uploads('cloud-bs-slow', 'status.json');
    expect(statusWrites).toHaveLength(2); // running, then completed: no 429 made the client send one again
    expect(statusWrites[0]!.body).toContain('"status": "running"');
    expect(statusWrites[1]!.body).toContain('"status": "completed"');
    expect(statusWrites[1]!.at - statusWrites[0]!.at).toBeGreaterThanOrEqual(990); // the stand-in refuses (429) anything under 1000 ms
    expect(objectJson('cloud-bs-slow', 'status.json')).toMatchObject({ status: 'completed' });
    expect(object('cloud-bs-slow', 'claim.json')).toBeUndefined(); // older than a second: released
  }, 30_000);

  it('a result.json upload that was stored but whose reply was lost still finishes the job: rows and final status', async () => {
    fake.lostReplies.push({ match: (r) => r.query.get('name') === 'jobs/blackscholes/cloud-bs-lost/result.json', times: 1 });
    const document = await deliver('cloud-bs-lost', 'm-lost');
    expect(document.status).toBe('completed');
    expect(uploads('cloud-bs-lost', 'result.json')).toHaveLength(2); // stored, 503; retried, 412; read back: ours
    expect(rowsOf('job_runs', 'cloud-bs-lost')).toHaveLength(1);
    expect(rowsOf('model_metrics', 'cloud-bs-lost').length).toBeGreaterThan(0);
    expect(objectJson('cloud-bs-lost', 'status.json')).toMatchObject({ status: 'completed' });
    expect(object('cloud-bs-lost', 'claim.json')).toBeUndefined();
  });

  it("a claim that was stored but whose reply was lost is recognised as this run's own: the job runs", async () => {
    fake.lostReplies.push({ match: (r) => r.query.get('name') === 'jobs/blackscholes/cloud-bs-claim/claim.json', times: 1 });
    const document = await deliver('cloud-bs-claim', 'm-claim');
    expect(document.status).toBe('completed');
    expect(rowsOf('job_runs', 'cloud-bs-claim')).toHaveLength(1);
    expect(JSON.parse(object('cloud-bs-claim', 'claim.json')!.body.toString())).toHaveProperty('run_id'); // left: the job took under a second
  });

  it('a claim stored while every reply failed is released, not left to block redeliveries for a whole lease', async () => {
    const impatient: JobServices = {
      ...services,
      store: new GcsObjectStore('quant-artifacts', { retry: { ...STORAGE_RETRY, maxRetries: 1, maxDelayMs: 1000 } }),
    };
    fake.lostReplies.push({ match: (r) => r.method === 'POST' && r.query.get('name') === 'jobs/blackscholes/cloud-bs-orphan/claim.json', times: 2 });
    await expect(deliver('cloud-bs-orphan', 'm-orphan', impatient)).rejects.toBeInstanceOf(TransientError);
    expect(uploads('cloud-bs-orphan', 'claim.json')).toHaveLength(2);
    expect(object('cloud-bs-orphan', 'claim.json')).toBeUndefined();
    // The redelivery runs the job at once instead of waiting out JOB_LEASE_SECONDS.
    expect((await deliver('cloud-bs-orphan', 'm-orphan')).status).toBe('completed');
  }, 30_000);

  it('a permanent cloud error while writing the artifacts fails the job as internal with the service message', async () => {
    fake.faults.push({ match: (r) => r.query.get('name') === 'jobs/blackscholes/cloud-bs-denied/chart.svg', status: 403, times: 1, reason: 'forbidden' });
    const document = await deliver('cloud-bs-denied', 'm-denied');
    expect(document).toMatchObject({ status: 'failed', error: { code: 'internal' } });
    expect((document.error as { message: string }).message).toMatch(/^Writing gs:\/\/quant-artifacts\/jobs\/blackscholes\/cloud-bs-denied\/chart\.svg failed \(HTTP 403, forbidden\): injected fault/);
    expect(uploads('cloud-bs-denied', 'chart.svg')).toHaveLength(1); // not retried
    expect(objectJson('cloud-bs-denied', 'result.json')).toMatchObject({ status: 'failed' });
    expect(rowsOf('job_runs', 'cloud-bs-denied')).toEqual([expect.objectContaining({ status: 'failed', error_code: 'internal' })]);
  });
});
