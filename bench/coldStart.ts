// Cold start: time from spawning the functions-framework to the answer to the first event,
// for the bundled blackscholes function and for a hello-world CloudEvent function started
// the same way. Rounds alternate between the two so machine noise hits both alike.
// Local mode (fixture prices, local folder), and cloud mode (Google clients loaded, talking
// to a local stand-in for the Storage and BigQuery APIs).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeGoogleApis } from '../test/support/fakeGoogleApis.js';
import { publishJob } from '../test/support/pubsubPost.js';
import { canConnect, freePort } from '../scripts/pubsub/freePort.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'node_modules', '.bin', 'functions-framework');
const rounds = Number(process.env.ROUNDS ?? 9);

const helloDir = path.join(root, 'bench', '.out', 'hello');
mkdirSync(helloDir, { recursive: true });
writeFileSync(path.join(helloDir, 'package.json'), JSON.stringify({ type: 'module', main: 'index.js' }));
writeFileSync(path.join(helloDir, 'index.js'), "import { cloudEvent } from '@google-cloud/functions-framework';\ncloudEvent('hello', (event) => { console.log(`hello ${event.id}`); });\n");

const job = {
  job_id: 'cold',
  symbols: ['AAPL'],
  start: '2025-01-01',
  end: '2025-12-31',
  params: { strike: 210, time_to_expiry: 0.5, risk_free_rate: 0.04 },
};

const fake = new FakeGoogleApis();
const fakeBase = await fake.start();

async function coldStart(source: string, target: string, env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(bin, [`--source=${source}`, `--target=${target}`, '--signature-type=cloudevent', `--port=${port}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    while (!(await canConnect(port))) await sleep(5);
    const status = await postEvent(port, { ...job, job_id: `cold-${randomUUID()}` });
    const elapsed = performance.now() - t0;
    if (status >= 300) throw new Error(`${target} answered HTTP ${status}`);
    return elapsed;
  } finally {
    child.kill('SIGKILL');
  }
}

const local = { USE_FIXTURE: 'true', LOCAL_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cold-')), LOG_LEVEL: 'ERROR' };
const cloud = {
  USE_FIXTURE: 'true',
  GCS_BUCKET: 'bench-artifacts',
  GCP_PROJECT: 'bench-project',
  STORAGE_EMULATOR_HOST: fakeBase,
  BIGQUERY_EMULATOR_HOST: fakeBase,
  // The job event goes to the stand-in's topics.publish, as it would to Pub/Sub.
  PUBSUB_EMULATOR_HOST: fakeBase.replace(/^http:\/\//, ''),
  LOG_LEVEL: 'ERROR',
};
const bs = path.join(root, 'dist', 'blackscholes');
const samples: Record<string, number[]> = { hello: [], local: [], cloud: [] };
for (let i = 0; i < rounds; i++) {
  samples.hello.push(await coldStart(helloDir, 'hello', {}));
  samples.local.push(await coldStart(bs, 'blackscholes', local));
  samples.cloud.push(await coldStart(bs, 'blackscholes', cloud));
}
await fake.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const hello = median(samples.hello);
const result = {
  rounds,
  hello_ms: round(hello),
  blackscholes_local_ms: round(median(samples.local)),
  blackscholes_cloud_ms: round(median(samples.cloud)),
  ratio_local: round(median(samples.local) / hello, 3),
  ratio_cloud: round(median(samples.cloud) / hello, 3),
  target_ratio: 1.6,
};
console.log(`Cold start, median of ${rounds} rounds (spawn -> first event answered):`);
console.log(`  hello-world CloudEvent function   ${result.hello_ms} ms`);
console.log(`  blackscholes, local mode          ${result.blackscholes_local_ms} ms  (${result.ratio_local}x hello)`);
console.log(`  blackscholes, cloud clients       ${result.blackscholes_cloud_ms} ms  (${result.ratio_cloud}x hello)`);
console.log(`BENCH_JSON ${JSON.stringify({ cold_start: result })}`);

function postEvent(port: number, body: unknown): Promise<number> {
  return publishJob(`http://127.0.0.1:${port}/`, body, 'jobs-blackscholes');
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

function round(v: number, digits = 1) {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
