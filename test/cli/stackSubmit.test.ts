import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locatePubsubEmulator } from '../../scripts/pubsub/emulator.js';
import { freePort } from '../../scripts/pubsub/freePort.js';
import { progressLine } from '../../scripts/submit/progressDisplay.js';

// npm run stack and npm run submit, through the real Pub/Sub emulator.
const root = path.resolve(import.meta.dirname, '..', '..');
const emulator = locatePubsubEmulator();
const missing = 'missing' in emulator ? emulator.missing : null;

function submit(args: string[], env: Record<string, string>, input?: string) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'submit.ts'), ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...withoutGoogle(process.env), ...env },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** This machine's Google settings must not leak into the tests. */
function withoutGoogle(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !/^(GCP_PROJECT|GCS_BUCKET|PUBSUB_EMULATOR_HOST|GOOGLE_CLOUD_PROJECT|CLOUDSDK_CORE_PROJECT|LOCAL_DATA_DIR)$/.test(k)) out[k] = v;
  return out;
}

describe('npm run submit: arguments and progress display', () => {
  it('names a wrong argument and exits 2 before touching Pub/Sub', () => {
    const env = { PUBSUB_EMULATOR_HOST: '127.0.0.1:9' };
    expect(submit(['montecarloo', 'x.json'], env)).toMatchObject({ status: 2, stdout: '' });
    expect(submit(['montecarloo', 'x.json'], env).stderr).toContain('Unknown function "montecarloo"');
    expect(submit(['montecarlo', '-'], env, '{"job_id": ').stderr).toMatch(/^The job on standard input is not JSON/);
    expect(submit(['montecarlo', '-'], env, '{"params": {}}')).toMatchObject({ status: 2 });
    expect(submit(['montecarlo', 'fixtures/jobs/montecarlo.json', '--timeout', 'soon'], env).stderr).toContain('--timeout needs a number of seconds');
  });

  it('draws a bar on a terminal and plain lines otherwise', () => {
    expect(progressLine('montecarlo', 'j1', { status: 'running', progress: 0.5 }, 12.4, 80)).toBe('[####################....................] montecarlo j1 running 50% 12s');
    expect(progressLine('montecarlo', 'j1', { status: 'running', progress: 0.5 }, 12.4)).toBe('montecarlo j1: running 50%');
    expect(progressLine('montecarlo', 'j1', null, 0)).toBe('montecarlo j1: queued');
    expect(progressLine('markowitz', 'j2', { status: 'completed' }, 3)).toBe('markowitz j2: completed 100%');
  });
});

