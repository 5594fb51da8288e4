import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm run --silent job -- <function> <job.json | ->`, as the contract specifies it.
const root = path.resolve(import.meta.dirname, '..', '..');
function job(args: string[], input?: string) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'job.ts'), ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    env: { ...process.env, LOCAL_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cli-')), GCS_BUCKET: 'must-be-ignored', LOG_LEVEL: 'ERROR' },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the job command line', () => {
  it('prints the completed result document and exits 0, storing locally', () => {
    const run = job(['markowitz', 'fixtures/jobs/markowitz.json']);
    expect(run.status).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document).toMatchObject({ job_id: 'demo-markowitz', model: 'markowitz', status: 'completed' });
    expect(document.artifacts.result).not.toMatch(/^gs:/);
  });

  it('reads the job from standard input with "-", and exits 1 with the failed document', () => {
    const run = job(['blackscholes', '-'], JSON.stringify({ job_id: 'cli-bad', params: { strike: 100 } }));
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'failed', error: { code: 'invalid_job' } });
  });

  it('exits 2 with a usage line for an unknown function or a missing file', () => {
    expect(job(['nosuch', 'x.json'])).toMatchObject({ status: 2, stdout: '' });
    expect(job(['montecarlo', 'no/such/job.json']).status).toBe(2);
  });
});
