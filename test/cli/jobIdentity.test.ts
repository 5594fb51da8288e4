import { spawn } from 'node:child_process';
import { mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startReplayServer, type ReplayServer } from '../ingest/vendorReplayServer.js';

// `npm run --silent job` against one LOCAL_DATA_DIR, as a user re-running jobs by hand does.
const root = path.resolve(import.meta.dirname, '..', '..');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the job command (asynchronously: a vendor stand-in may be serving in this process). */
function job(dataDir: string, name: string, body: unknown, env: Record<string, string | undefined> = {}): Promise<Run> {
  const environment: NodeJS.ProcessEnv = { ...process.env, LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'ERROR', ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete environment[key];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'job.ts'), name, '-'], { cwd: root, env: environment });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin.end(JSON.stringify(body));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

const fixtureJob = (name: string) => JSON.parse(readFileSync(path.join(root, 'fixtures', 'jobs', `${name}.json`), 'utf8'));

let vendor: ReplayServer | undefined;
afterAll(async () => {
  await vendor?.close();
});

describe('the job command line and job ids', () => {
  it('refuses a different job under a used id (exit 1, invalid_job) and keeps answering the first job with its stored result', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cli-id-'));
    const original = fixtureJob('blackscholes');
    const first = await job(dataDir, 'blackscholes', original);
    expect(first.status).toBe(0);
    const resultFile = path.join(dataDir, 'bucket/jobs/blackscholes/demo-blackscholes/result.json');
    const stored = await fs.readFile(resultFile, 'utf8');

    const changed = structuredClone(original);
    changed.params.options[0].strike = 215;
    const refused = await job(dataDir, 'blackscholes', changed);
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      job_id: 'demo-blackscholes',
      status: 'failed',
      error: {
        code: 'invalid_job',
        message:
          'job_id "demo-blackscholes" already names a different blackscholes job (params.options[0].strike was 210, this job has 215); its stored result is kept and this job was not run. Publish this job under a new job_id.',
      },
    });
    expect(await fs.readFile(resultFile, 'utf8')).toBe(stored);

    const again = await job(dataDir, 'blackscholes', original);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(stored));
  });

  it('runs an ingest job again once the missing vendor key is set: the internal failure did not consume the id', async () => {
    vendor = await startReplayServer();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cli-id-'));
    const ingest = fixtureJob('ingest');
    const vendorEnv = { EODHD_BASE_URL: `${vendor.url}/api`, USE_FIXTURE: 'true' };

    const missingKey = await job(dataDir, 'ingest', ingest, { ...vendorEnv, EODHD_API_KEY: undefined });
    expect(missingKey.status).toBe(1);
    expect(JSON.parse(missingKey.stdout)).toMatchObject({ status: 'failed', error: { code: 'internal', message: expect.stringContaining('EODHD_API_KEY') } });

    const fixed = await job(dataDir, 'ingest', ingest, { ...vendorEnv, EODHD_API_KEY: 'cli-test-key-0123456789' });
    expect(fixed.stderr).toBe('');
    expect(fixed.status).toBe(0);
    expect(JSON.parse(fixed.stdout)).toMatchObject({ job_id: 'demo-ingest', status: 'completed' });
    const result = JSON.parse(await fs.readFile(path.join(dataDir, 'bucket/jobs/ingest/demo-ingest/result.json'), 'utf8'));
    expect(result).toMatchObject({ status: 'completed' });
    const status = JSON.parse(await fs.readFile(path.join(dataDir, 'bucket/jobs/ingest/demo-ingest/status.json'), 'utf8'));
    expect(status).toMatchObject({ status: 'completed' });
    const rows = (await fs.readFile(path.join(dataDir, 'bigquery/curated/job_runs.ndjson'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([['failed', 'internal'], ['completed', null]]);
  });

  it('of two different jobs run at once under one id, exactly one completes and the other is refused', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cli-id-'));
    const a = fixtureJob('markowitz');
    const b = { ...a, params: { ...a.params, frontier_points: 30 } };
    let runs: Run[] = await Promise.all([job(dataDir, 'markowitz', a), job(dataDir, 'markowitz', b)]);
    // A run that found the other's claim exits 75 (Pub/Sub would retry): retry it, as Pub/Sub does.
    runs = await Promise.all(runs.map((run, i) => (run.status === 75 ? job(dataDir, 'markowitz', [a, b][i]) : run)));
    expect(runs.map((r) => r.status).sort()).toEqual([0, 1]);
    const loser = runs.find((r) => r.status === 1)!;
    expect(JSON.parse(loser.stdout)).toMatchObject({ status: 'failed', error: { code: 'invalid_job', message: expect.stringContaining('params.frontier_points was') } });
    const winner = JSON.parse(runs.find((r) => r.status === 0)!.stdout);
    expect(JSON.parse(await fs.readFile(path.join(dataDir, 'bucket/jobs/markowitz/demo-markowitz/result.json'), 'utf8'))).toEqual(winner);
    expect(winner.result.frontier).toHaveLength(runs[0].status === 0 ? 20 : 30);
  });
});
