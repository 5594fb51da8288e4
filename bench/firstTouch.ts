/**
 * What this machine charges for memory a process touches for the first time, in ms a MB: a
 * property of the machine (its kernel, its hypervisor, whether freed memory is handed back to
 * the host), not of our code, and a large part of every whole-process ratio in the benches
 * (a 100,000-option job touches ~200 MB, its Python peer ~340 MB). Measured in a fresh Node
 * process: four 32 MB buffers, each page written once, the median of the four; once with
 * 4 KiB pages and once with glibc asked for transparent huge pages, as `npm run job` does.
 */
import { spawnSync } from 'node:child_process';

const PROBE = `
const mb = 32, out = [], keep = [];
for (let k = 0; k < 4; k++) {
  const start = process.hrtime.bigint();
  const buffer = Buffer.allocUnsafeSlow(mb << 20);
  for (let i = 0; i < buffer.length; i += 4096) buffer[i] = 1;
  keep.push(buffer);
  out.push(Number(process.hrtime.bigint() - start) / 1e6 / mb);
}
out.sort((a, b) => a - b);
console.log((out[1] + out[2]) / 2);
`;

/** Milliseconds a MB of first touch, with 4 KiB pages or (hugePages) with glibc.malloc.hugetlb=1; NaN if the probe failed. */
export function firstTouchMsPerMb(hugePages: boolean): number {
  const env = { ...process.env };
  if (hugePages) env.GLIBC_TUNABLES = `${env.GLIBC_TUNABLES ? `${env.GLIBC_TUNABLES}:` : ''}glibc.malloc.hugetlb=1`;
  else delete env.GLIBC_TUNABLES;
  const run = spawnSync(process.execPath, ['-e', PROBE], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
  return run.status === 0 ? Number(run.stdout.trim()) : Number.NaN;
}

/** Both measurements, for a bench's report and its JSON. */
export function firstTouch(): { readonly small_pages_ms_per_mb: number; readonly huge_pages_ms_per_mb: number } {
  return { small_pages_ms_per_mb: firstTouchMsPerMb(false), huge_pages_ms_per_mb: firstTouchMsPerMb(true) };
}
