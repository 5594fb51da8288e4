/**
 * Monte Carlo benchmark: 1,000,000 paths x 252 steps, one asset, whole processes.
 * Runs this file as a child (`node --import tsx bench/montecarlo.ts --child <threads>`) on
 * 1 thread and on all cores, and `python3 bench/montecarlo_numpy.py` (vectorized numpy,
 * chunked rows), timing each whole process from spawn to exit; peak memory is each child's
 * own maxRSS (process.resourceUsage / getrusage). The whole job (the bundled CLI) and numpy
 * then run in alternation, MC_BENCH_ROUNDS rounds (default 3), and the ratio is of their
 * medians. Prints a summary and a final BENCH_JSON line.
 *
 * The children run as one `node --import tsx` process, like python3 is one process: `npx tsx`
 * would add ~0.5 s of package-runner start-up (npx resolving the bin, then tsx's CLI
 * spawning a second node) that is not part of the job; a deployed function runs bundled JS
 * with neither. Node + tsx start-up (~0.3 s) is still inside the timed process, as the
 * interpreter and `import numpy` (~0.25 s) are on the numpy side.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runMonteCarlo } from '../shared/models/montecarlo/gbmModel.js';
import { bandStepsFor } from '../shared/models/montecarlo/simulation.js';

const SIMULATIONS = Number(process.env.MC_BENCH_SIMULATIONS ?? 1_000_000);
const STEPS = 252;

async function child(threads: number): Promise<void> {
  const start = performance.now();
  const { result, threads: used } = await runMonteCarlo(
    {
      assets: [{ name: 'asset', initialPrice: 100, drift: 0.08, volatility: 0.2 }],
      correlation: [[1]],
      weights: [1],
      simulations: SIMULATIONS,
      timeSteps: STEPS,
      horizonYears: 1,
      seed: 42,
      confidenceLevels: [0.95, 0.99],
    },
    { threads },
  );
  const modelSeconds = (performance.now() - start) / 1000;
  const s = result.symbols.asset;
  console.log(
    JSON.stringify({
      modelSeconds,
      threads: used,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      mean: s.expected_terminal_price,
      p50: s.terminal_price.percentiles.p50,
      var95: result.portfolio.var['0.95'],
    }),
  );
}

interface Timed<T> { seconds: number; report: T }

function timedProcess<T>(command: string, args: string[]): Timed<T> {
  const start = performance.now();
  const run = spawnSync(command, args, { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)), maxBuffer: 1 << 24 });
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  return { seconds, report: JSON.parse(lines[lines.length - 1]) as T };
}

interface ChildReport { modelSeconds: number; threads: number; maxRssMb: number; mean: number; p50: number; var95: number }
interface NumpyReport { seconds: number; max_rss_mb: number; mean: number; p50: number; var_95: number; chunk_rows: number }

/**
 * The whole job as the product runs it: the bundled command-line runner (`npm run build`
 * first) decodes a Pub/Sub CloudEvent, validates, simulates on all cores, writes result.json
 * and the chart. Peak memory is the process's VmHWM, polled from /proc until it exits.
 */
