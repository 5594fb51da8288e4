import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedRuntimes, nodeMajor } from '../../scripts/nodeRuntime.mjs';
import { publishJob } from '../support/pubsubPost.js';
import { startReplayServer, type ReplayServer } from '../ingest/vendorReplayServer.js';

// The deployable folders: built by the real build, started by the real functions-framework
// CLI as Cloud Functions does (`--source dist/<fn> --target <fn>`), answering a Pub/Sub
// CloudEvent over HTTP. The framework runs on the Node running the tests (process.execPath),
// which .ci/run makes both the local Node and the deployed runtime's major.
const root = path.resolve(import.meta.dirname, '..', '..');
const frameworkMain = path.join(root, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');
const fixtureJobs = readdirSync(path.join(root, 'fixtures', 'jobs')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
const children: ChildProcess[] = [];
// Its own output folder (inside the repository, so the bundles resolve node_modules): the
// Pub/Sub emulator suite serves dist/ at the same time, and must not see it rebuilt.
const distRoot = path.join(root, '.test-dist', `bundle-${process.pid}`);
let vendor: ReplayServer | undefined;

beforeAll(() => {
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), `--outdir=${distRoot}`, ...new Set(['blackscholes', 'montecarlo', ...fixtureJobs])], { cwd: root, encoding: 'utf8' });
  expect(build.status, build.stderr).toBe(0);
  expect(build.stderr).toMatch(/\/blackscholes\s+index\.js\s+[\d.]+ KiB/);
}, 180_000);
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await vendor?.close();
  await fs.rm(distRoot, { recursive: true, force: true });
});

async function serve(fn: string, env: Record<string, string>): Promise<number> {
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(p));
    });
  });
  const child = spawn(process.execPath, [frameworkMain, `--source=${path.join(distRoot, fn)}`, `--target=${fn}`, '--signature-type=cloudevent', `--port=${port}`], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  children.push(child);
  for (let i = 0; i < 400; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return port;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${fn} did not start`);
}

function publish(port: number, fn: string, job: unknown): Promise<number> {
  return publishJob(`http://127.0.0.1:${port}/`, job, `jobs-${fn}`);
}

describe('the built functions', () => {
  it('each deployable folder has its bundle, the fixture prices and a package.json for the runtime', async () => {
    for (const fn of ['blackscholes', 'montecarlo']) {
      const dir = path.join(distRoot, fn);
      const manifest = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8'));
      expect(manifest).toMatchObject({ type: 'module', main: 'index.js' });
      expect(Object.keys(manifest.dependencies)).toContain('@google-cloud/functions-framework');
      expect(existsSync(path.join(dir, 'fixtures', 'prices.csv'))).toBe(true);
      // The framework is the runtime's copy, never bundled.
      expect(await fs.readFile(path.join(dir, 'index.js'), 'utf8')).toMatch(/from\s*"@google-cloud\/functions-framework"/);
    }
    expect(existsSync(path.join(distRoot, 'montecarlo', 'montecarloWorker.js'))).toBe(true);
  });

  it('each package.json declares the Node major of the runtime Terraform deploys that function on', async () => {
    const runtimes = await deployedRuntimes();
    for (const fn of fixtureJobs) {
      const manifest = JSON.parse(await fs.readFile(path.join(distRoot, fn, 'package.json'), 'utf8'));
      // The form Terraform's precondition compares with, and the buildpack accepts (no ">" range).
      expect(manifest.engines, fn).toEqual({ node: `${nodeMajor(runtimes[fn])}.x` });
    }
  });

  it.each(fixtureJobs)('%s: its fixture job (fixtures/jobs/) completes from its bundle', async (fn) => {
    const job = JSON.parse(await fs.readFile(path.join(root, 'fixtures', 'jobs', `${fn}.json`), 'utf8'));
    const dataDir = mkdtempSync(path.join(os.tmpdir(), `bundle-fixture-${fn}-`));
    const env: Record<string, string> = { USE_FIXTURE: 'true', LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'ERROR' };
    if (fn === 'ingest') {
      vendor ??= await startReplayServer();
      Object.assign(env, { EODHD_BASE_URL: `${vendor.url}/api`, EODHD_API_KEY: 'bundle-test-key' });
    }
    const port = await serve(fn, env);
    expect(await publish(port, fn, job)).toBeLessThan(300);
    const document = JSON.parse(await fs.readFile(path.join(dataDir, `bucket/jobs/${fn}/${job.job_id}/result.json`), 'utf8'));
    expect(document.error, fn).toBeUndefined();
    expect(document).toMatchObject({ status: 'completed', job_id: job.job_id });
  });

  it('blackscholes answers a CloudEvent from its bundle', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bundle-bs-'));
    const port = await serve('blackscholes', { USE_FIXTURE: 'true', LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'ERROR' });
    expect(await publish(port, 'blackscholes', { job_id: 'bundle-bs', symbols: ['AAPL'], start: '2025-01-01', end: '2025-12-31', params: { strike: 200, time_to_expiry: 1 } })).toBeLessThan(300);
    const result = JSON.parse(await fs.readFile(path.join(dataDir, 'bucket/jobs/blackscholes/bundle-bs/result.json'), 'utf8'));
    expect(result).toMatchObject({ status: 'completed', result: { options: [{ spot: 212.672, strike: 200 }] } });
  });

  it('montecarlo runs its worker threads from the bundle and matches a single-thread run bit for bit', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bundle-mc-'));
    const job = (id: string) => ({ job_id: id, params: { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 120_000, time_steps: 252, seed: 7 } });
    const threaded = await serve('montecarlo', { USE_FIXTURE: 'true', LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'ERROR', MC_THREADS: '2' });
    const single = await serve('montecarlo', { USE_FIXTURE: 'true', LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'ERROR', MC_THREADS: '1' });
    expect(await publish(threaded, 'montecarlo', job('bundle-mc-2'))).toBeLessThan(300);
    expect(await publish(single, 'montecarlo', job('bundle-mc-1'))).toBeLessThan(300);
    const read = async (id: string) => JSON.parse(await fs.readFile(path.join(dataDir, `bucket/jobs/montecarlo/${id}/result.json`), 'utf8'));
    const [two, one] = [await read('bundle-mc-2'), await read('bundle-mc-1')];
    expect(two.status).toBe('completed');
    expect(two.inputs.threads).toBe(2);
    expect(one.inputs.threads).toBe(1);
    expect(two.result).toEqual(one.result);
  });
});

