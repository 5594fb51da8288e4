import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatOutcome, exitStatus, runChecks, type CheckOutcome } from '../../shared/doctor/check.js';
import { createDoctor, VENDOR_SECRETS } from '../../shared/doctor/doctor.js';
import { JobError } from '../../shared/job/errors.js';
import type { SecretSource } from '../../shared/secrets/secretSource.js';
import { JOB_STATISTICS_VIEW } from '../../shared/warehouse/jobStatisticsView.js';
import { PRICES_VIEW, TABLES } from '../../shared/warehouse/schemas.js';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';

// The doctor against the configured project, with the real Storage and BigQuery clients
// talking to the local REST stand-in. Pub/Sub is left out here (test/doctor/pubsub.test.ts
// runs it against the emulator); Secret Manager speaks gRPC only, so a fake accessor stands in.
const fake = new FakeGoogleApis();
let base = '';
const previousStorage = process.env.STORAGE_EMULATOR_HOST;
const NOW = new Date('2026-06-10T12:00:00Z');

beforeAll(async () => {
  base = await fake.start();
  process.env.STORAGE_EMULATOR_HOST = base;
});
afterAll(async () => {
  await fake.close();
  if (previousStorage === undefined) delete process.env.STORAGE_EMULATOR_HOST;
  else process.env.STORAGE_EMULATOR_HOST = previousStorage;
});

/** Every dataset, table and view as Terraform creates them, with BigQuery's legacy type names for some. */
function provisionWarehouse(): void {
  fake.datasets.add('raw');
  fake.datasets.add('curated');
  const legacy: Record<string, string> = { FLOAT64: 'FLOAT', INT64: 'INTEGER', BOOL: 'BOOLEAN' };
  for (const table of [...Object.values(TABLES), PRICES_VIEW, JOB_STATISTICS_VIEW]) {
    // The API leaves out NULLABLE modes.
    fake.tables.set(`${table.dataset}.${table.name}`, table.columns.map((c) => ({ name: c.name, type: legacy[c.type] ?? c.type, ...(c.mode === 'REQUIRED' ? { mode: 'REQUIRED' } : {}) })));
  }
}

interface Answers {
  latest?: Record<string, string | null>;
  jobRuns?: Record<string, unknown>[];
}

function answer({ latest = { eq_ohlcv: '2026-06-09', fx_ohlcv: null, crypto_ohlcv: '2026-06-10' }, jobRuns = [] }: Answers): void {
  fake.queryAnswer = (sql) => {
    if (sql.includes('MAX(date)')) return { fields: [{ name: 'table_name', type: 'STRING' }, { name: 'latest', type: 'STRING' }], rows: Object.entries(latest).map(([table_name, l]) => ({ table_name, latest: l })) };
    if (sql.includes('job_runs'))
      return {
        fields: ['model', 'status', 'error_code', 'runs', 'p50_ms', 'p95_ms'].map((name) => ({ name, type: ['runs'].includes(name) ? 'INTEGER' : name.endsWith('_ms') ? 'FLOAT' : 'STRING' })),
        rows: jobRuns,
      };
    return undefined;
  };
}

const secretsWith = (values: Record<string, string>): SecretSource => ({
  get: async (name) => {
    const value = values[name];
    if (!value) throw new JobError('internal', `The secret ${name} cannot be read from Secret Manager (it is missing or this function may not access it).`);
    return value;
  },
});

const INGEST = 'serviceAccount:ingest-fn@test-project.iam.gserviceaccount.com';
/** Members granted secretAccessor per secret (what getIamPolicy would list). */
let grants: Record<string, string[]> = {};
const grantedAsTerraformDoes = () => {
  grants = Object.fromEntries(VENDOR_SECRETS.map((s) => [s, [INGEST]]));
};

