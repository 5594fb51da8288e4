/**
 * Monte Carlo with several symbols, 3 x 1,000,000 paths x 252 steps (Cholesky-correlated,
 * calibrated from the fixture prices of AAPL, MSFT and GOOGL): the whole job as a user runs it
 * (`npm run --silent job`) against bench/montecarlo_multi_numpy.py (chunked, vectorized numpy)
 * given the same calibrated inputs, alternating (MC_MULTI_ROUNDS, default 3); medians, peaks.
 * Goal: >= 10x, < 400 MB.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alternate, list, measureProcess, median, npmJob, python, root, seconds } from './wholeProcess.js';

const simulations = Number(process.env.MC_MULTI_SIMULATIONS ?? 1_000_000);
const out = path.join(root, 'bench', '.out', 'montecarlo-multi');
mkdirSync(out, { recursive: true });
const jobFile = path.join(out, 'job.json');
const job = { job_id: 'bench-mc-3', symbols: ['AAPL', 'MSFT', 'GOOGL'], start: '2023-01-01', end: '2025-12-31', params: { simulations, time_steps: 252, seed: 7 } };
writeFileSync(jobFile, JSON.stringify(job));

// One run first for the calibrated inputs the peer simulates with.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-mc3-'));
npmJob('montecarlo', jobFile, { LOCAL_DATA_DIR: dataDir });
const document = JSON.parse(readFileSync(path.join(dataDir, 'bucket', 'jobs', 'montecarlo', job.job_id, 'result.json'), 'utf8')) as { inputs: Record<string, unknown> };
const inputsFile = path.join(out, 'inputs.json');
writeFileSync(inputsFile, JSON.stringify(document.inputs));

const runs = alternate(
  Number(process.env.MC_MULTI_ROUNDS ?? 3),
  () => npmJob('montecarlo', jobFile, { LOCAL_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'bench-mc3-')) }),
  () => measureProcess(python, [path.join(root, 'bench', 'montecarlo_multi_numpy.py'), inputsFile]),
);
const ours = median(seconds(runs.ours));
const peer = median(seconds(runs.peer));
const result = {
  symbols: 3,
  simulations,
  time_steps: 252,
  ours_s: ours,
  ours_runs: seconds(runs.ours),
  ours_peak_mb: Math.max(...runs.ours.map((r) => r.maxRssMb)),
  numpy_s: peer,
  numpy_runs: seconds(runs.peer),
  numpy_peak_mb: Math.max(...runs.peer.map((r) => r.maxRssMb)),
  numpy_over_ours: peer / ours,
  load_average: os.loadavg()[0],
};
console.log(`Monte Carlo, 3 correlated symbols x ${simulations.toLocaleString()} paths x 252 steps (load average ${result.load_average.toFixed(1)}):`);
console.log(`  whole job, npm run --silent job: ${ours.toFixed(2)} s (median of ${list(result.ours_runs)}), peak ${result.ours_peak_mb.toFixed(0)} MB`);
console.log(`  numpy, chunked, Cholesky-correlated: ${peer.toFixed(2)} s (median of ${list(result.numpy_runs)}), peak ${result.numpy_peak_mb.toFixed(0)} MB`);
console.log(`  ratio numpy / ours: ${result.numpy_over_ours.toFixed(2)}x (goal >= 10x, < 400 MB)`);
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
