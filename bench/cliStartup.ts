/**
 * CLI start-up: `node scripts/job.mjs` (what `npm run job` runs: the freshness check of the
 * bundle, then the bundled CLI with everything it loads before reading a job) exiting at its
 * usage line, against a bare `node -e 0`, alternating; medians. Goal: within 60 ms. npm's own
 * start-up (~130 ms) comes on top for `npm run job` and is measured separately.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { median, root } from './wholeProcess.js';

const rounds = Number(process.env.STARTUP_ROUNDS ?? 21);
const time = (command: string, args: string[]): number => {
  const t0 = performance.now();
  spawnSync(command, args, { cwd: root, stdio: 'ignore' });
  return performance.now() - t0;
};
const launcher = path.join(root, 'scripts', 'job.mjs');
time(process.execPath, [launcher]); // builds dist/cli if it is stale, outside the timing
const bare: number[] = [];
const cli: number[] = [];
const npm: number[] = [];
for (let r = 0; r < rounds; r++) {
  bare.push(time(process.execPath, ['-e', '0']));
  cli.push(time(process.execPath, [launcher]));
  if (r % 3 === 0) npm.push(time('npm', ['run', '--silent', 'job']));
}
const result = {
  node_e0_ms: median(bare),
  cli_ms: median(cli),
  cli_over_node_ms: median(cli) - median(bare),
  npm_run_job_ms: median(npm),
  load_average: os.loadavg()[0],
};
console.log(`CLI start-up, medians of ${rounds} alternating runs (load average ${result.load_average.toFixed(1)}):`);
console.log(`  node -e 0                      ${result.node_e0_ms.toFixed(0)} ms`);
console.log(`  node scripts/job.mjs (usage)   ${result.cli_ms.toFixed(0)} ms  (+${result.cli_over_node_ms.toFixed(0)} ms; goal <= 60)`);
console.log(`  npm run --silent job (usage)   ${result.npm_run_job_ms.toFixed(0)} ms`);
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
