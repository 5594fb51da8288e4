/**
 * The largest ingest job, a whole exchange, at full size: the bundled ingest function under
 * the functions-framework in cloud mode, against the Cloud Storage / BigQuery REST stand-in
 * and a loopback EODHD whose bulk endpoint answers `INGEST_EXCHANGE_TICKERS` tickers a day
 * (default 50,000, the limit), over `INGEST_EXCHANGE_WEEKDAYS` weekdays (default 15), with
 * V8's heap capped at 70% of the function's Terraform memory, as test/limits does.
 * Prints the peak resident memory (the child's own maxRSS at exit, and VmHWM polled), the
 * time from publish to the HTTP answer, and when the result was stored.
 *
 *   npm run bench -- ingestExchange     (INGEST_EXCHANGE_TRACE=1 prints the function's log lines, timed)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeGoogleApis } from '../test/support/fakeGoogleApis.js';
import { startLoopbackVendor } from '../test/support/loopbackVendor.js';
import { publishJob } from '../test/support/pubsubPost.js';
import { canConnect, freePort } from '../scripts/pubsub/freePort.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tickers = Number(process.env.INGEST_EXCHANGE_TICKERS ?? 50_000);
const weekdays = Number(process.env.INGEST_EXCHANGE_WEEKDAYS ?? 15);

/** The ingest function's `memory` in terraform/functions.tf, in MiB. */
function deployedMemoryMiB(): number {
  const text = readFileSync(path.join(root, 'terraform', 'functions.tf'), 'utf8');
  const match = /memory\s*=\s*"(\d+)(Mi|Gi)"/.exec(text.slice(text.indexOf('ingest = {')));
  if (!match) throw new Error('no memory setting for ingest in terraform/functions.tf');
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

/** A window of exactly `n` weekdays ending on a Friday. */
function windowOf(n: number): { start: string; end: string } {
  const end = new Date('2024-06-28T00:00:00Z');
  const d = new Date(end);
  let count = 0;
  for (;;) {
    if (d.getUTCDay() % 6 !== 0) count++;
    if (count === n) break;
    d.setUTCDate(d.getUTCDate() - 1);
  }
  return { start: d.toISOString().slice(0, 10), end: end.toISOString().slice(0, 10) };
}

const memory = deployedMemoryMiB();
const cap = Math.floor(memory * 0.7);
const vendor = await startLoopbackVendor({ latencyMs: 100, exchangeSymbols: tickers });
const fake = new FakeGoogleApis();
const fakeBase = await fake.start();
const port = await freePort();
const child = spawn(
  process.execPath,
  [path.join(root, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js'), `--source=${path.join(root, 'dist', 'ingest')}`, '--target=ingest', '--signature-type=cloudevent', `--port=${port}`],
  {
    env: {
      ...process.env,
      GCS_BUCKET: 'bench-artifacts',
      GCP_PROJECT: 'bench-project',
      STORAGE_EMULATOR_HOST: fakeBase,
      BIGQUERY_EMULATOR_HOST: fakeBase,
      EODHD_BASE_URL: `${vendor.url}/api`,
      EODHD_API_KEY: 'bench-key',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'INFO',
      NODE_OPTIONS: `--max-old-space-size=${cap} -r ${path.join(root, 'test', 'support', 'peakRss.cjs')}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let stderr = '';
child.stderr.on('data', (c: Buffer) => {
  const text = c.toString('utf8');
  stderr += text;
  if (process.env.INGEST_EXCHANGE_TRACE) for (const line of text.split('\n')) if (line.trim() !== '') console.log(`[${stamp()}] ${line.slice(0, 300)}`);
});
const started = performance.now();
const stamp = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
// Log lines with the time they arrived, so a stall after the commit shows where it is.
child.stdout.on('data', (c: Buffer) => {
  for (const line of c.toString('utf8').split('\n')) if (line.trim() !== '') console.log(`[${stamp()}] ${line.slice(0, 300)}`);
});
let peakKb = 0;
let answer: Record<string, unknown> = {};
const poll = setInterval(() => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    if (m) peakKb = Math.max(peakKb, Number(m[1]));
  } catch {
    // exited between two polls
  }
}, 50);
const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
const jobId = `bench-exchange-${tickers}x${weekdays}`;
try {
  while (!(await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
  const published = performance.now();
  const publishedAt = Date.now();
  const status = await publishJob(`http://127.0.0.1:${port}/`, { job_id: jobId, ...windowOf(weekdays), params: { source: 'eodhd', exchange: 'US' } }, 'jobs-ingest');
  const answeredS = (performance.now() - published) / 1000;
  const stored = fake.objects.get(`bench-artifacts/jobs/ingest/${jobId}/result.json`);
  const document = JSON.parse(stored?.body.toString('utf8') ?? '{}') as { status?: string; error?: unknown; result?: { rows_loaded?: number } };
  const storedAt = fake.requests.find((r) => r.method === 'POST' && r.query.get('name') === `jobs/ingest/${jobId}/result.json`)?.at;
  const biggestInsert = Math.max(0, ...fake.requests.filter((r) => r.path.endsWith('/insertAll')).map((r) => r.body.length));
  answer = { http_status: status, answered_s: round(answeredS), stored_s: storedAt ? round((storedAt - publishedAt) / 1000) : null, status: document.status, rows: document.result?.rows_loaded, result_bytes: stored?.body.length ?? 0, largest_insert_bytes: biggestInsert };
  if (process.env.INGEST_EXCHANGE_TRACE) for (const r of fake.requests.filter((q) => storedAt !== undefined && q.at >= storedAt)) console.log(`  +${((r.at - publishedAt) / 1000).toFixed(1)} s ${r.method} ${r.path} ${r.body.length} bytes`);
  console.log(`Ingest of a whole exchange, ${tickers.toLocaleString('en')} tickers x ${weekdays} weekdays, cloud mode, heap capped at ${cap} MiB (70% of ${memory} MiB):`);
  console.log(`  HTTP ${status} after ${answeredS.toFixed(1)} s; result ${document.status} (${document.result?.rows_loaded ?? JSON.stringify(document.error)} rows), stored ${storedAt ? ((storedAt - publishedAt) / 1000).toFixed(1) : '?'} s after publish, result.json ${stored?.body.length ?? 0} bytes, largest insertAll request ${biggestInsert} bytes`);
} finally {
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  clearInterval(poll);
  await fake.close();
  await vendor.close();
}
const peak = /PEAK_RSS_MB ([\d.]+)/.exec(stderr)?.[1];
console.log(`  peak RSS ${peak ?? '?'} MB (maxRSS at exit), ${(peakKb / 1024).toFixed(1)} MB (VmHWM polled); load average ${os().join(' ')}`);
if (!peak) console.log(stderr.slice(-2000));
console.log(`BENCH_JSON ${JSON.stringify({ tickers, weekdays, heap_cap_mib: cap, memory_mib: memory, peak_rss_mb: Number(peak), peak_vmhwm_mb: round(peakKb / 1024), load_average: os().map(Number), ...answer })}`);

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function os(): string[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3);
}
