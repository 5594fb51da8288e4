import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { exitStatus, formatOutcome, runChecks, type CheckOutcome } from '../../shared/doctor/check.js';
import { createDoctor } from '../../shared/doctor/doctor.js';
import { TABLES } from '../../shared/warehouse/schemas.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function localDir(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'doctor-local-'));
  roots.push(root);
  return root;
}

const NOW = new Date('2026-06-10T12:00:00Z');

async function doctor(env: Record<string, string>): Promise<CheckOutcome[]> {
  const d = await createDoctor({ env, now: () => NOW });
  try {
    return await runChecks(d.checks);
  } finally {
    await d.close();
  }
}

const line = (outcomes: CheckOutcome[], name: string) => formatOutcome(outcomes.find((o) => o.name === name) ?? { status: 'fail', name, detail: 'NO LINE' });

const jobRun = (model: string, job_id: string, status: string, finished_at: string, duration_ms: number, error_code: string | null = null) =>
  JSON.stringify(Object.fromEntries(TABLES.job_runs.columns.map((c) => [c.name, { job_id, model, status, finished_at, duration_ms, error_code, started_at: finished_at }[c.name] ?? null])));

describe('npm run doctor locally (LOCAL_DATA_DIR, fixture prices, no emulator)', () => {
  it('a fresh folder passes, says Pub/Sub is not checked and why, and leaves no probe behind', async () => {
    const root = localDir();
    const outcomes = await doctor({ LOCAL_DATA_DIR: root });
    const report = outcomes.map(formatOutcome);
    expect(exitStatus(outcomes), report.join('\n')).toBe(0);
    expect(line(outcomes, 'config')).toBe(`ok   config: local: LOCAL_DATA_DIR ${root}`);
    expect(line(outcomes, 'bucket')).toBe(`ok   bucket: ${path.join(root, 'bucket')} reachable and writable (probe object written, read back, removed)`);
    expect(readdirSync(path.join(root, 'bucket', 'doctor'))).toEqual([]);
    expect(line(outcomes, 'table curated.job_runs')).toBe('ok   table curated.job_runs: not created yet (the first job or ingest that writes it creates it)');
    expect(line(outcomes, 'pubsub')).toMatch(/^skip pubsub: PUBSUB_EMULATOR_HOST is not set/);
    expect(line(outcomes, 'secret EODHD_API_KEY')).toBe('skip secret EODHD_API_KEY: not set in the environment (only ingest from a vendor needs it)');
    expect(line(outcomes, 'fixture prices')).toMatch(/^ok   fixture prices: .*fixtures\/prices\.csv: 3 symbols \(AAPL, GOOGL, MSFT\), latest 2025-12-31$/);
    expect(line(outcomes, 'jobs')).toBe('ok   jobs: no job finished in the last 24 h');
  });

  it('reports the last 24 h of job runs per model, one row per job (the latest), and fails on internal failures', async () => {
    const root = localDir();
    const curated = path.join(root, 'bigquery', 'curated');
    mkdirSync(curated, { recursive: true });
    writeFileSync(
      path.join(curated, 'job_runs.ndjson'),
      [
        jobRun('markowitz', 'm1', 'completed', '2026-06-10T08:00:00Z', 1000),
        jobRun('markowitz', 'm2', 'completed', '2026-06-10T09:00:00Z', 2000),
        // m3 failed, then ran again and completed: only the latest row counts.
        jobRun('markowitz', 'm3', 'failed', '2026-06-10T09:30:00Z', 50, 'internal'),
        jobRun('markowitz', 'm3', 'completed', '2026-06-10T10:00:00Z', 4000),
        jobRun('markowitz', 'm4', 'failed', '2026-06-10T11:00:00Z', 30, 'insufficient_data'),
        // Older than 24 h: left out.
        jobRun('markowitz', 'm0', 'failed', '2026-06-09T11:59:59Z', 10, 'internal'),
        jobRun('ingest', 'i1', 'failed', '2026-06-10T07:00:00Z', 300, 'internal'),
      ].join('\n') + '\n',
    );
    writeFileSync(path.join(root, 'eq.csv'), 'date,symbol,open,high,low,close,adj_close,volume\n2026-01-02,XYZ,1,1,1,1,1,1\n2026-01-05,XYZ,1,1,1,1,1,1\n');
    const outcomes = await doctor({ LOCAL_DATA_DIR: root, FIXTURE_PRICES: path.join(root, 'eq.csv'), EODHD_API_KEY: 'local-key-value' });
    // Durations 1000, 2000, 4000, 30: numpy's linear p50 = 1500, p95 = 3700.
    expect(line(outcomes, 'jobs markowitz')).toBe('ok   jobs markowitz: 4 in 24 h: 3 completed, 1 failed (insufficient_data 1); p50 1.50 s, p95 3.70 s');
    expect(line(outcomes, 'jobs ingest')).toBe(
      `FAIL jobs ingest: 1 in 24 h: 0 completed, 1 failed (internal 1); p50 0.30 s, p95 0.30 s -> 1 internal failure: read why with grep '"error_code":"internal"' ${path.join(curated, 'job_runs.ndjson')} (error_message says what went wrong)`,
    );
    expect(line(outcomes, 'table curated.job_runs')).toBe(`ok   table curated.job_runs: the ${TABLES.job_runs.columns.length} columns the code expects`);
    expect(line(outcomes, 'fixture prices')).toBe(`ok   fixture prices: ${path.join(root, 'eq.csv')}: 1 symbols (XYZ), latest 2026-01-05`);
    expect(line(outcomes, 'secret EODHD_API_KEY')).toBe('ok   secret EODHD_API_KEY: readable from the environment');
    expect(outcomes.map(formatOutcome).join('\n')).not.toContain('local-key-value');
    expect(exitStatus(outcomes)).toBe(1);
  });

  it('local ingested prices report their latest date without going stale', async () => {
    const root = localDir();
    mkdirSync(path.join(root, 'bigquery', 'raw'), { recursive: true });
    const row = (date: string) => JSON.stringify(Object.fromEntries(TABLES.eq_ohlcv.columns.map((c) => [c.name, { date, symbol: 'NVDA', close: 1, source: 'eodhd', ingested_at: '2026-01-01T00:00:00Z' }[c.name] ?? null])));
    writeFileSync(path.join(root, 'bigquery', 'raw', 'eq_ohlcv.ndjson'), [row('2025-03-03'), row('2025-03-04')].join('\n') + '\n');
    const outcomes = await doctor({ LOCAL_DATA_DIR: root });
    expect(line(outcomes, 'prices eq_ohlcv')).toBe('ok   prices eq_ohlcv: latest 2025-03-04 (463 days ago)');
    expect(line(outcomes, 'prices fx_ohlcv')).toBe(`ok   prices fx_ohlcv: empty in ${path.join(root, 'bigquery', 'raw')}`);
  });

  it('an unwritable LOCAL_DATA_DIR, a damaged table, a table with other columns and unreadable fixture prices each fail with what to do', async () => {
    const root = localDir();
    const notADirectory = path.join(root, 'file');
    writeFileSync(notADirectory, 'x');
    const unwritable = await doctor({ LOCAL_DATA_DIR: notADirectory });
    expect(line(unwritable, 'bucket')).toMatch(/^FAIL bucket: .*file\/bucket is not writable: .* -> make LOCAL_DATA_DIR a folder you can write to/);

    mkdirSync(path.join(root, 'bigquery', 'curated'), { recursive: true });
    writeFileSync(path.join(root, 'bigquery', 'curated', 'job_runs.ndjson'), '{"job_id":"a"\n');
    writeFileSync(path.join(root, 'bigquery', 'curated', 'model_metrics.ndjson'), JSON.stringify({ job_id: 'a', model: 'm', metric: 'x', value: 1, recorded_at: 't', extra: 1 }) + '\n');
    const outcomes = await doctor({ LOCAL_DATA_DIR: root, FIXTURE_PRICES: path.join(root, 'missing.csv') });
    expect(line(outcomes, 'table curated.job_runs')).toBe(`FAIL table curated.job_runs: ${path.join(root, 'bigquery', 'curated', 'job_runs.ndjson')} line 1 is not a JSON object -> repair or delete that line (or the file, to start the table afresh)`);
    expect(line(outcomes, 'table curated.model_metrics')).toMatch(/^FAIL table curated\.model_metrics: missing column symbol; unknown column extra -> delete the table's file/);
    expect(line(outcomes, 'fixture prices')).toMatch(/^FAIL fixture prices: .*missing\.csv cannot be read: .* -> point FIXTURE_PRICES at a CSV with header date,symbol,open,high,low,close,adj_close,volume$/);
    // The damaged job_runs also fails the job statistics, as a line.
    expect(line(outcomes, 'jobs')).toMatch(/^FAIL jobs: could not be checked: /);
    expect(exitStatus(outcomes)).toBe(1);
  });
});

describe('the npm run doctor command', () => {
  const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'doctor.ts');
  const run = (env: Record<string, string>) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GCS_BUCKET|PUBSUB_EMULATOR_HOST|EODHD_API_KEY|TWELVE_DATA_API_KEY|FIXTURE_PRICES)$/.test(k)));
    return spawnSync(process.execPath, ['--import', 'tsx', script], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 60_000 });
  };

  it('prints one line per check and a summary, and exits 0 when nothing failed', () => {
    const result = run({ LOCAL_DATA_DIR: localDir() });
    const lines = result.stdout.trim().split('\n');
    expect(result.status, result.stderr).toBe(0);
    expect(lines.every((l) => /^(ok  |FAIL|skip) [^:]+: /.test(l) || /^all \d+ checks passed$/.test(l)), result.stdout).toBe(true);
    expect(lines.at(-1)).toBe(`all ${lines.length - 1} checks passed`);
  });

  it('exits 1 when a check fails', () => {
    const result = run({ LOCAL_DATA_DIR: localDir(), FIXTURE_PRICES: 'no/such/prices.csv' });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^FAIL fixture prices: /m);
    expect(result.stdout.trim().split('\n').at(-1)).toMatch(/^1 of \d+ checks failed$/);
  });
});