async function doctor(secrets: SecretSource = secretsWith({ EODHD_API_KEY: 'eodhd-secret-value', TWELVE_DATA_API_KEY: 'td-secret-value' }), env: Record<string, string> = {}): Promise<CheckOutcome[]> {
  const d = await createDoctor({
    env: { GCS_BUCKET: 'artifacts', GCP_PROJECT: 'test-project', STORAGE_EMULATOR_HOST: base, BIGQUERY_EMULATOR_HOST: base, ...env },
    now: () => NOW,
    secrets,
    secretAccessors: async (secret) => grants[secret] ?? [],
    monitoringGet: async () => ({}),
  });
  try {
    // Pub/Sub has its own test against the emulator.
    return await runChecks(d.checks.filter((c) => c.name !== 'pubsub' && c.name !== 'dead letters'));
  } finally {
    await d.close();
  }
}

const line = (outcomes: CheckOutcome[], name: string) => {
  const found = outcomes.find((o) => o.name === name);
  if (!found) throw new Error(`no line for ${name} in:\n${outcomes.map(formatOutcome).join('\n')}`);
  return formatOutcome(found);
};

describe('npm run doctor against the project (REST stand-in)', () => {
  it('all pass on a provisioned project: one line per check, exit 0, probe object removed', async () => {
    provisionWarehouse();
    grantedAsTerraformDoes();
    answer({
      jobRuns: [
        { model: 'blackscholes', status: 'completed', error_code: null, runs: 8, p50_ms: 120, p95_ms: 410.5 },
        { model: 'blackscholes', status: 'failed', error_code: 'invalid_job', runs: 2, p50_ms: 120, p95_ms: 410.5 },
        { model: 'markowitz', status: 'completed', error_code: null, runs: 3, p50_ms: 2500, p95_ms: 3100 },
      ],
    });
    const before = fake.requests.length;
    const outcomes = await doctor();
    const report = outcomes.map(formatOutcome);
    expect(exitStatus(outcomes), report.join('\n')).toBe(0);
    expect(line(outcomes, 'config')).toBe('ok   config: cloud: project test-project, bucket gs://artifacts, datasets raw and curated');
    expect(line(outcomes, 'bucket')).toMatch(/^ok   bucket: gs:\/\/artifacts reachable and writable/);
    // The probe was created create-only, then deleted at its generation: nothing is left behind.
    const storage = fake.requests.slice(before).filter((r) => r.path.includes('/doctor/') || r.query.get('name')?.startsWith('doctor/'));
    expect(storage.map((r) => r.method)).toEqual(expect.arrayContaining(['POST', 'DELETE']));
    expect(storage.find((r) => r.method === 'POST')?.query.get('ifGenerationMatch')).toBe('0');
    expect([...fake.objects.keys()].filter((k) => k.includes('doctor/'))).toEqual([]);
    for (const table of Object.values(TABLES)) expect(line(outcomes, `table ${table.dataset}.${table.name}`)).toBe(`ok   table ${table.dataset}.${table.name}: the ${table.columns.length} columns the code expects`);
    expect(line(outcomes, 'view raw.prices')).toBe(`ok   view raw.prices: the ${PRICES_VIEW.columns.length} columns the code expects`);
    expect(line(outcomes, 'view curated.job_statistics')).toBe(`ok   view curated.job_statistics: the ${JOB_STATISTICS_VIEW.columns.length} columns the code expects`);
    for (const secret of VENDOR_SECRETS) expect(line(outcomes, `secret ${secret}`)).toBe(`ok   secret ${secret}: readable from Secret Manager, and ${INGEST} may read it`);
    expect(line(outcomes, 'prices eq_ohlcv')).toBe('ok   prices eq_ohlcv: latest 2026-06-09 (1 day ago)');
    expect(line(outcomes, 'prices fx_ohlcv')).toBe('ok   prices fx_ohlcv: empty in test-project.raw');
    expect(line(outcomes, 'jobs blackscholes')).toBe('ok   jobs blackscholes: 10 in 24 h: 8 completed, 2 failed (invalid_job 2); p50 0.12 s, p95 0.41 s');
    expect(line(outcomes, 'jobs markowitz')).toBe('ok   jobs markowitz: 3 in 24 h: 3 completed, 0 failed; p50 2.50 s, p95 3.10 s');
    // Secret values never reach the report.
    expect(report.join('\n')).not.toMatch(/secret-value/);
  });

  it('the job statistics query keeps the latest row per (model, job_id) within the last 24 h', async () => {
    provisionWarehouse();
    answer({});
    const before = fake.requests.length;
    await doctor();
    const sql = fake.requests.slice(before).map((r) => r.body).find((b) => b.includes('job_runs')) ?? '';
    expect(sql).toContain('test-project.curated.job_runs');
    expect(sql).toMatch(/ROW_NUMBER\(\) OVER \(PARTITION BY model, job_id, IF\(job_id = '', started_at, NULL\) ORDER BY finished_at DESC\)/);
    expect(sql).toContain('INTERVAL 24 HOUR');
  });

  it('a missing dataset, a missing table and a drifted table each fail with what to do', async () => {
    fake.datasets.clear();
    fake.tables.clear();
    provisionWarehouse();
    fake.datasets.delete('raw');
    for (const t of ['eq_ohlcv', 'fx_ohlcv', 'crypto_ohlcv', 'corporate_actions', 'prices']) fake.tables.delete(`raw.${t}`);
    fake.tables.delete('curated.model_metrics');
    fake.tables.delete('curated.job_statistics');
    const jobRuns = fake.tables.get('curated.job_runs')!;
    fake.tables.set('curated.job_runs', [...jobRuns.filter((c) => c.name !== 'error_code' && c.name !== 'duration_ms'), { name: 'duration_ms', type: 'STRING' }, { name: 'owner', type: 'STRING', mode: 'REQUIRED' }]);
    answer({});
    const outcomes = await doctor();
    expect(exitStatus(outcomes)).toBe(1);
    expect(line(outcomes, 'table raw.eq_ohlcv')).toBe('FAIL table raw.eq_ohlcv: dataset raw does not exist in project test-project -> run terraform apply (terraform/warehouse.tf creates the datasets and tables from shared/warehouse/schemas.ts, and the views beside them)');
    expect(line(outcomes, 'table curated.model_metrics')).toMatch(/^FAIL table curated\.model_metrics: table does not exist in project test-project -> run terraform apply/);
    expect(line(outcomes, 'view curated.job_statistics')).toMatch(/^FAIL view curated\.job_statistics: view does not exist in project test-project -> run terraform apply/);
    expect(line(outcomes, 'view raw.prices')).toMatch(/^FAIL view raw\.prices: dataset raw does not exist/);
    expect(line(outcomes, 'table curated.job_runs')).toMatch(/^FAIL table curated\.job_runs: missing column error_code; duration_ms is STRING, expected FLOAT64; REQUIRED column owner the code never writes -> run terraform apply/);
    fake.datasets.add('raw');
  });

  it('an unwritable bucket fails with what to do', async () => {
    provisionWarehouse();
    answer({});
    fake.faults.push({ match: (r) => r.method === 'POST' && r.path.includes('/upload/'), status: 403, times: 1 });
    const outcomes = await doctor();
    expect(line(outcomes, 'bucket')).toMatch(/^FAIL bucket: gs:\/\/artifacts is not writable: .*-> check GCS_BUCKET \(terraform output artifacts_bucket\) and that your account may write objects in it/);
    expect(exitStatus(outcomes)).toBe(1);
  });

  it('an unreadable secret, stale prices and internal failures fail, each saying what to do; the secret value is never printed', async () => {
    provisionWarehouse();
    grantedAsTerraformDoes();
    answer({
      latest: { eq_ohlcv: '2026-06-01', fx_ohlcv: '2026-06-09', crypto_ohlcv: '2026-06-07' },
      jobRuns: [{ model: 'ingest', status: 'failed', error_code: 'internal', runs: 3, p50_ms: 900, p95_ms: 1500 }],
    });
    const outcomes = await doctor(secretsWith({ TWELVE_DATA_API_KEY: 'td-secret-value' }));
    expect(line(outcomes, 'secret EODHD_API_KEY')).toMatch(/^FAIL secret EODHD_API_KEY: The secret EODHD_API_KEY cannot be read from Secret Manager .* -> add a value with: printf %s "\$KEY" \| gcloud secrets versions add EODHD_API_KEY --data-file=-/);
    expect(line(outcomes, 'secret TWELVE_DATA_API_KEY')).toMatch(/^ok /);
    expect(line(outcomes, 'prices eq_ohlcv')).toMatch(/^FAIL prices eq_ohlcv: latest 2026-06-01 \(9 days ago\): stale, more than 4 days behind -> check the ingest Scheduler jobs/);
    expect(line(outcomes, 'prices fx_ohlcv')).toBe('ok   prices fx_ohlcv: latest 2026-06-09 (1 day ago)');
    // Crypto trades every day: three days behind is stale.
    expect(line(outcomes, 'prices crypto_ohlcv')).toMatch(/^FAIL prices crypto_ohlcv: latest 2026-06-07 \(3 days ago\): stale, more than 2 days behind/);
    expect(line(outcomes, 'jobs ingest')).toMatch(/^FAIL jobs ingest: 3 in 24 h: 0 completed, 3 failed \(internal 3\); p50 0\.90 s, p95 1\.50 s -> 3 internal failures: read why with gcloud logging read /);
    expect(outcomes.map(formatOutcome).join('\n')).not.toContain('td-secret-value');
  });

  it('a secret the ingest identity is not granted fails, whoever else may read it; INGEST_SERVICE_ACCOUNT names another identity', async () => {
    provisionWarehouse();
    answer({});
    grants = { EODHD_API_KEY: ['user:operator@example.com'], TWELVE_DATA_API_KEY: [INGEST, 'serviceAccount:other@test-project.iam.gserviceaccount.com'] };
    const outcomes = await doctor();
    expect(line(outcomes, 'secret EODHD_API_KEY')).toBe(
      `FAIL secret EODHD_API_KEY: has a value, but ${INGEST} has no roles/secretmanager.secretAccessor on it -> run terraform apply (terraform/iam.tf grants it on each vendor secret); if the ingest function runs as another account, set INGEST_SERVICE_ACCOUNT`,
    );
    expect(line(outcomes, 'secret TWELVE_DATA_API_KEY')).toMatch(/^ok /);
    const other = await doctor(undefined, { INGEST_SERVICE_ACCOUNT: 'other@test-project.iam.gserviceaccount.com' });
    expect(line(other, 'secret TWELVE_DATA_API_KEY')).toBe('ok   secret TWELVE_DATA_API_KEY: readable from Secret Manager, and serviceAccount:other@test-project.iam.gserviceaccount.com may read it');
    expect(line(other, 'secret EODHD_API_KEY')).toMatch(/^FAIL /);
  });

  it('a BigQuery that cannot be asked fails the check with a line, not a crash', async () => {
    provisionWarehouse();
    answer({});
    fake.faults.push({ match: (r) => r.method === 'POST' && /\/(jobs|queries)$/.test(r.path), status: 403, times: 10 });
    const outcomes = await doctor();
    expect(line(outcomes, 'prices')).toBe('FAIL prices: could not be checked: HTTP 403: injected fault -> fix what the error says and run the doctor again (against a project: check gcloud auth application-default login, GCP_PROJECT and your roles)');
    fake.faults.length = 0;
  });

  it('a configuration that does not parse is the one line, and exit 1', async () => {
    const d = await createDoctor({ env: { GCS_BUCKET: 'artifacts', BQ_DATASET_RAW: 'no-dashes!', JOB_LEASE_SECONDS: 'soon' } });
    const outcomes = await runChecks(d.checks);
    expect(outcomes.map(formatOutcome)).toEqual([
      'FAIL config: BQ_DATASET_RAW: must be a BigQuery dataset id; JOB_LEASE_SECONDS: Invalid input: expected number, received NaN -> fix these variables (see the Configuration section of the README)',
    ]);
    expect(exitStatus(outcomes)).toBe(1);
  });
});