describe('npm run stack with npm run submit --wait (Pub/Sub emulator)', () => {
  if (missing && process.env.CI === 'true') it('needs the Pub/Sub emulator under CI', () => expect.fail(`${missing}`));
  if (missing) {
    it.skip(`skipped: ${missing}`, () => {});
    return;
  }

  let stack: ChildProcess | undefined;
  let host = '';
  let dataDir = '';
  let stdout = '';
  let stderr = '';

  beforeAll(async () => {
    if (!['blackscholes', 'montecarlo', 'markowitz', 'ingest'].every((fn) => existsSync(path.join(root, 'dist', fn, 'index.js')))) {
      expect(spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'ignore' }).status).toBe(0);
    }
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'stack-'));
    host = `127.0.0.1:${await freePort()}`;
    stack = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'stack.ts')], {
      cwd: root,
      env: { ...withoutGoogle(process.env), PUBSUB_EMULATOR_HOST: host, LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'WARNING', MC_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stack.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    stack.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 90_000;
    while (!/\bready\b/.test(stdout)) {
      if (stack.exitCode !== null || Date.now() > deadline) throw new Error(`the stack did not get ready:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);

  afterAll(async () => {
    if (stack && stack.exitCode === null) {
      stack.kill('SIGKILL');
    }
  });

  it('prints ready with every function, and a second stack on the same port is refused naming it', () => {
    expect(stdout).toMatch(new RegExp(`ready: Pub/Sub emulator ${host} \\(project local-project\\), 4 functions, topic job-events`));
    const second = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'stack.ts')], {
      cwd: root, encoding: 'utf8', env: { ...withoutGoogle(process.env), PUBSUB_EMULATOR_HOST: host, LOCAL_DATA_DIR: dataDir }, timeout: 60_000,
    });
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`Port ${host.split(':')[1]} of PUBSUB_EMULATOR_HOST is already in use`);
  });

  it('submit --wait publishes, follows the job through job-events with progress lines, prints the result, exits 0', async () => {
    // No PUBSUB_EMULATOR_HOST: submit finds the stack running for this LOCAL_DATA_DIR.
    const job = { job_id: 'stack-mc', params: { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 100_000, time_steps: 100, seed: 5 } };
    const run = submit(['montecarlo', '-', '--wait'], { LOCAL_DATA_DIR: dataDir }, JSON.stringify(job));
    expect(run.stderr).toContain(`Submitting to the local stack (npm run stack, emulator ${host})`);
    expect(run.status, run.stderr).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document).toMatchObject({ job_id: 'stack-mc', model: 'montecarlo', status: 'completed', inputs: { seed: 5, simulations: 100_000 } });
    // Not a terminal: plain lines, each printed once, ending completed.
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('montecarlo stack-mc:'));
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.at(-1)).toBe('montecarlo stack-mc: completed 100%');
    // The function's event is what ended the wait: the stored result is the one printed.
    expect(run.stderr).toMatch(/Job stack-mc completed \(announced on job-events in \d+ ms of work\)/);
    const stored = JSON.parse(await fs.readFile(path.join(dataDir, 'bucket/jobs/montecarlo/stack-mc/result.json'), 'utf8'));
    expect(document).toEqual(stored);
  }, 120_000);

  it('a sharded Monte Carlo job goes through the stack\'s shard topic and gives the one-shard numbers', async () => {
    const params = { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 120_000, time_steps: 50, seed: 8 };
    const env = { PUBSUB_EMULATOR_HOST: host, LOCAL_DATA_DIR: dataDir };
    const sharded = submit(['montecarlo', '-', '--wait', '--timeout', '120'], env, JSON.stringify({ job_id: 'stack-shards', params: { ...params, shards: 4 } }));
    expect(sharded.status, sharded.stderr).toBe(0);
    const one = submit(['montecarlo', '-', '--wait', '--timeout', '120'], env, JSON.stringify({ job_id: 'stack-one', params }));
    expect(one.status, one.stderr).toBe(0);
    const document = JSON.parse(sharded.stdout);
    expect(document.inputs.shards).toBe(4);
    expect(JSON.stringify(document.result)).toBe(JSON.stringify(JSON.parse(one.stdout).result));
    // The job's delivery handed the run off to the shard topic: its manifest and the four states are stored,
    // and the task that stored the last state committed the job (the run recorded, its start the result's).
    const shardsDir = path.join(dataDir, 'bucket/jobs/montecarlo/stack-shards/shards');
    const [fingerprint] = await fs.readdir(shardsDir);
    expect((await fs.readdir(path.join(shardsDir, fingerprint!))).sort()).toEqual(['0.json', '1.json', '2.json', '3.json', 'manifest.json']);
    const handOff = JSON.parse(await fs.readFile(path.join(dataDir, 'bucket/jobs/montecarlo/stack-shards/hand-off.json'), 'utf8'));
    expect(handOff).toMatchObject({ plan: fingerprint, dispatched: true, started_at: document.started_at });
  }, 180_000);

  it('the same job again gets the stored result at once; another job under the used id gets its refusal', async () => {
    const job = { job_id: 'stack-mc', params: { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 100_000, time_steps: 100, seed: 5 } };
    const env = { PUBSUB_EMULATOR_HOST: host, LOCAL_DATA_DIR: dataDir };
    await new Promise((r) => setTimeout(r, 2500)); // past submit's 2 s of clock slack: clearly finished before
    const again = submit(['montecarlo', '-', '--wait', '--timeout', '60'], env, JSON.stringify(job));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('Job stack-mc finished (already finished before: the same job).');
    const stored = JSON.parse(await fs.readFile(path.join(dataDir, 'bucket/jobs/montecarlo/stack-mc/result.json'), 'utf8'));
    expect(JSON.parse(again.stdout)).toEqual(stored);
    const other = submit(['montecarlo', '-', '--wait', '--timeout', '60'], env, JSON.stringify({ ...job, params: { ...job.params, seed: 6 } }));
    expect(other.status, other.stderr).toBe(1);
    expect(other.stderr).toContain('refused: the job_id names another job');
    expect(JSON.parse(other.stdout)).toMatchObject({ job_id: 'stack-mc', status: 'failed', error: { code: 'invalid_job' } });
  }, 180_000);

  it('a failed job exits 1 with its failed document; without --wait, submit prints the message id', () => {
    const env = { PUBSUB_EMULATOR_HOST: host, LOCAL_DATA_DIR: dataDir };
    const failed = submit(['markowitz', '-', '--wait'], env, JSON.stringify({ job_id: 'stack-bad', symbols: ['AAPL'], params: {} }));
    expect(failed.status).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ job_id: 'stack-bad', status: 'failed', error: { code: 'invalid_job' } });
    const fire = submit(['blackscholes', '-'], env, JSON.stringify({ job_id: 'stack-bs', params: { spot: 100, strike: 100, volatility: 0.2, time_to_expiry: 1 } }));
    expect(fire.status).toBe(0);
    expect(JSON.parse(fire.stdout)).toMatchObject({ job_id: 'stack-bs', topic: 'jobs-blackscholes', project: 'local-project', message_id: expect.any(String) });
  }, 120_000);

  it('a topic that does not exist is said plainly, exit 2; a job that cannot finish in time says how to look it up', () => {
    const missingTopic = submit(['montecarlo', '-'], { PUBSUB_EMULATOR_HOST: host, GCP_PROJECT: 'another-project', LOCAL_DATA_DIR: dataDir }, JSON.stringify({ job_id: 'x-1', params: {} }));
    expect(missingTopic.status).toBe(2);
    expect(missingTopic.stderr).toContain('Publishing to topic jobs-montecarlo: not found in project another-project');
    const slow = submit(['montecarlo', '-', '--wait', '--timeout', '0.5'], { PUBSUB_EMULATOR_HOST: host, LOCAL_DATA_DIR: dataDir }, JSON.stringify({ job_id: 'stack-slow', params: { initial_price: 1, drift: 0, volatility: 0.1, simulations: 2_000_000, time_steps: 252, seed: 1 } }));
    expect(slow.status).toBe(75);
    expect(slow.stderr).toContain('Job stack-slow has not finished after 0.5 s (it may still be running). Look it up later: cat ');
  }, 120_000);

  it('Ctrl-C stops the emulator and every function', async () => {
    const ports = [host, ...[...stdout.matchAll(/http:\/\/(127\.0\.0\.1:\d+)/g)].map((m) => m[1]!)];
    expect(ports).toHaveLength(5);
    stack!.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => stack!.once('exit', resolve));
    expect(code).toBe(0);
    for (const p of ports) expect(await canConnect(p), p).toBe(false);
    expect(existsSync(path.join(dataDir, 'stack.json'))).toBe(false);
  }, 60_000);
});

function canConnect(hostPort: string): Promise<boolean> {
  const [h, p] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = net.connect(Number(p), h, () => (socket.end(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}
