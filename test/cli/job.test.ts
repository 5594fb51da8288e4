import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PARALLEL_OPTIONS } from '../../shared/models/blackscholes/parallelValuation.js';

// `npm run --silent job -- <function> <job.json | ->`, as the contract specifies it.
const root = path.resolve(import.meta.dirname, '..', '..');
function job(args: string[], input?: string, env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'job.ts'), ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    env: { ...process.env, LOCAL_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cli-')), GCS_BUCKET: 'must-be-ignored', LOG_LEVEL: 'ERROR', ...env },
    maxBuffer: 1 << 30,
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

  it('names the wrong argument', () => {
    const misspelt = job(['blackscholez', 'fixtures/jobs/blackscholes.json']);
    expect(misspelt.status).toBe(2);
    expect(misspelt.stderr).toContain('Unknown function "blackscholez": the first argument is one of blackscholes, montecarlo, markowitz, ingest.');
    expect(job(['blackscholes']).stderr).toContain('Missing the job: give a job file (e.g. fixtures/jobs/blackscholes.json) or - for standard input.');
  });

  it('exits 2 for a job file that is not JSON, saying so, and records nothing', () => {
    const run = job(['markowitz', '-'], '{"job_id": "x",');
    expect(run).toMatchObject({ status: 2, stdout: '' });
    expect(run.stderr).toMatch(/^The job on standard input is not JSON: /);
  });
});

describe('a large Black-Scholes job on the command line', () => {
  // Enough options for two threads; a worker reads them from the file's bytes and starts valuing
  // while the job is parsed (speculativeValuation.ts).
  const options = Array.from({ length: PARALLEL_OPTIONS + 3 }, (_, i) => ({
    option_type: i % 2 ? 'put' : 'call',
    spot: 100,
    strike: 60 + (i % 80) + 0.25,
    time_to_expiry: 0.05 + (i % 37) / 10,
    ...(i % 3 === 0 ? { market_price: i % 9 === 0 ? 0 : 4.5 } : { volatility: 0.1 + (i % 20) / 40 }),
  }));
  const withoutTimes = (text: string) => text.replace(/"started_at":"[^"]*","finished_at":"[^"]*","duration_ms":[\d.]+/, '').replace(/"artifacts":\{[^}]*\}/, '');

  const valued = (stderr: string) =>
    stderr.split('\n').filter((l) => l.includes('"Options valued."')).map((l) => JSON.parse(l) as { threads: number; speculative: boolean; presented: boolean });
  /** The job run on two threads (its options read by the worker) and on one (parsed as usual), each with its own store. */
  function twoWays(document: object) {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cli-large-')), 'job.json');
    writeFileSync(file, JSON.stringify(document));
    const [twoStore, oneStore] = [mkdtempSync(path.join(os.tmpdir(), 'cli-two-')), mkdtempSync(path.join(os.tmpdir(), 'cli-one-'))];
    const two = job(['blackscholes', file], undefined, { LOG_LEVEL: 'DEBUG', BS_THREADS: '2', LOCAL_DATA_DIR: twoStore });
    const one = job(['blackscholes', file], undefined, { LOG_LEVEL: 'DEBUG', BS_THREADS: '1', LOCAL_DATA_DIR: oneStore });
    expect([two.status, one.status]).toEqual([0, 0]);
    const stored = (store: string, name: string) => readFileSync(path.join(store, 'bucket', 'jobs', 'blackscholes', (document as { job_id: string }).job_id, name), 'utf8');
    return { two, one, stored: (name: string) => [stored(twoStore, name), stored(oneStore, name)] };
  }

  it('values the options the worker read from the file, presented to the job as read, and prints and stores what one thread does', () => {
    const { two, one, stored } = twoWays({ job_id: 'cli-large', params: { options } });
    expect(valued(two.stderr)).toEqual([expect.objectContaining({ threads: 2, speculative: true, presented: true })]);
    expect(valued(one.stderr)).toEqual([expect.objectContaining({ threads: 1, speculative: false, presented: false })]);
    expect(withoutTimes(two.stdout)).toBe(withoutTimes(one.stdout));
    expect(two.stdout).toContain('"implied_volatility_error":"The ');
    // The same job: job.json (its canonical text and digest) byte for byte, and the same chart.
    const [twoJob, oneJob] = stored('job.json');
    expect(twoJob.length).toBeGreaterThan(1 << 20);
    expect(twoJob).toBe(oneJob);
    expect(stored('chart.svg')[0]).toBe(stored('chart.svg')[1]);
  });

  it('says a large job file is not JSON as for any job, where the text around the options is not', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cli-large-')), 'job.json');
    const text = `{"job_id":cli-large-broken,"params":{"options":${JSON.stringify(options)}}}`;
    writeFileSync(file, text);
    const run = job(['blackscholes', file], undefined, { BS_THREADS: '2' });
    expect(run).toMatchObject({ status: 2, stdout: '' });
    let message = '';
    try {
      JSON.parse(text);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(run.stderr).toContain(`is not JSON: ${message}`);
  });

  it('parses the options as usual for a job with symbols, which resolve them: the same result', () => {
    const { two, one } = twoWays({ job_id: 'cli-large-symbols', symbols: ['AAPL'], params: { options } });
    expect(valued(two.stderr)).toEqual([expect.objectContaining({ threads: 2, presented: false })]);
    expect(withoutTimes(two.stdout)).toBe(withoutTimes(one.stdout));
  });

  it('prints the stored result.json byte for byte (a result of many 256 KB reads, through a pipe)', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cli-large-')), 'job.json');
    writeFileSync(file, JSON.stringify({ job_id: 'cli-large-print', params: { options } }));
    const store = mkdtempSync(path.join(os.tmpdir(), 'cli-store-'));
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'job.ts'), 'blackscholes', file], {
      cwd: root,
      env: { ...process.env, LOCAL_DATA_DIR: store, LOG_LEVEL: 'ERROR' },
      maxBuffer: 1 << 30,
    });
    expect(run.status).toBe(0);
    const stored = readFileSync(path.join(store, 'bucket', 'jobs', 'blackscholes', 'cli-large-print', 'result.json'));
    expect(stored.length).toBeGreaterThan(4 << 20);
    expect(Buffer.compare(run.stdout, stored)).toBe(0);
  });

  it('fails a large job with a bad option as one thread does, the worker\'s reading notwithstanding', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cli-large-')), 'job.json');
    const bad = options.map((o, i) => (i === 20_000 ? { ...o, strike: -5 } : o));
    writeFileSync(file, JSON.stringify({ job_id: 'cli-large-bad', params: { options: bad } }));
    const run = job(['blackscholes', file], undefined, { BS_THREADS: '2' });
    expect(run.status).toBe(1);
    const document = JSON.parse(run.stdout) as { status: string; error: { code: string; message: string } };
    expect(document).toMatchObject({ status: 'failed', error: { code: 'invalid_job' } });
    expect(document.error.message).toContain('params.options[20000].strike');
  });
});

describe('npm run demo and npm start', () => {
  it('demo: an unknown function exits 2 with the usage', () => {
    const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'demo.mjs'), 'bogus'], { cwd: root, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Unknown function "bogus"');
    expect(run.stderr).toContain('usage: npm run demo');
  });

  it('start: a busy port is one line naming the port and PORT, exit 1', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const run = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs')], { cwd: root, env: { ...process.env, PORT: String(port) } });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (status) => resolve({ status, stderr }));
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(`Port ${port} is already in use (another npm start, npm run stack or server?): stop that server, or choose another port with PORT, e.g. PORT=${port + 1} npm start\n`);
    } finally {
      holder.close();
    }
  });
});
