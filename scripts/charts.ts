// npm run charts [-- <job.json>...]
// Runs each model's demo job (fixtures/jobs/) and the chart variants (fixtures/charts/)
// through the real handler with local storage and fixture prices, then renders each job's
// chart.svg to PNG with rsvg-convert (Debian `librsvg2-bin`) into .local/charts/, so the
// charts can be looked at as a reader of the bucket sees them.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cloudEventHandler } from '../shared/job/cloudEventHandler.js';
import { pubsubCloudEvent } from '../shared/job/pubsubCloudEvent.js';
import { stopWorkers } from '../shared/models/montecarlo/parallelRunner.js';
import { isFunctionName, MODEL_LOADERS } from '../shared/registry.js';
import { createServices } from '../shared/runtime.js';
import { svgToPng } from './svgToPng.js';

const out = path.resolve('.local', 'charts');
const dataDir = path.join(out, 'data');
const stamp = Date.now().toString(36);

const files = process.argv.slice(2);
const jobs = files.length > 0 ? files : [
  ...(await fs.readdir('fixtures/jobs')).filter((f) => f.endsWith('.json') && f !== 'ingest.json').map((f) => path.join('fixtures/jobs', f)),
  ...(await fs.readdir('fixtures/charts')).filter((f) => f.endsWith('.json')).map((f) => path.join('fixtures/charts', f)),
];
await fs.mkdir(out, { recursive: true });
const { GCS_BUCKET: _bucket, ...env } = process.env;
const services = () => createServices({ ...env, USE_FIXTURE: 'true', LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'ERROR' });

for (const file of jobs) {
  const name = path.basename(file, '.json');
  const fn = name.split('-')[0] ?? '';
  if (!isFunctionName(fn)) throw new Error(`${file}: the file name must start with a function name (montecarlo-..., markowitz-...).`);
  const job = JSON.parse(await fs.readFile(file, 'utf8')) as { job_id: string };
  job.job_id = `${job.job_id}-${stamp}`;
  const handler = cloudEventHandler(await MODEL_LOADERS[fn](), services);
  const document = await handler(pubsubCloudEvent(JSON.stringify(job), `jobs-${fn}`));
  if (!document) throw new Error(`${file}: taken for a model task, not a job.`); // no attributes: never
  if (document.status !== 'completed') {
    process.stderr.write(`${file}: ${document.status} ${JSON.stringify(document.error)}\n`);
    continue;
  }
  const folder = path.join(dataDir, 'bucket', 'jobs', fn, job.job_id);
  const svg = path.join(out, `${name}.svg`);
  await fs.copyFile(path.join(folder, 'chart.svg'), svg);
  const png = path.join(out, `${name}.png`);
  svgToPng(svg, png);
  process.stdout.write(`${png}\n`);
}
await stopWorkers();
