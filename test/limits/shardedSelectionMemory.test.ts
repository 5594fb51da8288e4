/**
 * A sharded several-symbol job past one instance's stores runs in bounded memory: 8
 * symbols x 12,000,000 paths (stores of 12e6 x 9 doubles would be 824 MiB, past one
 * instance's 48e6 stored values) in 3 shards, through the built command-line runner (the
 * deployed handler and model code; shards, selection passes and merge in one process, as
 * `npm run job` runs them) with V8's heap capped, measuring the process's peak resident
 * memory (test/support/peakRss.cjs).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_SIMULATIONS, MAX_TERMINAL_VALUES } from '../../shared/models/montecarlo/limits.js';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('sharded several symbols past one instance\'s stores', () => {
  it('8 symbols x 12,000,000 paths in 3 shards: a completed job whose process peaks far below the stores it keeps none of', async () => {
    const symbols = Array.from({ length: 8 }, (_, k) => `S${k + 1}`);
    const simulations = 12_000_000;
    expect(simulations).toBeGreaterThan(MAX_SIMULATIONS);
    expect(simulations * (symbols.length + 1)).toBeGreaterThan(MAX_TERMINAL_VALUES);
    const storesMiB = (simulations * (symbols.length + 1) * 8) / 2 ** 20;
    // Eight correlated symbols derived from the fixture's AAPL closes.
    const lines = readFileSync(path.join(root, 'fixtures', 'prices.csv'), 'utf8').trim().split('\n');
    const aapl = lines.slice(1).filter((l) => l.split(',')[1] === 'AAPL');
    const rows = symbols.flatMap((s, k) =>
      aapl.map((l, i) => {
        const p = l.split(',');
        const close = (Number(p[6]) * (1 + 0.05 * Math.sin((i + 1) * (k + 1) * 0.37))).toFixed(4);
        return [p[0], s, close, close, close, close, close, '1000'].join(',');
      }),
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sharded-selection-'));
    const csv = path.join(dir, 'prices.csv');
    writeFileSync(csv, [lines[0], ...rows].join('\n') + '\n');
    const job = { job_id: 'sharded-selection', symbols, start: '2023-01-01', end: '2025-12-31', params: { simulations, time_steps: 1, seed: 1, shards: 3 } };
    const file = path.join(dir, 'job.json');
    writeFileSync(file, JSON.stringify(job));
    const heapMiB = 256;
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${heapMiB}`, '-r', path.join(root, 'test', 'support', 'peakRss.cjs'), path.join(root, 'dist', 'cli', 'job.js'), 'montecarlo', file],
      { env: { ...process.env, LOCAL_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'ERROR', FIXTURE_PRICES: csv, MC_THREADS: '2' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr.slice(-2000)).toBe(0);
    const folder = path.join(dir, 'data', 'bucket', 'jobs', 'montecarlo', job.job_id);
    const stored = JSON.parse(readFileSync(path.join(folder, 'result.json'), 'utf8')) as { status: string; inputs: { shards: number }; result: { symbols: Record<string, { terminal_price: { percentiles: Record<string, number> } }> } };
    expect(stored.status).toBe('completed');
    expect(stored.inputs.shards).toBe(3);
    const p = stored.result.symbols.S1.terminal_price.percentiles;
    expect(p.p1 < p.p50 && p.p50 < p.p99).toBe(true);
    // The first pass's states in the shard folder, the second pass's beside it.
    const shardFolders = readdirSync(path.join(folder, 'shards')).sort();
    expect(shardFolders.map((f) => f.replace(/^[0-9a-f]{32}/, 'F'))).toEqual(['F', 'F-pass2']);
    const peak = Number(/PEAK_RSS_MB ([\d.]+)/.exec(stderr)?.[1]);
    expect(peak, `peak ${peak} MiB; the stores alone would be ${storesMiB.toFixed(0)} MiB`).toBeLessThan(storesMiB / 2);
  }, 300_000);
});
