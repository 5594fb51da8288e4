// npm run bench: every benchmark, one after the other, each as its own process; prints each
// one's report and writes the numbers to bench/.out/results.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstTouch } from './firstTouch.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const benches = ['cliStartup', 'coldStart', 'blackscholes', 'jobDigest', 'montecarlo', 'montecarloShards', 'montecarloSelection', 'montecarloMulti', 'markowitz', 'ingest', 'ingestExchange'].filter((b) => only.length === 0 || only.includes(b));
// The reference implementations need numpy, pandas and scikit-learn (Debian:
// apt-get install python3-numpy python3-pandas python3-sklearn). Use the first Python that has them.
const python = [process.env.PYTHON, 'python3', '/usr/bin/python3'].find(
  (candidate) => candidate && spawnSync(candidate, ['-c', 'import numpy, pandas, sklearn'], { stdio: 'ignore' }).status === 0,
);
if (!python) console.warn('No Python with numpy, pandas and scikit-learn found: the comparisons with Python will fail.');

// The cost of touching fresh memory differs sixfold between machines of this project's kind
// and weighs on every whole-process ratio below: it heads the report.
const machine = { cpus: (await import('node:os')).cpus().length, node: process.version, first_touch: firstTouch() };
const touch = machine.first_touch;
console.log(
  `machine: ${machine.cpus} CPUs, Node ${machine.node}; first touch of fresh memory ${touch.small_pages_ms_per_mb.toFixed(1)} ms a MB ` +
    `(4 KiB pages), ${touch.huge_pages_ms_per_mb.toFixed(1)} ms a MB (glibc asked for huge pages, as npm run job does)`,
);
const results: Record<string, unknown> = { machine, at: new Date().toISOString() };
for (const bench of benches) {
  const file = path.join(root, 'bench', `${bench}.ts`);
  if (!existsSync(file)) continue;
  console.log(`\n### ${bench}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
    env: { ...process.env, ...(python ? { PYTHON: python } : {}) },
  });
  process.stdout.write(run.stdout.split('\n').filter((l) => !l.startsWith('BENCH_JSON ')).join('\n'));
  const line = run.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  results[bench] = line ? JSON.parse(line.slice('BENCH_JSON '.length)) : { error: `exit ${run.status}` };
}
mkdirSync(path.join(root, 'bench', '.out'), { recursive: true });
writeFileSync(path.join(root, 'bench', '.out', 'results.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`\nNumbers written to bench/.out/results.json`);