async function wholeJob(threads: number): Promise<{ seconds: number; peakMb: number } | undefined> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const cli = path.join(root, 'dist', 'cli', 'job.js');
  if (!existsSync(cli)) return undefined;
  const out = path.join(root, 'bench', '.out');
  mkdirSync(out, { recursive: true });
  const jobFile = path.join(out, 'montecarlo-1m.json');
  const params = { initial_price: 100, drift: 0.08, volatility: 0.2, simulations: SIMULATIONS, time_steps: STEPS, seed: 42 };
  writeFileSync(jobFile, JSON.stringify({ job_id: 'bench-mc-1m', params }));
  const start = performance.now();
  const child = spawn(process.execPath, [cli, 'montecarlo', jobFile], {
    env: { ...process.env, LOCAL_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'bench-mc-')), MC_THREADS: String(threads), LOG_LEVEL: 'ERROR' },
    stdio: 'ignore',
  });
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (match) peakKb = Math.max(peakKb, Number(match[1]));
    } catch {
      // the process has exited between two polls
    }
  }, 10);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`the Monte Carlo job exited with ${code}`);
  return { seconds: (performance.now() - start) / 1000, peakMb: peakKb / 1024 };
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const cores = availableParallelism();
  const pathSteps = SIMULATIONS * STEPS;
  const one = timedProcess<ChildReport>(process.execPath, ['--import', 'tsx', self, '--child', '1']);
  const all = timedProcess<ChildReport>(process.execPath, ['--import', 'tsx', self, '--child', String(cores)]);
  // The whole job and numpy alternate, three rounds, and each side's median counts: one
  // noisy round on a shared machine would otherwise swing the ratio by 10-20%.
  const rounds = Number(process.env.MC_BENCH_ROUNDS ?? 3);
  const jobs: { seconds: number; peakMb: number }[] = [];
  const numpys: Timed<NumpyReport>[] = [];
  // numpy computes the band percentiles at as many time points as ours keeps.
  const interiorBandPoints = bandStepsFor(STEPS, SIMULATIONS).length - 2;
  for (let round = 0; round < rounds; round++) {
    const job = await wholeJob(cores);
    if (job) jobs.push(job);
    numpys.push(timedProcess<NumpyReport>(process.env.PYTHON ?? 'python3', ['bench/montecarlo_numpy.py', String(SIMULATIONS), String(STEPS), String(interiorBandPoints)]));
  }
  const job = jobs.length > 0 ? median(jobs, (j) => j.seconds) : undefined;
  const numpy = median(numpys, (n) => n.seconds);
  const summary = {
    simulations: SIMULATIONS,
    time_steps: STEPS,
    cores,
    ts_1thread_process_s: one.seconds,
    ts_1thread_model_s: one.report.modelSeconds,
    ts_all_process_s: all.seconds,
    ts_all_model_s: all.report.modelSeconds,
    ts_all_threads: all.report.threads,
    rounds,
    whole_job_process_s: job?.seconds,
    whole_job_process_s_all: jobs.map((j) => j.seconds),
    numpy_process_s_all: numpys.map((n) => n.seconds),
    whole_job_peak_rss_mb: job?.peakMb,
    speedup_vs_numpy_whole_job: job ? numpy.seconds / job.seconds : undefined,
    numpy_process_s: numpy.seconds,
    numpy_script_s: numpy.report.seconds,
    speedup_vs_numpy_1thread: numpy.seconds / one.seconds,
    speedup_vs_numpy_all: numpy.seconds / all.seconds,
    path_steps_per_s_1thread: pathSteps / one.report.modelSeconds,
    path_steps_per_s_all: pathSteps / all.report.modelSeconds,
    ts_peak_rss_mb_1thread: one.report.maxRssMb,
    ts_peak_rss_mb_all: all.report.maxRssMb,
    numpy_peak_rss_mb: numpy.report.max_rss_mb,
    numpy_chunk_rows: numpy.report.chunk_rows,
    sanity_mean_ts: one.report.mean,
    sanity_mean_numpy: numpy.report.mean,
    sanity_mean_exact: 100 * Math.exp(0.08),
  };
  console.log(`Monte Carlo ${SIMULATIONS} paths x ${STEPS} steps, one asset (${cores} cores, shared machine)`);
  console.log(`  TypeScript 1 thread : ${one.seconds.toFixed(2)} s process (${one.report.modelSeconds.toFixed(2)} s model), peak ${one.report.maxRssMb.toFixed(0)} MB`);
  console.log(`  TypeScript ${all.report.threads} threads: ${all.seconds.toFixed(2)} s process (${all.report.modelSeconds.toFixed(2)} s model), peak ${all.report.maxRssMb.toFixed(0)} MB`);
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  if (job) console.log(`  whole job (node dist/cli/job.js, ${cores} threads, CloudEvent to result.json): ${job.seconds.toFixed(2)} s (median of ${list(jobs.map((j) => j.seconds))}), peak ${job.peakMb.toFixed(0)} MB`);
  console.log(`  numpy (chunks of ${numpy.report.chunk_rows} rows): ${numpy.seconds.toFixed(2)} s process (median of ${list(numpys.map((n) => n.seconds))}), peak ${numpy.report.max_rss_mb.toFixed(0)} MB`);
  console.log(`  speed-up vs numpy: ${summary.speedup_vs_numpy_1thread.toFixed(1)}x (1 thread), ${summary.speedup_vs_numpy_all.toFixed(1)}x (all cores)${job ? `, ${(numpy.seconds / job.seconds).toFixed(1)}x (whole job)` : ''}`);
  console.log(`  throughput: ${(summary.path_steps_per_s_1thread / 1e6).toFixed(0)} M path-steps/s (1 thread), ${(summary.path_steps_per_s_all / 1e6).toFixed(0)} M (all)`);
  console.log(`  E[S_T]: ours ${one.report.mean.toFixed(3)}, numpy ${numpy.report.mean.toFixed(3)}, exact ${summary.sanity_mean_exact.toFixed(3)}`);
  console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
}

/** The middle element by `key` (the upper middle of an even count). */
function median<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)];
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) void child(Number(process.argv[childIndex + 1]));
else void main();
