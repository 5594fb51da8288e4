/**
 * Each function's largest valid job runs within its Terraform memory with 30% to spare:
 * the job runs in its own process (the built command-line runner, the same handler and
 * model code as the deployed bundle) with V8's heap capped at 70% of the deployed memory
 * (--max-old-space-size), and its peak resident memory must stay under that 70% too.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';
import { startLoopbackVendor } from '../support/loopbackVendor.js';
import { publishJob } from '../support/pubsubPost.js';
import { MAX_OPTIONS } from '../../shared/models/blackscholes/job.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import { calendarDays, MAX_SYMBOL_DAYS } from '../../shared/models/markowitz/limits.js';
import { MAX_SIMULATIONS, MAX_TERMINAL_VALUES } from '../../shared/models/montecarlo/limits.js';
import { canConnect, freePort } from '../../scripts/pubsub/freePort.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const SPARE = 0.3;
/** Pub/Sub's largest message. */
const MAX_MESSAGE_BYTES = 10_000_000;

/** A function's `memory` in functions.tf, in MiB. */
function deployedMemoryMiB(fn: string): number {
  const text = readFileSync(path.join(root, 'terraform', 'functions.tf'), 'utf8');
  const block = text.slice(text.indexOf(`${fn} = {`));
  const match = /memory\s*=\s*"(\d+)(Mi|Gi)"/.exec(block);
  if (!match) throw new Error(`no memory setting for ${fn} in terraform/functions.tf`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

/** Runs a job with the heap capped; resolves with its exit code, stored result status and peak RSS (MiB). */
function runCapped(fn: string, job: unknown, capMiB: number, env: Record<string, string> = {}): Promise<{ code: number | null; status?: string; peakMiB: number; stderr: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `limits-${fn}-`));
  const file = path.join(dir, 'job.json');
  writeFileSync(file, JSON.stringify(job));
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${capMiB}`, '-r', path.join(root, 'test', 'support', 'peakRss.cjs'), path.join(root, 'dist', 'cli', 'job.js'), fn, file],
    { env: { ...process.env, LOCAL_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'ERROR', ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      const peak = /PEAK_RSS_MB ([\d.]+)/.exec(stderr);
      let status: string | undefined;
      try {
        const id = (job as { job_id: string }).job_id;
        status = JSON.parse(readFileSync(path.join(dir, 'data', 'bucket', 'jobs', fn, id, 'result.json'), 'utf8')).status;
      } catch {
        status = undefined;
      }
      resolve({ code, status, peakMiB: peak ? Number(peak[1]) : Number.NaN, stderr: stderr.slice(-2000) });
    });
  });
}

describe('documented limits fit the deployed memory with 30% to spare', () => {
  it(`blackscholes: ${MAX_OPTIONS.toLocaleString('en')} options with market prices (the most a job may hold) in ${deployedMemoryMiB('blackscholes')} MiB`, async () => {
    const options = Array.from({ length: MAX_OPTIONS }, (_, i) => ({ option_type: i % 2 ? 'put' : 'call', strike: 50 + (i % 300), market_price: 1 + (i % 20) }));
    const job = { job_id: 'largest-blackscholes', params: { spot: 100, time_to_expiry: 1, volatility: 0.2, risk_free_rate: 0.03, options } };
    // The largest message is Pub/Sub's; this job fits in one.
    expect(JSON.stringify(job).length).toBeLessThan(MAX_MESSAGE_BYTES);
    const budget = Math.floor(deployedMemoryMiB('blackscholes') * (1 - SPARE));
    const run = await runCapped('blackscholes', job, budget);
    expect(run.code, run.stderr).toBe(0);
    expect(run.status).toBe('completed');
    expect(run.peakMiB, `peak ${run.peakMiB} MiB, budget ${budget} MiB`).toBeLessThan(budget);
  }, 120_000);

  it('blackscholes: one option more than the limit is invalid_job naming the limit', async () => {
    const { blackscholesModel } = await import('../../shared/models/blackscholes/job.js');
    const parsed = blackscholesModel.params.safeParse({ strike: 1, time_to_expiry: 1, options: Array.from({ length: MAX_OPTIONS + 1 }, () => ({})) });
    expect(parsed.success).toBe(false);
  });

  it(`montecarlo: ${MAX_SIMULATIONS.toLocaleString('en')} paths of 8 symbols (the most stored terminal values) in ${deployedMemoryMiB('montecarlo')} MiB`, async () => {
    const symbols = Array.from({ length: 8 }, (_, k) => `S${k + 1}`);
    expect(MAX_SIMULATIONS * (symbols.length + 1)).toBeLessThanOrEqual(MAX_TERMINAL_VALUES);
    expect(MAX_SIMULATIONS * (symbols.length + 2)).toBeGreaterThan(MAX_TERMINAL_VALUES);
    // Eight correlated symbols derived from the fixture's AAPL closes.
    const lines = readFileSync(path.join(root, 'fixtures', 'prices.csv'), 'utf8').trim().split('\n');
    const aapl = lines.slice(1).filter((l) => l.split(',')[1] === 'AAPL');
    const rows = symbols.flatMap((s, k) => aapl.map((l, i) => {
      const p = l.split(',');
      const close = (Number(p[6]) * (1 + 0.05 * Math.sin((i + 1) * (k + 1) * 0.37))).toFixed(4);
      return [p[0], s, close, close, close, close, close, '1000'].join(',');
    }));
    const csv = path.join(mkdtempSync(path.join(os.tmpdir(), 'limits-prices-')), 'prices.csv');
    writeFileSync(csv, [lines[0], ...rows].join('\n') + '\n');
    // Two steps: the memory is the terminal values and the band store, not the path length.
    const job = { job_id: 'largest-montecarlo', symbols, start: '2023-01-01', end: '2025-12-31', params: { simulations: MAX_SIMULATIONS, time_steps: 2, seed: 1 } };
    const budget = Math.floor(deployedMemoryMiB('montecarlo') * (1 - SPARE));
    const run = await runCapped('montecarlo', job, budget, { FIXTURE_PRICES: csv, MC_THREADS: '2' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.status).toBe('completed');
    expect(run.peakMiB, `peak ${run.peakMiB} MiB, budget ${budget} MiB`).toBeLessThan(budget);
  }, 180_000);

  it(`markowitz: 2,000 symbols x ${MAX_SYMBOL_DAYS / 2000} calendar days (MAX_SYMBOL_DAYS) in ${deployedMemoryMiB('markowitz')} MiB`, async () => {
    const symbols = Array.from({ length: 2000 }, (_, k) => `S${k}`);
    const end = '2024-12-31';
    const start = new Date(Date.parse(end) - (MAX_SYMBOL_DAYS / symbols.length - 1) * 86_400_000).toISOString().slice(0, 10);
    expect(symbols.length * calendarDays(start, end)).toBe(MAX_SYMBOL_DAYS);
    // Every weekday of the window for every symbol: distinct, non-collinear random-ish walks.
    const days: string[] = [];
    for (let t = Date.parse(start); t <= Date.parse(end); t += 86_400_000) if (new Date(t).getUTCDay() % 6) days.push(new Date(t).toISOString().slice(0, 10));
    const csv = path.join(mkdtempSync(path.join(os.tmpdir(), 'limits-markowitz-')), 'prices.csv');
    const out = createWriteStream(csv);
    out.write('date,symbol,open,high,low,close,adj_close,volume\n');
    symbols.forEach((s, k) => {
      let price = 100;
      const lines: string[] = [];
      days.forEach((d, i) => {
        price *= 1 + 0.01 * Math.sin((i + 1) * (k + 1) * 0.37 + k) + 0.0003 * ((k % 7) - 3);
        const c = price.toFixed(4);
        lines.push(`${d},${s},${c},${c},${c},${c},${c},1000`);
      });
      out.write(lines.join('\n') + '\n');
    });
    out.end();
    await finished(out);
    // Long-only: its active-set QP peaks above the closed form (542 MB against 503 MB).
    const job = { job_id: 'largest-markowitz', symbols, start, end, params: { long_only: true } };
    const budget = Math.floor(deployedMemoryMiB('markowitz') * (1 - SPARE));
    const run = await runCapped('markowitz', job, budget, { FIXTURE_PRICES: csv });
    expect(run.code, run.stderr).toBe(0);
    expect(run.status).toBe('completed');
    expect(run.peakMiB, `peak ${run.peakMiB} MiB, budget ${budget} MiB`).toBeLessThan(budget);
  }, 180_000);

  it('markowitz: one calendar day more than the limit is invalid_job naming the limit, before any price is loaded', async () => {
    const symbols = Array.from({ length: 2000 }, (_, k) => `S${k}`);
    const end = '2024-12-31';
    const start = new Date(Date.parse(end) - (MAX_SYMBOL_DAYS / symbols.length) * 86_400_000).toISOString().slice(0, 10);
    let loaded = false;
    const context = { history: async () => ((loaded = true), []) } as unknown as Parameters<typeof markowitzModel.run>[1];
    const job = { job_id: 'too-large', symbols, start, end, params: markowitzModel.params.parse({}) };
    await expect(markowitzModel.run(job, context)).rejects.toMatchObject({
      code: 'invalid_job',
      message: expect.stringMatching(/2000 symbols x 2001 calendar days = 4,002,000, over the limit of 4,000,000 \(MAX_SYMBOL_DAYS.*shorten start\/end to at most 2000 days/),
    });
    expect(loaded).toBe(false);
  });

  // Ingest's memory does not grow with the universe: each symbol's rows are fetched, written
  // to the staging object and dropped before the next (README, Reliability). So a large job
  // of the deployed function, in cloud mode against the Cloud Storage/BigQuery REST stand-in
  // (in this process, not counted), stands for the largest: 150 symbols x 20 years, ~775,000
  // rows, one staged object per table, one load job and MERGE each.
  it(`ingest: 150 symbols x 20 years in cloud mode, heap capped at 70% of ${deployedMemoryMiB('ingest')} MiB`, async () => {
    const vendor = await startLoopbackVendor({ latencyMs: 2 });
    const fake = new FakeGoogleApis();
    const fakeBase = await fake.start();
    const port = await freePort();
    const budget = Math.floor(deployedMemoryMiB('ingest') * (1 - SPARE));
    const child = spawn(
      process.execPath,
      [path.join(root, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js'), `--source=${path.join(root, 'dist', 'ingest')}`, '--target=ingest', '--signature-type=cloudevent', `--port=${port}`],
      {
        env: {
          ...process.env,
          GCS_BUCKET: 'limits-artifacts',
          GCP_PROJECT: 'limits-project',
          STORAGE_EMULATOR_HOST: fakeBase,
          BIGQUERY_EMULATOR_HOST: fakeBase,
          EODHD_BASE_URL: `${vendor.url}/api`,
          EODHD_API_KEY: 'limits-key',
          LOG_LEVEL: 'ERROR',
          NODE_OPTIONS: `--max-old-space-size=${budget} -r ${path.join(root, 'test', 'support', 'peakRss.cjs')}`,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      while (!(await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
      const symbols = Array.from({ length: 150 }, (_, i) => `U${String(i).padStart(4, '0')}.US`);
      const status = await publishJob(`http://127.0.0.1:${port}/`, { job_id: 'largest-ingest', symbols, start: '2004-01-01', end: '2023-12-31', params: { source: 'eodhd' } }, 'jobs-ingest');
      expect(status, stderr).toBeLessThan(300);
      const stored = fake.objects.get('limits-artifacts/jobs/ingest/largest-ingest/result.json');
      const document = JSON.parse(stored?.body.toString('utf8') ?? '{}') as { status?: string; result?: { rows_loaded: number } };
      expect(document.status, stderr).toBe('completed');
      expect(document.result?.rows_loaded).toBeGreaterThan(700_000);
    } finally {
      // functions-framework exits on SIGTERM, so the preloaded hook prints the peak.
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await fake.close();
      await vendor.close();
    }
    const peak = Number(/PEAK_RSS_MB ([\d.]+)/.exec(stderr)?.[1]);
    expect(peak, `peak ${peak} MiB, budget ${budget} MiB`).toBeLessThan(budget);
  }, 120_000);
});
