/**
 * Black-Scholes throughput: a 100,000-option batch with Greeks (the pure model, one reused
 * output buffer), the same batch through the job's run() (validation excluded, resolution and
 * result objects included), and implied-volatility solves with their iteration counts.
 * Run: npx tsx bench/blackscholes.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import type { ModelContext } from '../shared/job/model.js';
import { blackScholes, type BlackScholesInputs, type BlackScholesValuationBuffer } from '../shared/models/blackscholes/blackscholes.js';
import { blackscholesModel, type BlackScholesParams } from '../shared/models/blackscholes/job.js';
import { impliedVolatility } from '../shared/models/blackscholes/impliedVolatility.js';

const N = 100_000;
const jStat = createRequire(import.meta.url)('jstat') as { normal: { cdf(x: number, m: number, s: number): number } };

// A deterministic spread of options: strikes 50%..150% of spot, 1 day..10 years, vol 5%..105%.
function makeBatch(): BlackScholesInputs[] {
  const out: BlackScholesInputs[] = [];
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < N; i++) {
    out.push({
      optionType: i % 2 ? 'put' : 'call',
      spot: 100,
      strike: 50 + 100 * next(),
      timeToExpiry: 1 / 365 + 10 * next(),
      riskFreeRate: 0.05 * next() - 0.01,
      dividendYield: 0.03 * next(),
      volatility: 0.05 + next(),
    });
  }
  return out;
}

function best(runs: number, f: () => void): number {
  let bestMs = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return bestMs;
}

const batch = makeBatch();
const buffer: BlackScholesValuationBuffer = { price: 0, delta: 0, gamma: 0, theta: 0, vega: 0, rho: 0 };
let sink = 0;

const modelMs = best(7, () => {
  for (const o of batch) sink += blackScholes(o, buffer).theta;
});

// Textbook S e^-qT N(d1) - K e^-rT N(d2) on jstat's cdf, price only: the speed reference.
const textbookMs = best(7, () => {
  for (const o of batch) {
    const sT = o.volatility * Math.sqrt(o.timeToExpiry);
    const d1 = (Math.log(o.spot / o.strike) + (o.riskFreeRate - o.dividendYield + 0.5 * o.volatility ** 2) * o.timeToExpiry) / sT;
    const w = o.optionType === 'call' ? 1 : -1;
    sink += w * (o.spot * Math.exp(-o.dividendYield * o.timeToExpiry) * jStat.normal.cdf(w * d1, 0, 1) -
      o.strike * Math.exp(-o.riskFreeRate * o.timeToExpiry) * jStat.normal.cdf(w * (d1 - sT), 0, 1));
  }
});

const quotes = batch.map((o) => ({ ...o, price: blackScholes(o).price }));
const iterations: number[] = [];
let failures = 0;
const ivMs = best(3, () => {
  iterations.length = 0;
  failures = 0;
  for (const q of quotes) {
    const r = impliedVolatility(q);
    if (r.ok) iterations.push(r.iterations);
    else failures++;
  }
});
const meanIterations = iterations.reduce((a, b) => a + b, 0) / iterations.length;
const maxIterations = Math.max(...iterations);

const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => log };
const context: ModelContext = {
  history: async () => [],
  log,
  config: {} as Config,
  warehouse: {} as ModelContext['warehouse'],
  secrets: {} as ModelContext['secrets'],
};
const params: BlackScholesParams = {
  periods_per_year: 252,
  options: batch.map((o) => ({
    option_type: o.optionType,
    spot: o.spot,
    strike: o.strike,
    time_to_expiry: o.timeToExpiry,
    risk_free_rate: o.riskFreeRate,
    dividend_yield: o.dividendYield,
    volatility: o.volatility,
  })),
};
const job = { job_id: 'bench', symbols: [], start: '2024-01-01', end: '2024-12-31', params };
let jobMs = Infinity;
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  await blackscholesModel.run(job, context);
  jobMs = Math.min(jobMs, performance.now() - t0);
}

// The whole job as one process, as a function would run it: the bundled command-line runner
// decodes the CloudEvent, validates 100,000 options with zod, prices them, writes the result.
const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '.out', 'blackscholes');
mkdirSync(outDir, { recursive: true });
const jobFile = path.join(outDir, 'job-100k.json');
writeFileSync(jobFile, JSON.stringify({ ...job, job_id: 'bench-100k' }));
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'job.js');
let processMs = NaN;
if (existsSync(cli)) {
  processMs = Infinity;
  for (let r = 0; r < 3; r++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-bs-'));
    const t0 = performance.now();
    const run = spawnSync(process.execPath, [cli, 'blackscholes', jobFile], { env: { ...process.env, LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'ERROR' }, stdio: ['ignore', 'ignore', 'inherit'] });
    const elapsed = performance.now() - t0;
    if (run.status !== 0) throw new Error(`the 100k-option job failed (exit ${run.status})`);
    processMs = Math.min(processMs, elapsed);
  }
}

const perSecond = (ms: number) => Math.round((N / ms) * 1000);
console.log(`Black-Scholes, ${N.toLocaleString()} options (best of several runs, one process)`);
console.log(`  price + 5 Greeks (pure model):   ${modelMs.toFixed(1)} ms  ${perSecond(modelMs).toLocaleString()} options/s`);
console.log(`  textbook price only, jstat cdf:  ${textbookMs.toFixed(1)} ms  ${perSecond(textbookMs).toLocaleString()} options/s (ratio model/textbook ${(modelMs / textbookMs).toFixed(2)})`);
console.log(`  job run() (resolve + results + chart): ${jobMs.toFixed(1)} ms  ${perSecond(jobMs).toLocaleString()} options/s`);
console.log(`  whole job, one process (node dist/cli/job.js: decode, validate, price, write): ${processMs.toFixed(0)} ms  ${perSecond(processMs).toLocaleString()} options/s`);
console.log(`  implied volatility:              ${ivMs.toFixed(1)} ms  ${perSecond(ivMs).toLocaleString()} solves/s, iterations mean ${meanIterations.toFixed(2)} max ${maxIterations}, failures ${failures}`);
if (sink === 42) console.log('');
console.log(
  'BENCH_JSON ' +
    JSON.stringify({
      options: N,
      model_ms: modelMs,
      model_options_per_second: perSecond(modelMs),
      textbook_jstat_ms: textbookMs,
      model_over_textbook: modelMs / textbookMs,
      job_run_ms: jobMs,
      job_options_per_second: perSecond(jobMs),
      whole_job_process_ms: processMs,
      whole_job_options_per_second: perSecond(processMs),
      iv_ms: ivMs,
      iv_solves_per_second: perSecond(ivMs),
      iv_mean_iterations: meanIterations,
      iv_max_iterations: maxIterations,
      iv_failures: failures,
    }),
);
