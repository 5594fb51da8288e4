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
import { startLoopbackVendor, type LoopbackVendorOptions } from '../support/loopbackVendor.js';
import { publishJob } from '../support/pubsubPost.js';
import { MAX_EXCHANGE_TICKERS, MAX_PER_SYMBOL_LISTED } from '../../shared/ingest/job.js';
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

/**
 * The thread settings a function is deployed with (its `env` in functions.tf): the job runs
 * here with the threads it has there, not with this machine's cores.
 */
function deployedThreadEnv(fn: string): Record<string, string> {
  const text = readFileSync(path.join(root, 'terraform', 'functions.tf'), 'utf8');
  const block = text.slice(text.indexOf(`${fn} = {`));
  const env = /\benv\s*=\s*\{([^}]*)\}/.exec(block)?.[1] ?? '';
  const settings: Record<string, string> = {};
  for (const [, key, value] of env.matchAll(/\b(BS_THREADS|HELPER_THREAD)\s*=\s*"([^"]*)"/g)) settings[key!] = value!;
  return settings;
}

/** Runs a job with the heap capped; resolves with its exit code, stored result status and peak RSS (MiB). */
function runCapped(fn: string, job: unknown, capMiB: number, env: Record<string, string> = {}): Promise<{ code: number | null; status?: string; peakMiB: number; stderr: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `limits-${fn}-`));
  const file = path.join(dir, 'job.json');
  writeFileSync(file, JSON.stringify(job));
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${capMiB}`, '-r', path.join(root, 'test', 'support', 'peakRss.cjs'), path.join(root, 'dist', 'cli', 'job.js'), fn, file],
    { env: { ...process.env, LOCAL_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'ERROR', ...deployedThreadEnv(fn), ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
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
    const symbols = Array.from({ length: 150 }, (_, i) => `U${String(i).padStart(4, '0')}.US`);
    const run = await runIngestFunction({ job_id: 'largest-ingest', symbols, start: '2004-01-01', end: '2023-12-31', params: { source: 'eodhd' } }, { latencyMs: 2 });
    expect(run.status, run.stderr).toBeLessThan(300);
    expect(run.document.status, run.stderr).toBe('completed');
    expect(run.document.result?.rows_loaded).toBeGreaterThan(700_000);
    expect(run.peakMiB, `peak ${run.peakMiB} MiB, budget ${run.budget} MiB`).toBeLessThan(run.budget);
  }, 120_000);

  // The largest ingest job is a whole exchange at MAX_EXCHANGE_TICKERS a day: EXCHANGE_DAYS_IN_FLIGHT
  // days of that size are held at once, and every symbol's tally; further days only add time
  // (each day's symbols are tallied and dropped), so 6 weekdays (every lane busy, then two more)
  // stand for any window: bench/ingestExchange.ts measures 15 and 40 weekdays at full size.
  it(`ingest: a whole exchange of ${MAX_EXCHANGE_TICKERS.toLocaleString('en')} tickers (MAX_EXCHANGE_TICKERS) x 6 weekdays in cloud mode, heap capped at 70% of ${deployedMemoryMiB('ingest')} MiB; the delivery answers once the result is stored`, async () => {
    const run = await runIngestFunction({ job_id: 'largest-exchange', start: '2024-06-03', end: '2024-06-10', params: { source: 'eodhd', exchange: 'US' } }, { latencyMs: 2, exchangeSymbols: MAX_EXCHANGE_TICKERS });
    expect(run.status, run.stderr).toBeLessThan(300);
    expect(run.document.status, run.stderr).toBe('completed');
    const result = run.document.result!;
    // ~1 ticker in 97 has no bar on a day.
    expect(result.rows_loaded).toBeGreaterThan(6 * 0.98 * MAX_EXCHANGE_TICKERS);
    expect(result.symbols_loaded).toBe(MAX_EXCHANGE_TICKERS);
    expect(result.per_symbol_complete).toBe(false);
    // ~6% of the tickers miss a day in 6: more than can be listed, so the list stops at the cap.
    expect(result.symbols_with_issues).toBeGreaterThan(MAX_PER_SYMBOL_LISTED);
    expect(Object.keys(result.per_symbol ?? {})).toHaveLength(MAX_PER_SYMBOL_LISTED);
    // The result stays small whatever the exchange; every symbol is in per_symbol.ndjson.
    expect(run.resultBytes).toBeLessThan(1_000_000);
    expect(run.fake.objects.get('limits-artifacts/jobs/ingest/largest-exchange/per_symbol.ndjson')?.body.toString('utf8').trim().split('\n')).toHaveLength(MAX_EXCHANGE_TICKERS);
    // Every row insert within BigQuery's limits (the stand-in refuses more, as BigQuery does).
    const inserts = run.fake.requests.filter((r) => r.path.endsWith('/insertAll'));
    expect(inserts.length).toBeGreaterThan(1);
    for (const r of inserts) expect(JSON.parse(r.body).rows.length).toBeLessThanOrEqual(500);
    // Answered within seconds of the commit (it once took minutes: one 50,004-row insert).
    expect(run.answeredAt - run.committedAt, 'ms from result.json stored to the HTTP answer').toBeLessThan(15_000);
    expect(run.peakMiB, `peak ${run.peakMiB} MiB, budget ${run.budget} MiB`).toBeLessThan(run.budget);
  }, 180_000);
});

interface IngestRun {
  status: number;
  document: { status?: string; result?: { rows_loaded?: number; symbols_loaded?: number; per_symbol_complete?: boolean; symbols_with_issues?: number; per_symbol?: Record<string, unknown> } };
  resultBytes: number;
  /** Date.now() when the stand-in stored result.json, and when the push was answered. */
  committedAt: number;
  answeredAt: number;
  peakMiB: number;
  budget: number;
  stderr: string;
  fake: FakeGoogleApis;
}

/**
 * Publishes one job to the bundled ingest function under the functions-framework, in cloud
 * mode against the REST stand-in and a loopback EODHD, with the heap capped at 70% of the
 * deployed memory; resolves with the push answer, the stored result and the peak RSS.
 */
async function runIngestFunction(job: { job_id: string } & Record<string, unknown>, vendorOptions: LoopbackVendorOptions): Promise<IngestRun> {
  const vendor = await startLoopbackVendor(vendorOptions);
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
  const resultName = `jobs/ingest/${job.job_id}/result.json`;
  let run: Omit<IngestRun, 'peakMiB' | 'stderr'>;
  try {
    while (!(await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
    const status = await publishJob(`http://127.0.0.1:${port}/`, job, 'jobs-ingest');
    const answeredAt = Date.now();
    const stored = fake.objects.get(`limits-artifacts/${resultName}`);
    const committedAt = fake.requests.find((r) => r.method === 'POST' && r.query.get('name') === resultName)?.at ?? Number.NaN;
    const document = JSON.parse(stored?.body.toString('utf8') ?? '{}') as IngestRun['document'];
    run = { status, document, resultBytes: stored?.body.length ?? 0, committedAt, answeredAt, budget, fake };
  } finally {
    // functions-framework exits on SIGTERM, so the preloaded hook prints the peak.
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fake.close();
    await vendor.close();
  }
  return { ...run, peakMiB: Number(/PEAK_RSS_MB ([\d.]+)/.exec(stderr)?.[1]), stderr: stderr.slice(-2000) };
}
