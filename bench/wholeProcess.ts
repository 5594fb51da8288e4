/**
 * Whole-process measurements shared by the benches: a command timed from spawn to exit with
 * its peak memory (bench/measure.py), and medians over rounds in which ours and the Python
 * peer alternate, so that a noisy moment on a shared machine hits both sides.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const python = process.env.PYTHON ?? 'python3';

export interface ProcessRun {
  readonly seconds: number;
  readonly maxRssMb: number;
  /** User + system CPU of the process and its descendants. */
  readonly cpuSeconds: number;
}

/** Runs `command args` from the repository root (stdout discarded); throws if it exits non-zero. */
export function measureProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ProcessRun {
  const run = spawnSync(python, [path.join(root, 'bench', 'measure.py'), command, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const report = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; max_rss_mb: number; cpu_seconds: number; status: number };
  if (run.status !== 0 || report.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${report.status ?? run.status}`);
  return { seconds: report.seconds, maxRssMb: report.max_rss_mb, cpuSeconds: report.cpu_seconds };
}

/** A short run through bench/measure.py, whatever its exit status (a usage line exits 2): wall and CPU time in ms. */
export function timeRun(command: string, args: readonly string[]): { readonly ms: number; readonly cpuMs: number } {
  const run = spawnSync(python, [path.join(root, 'bench', 'measure.py'), command, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const report = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; cpu_seconds: number };
  return { ms: report.seconds * 1000, cpuMs: report.cpu_seconds * 1000 };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `npm run --silent job -- <fn> <file>`, exactly as the README tells a user to run a job. */
export function npmJob(fn: string, jobFile: string, env: NodeJS.ProcessEnv = {}): ProcessRun {
  return measureProcess(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'job', '--', fn, jobFile], { LOG_LEVEL: 'ERROR', ...env });
}

/** Ours and the peer alternate, `rounds` times; each side's runs in order. */
export function alternate(rounds: number, ours: () => ProcessRun, peer: () => ProcessRun): { ours: ProcessRun[]; peer: ProcessRun[] } {
  const out = { ours: [] as ProcessRun[], peer: [] as ProcessRun[] };
  for (let r = 0; r < rounds; r++) {
    out.ours.push(ours());
    out.peer.push(peer());
  }
  return out;
}

export const seconds = (runs: readonly ProcessRun[]) => runs.map((r) => r.seconds);
export const list = (values: readonly number[], digits = 2) => values.map((v) => v.toFixed(digits)).join('/');