// `npm run job` (scripts/job.mjs) runs the bundled CLI and builds it only when it is missing
// or older than a file it was built from (dist/cli/inputs.json).
describe('the job launcher', () => {
  const launch = (input: string) =>
    spawnSync(process.execPath, [path.join(root, 'scripts', 'job.mjs'), 'blackscholes', '-'], {
      cwd: root,
      input,
      encoding: 'utf8',
      env: { ...process.env, LOCAL_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'launcher-')), LOG_LEVEL: 'ERROR' },
    });
  const job = JSON.stringify({ job_id: 'launcher', params: { spot: 100, strike: 100, time_to_expiry: 1, volatility: 0.2 } });

  it('runs the fresh bundle without rebuilding it', async () => {
    const cli = path.join(root, 'dist', 'cli', 'job.js');
    const before = (await fs.stat(cli)).mtimeMs;
    const run = launch(job);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', result: { options: [{ strike: 100 }] } });
    expect((await fs.stat(cli)).mtimeMs).toBe(before);
    const inputs = JSON.parse(await fs.readFile(path.join(root, 'dist', 'cli', 'inputs.json'), 'utf8')) as string[];
    expect(inputs).toContain(path.join(root, 'scripts', 'job.ts'));
    expect(inputs).toContain(path.join(root, 'shared', 'models', 'blackscholes', 'job.ts'));
  });

  // Fresh memory is dear on these VMs (~16 µs a 4 KiB page): `npm run job` has glibc's malloc
  // ask for transparent huge pages (madvise), keeping whatever tunables the user set.
  it('runs the job with glibc.malloc.hugetlb=1 added to the user\'s GLIBC_TUNABLES', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tunables-'));
    const probe = path.join(dir, 'probe.cjs');
    await fs.writeFile(probe, 'process.stderr.write(`tunables ${require("path").basename(process.argv[1] ?? "")} ${process.env.GLIBC_TUNABLES}\\n`);\n');
    const tunablesOfJob = (env: NodeJS.ProcessEnv) => {
      const run = spawnSync('npm', ['run', '--silent', 'job'], { cwd: root, encoding: 'utf8', env: { ...env, NODE_OPTIONS: `--require ${probe}` } });
      expect(run.status, run.stderr).toBe(2); // the usage line: no function named
      return run.stderr.split('\n').find((line) => line.startsWith('tunables job.mjs '))?.slice('tunables job.mjs '.length);
    };
    const { GLIBC_TUNABLES: _, ...withoutTunables } = process.env;
    expect(tunablesOfJob(withoutTunables)).toBe('glibc.malloc.hugetlb=1');
    expect(tunablesOfJob({ ...withoutTunables, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  }, 60_000); // npm twice, and a rebuild of the bundle if another suite left it stale

  // `node <repo>/scripts/job.mjs` from another folder (the README's form for shells without
  // `npm run`): the job file is the caller's, the fixture prices still the repository's.
  it('runs a job that needs fixture prices from a folder other than the repository', async () => {
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'elsewhere-'));
    await fs.writeFile(path.join(elsewhere, 'job.json'), JSON.stringify({ job_id: 'elsewhere', symbols: ['AAPL'], params: { simulations: 1000, time_steps: 10, seed: 1 } }));
    const { FIXTURE_PRICES: _, ...env } = process.env;
    const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'job.mjs'), 'montecarlo', 'job.json'], {
      cwd: elsewhere,
      encoding: 'utf8',
      env: { ...env, LOCAL_DATA_DIR: path.join(elsewhere, 'data'), LOG_LEVEL: 'ERROR', USE_FIXTURE: 'true' },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', inputs: { symbols: ['AAPL'] } });
  }, 60_000);

  it('builds the bundle when it is missing', async () => {
    await fs.rm(path.join(root, 'dist', 'cli'), { recursive: true, force: true });
    const run = launch(job);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).status).toBe('completed');
    expect(existsSync(path.join(root, 'dist', 'cli', 'job.js'))).toBe(true);
  }, 60_000);
});
