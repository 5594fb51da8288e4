import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobObjects, resultJson, type FailedDocument, type ResultDocument } from '../../shared/job/documents.js';
import { runJobEvent, type JobServices } from '../../shared/job/lifecycle.js';
import { commitResult } from '../../shared/job/resultCommit.js';
import { createLogger } from '../../shared/log.js';
import { createServices } from '../../shared/runtime.js';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';
import { probeModel } from '../support/probeModel.js';
import { pubsubData } from '../support/pubsubPost.js';

// Job ids on Cloud Storage and BigQuery: the real clients against a local stand-in.
const fake = new FakeGoogleApis();
let services: JobServices;
const previousEmulator = process.env.STORAGE_EMULATOR_HOST;
const bucket = 'quant-artifacts';
const probe = probeModel();

beforeAll(async () => {
  const base = await fake.start();
  process.env.STORAGE_EMULATOR_HOST = base;
  services = await createServices({ GCS_BUCKET: bucket, GCP_PROJECT: 'quant-project', BIGQUERY_EMULATOR_HOST: base, USE_FIXTURE: 'true' }, createLogger('ERROR', () => {})); // the probe's deliberate bug logs an ERROR
});
afterAll(async () => {
  await fake.close();
  if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST;
  else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
});

let deliveries = 0;
const deliver = (body: unknown) => {
  const id = `m-${++deliveries}`;
  return runJobEvent(probe.model, { id, data: pubsubData(body, id) }, services);
};
const object = (name: string) => fake.objects.get(`${bucket}/${name}`);
const writesSince = (mark: number) => fake.requests.slice(mark).filter((r) => r.method !== 'GET');

describe('job ids on Cloud Storage', () => {
  it('an internal failure is replaced by the re-run with a generation-matched write; the final result is then never written again', async () => {
    const folder = 'jobs/blackscholes/gcs-fix-1';
    probe.state.broken = true;
    expect(await deliver({ job_id: 'gcs-fix-1', params: { value: 2 } })).toMatchObject({ status: 'failed', error: { code: 'internal' } });
    const failedGeneration = object(`${folder}/result.json`)!.generation;

    probe.state.broken = false;
    const mark = fake.requests.length;
    expect(await deliver({ job_id: 'gcs-fix-1', params: { value: 2 } })).toMatchObject({ status: 'completed' });
    const resultWrites = writesSince(mark).filter((r) => r.query.get('name') === `${folder}/result.json`);
    // First the create-only attempt (refused: the failure is there), then the replace of exactly the failure's generation.
    expect(resultWrites.map((r) => r.query.get('ifGenerationMatch'))).toEqual(['0', String(failedGeneration)]);
    expect(JSON.parse(object(`${folder}/result.json`)!.body.toString())).toMatchObject({ status: 'completed' });
    const runs = fake.insertedRows.filter((r) => r.table.endsWith('.job_runs') && r.json.job_id === 'gcs-fix-1');
    expect(runs.map((r) => r.json.status)).toEqual(['failed', 'completed']);
    expect(new Set(runs.map((r) => r.insertId)).size).toBe(2); // the completed row is not dropped as a duplicate
    expect(runs[1].insertId).toBe('blackscholes/gcs-fix-1');

    // The same job and a different one: nothing of the job's written, nothing inserted;
    // only the refusal's own record, under its message id.
    const settled = fake.requests.length;
    const rows = fake.insertedRows.length;
    expect(await deliver({ job_id: 'gcs-fix-1', params: { value: 2 } })).toMatchObject({ status: 'completed' });
    expect(await deliver({ job_id: 'gcs-fix-1', params: { value: 9 } })).toMatchObject({ status: 'failed', error: { code: 'invalid_job' } });
    expect(writesSince(settled).map((r) => r.query.get('name'))).toEqual([`${folder}/refused/m-${deliveries}.json`]);
    expect(fake.insertedRows.length).toBe(rows);
    expect(probe.state.runs.filter((v) => v === 9)).toEqual([]);
  });

  it('of two writers replacing one internal failure, exactly one commits; a final result is never replaced', async () => {
    const objects = jobObjects('blackscholes', { jobId: 'gcs-race-1' });
    const at = { started_at: '2026-06-03T00:00:00.000Z', finished_at: '2026-06-03T00:00:01.000Z', duration_ms: 1000 };
    const failed = (code: FailedDocument['error']['code'], message: string): ResultDocument => ({ job_id: 'gcs-race-1', model: 'blackscholes', status: 'failed', ...at, error: { code, message } });
    expect(await commitResult(services.store, objects, resultJson(failed('internal', 'a bug')))).toBe(true);
    const bodies = [resultJson(failed('unknown_symbol', 'first')), resultJson(failed('unknown_symbol', 'second'))];
    const outcomes = await Promise.all(bodies.map((body) => commitResult(services.store, objects, body)));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(object(objects.result)!.body.toString()).toBe(bodies[outcomes.indexOf(true)]);
    expect(await commitResult(services.store, objects, resultJson(failed('internal', 'later')))).toBe(false);
    expect(object(objects.result)!.body.toString()).toBe(bodies[outcomes.indexOf(true)]);
  });
});
