import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jobRunRow, metricRows } from '../../shared/job/jobRows.js';
import type { CompletedDocument, FailedDocument } from '../../shared/job/documents.js';
import { DEDUPED_VIEWS, dedupedViewSql, dedupeRows } from '../../shared/warehouse/dedupedViews.js';
import { LocalWarehouse } from '../../shared/warehouse/localWarehouse.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function warehouse(clock: { now: number }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'deduped-'));
  dirs.push(dir);
  return new LocalWarehouse(dir, { raw: 'raw', curated: 'curated' }, { now: () => clock.now });
}

const completed = (jobId: string, finishedAt: string): CompletedDocument => ({
  job_id: jobId,
  model: 'montecarlo',
  status: 'completed',
  started_at: '2024-06-03T10:00:00.000Z',
  finished_at: finishedAt,
  duration_ms: 12,
  inputs: {},
  result: {},
  artifacts: { result: `gs://b/jobs/montecarlo/${jobId}/result.json` },
});
const failed = (jobId: string | null, startedAt: string, finishedAt: string): FailedDocument => ({
  job_id: jobId,
  model: 'montecarlo',
  status: 'failed',
  started_at: startedAt,
  finished_at: finishedAt,
  duration_ms: 3,
  error: { code: 'internal', message: 'bucket refused the write' },
});

describe('the local warehouse behaves like BigQuery streaming: insertIds de-duplicate only within a window', () => {
  it('a row re-sent within a minute is dropped; re-sent minutes later (a redelivery) it is stored again', async () => {
    const clock = { now: 1_000_000 };
    const local = await warehouse(clock);
    const row = jobRunRow(completed('j-window', '2024-06-03T10:00:01.000Z'));
    await local.insertRows('job_runs', [row]);
    clock.now += 20_000;
    await local.insertRows('job_runs', [row]);
    expect(await local.readRows('job_runs')).toHaveLength(1);
    clock.now += 10 * 60_000;
    await local.insertRows('job_runs', [row]);
    expect(await local.readRows('job_runs')).toHaveLength(2);
    expect(await local.readView('job_runs_deduped')).toEqual([expect.objectContaining({ job_id: 'j-window' })]);
  });

  it('job_runs_deduped keeps one row per (model, job_id): the latest finished_at (an internal failure re-run to completion)', async () => {
    const clock = { now: 1_000_000 };
    const local = await warehouse(clock);
    await local.insertRows('job_runs', [jobRunRow(failed('j-rerun', '2024-06-03T10:00:00.000Z', '2024-06-03T10:00:05.000Z'))]);
    clock.now += 60 * 60_000; // published again an hour later
    await local.insertRows('job_runs', [jobRunRow(completed('j-rerun', '2024-06-03T11:00:00.000Z'))]);
    await local.insertRows('job_runs', [jobRunRow(completed('j-other', '2024-06-03T09:00:00.000Z'))]);
    const view = await local.readView('job_runs_deduped');
    expect(view.map((r) => [r.job_id, r.status])).toEqual([
      ['j-rerun', 'completed'],
      ['j-other', 'completed'],
    ]);
  });

  it('messages rejected without a job_id stay one row each (keyed by their start), however many there are', async () => {
    const local = await warehouse({ now: 1_000_000 });
    await local.insertRows('job_runs', [jobRunRow(failed(null, '2024-06-03T10:00:00.000Z', '2024-06-03T10:00:00.010Z'))]);
    await local.insertRows('job_runs', [jobRunRow(failed(null, '2024-06-03T10:05:00.000Z', '2024-06-03T10:05:00.010Z'))]);
    expect(await local.readView('job_runs_deduped')).toHaveLength(2);
  });

  it('model_metrics_deduped keeps one row per (model, job_id, metric, symbol), a null symbol included', async () => {
    const clock = { now: 1_000_000 };
    const local = await warehouse(clock);
    const document = completed('j-metrics', '2024-06-03T10:00:01.000Z');
    const rows = metricRows(document, [
      { metric: 'var.0.95', value: 0.1 },
      { metric: 'weight', symbol: 'AAPL', value: 0.4 },
      { metric: 'weight', symbol: 'MSFT', value: 0.6 },
    ]);
    await local.insertRows('model_metrics', rows);
    clock.now += 5 * 60_000;
    await local.insertRows('model_metrics', rows);
    expect(await local.readRows('model_metrics')).toHaveLength(6);
    const view = await local.readView('model_metrics_deduped');
    expect(view.map((r) => [r.metric, r.symbol, r.value])).toEqual([
      ['var.0.95', null, 0.1],
      ['weight', 'AAPL', 0.4],
      ['weight', 'MSFT', 0.6],
    ]);
  });

  it('the in-memory rule and the views SQL rank by the same key and column', () => {
    const sql = dedupedViewSql(DEDUPED_VIEWS.job_runs_deduped, 'p.curated.job_runs');
    expect(sql).toContain("PARTITION BY model, job_id, IF(job_id = '', started_at, NULL) ORDER BY finished_at DESC");
    expect(sql).toContain('FROM `p.curated.job_runs`');
    expect(sql).toMatch(/WHERE row_rank = 1\s*$/);
    expect(dedupedViewSql(DEDUPED_VIEWS.model_metrics_deduped, 't')).toContain('PARTITION BY model, job_id, metric, symbol ORDER BY recorded_at DESC');
    // Ties (the same row stored twice) leave one row.
    const row = { job_id: 'j', model: 'm', metric: 'x', symbol: null, value: 1, recorded_at: '2024-01-01T00:00:00.000Z' };
    expect(dedupeRows(DEDUPED_VIEWS.model_metrics_deduped, [row, { ...row }])).toEqual([row]);
  });
});
