import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelDefinition } from '../../shared/job/model.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import { stopWorkers } from '../../shared/models/montecarlo/parallelRunner.js';
import { pngSize } from '../support/svgReading.js';
import { chromiumBinary, runChromium } from '../support/headlessChromium.js';
import { startFunction, type FunctionUnderTest } from '../support/functionServer.js';

let fn: FunctionUnderTest;
let folder: string;
let failedFolder: string;

beforeAll(async () => {
  fn = await startFunction(montecarloModel as ModelDefinition<never>, { MC_THREADS: '1' });
  const job = JSON.parse(await fs.readFile('fixtures/jobs/montecarlo.json', 'utf8'));
  job.job_id = 'report-mc';
  job.params.simulations = 5000;
  await fn.publish(job);
  folder = path.join(fn.dataDir, 'bucket', 'jobs', 'montecarlo', 'report-mc');
  await fn.publish({ job_id: 'report-bad', symbols: ['NOSUCH'], params: {} });
  failedFolder = path.join(fn.dataDir, 'bucket', 'jobs', 'montecarlo', 'report-bad');
}, 60_000);
afterAll(async () => {
  await fn.close();
  await stopWorkers();
});

describe('report.html', () => {
  it('sits beside result.json with the chart inline, the key numbers and the inputs, and loads nothing', async () => {
    const html = await fs.readFile(path.join(folder, 'report.html'), 'utf8');
    const result = JSON.parse(await fs.readFile(path.join(folder, 'result.json'), 'utf8'));
    expect(result.artifacts.report).toBe(pathToFileURL(path.join(folder, 'report.html')).href);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<iframe|<img|src=|@import|url\(/i);
    // The only absolute URL is the SVG namespace, which is a name, not a fetch.
    expect([...html.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((m) => m[0])).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).toContain(await fs.readFile(path.join(folder, 'chart.svg'), 'utf8').then((s) => s.trim()));
    expect(html).toContain('<td>var.0.95</td><td></td><td class="num">');
    expect(html).toContain(`<td class="num">${Number(result.result.portfolio.var['0.95'].toPrecision(7))}</td>`);
    expect(html).toContain('<td>seed</td><td class="value">42</td>');
    expect(html).toContain('<td>weights.MSFT</td><td class="value">0.35</td>');
  });

  it('of a failed job says the error', async () => {
    const html = await fs.readFile(path.join(failedFolder, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Error: unknown_symbol</h2>');
    expect(html).toContain('NOSUCH');
  });

  const chromium = chromiumBinary();
  if (!chromium && process.env.CI === 'true') it('needs chromium under CI', () => expect.fail('chromium is missing: .ci/run installs it'));
  it.skipIf(!chromium)('renders in headless Chromium: the DOM has the chart and tables, and a screenshot is taken (skipped without chromium: apt-get install chromium)', async () => {
    const url = pathToFileURL(path.join(folder, 'report.html')).href;
    const dom = await runChromium(chromium!, ['--dump-dom'], url);
    expect(dom).toContain('<h2>Key numbers</h2>');
    expect(dom).toContain('<h2>Inputs</h2>');
    expect(dom).toMatch(/<figure><svg[^>]*width="1540"/);
    const png = path.join(fn.dataDir, 'report.png');
    await runChromium(chromium!, [`--screenshot=${png}`, '--window-size=1400,1800'], url);
    expect(pngSize(await fs.readFile(png))).toEqual({ width: 1400, height: 1800 });
    // A blank page compresses to almost nothing; the chart and tables make a PNG of tens of kB.
    expect((await fs.stat(png)).size).toBeGreaterThan(30_000);
    if (process.env.REPORT_SCREENSHOT) await fs.copyFile(png, process.env.REPORT_SCREENSHOT);
  }, 120_000);
});
