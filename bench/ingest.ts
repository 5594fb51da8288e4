/**
 * Ingest at scale, whole process, against a loopback vendor that behaves like EODHD (100 ms
 * a request, 429 past 1,000 requests a minute, Twelve Data's 5,000-point cap):
 *  1. 100 symbols x 20 years from EODHD with dividends and splits, through the bundled
 *     command-line runner in local mode (one rewrite of each local table); target < 30 s.
 *  2. 500 symbols x 20 years, the bundled ingest function under the functions-framework in
 *     cloud mode (rows staged in the bucket, one BigQuery load + MERGE per table), against the
 *     Cloud Storage / BigQuery REST stand-in; target: within the function's Terraform timeout
 *     (540 s) with peak memory inside its setting (terraform/functions.tf).
 * Peak memory is the child's VmHWM (Linux), polled.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeGoogleApis } from '../test/support/fakeGoogleApis.js';
import { startLoopbackVendor } from '../test/support/loopbackVendor.js';
import { publishJob } from '../test/support/pubsubPost.js';
import { canConnect, freePort } from '../scripts/pubsub/freePort.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'bench', '.out');
mkdirSync(out, { recursive: true });
const WINDOW = { start: '2004-01-01', end: '2023-12-31' };
const VENDOR = { latencyMs: 100, perMinute: 1000, maxPoints: 5000 };
const FUNCTION_TIMEOUT_S = 540;
const FUNCTION_MEMORY_MB = 512;
const symbols = (n: number) => Array.from({ length: n }, (_, i) => `U${String(i).padStart(4, '0')}.US`);

/** Polls a child's peak resident memory (VmHWM) until it exits. */
function peakMemory(pid: number | undefined): { stop: () => number } {
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) peakKb = Math.max(peakKb, Number(match[1]));
    } catch {
      // exited between two polls
    }
  }, 20);
  return {
    stop: () => {
      clearInterval(poll);
      return peakKb / 1024;
    },
  };
}

async function localCli(n: number) {
  const cli = path.join(root, 'dist', 'cli', 'job.js');
  if (!existsSync(cli)) throw new Error('dist/cli/job.js is missing: run npm run build');
  const vendor = await startLoopbackVendor(VENDOR);
  const jobFile = path.join(out, `ingest-${n}.json`);
  writeFileSync(jobFile, JSON.stringify({ job_id: `bench-ingest-${n}-${Date.now()}`, symbols: symbols(n), ...WINDOW, params: { source: 'eodhd' } }));
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'ingest', jobFile], {
    env: { ...process.env, EODHD_BASE_URL: `${vendor.url}/api`, EODHD_API_KEY: 'bench-key', LOCAL_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-')), LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const memory = peakMemory(child.pid);
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const seconds = (performance.now() - started) / 1000;
  const peakMb = memory.stop();
  await vendor.close();
  if (code !== 0) throw new Error(`the ingest job exited with ${code}: ${stdout.slice(0, 500)}`);
  const result = (JSON.parse(stdout) as { result: { rows_loaded: number; rate_limited_responses: number } }).result;
  return { symbols: n, rows: result.rows_loaded, seconds: round(seconds), peak_mb: round(peakMb), vendor_requests: vendor.stats.requests, vendor_429s: vendor.stats.throttled };
}

async function cloudFunction(n: number) {
  const source = path.join(root, 'dist', 'ingest');
  if (!existsSync(source)) throw new Error('dist/ingest is missing: run npm run build');
  const vendor = await startLoopbackVendor(VENDOR);
  const fake = new FakeGoogleApis();
  const fakeBase = await fake.start();
  const port = await freePort();
  const child = spawn(path.join(root, 'node_modules', '.bin', 'functions-framework'), [`--source=${source}`, '--target=ingest', '--signature-type=cloudevent', `--port=${port}`], {
    env: {
      ...process.env,
      GCS_BUCKET: 'bench-artifacts',
      GCP_PROJECT: 'bench-project',
      STORAGE_EMULATOR_HOST: fakeBase,
      BIGQUERY_EMULATOR_HOST: fakeBase,
      EODHD_BASE_URL: `${vendor.url}/api`,
      EODHD_API_KEY: 'bench-key',
      LOG_LEVEL: 'ERROR',
      NODE_OPTIONS: `--max-old-space-size=${FUNCTION_MEMORY_MB - 64}`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const memory = peakMemory(child.pid);
  try {
    while (!(await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
    const jobId = `bench-ingest-cloud-${n}-${Date.now()}`;
    const started = performance.now();
    const status = await publishJob(`http://127.0.0.1:${port}/`, { job_id: jobId, symbols: symbols(n), ...WINDOW, params: { source: 'eodhd' } }, 'jobs-ingest');
    const seconds = (performance.now() - started) / 1000;
    const peakMb = memory.stop();
    const stored = fake.objects.get(`bench-artifacts/jobs/ingest/${jobId}/result.json`);
    if (status >= 300 || !stored) throw new Error(`the ingest function answered HTTP ${status} without a result`);
    const document = JSON.parse(stored.body.toString('utf8')) as { status: string; error?: unknown; result?: { rows_loaded: number } };
    if (document.status !== 'completed') throw new Error(`the ingest job failed: ${JSON.stringify(document.error)}`);
    return {
      symbols: n,
      rows: document.result?.rows_loaded,
      seconds: round(seconds),
      peak_mb: round(peakMb),
      merges: fake.statements.filter((s) => s.startsWith('MERGE')).length,
      load_jobs: fake.loadJobs.length,
      vendor_requests: vendor.stats.requests,
      vendor_429s: vendor.stats.throttled,
      timeout_s: FUNCTION_TIMEOUT_S,
      memory_mb: FUNCTION_MEMORY_MB,
    };
  } finally {
    child.kill('SIGKILL');
    await fake.close();
    await vendor.close();
  }
}

const small = await localCli(Number(process.env.INGEST_BENCH_SMALL ?? 100));
console.log(`Ingest, ${small.symbols} symbols x 20 years from EODHD (loopback: 100 ms a request, 429 past 1000/min), local mode, whole process:`);
console.log(`  ${small.rows} rows in ${small.seconds} s (target < 30 s), peak ${small.peak_mb} MB; ${small.vendor_requests} requests, ${small.vendor_429s} answered 429`);
const large = await cloudFunction(Number(process.env.INGEST_BENCH_LARGE ?? 500));
console.log(`Ingest, ${large.symbols} symbols x 20 years, the bundled function in cloud mode (REST stand-in):`);
console.log(
  `  ${large.rows} rows in ${large.seconds} s (timeout ${large.timeout_s} s), peak ${large.peak_mb} MB (setting ${large.memory_mb} MiB); ${large.load_jobs} load jobs, ${large.merges} MERGE statements; ${large.vendor_requests} requests, ${large.vendor_429s} answered 429`,
);
console.log(`BENCH_JSON ${JSON.stringify({ ingest_local: small, ingest_cloud: large })}`);

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
