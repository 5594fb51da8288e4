import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobEvent, type JobServices } from '../../shared/job/lifecycle.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { createLogger } from '../../shared/log.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { createServices } from '../../shared/runtime.js';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';
import { pubsubData } from '../support/pubsubPost.js';

// The whole lifecycle with the cloud adapters chosen from configuration, the real Google
// clients talking to a local stand-in for Cloud Storage and BigQuery.
const fake = new FakeGoogleApis();
let services: JobServices;
const previousEmulator = process.env.STORAGE_EMULATOR_HOST;

beforeAll(async () => {
  const base = await fake.start();
  process.env.STORAGE_EMULATOR_HOST = base;
  services = await createServices(
    { GCS_BUCKET: 'quant-artifacts', GCP_PROJECT: 'quant-project', BIGQUERY_EMULATOR_HOST: base, BQ_DATASET_CURATED: 'curated_eu', USE_FIXTURE: 'true' },
    createLogger('ERROR'),
  );
});
afterAll(async () => {
  await fake.close();
  if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST;
  else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
});

const job = { job_id: 'cloud-bs-1', params: { spot: 100, strike: 95, volatility: 0.2, time_to_expiry: 1 } };
const deliver = (id: string) => runJobEvent(blackscholesModel as ModelDefinition<never>, { id, data: pubsubData(job, id) }, services);

describe('job lifecycle on Cloud Storage and BigQuery', () => {
  it('commits result.json create-only, writes the artifacts and the rows with job-derived insert ids', async () => {
    const document = await deliver('m-1');
    expect(document).toMatchObject({ status: 'completed', artifacts: { result: 'gs://quant-artifacts/jobs/blackscholes/cloud-bs-1/result.json', chart: 'gs://quant-artifacts/jobs/blackscholes/cloud-bs-1/chart.svg' } });
    const uploads = fake.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/upload/'));
    const resultUploads = uploads.filter((r) => r.query.get('name') === 'jobs/blackscholes/cloud-bs-1/result.json');
    expect(resultUploads).toHaveLength(1);
    expect(resultUploads[0].query.get('ifGenerationMatch')).toBe('0');
    const claimUpload = uploads.find((r) => r.query.get('name') === 'jobs/blackscholes/cloud-bs-1/claim.json');
    expect(claimUpload?.query.get('ifGenerationMatch')).toBe('0');
    expect([...fake.objects.keys()].sort()).toEqual([
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/chart.svg',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/job.json',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/metrics.json',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/result.json',
      'quant-artifacts/jobs/blackscholes/cloud-bs-1/status.json',
    ]); // the claim was released
    expect(JSON.parse(fake.objects.get('quant-artifacts/jobs/blackscholes/cloud-bs-1/status.json')!.body.toString())).toMatchObject({ status: 'completed' });
    const runs = fake.insertedRows.filter((r) => r.table === 'curated_eu.job_runs');
    expect(runs.map((r) => r.insertId)).toEqual(['blackscholes/cloud-bs-1']);
    expect(runs[0].json).toMatchObject({ job_id: 'cloud-bs-1', model: 'blackscholes', status: 'completed', result_uri: 'gs://quant-artifacts/jobs/blackscholes/cloud-bs-1/result.json' });
    const metrics = fake.insertedRows.filter((r) => r.table === 'curated_eu.model_metrics');
    expect(metrics.map((r) => r.insertId)).toContain('blackscholes/cloud-bs-1/options.0.price/');
  });

  it('a redelivery reads the committed result and writes nothing', async () => {
    const before = fake.requests.length;
    const rowsBefore = fake.insertedRows.length;
    const document = await deliver('m-1');
    expect(document.status).toBe('completed');
    const since = fake.requests.slice(before);
    expect(since.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(fake.insertedRows.length).toBe(rowsBefore);
  });
});
