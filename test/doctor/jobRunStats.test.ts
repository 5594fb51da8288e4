import { describe, expect, it } from 'vitest';
import { describe as describeStats } from '../../shared/doctor/jobRunsCheck.js';
import { latestRunPerJob, statsFromGroupedRows, summarizeJobRuns } from '../../shared/doctor/jobRunStats.js';
import { formatAge } from '../../shared/doctor/pubsubChecks.js';
import { columnProblems } from '../../shared/doctor/tablesCheck.js';
import { TABLES } from '../../shared/warehouse/schemas.js';

const run = (model: string, job_id: string, status: string, finished_at: string, duration_ms: number | null, error_code: string | null = null) => ({ model, job_id, status, finished_at, duration_ms, error_code });

describe('job run statistics', () => {
  it('keeps one row per (model, job_id): the latest finished_at; the same job_id under two models is two jobs', () => {
    const kept = latestRunPerJob([
      run('markowitz', 'j', 'failed', '2026-06-10T10:00:00Z', 5, 'internal'),
      run('markowitz', 'j', 'completed', '2026-06-10T10:00:01Z', 7),
      run('markowitz', 'j', 'failed', '2026-06-10T09:00:00Z', 9, 'internal'),
      run('montecarlo', 'j', 'failed', '2026-06-10T08:00:00Z', 3, 'invalid_job'),
    ]);
    expect(kept.map((r) => [r.model, r.status, r.duration_ms])).toEqual([
      ['markowitz', 'completed', 7],
      ['montecarlo', 'failed', 3],
    ]);
  });

  it('runs whose job_id could not be read (job_id empty) are each their own, told apart by started_at', () => {
    const unread = (started_at: string, finished_at: string) => ({ ...run('blackscholes', '', 'failed', finished_at, 1, 'invalid_job'), started_at });
    const kept = latestRunPerJob([unread('2026-06-10T10:00:00Z', '2026-06-10T10:00:01Z'), unread('2026-06-10T11:00:00Z', '2026-06-10T11:00:01Z'), unread('2026-06-10T11:00:00Z', '2026-06-10T11:00:02Z')]);
    expect(kept.map((r) => r.finished_at)).toEqual(['2026-06-10T10:00:01Z', '2026-06-10T11:00:02Z']);
  });

  it('percentiles are numpy\'s linear ones (= BigQuery PERCENTILE_CONT) and ignore runs without a duration', () => {
    // 10 durations 100..1000: p50 = 550, p95 = 955 (numpy.percentile, linear).
    const rows = Array.from({ length: 10 }, (_, i) => run('blackscholes', `j${i}`, 'completed', '2026-06-10T10:00:00Z', (i + 1) * 100));
    rows.push(run('blackscholes', 'no-duration', 'failed', '2026-06-10T10:00:00Z', null, null));
    const [stats] = summarizeJobRuns(rows, new Date('2026-06-09T12:00:00Z'));
    const { p95Ms, ...rest } = stats;
    expect(rest).toEqual({ model: 'blackscholes', jobs: 11, completed: 10, failedByCode: { unknown: 1 }, p50Ms: 550 });
    // (n - 1) * 0.95 = 8.55 is not exact in binary: a few ulps either side of 955.
    expect(Math.abs((p95Ms as number) - 955)).toBeLessThan(1e-9);
    expect(describeStats(stats)).toBe('11 in 24 h: 10 completed, 1 failed (unknown 1); p50 0.55 s, p95 0.95 s');
  });

  it('folds the grouped BigQuery rows (strings, as the REST API returns numbers) into per-model statistics', () => {
    expect(
      statsFromGroupedRows([
        { model: 'ingest', status: 'completed', error_code: null, runs: '4', p50_ms: '1200.5', p95_ms: '3000' },
        { model: 'ingest', status: 'failed', error_code: 'unknown_symbol', runs: '2', p50_ms: '1200.5', p95_ms: '3000' },
        { model: 'ingest', status: 'failed', error_code: null, runs: '1', p50_ms: '1200.5', p95_ms: '3000' },
      ]),
    ).toEqual([{ model: 'ingest', jobs: 7, completed: 4, failedByCode: { unknown_symbol: 2, unknown: 1 }, p50Ms: 1200.5, p95Ms: 3000 }]);
    expect(() => statsFromGroupedRows([{ model: 'x', status: 'completed', runs: 'many' }])).toThrow();
  });
});

describe('report wording', () => {
  it('ages read in the unit an operator thinks in', () => {
    expect([formatAge(5), formatAge(119), formatAge(120), formatAge(7199), formatAge(7200), formatAge(172800)]).toEqual(['5 s', '119 s', '2 min', '120 min', '2.0 h', '2.0 d']);
  });

  it('column differences: BigQuery\'s legacy type names match, a narrower mode or another type does not', () => {
    const table = TABLES.model_metrics;
    const asBigQuery = table.columns.map((c) => ({ name: c.name, type: c.type === 'FLOAT64' ? 'FLOAT' : c.type, mode: c.mode }));
    expect(columnProblems(table, asBigQuery)).toEqual([]);
    const drifted = asBigQuery.map((c) => (c.name === 'symbol' ? { ...c, mode: 'REQUIRED' } : c.name === 'value' ? { ...c, type: 'NUMERIC' } : c));
    expect(columnProblems(table, drifted)).toEqual(['symbol is REQUIRED but the code may leave it null', 'value is NUMERIC, expected FLOAT64']);
  });
});
