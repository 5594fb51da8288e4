import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

// `npm run job` with params.shards: split, shards and merge in the CLI's process, partial
// states in the local bucket, the same numbers as one shard; and a kill -9 mid-job.
const root = path.resolve(import.meta.dirname, '..', '..');
const cli = [process.execPath, '--import', 'tsx', path.join(root, 'scripts', 'job.ts'), 'montecarlo', '-'] as const;
const env = (dataDir: string) => ({ ...process.env, LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'INFO', JOB_LEASE_SECONDS: '1' });

const jobBody = (jobId: string, shards: number) =>
  JSON.stringify({ job_id: jobId, params: { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 1_000_000, time_steps: 200, seed: 12, shards } });

function runSync(dataDir: string, body: string) {
  const run = spawnSync(cli[0], cli.slice(1), { cwd: root, input: body, encoding: 'utf8', env: env(dataDir) });
  const messages = run.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { message: string }).message);
  return { status: run.status, document: run.stdout ? JSON.parse(run.stdout) : null, messages, stderr: run.stderr };
}

function storedShards(dataDir: string, jobId: string): string[] {
  const folder = path.join(dataDir, 'bucket', 'jobs', 'montecarlo', jobId, 'shards');
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((fingerprint) => readdirSync(path.join(folder, fingerprint)).filter((f) => /^\d+\.json$/.test(f)));
}

describe('a sharded job from the command line', () => {
  it('after a kill -9 mid-job, a new delivery keeps the stored shards, simulates the rest, and gives the one-shard numbers', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cli-shards-'));
    const child = spawn(cli[0], cli.slice(1), { cwd: root, env: env(dataDir), stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.end(jobBody('cli-shards', 8));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    while (storedShards(dataDir, 'cli-shards').length < 2 && Date.now() < deadline) await sleep(10);
    child.kill('SIGKILL');
    await exited;
    const before = storedShards(dataDir, 'cli-shards').length;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(8);
    expect(existsSync(path.join(dataDir, 'bucket', 'jobs', 'montecarlo', 'cli-shards', 'result.json'))).toBe(false);

    await sleep(1100); // the killed run's claim (JOB_LEASE_SECONDS=1) runs out
    const resumed = runSync(dataDir, jobBody('cli-shards', 8));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.messages.filter((m) => m.startsWith('Shard found stored'))).toHaveLength(before);
    expect(resumed.messages.filter((m) => m === 'Shard simulated.')).toHaveLength(8 - before);
    expect(storedShards(dataDir, 'cli-shards')).toHaveLength(8);
    expect(resumed.document.inputs.shards).toBe(8);

    const one = runSync(mkdtempSync(path.join(os.tmpdir(), 'cli-one-')), jobBody('cli-one', 1));
    expect(one.status, one.stderr).toBe(0);
    expect(one.document.inputs.shards).toBe(1);
    expect(JSON.stringify(resumed.document.result)).toBe(JSON.stringify(one.document.result));
  }, 120_000);
});
