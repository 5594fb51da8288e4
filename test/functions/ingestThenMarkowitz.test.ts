import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelDefinition } from '../../shared/job/model.js';
import { ingestModel } from '../../shared/ingest/job.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import { startFunction, type FunctionUnderTest } from '../support/functionServer.js';
import { startReplayServer, type ReplayServer } from '../ingest/vendorReplayServer.js';

// On a laptop: ingest prices from the (replayed) vendor into the local tables, then a
// markowitz job reads them back through the fixture price source.
const started: FunctionUnderTest[] = [];
let vendor: ReplayServer | undefined;
afterAll(async () => {
  await Promise.all(started.map((f) => f.close()));
  await vendor?.close();
});

describe('ingest then markowitz, locally', () => {
  it('loads NVDA (absent from the fixture CSV) and optimizes over it; a second ingest adds no rows', async () => {
    vendor = await startReplayServer();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ingest-e2e-'));
    const key = 'e2e-secret-key-0123456789';
    const env = { LOCAL_DATA_DIR: dataDir, EODHD_BASE_URL: `${vendor.url}/api`, EODHD_API_KEY: key };
    const ingest = await startFunction(ingestModel as ModelDefinition<never>, env);
    const markowitz = await startFunction(markowitzModel as ModelDefinition<never>, env);
    started.push(ingest, markowitz);

    const job = { job_id: 'ingest-e2e-1', symbols: ['AAPL.US', 'MSFT.US', 'NVDA.US'], start: '2024-01-01', end: '2024-06-28', params: { source: 'eodhd', asset_class: 'equity' } };
    expect((await ingest.publish(job)).status).toBeLessThan(300);
    const table = path.join(dataDir, 'bigquery', 'raw', 'eq_ohlcv.ndjson');
    const firstLoad = await fs.readFile(table, 'utf8');
    const ingestResult = JSON.parse(await fs.readFile(path.join(dataDir, 'bucket/jobs/ingest/ingest-e2e-1/result.json'), 'utf8'));
    expect(ingestResult.status).toBe('completed');
    expect(Object.keys(ingestResult.result.per_symbol).sort()).toEqual(['AAPL', 'MSFT', 'NVDA']);

    // Same window again, under a new job id: same rows, none added.
    expect((await ingest.publish({ ...job, job_id: 'ingest-e2e-2' })).status).toBeLessThan(300);
    const secondLoad = await fs.readFile(table, 'utf8');
    const rows = (text: string) => text.split('\n').filter(Boolean).map((l) => { const { ingested_at: _, ...rest } = JSON.parse(l); return JSON.stringify(rest); }).sort();
    expect(rows(secondLoad)).toEqual(rows(firstLoad));

    expect((await markowitz.publish({ job_id: 'mk-after-ingest', symbols: ['AAPL', 'MSFT', 'NVDA'], start: '2024-01-01', end: '2024-06-28', params: { covariance: 'sample' } })).status).toBeLessThan(300);
    const result = JSON.parse(await fs.readFile(path.join(dataDir, 'bucket/jobs/markowitz/mk-after-ingest/result.json'), 'utf8'));
    expect(result.status).toBe('completed');
    expect(Object.keys(result.result.gmv.weights)).toEqual(['AAPL', 'MSFT', 'NVDA']);
    // The window's returns come from the ingested bars: as many as NVDA's ingested trading days minus one.
    const nvdaDays = rows(firstLoad).filter((r) => JSON.parse(r).symbol === 'NVDA').length;
    expect(result.inputs.observations).toBe(nvdaDays - 1);

    for (const line of [...ingest.logLines, ...markowitz.logLines, JSON.stringify(ingestResult)]) expect(line).not.toContain(key);
  });
});
