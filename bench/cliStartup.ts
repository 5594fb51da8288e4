/**
 * CLI start-up: `node scripts/job.mjs` (what `npm run job` runs: the freshness check of the
 * bundle, then the bundled CLI with everything it loads before reading a job) exiting at its
 * usage line, against a bare `node -e 0`, alternating; medians of the wall time and of the
 * CPU time (user + system: on a shared machine the wall time of a short process grows with
 * the load, its CPU time much less). Goal: within 60 ms. npm's own start-up (~130 ms) comes
 * on top for `npm run job` and is measured separately.
 */
import os from 'node:os';
import path from 'node:path';
import { median, root, timeRun } from './wholeProcess.js';

const rounds = Number(process.env.STARTUP_ROUNDS ?? 21);
type Sample = ReturnType<typeof timeRun>;
const launcher = path.join(root, 'scripts', 'job.mjs');
timeRun(process.execPath, [launcher]); // builds dist/cli if it is stale, outside the timing
const bare: Sample[] = [];
const cli: Sample[] = [];
const npm: Sample[] = [];
for (let r = 0; r < rounds; r++) {
  bare.push(timeRun(process.execPath, ['-e', '0']));
  cli.push(timeRun(process.execPath, [launcher]));
  if (r % 3 === 0) npm.push(timeRun('npm', ['run', '--silent', 'job']));
}
const wall = (s: Sample[]) => median(s.map((x) => x.ms));
const cpu = (s: Sample[]) => median(s.map((x) => x.cpuMs));
const result = {
  node_e0_ms: wall(bare),
  cli_ms: wall(cli),
  cli_over_node_ms: wall(cli) - wall(bare),
  node_e0_cpu_ms: cpu(bare),
  cli_cpu_ms: cpu(cli),
  cli_over_node_cpu_ms: cpu(cli) - cpu(bare),
  npm_run_job_ms: wall(npm),
  load_average: os.loadavg()[0],
};
const ms = (v: number) => `${v.toFixed(0)} ms`.padStart(7);
console.log(`CLI start-up, medians of ${rounds} alternating runs (load average ${result.load_average.toFixed(1)}):`);
console.log(`                                    wall      CPU`);
console.log(`  node -e 0                      ${ms(result.node_e0_ms)}  ${ms(result.node_e0_cpu_ms)}`);
console.log(`  node scripts/job.mjs (usage)   ${ms(result.cli_ms)}  ${ms(result.cli_cpu_ms)}  (+${result.cli_over_node_ms.toFixed(0)} ms wall, +${result.cli_over_node_cpu_ms.toFixed(0)} ms CPU; goal <= 60)`);
console.log(`  npm run --silent job (usage)   ${ms(result.npm_run_job_ms)}`);
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
