/**
 * Markowitz end to end, as whole processes: our job as a user runs it (`npm run --silent job`)
 * against bench/markowitz_reference.py (pandas + scikit-learn + numpy) on the same 200 x 1260
 * price CSV, then on 1000 x 2520 (alternating), and ours long-only on both.
 * Usage: npx tsx bench/markowitz.ts   (PYTHON=<python with pandas and sklearn>, default python3)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededUniform } from '../test/support/seededRandom.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'bench', '.out');
mkdirSync(out, { recursive: true });
const python = process.env.PYTHON ?? 'python3';

/** Business days from 2015-01-01, enough for `count`. */
function businessDays(count: number): string[] {
  const days: string[] = [];
  for (let d = new Date(Date.UTC(2015, 0, 1)); days.length < count; d.setUTCDate(d.getUTCDate() + 1)) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

/** A one-factor market with sector noise; symbol 0 misses 1% of its days (alignment drops them). */
function writeCase(assets: number, days: number): { csv: string; job: string; longOnlyJob: string } {
  const csv = path.join(out, `prices_${assets}x${days}.csv`);
  const dates = businessDays(days);
  const u = seededUniform(assets * 7919 + days);
  const z = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const symbols = Array.from({ length: assets }, (_, k) => `S${String(k).padStart(4, '0')}`);
  if (!existsSync(csv)) {
    const beta = symbols.map(() => 0.5 + u());
    const vol = symbols.map(() => 0.005 + 0.02 * u());
    const drift = symbols.map(() => 0.0001 + 0.0006 * u());
    const price = symbols.map(() => 20 + 200 * u());
    const lines: string[] = ['date,symbol,open,high,low,close,adj_close,volume'];
    for (let t = 0; t < days; t++) {
      const market = 0.01 * z();
      for (let k = 0; k < assets; k++) {
        if (t > 0) price[k] *= 1 + drift[k] + beta[k] * market + vol[k] * z();
        if (k === 0 && t > 0 && u() < 0.01) continue;
        const p = price[k].toFixed(4);
        lines.push(`${dates[t]},${symbols[k]},${p},${p},${p},${p},${p},1000`);
      }
    }
    writeFileSync(csv, lines.join('\n') + '\n');
  }
  const envelope = { symbols, start: dates[0], end: dates[days - 1] };
  const job = path.join(out, `job_${assets}x${days}.json`);
  writeFileSync(job, JSON.stringify({ job_id: `bench-markowitz-${assets}`, ...envelope, params: { covariance: 'ledoit_wolf', risk_free_rate: 0.02, frontier_points: 20 } }));
  const longOnlyJob = path.join(out, `job_${assets}x${days}_long_only.json`);
  writeFileSync(longOnlyJob, JSON.stringify({ job_id: `bench-markowitz-${assets}-lo`, ...envelope, params: { covariance: 'ledoit_wolf', long_only: true, risk_free_rate: 0.02, frontier_points: 20 } }));
  return { csv, job, longOnlyJob };
}

interface Run {
  seconds: number;
  peakRssMb: number | null;
  stdout: string;
}

/** Runs a command under `time -f` (GNU time) for its peak RSS, falling back to wall clock only. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const haveTime = spawnSync('time', ['-f', '%M', 'true']).status === 0;
  const t0 = performance.now();
  const r = haveTime
    ? spawnSync('time', ['-f', 'PEAK_RSS_KB %M', command, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 30, encoding: 'utf8' })
    : spawnSync(command, args, { env: { ...process.env, ...env }, maxBuffer: 1 << 30, encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const rss = /PEAK_RSS_KB (\d+)/.exec(r.stderr);
  return { seconds, peakRssMb: rss ? Number(rss[1]) / 1024 : null, stdout: r.stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  // Ours as a user runs it: `npm run --silent job` (npm, the launcher, the bundled CLI).
  const cli = path.join(root, 'dist', 'cli', 'job.js');
  const which = 'npm run --silent job -- markowitz (the bundled CLI)';
  const ours = (csv: string, job: string): Run =>
    timed('npm', ['run', '--silent', 'job', '--', 'markowitz', job], { USE_FIXTURE: 'true', FIXTURE_PRICES: csv, LOCAL_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mkw-')), LOG_LEVEL: 'ERROR' });
  console.log(`ours: ${which}`);

  const small = writeCase(200, 1260);
  const repeats = 3;
  const oursRuns: Run[] = [];
  const pyRuns: Run[] = [];
  for (let i = 0; i < repeats; i++) {
    oursRuns.push(ours(small.csv, small.job));
    pyRuns.push(timed(python, [path.join(root, 'bench', 'markowitz_reference.py'), small.csv, small.job]));
  }
  const oursDoc = JSON.parse(oursRuns[0].stdout);
  const pyDoc = JSON.parse(pyRuns[0].stdout);
  if (oursDoc.status !== 'completed') throw new Error(`our job did not complete: ${JSON.stringify(oursDoc.error)}`);
  let maxWeightDiff = 0;
  for (const [s, w] of Object.entries(pyDoc.result.gmv.weights as Record<string, number>)) {
    maxWeightDiff = Math.max(maxWeightDiff, Math.abs(oursDoc.result.gmv.weights[s] - w));
  }
  const oursSmall = median(oursRuns.map((r) => r.seconds));
  const pySmall = median(pyRuns.map((r) => r.seconds));
  console.log(`200 x 1260 (median of ${repeats} whole-process runs):`);
  console.log(`  ours   ${oursSmall.toFixed(3)} s   peak RSS ${oursRuns[0].peakRssMb?.toFixed(0) ?? '?'} MB`);
  console.log(`  python ${pySmall.toFixed(3)} s   peak RSS ${pyRuns[0].peakRssMb?.toFixed(0) ?? '?'} MB  (pandas + sklearn LedoitWolf + numpy)`);
  console.log(`  python / ours = ${(pySmall / oursSmall).toFixed(2)}x; max |GMV weight difference| = ${maxWeightDiff.toExponential(2)}; shrinkage ours ${oursDoc.result.shrinkage} python ${pyDoc.result.shrinkage}`);

  const longOnly = ours(small.csv, small.longOnlyJob);
  console.log(`200 x 1260 long-only (active-set QP, 20 frontier points): ${longOnly.seconds.toFixed(3)} s`);

  // 1,000 x 2,520 against pandas + scikit-learn, alternating (MKW_LARGE_ROUNDS, default 3).
  const large = writeCase(1000, 2520);
  const bigRuns: Run[] = [];
  const bigPyRuns: Run[] = [];
  for (let i = 0; i < Number(process.env.MKW_LARGE_ROUNDS ?? 3); i++) {
    bigRuns.push(ours(large.csv, large.job));
    bigPyRuns.push(timed(python, [path.join(root, 'bench', 'markowitz_reference.py'), large.csv, large.job]));
  }
  const big = { seconds: median(bigRuns.map((r) => r.seconds)), peakRssMb: Math.max(...bigRuns.map((r) => r.peakRssMb ?? 0)) };
  const bigPy = { seconds: median(bigPyRuns.map((r) => r.seconds)), peakRssMb: Math.max(...bigPyRuns.map((r) => r.peakRssMb ?? 0)) };
  console.log(`1000 x 2520 (median of ${bigRuns.length}): ours ${big.seconds.toFixed(2)} s (${bigRuns.map((r) => r.seconds.toFixed(2)).join('/')}), peak RSS ${big.peakRssMb.toFixed(0)} MB`);
  console.log(`  python ${bigPy.seconds.toFixed(2)} s (${bigPyRuns.map((r) => r.seconds.toFixed(2)).join('/')}), peak RSS ${bigPy.peakRssMb.toFixed(0)} MB; python / ours = ${(bigPy.seconds / big.seconds).toFixed(2)}x (goal >= 2x)`);
  const bigLongOnly = ours(large.csv, large.longOnlyJob);
  console.log(`1000 x 2520 long-only: ${bigLongOnly.seconds.toFixed(2)} s, peak RSS ${bigLongOnly.peakRssMb?.toFixed(0) ?? '?'} MB`);

  console.log(
    'BENCH_JSON ' +
      JSON.stringify({
        runner: existsSync(cli) ? 'npm run job (cli)' : 'npm run job (cli built on first run)',
        small: { assets: 200, days: 1260, ours_s: oursSmall, python_s: pySmall, ratio_python_over_ours: pySmall / oursSmall, ours_peak_rss_mb: oursRuns[0].peakRssMb, python_peak_rss_mb: pyRuns[0].peakRssMb, max_gmv_weight_diff: maxWeightDiff },
        small_long_only_s: longOnly.seconds,
        large: { assets: 1000, days: 2520, ours_s: big.seconds, ours_peak_rss_mb: big.peakRssMb, python_s: bigPy.seconds, python_peak_rss_mb: bigPy.peakRssMb, ratio_python_over_ours: bigPy.seconds / big.seconds, long_only_s: bigLongOnly.seconds, long_only_peak_rss_mb: bigLongOnly.peakRssMb },
        load_average: (await import('node:os')).loadavg()[0],
      }),
  );
}

await main();
