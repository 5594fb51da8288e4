import * as z from 'zod';
import { quantiles } from '../numerics/quantile.js';
import { DEDUPED_VIEWS, dedupeRows } from '../warehouse/dedupedViews.js';
import type { Row } from '../warehouse/warehouse.js';

/** One model's job runs over a window: counts, failures by error code, durations. */
export interface ModelJobStats {
  readonly model: string;
  readonly jobs: number;
  readonly completed: number;
  /** Failed runs by error code (`unknown` when a failed row has none). */
  readonly failedByCode: Readonly<Record<string, number>>;
  /** Percentiles of duration_ms (linear interpolation, as BigQuery's PERCENTILE_CONT); null without durations. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
}

const jobRunRow = z.object({
  job_id: z.string(),
  started_at: z.string().nullable().optional(),
  model: z.string(),
  status: z.string(),
  finished_at: z.string(),
  duration_ms: z.number().nullable().optional(),
  error_code: z.string().nullable().optional(),
});
type JobRunRow = z.infer<typeof jobRunRow>;

/**
 * One row per (model, job_id): the one with the latest finished_at, by the rule of the
 * `job_runs_deduped` view (`dedupeRows`: a run whose job_id could not be read is its own,
 * told apart by started_at). Every row is validated, kept or not.
 */
export function latestRunPerJob(rows: readonly Row[]): JobRunRow[] {
  const runs = new Map(rows.map((raw) => [raw, jobRunRow.parse(raw)]));
  return dedupeRows(DEDUPED_VIEWS.job_runs_deduped, rows).map((raw) => runs.get(raw)!);
}

/**
 * Statistics per model of the job runs that finished at or after `since`, after keeping
 * the latest row per job (the local twin of jobRunsSinceSql).
 * @returns one entry per model that ran, sorted by model
 */
export function summarizeJobRuns(rows: readonly Row[], since: Date): ModelJobStats[] {
  const recent = rows.filter((r) => Date.parse(String(r.finished_at)) >= since.getTime());
  const byModel = new Map<string, JobRunRow[]>();
  for (const run of latestRunPerJob(recent)) byModel.set(run.model, [...(byModel.get(run.model) ?? []), run]);
  return [...byModel.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, runs]) => {
      const failedByCode: Record<string, number> = {};
      for (const run of runs.filter((r) => r.status === 'failed')) {
        const code = run.error_code ?? 'unknown';
        failedByCode[code] = (failedByCode[code] ?? 0) + 1;
      }
      const durations = runs.map((r) => r.duration_ms).filter((d): d is number => typeof d === 'number' && Number.isFinite(d));
      const [p50, p95] = durations.length > 0 ? quantiles(Float64Array.from(durations), [0.5, 0.95]) : [null, null];
      return { model, jobs: runs.length, completed: runs.filter((r) => r.status === 'completed').length, failedByCode, p50Ms: p50, p95Ms: p95 };
    });
}

/**
 * The BigQuery query behind summarizeJobRuns: job runs finished in the last `hours`, one
 * row per (model, job_id) with the latest finished_at (latestRunPerJob's rule), counted per model, status and
 * error code, with the model's duration percentiles on every row. Filtering the window
 * before de-duplicating gives the same rows as after: a job's latest run is in the window
 * exactly when one of its runs is. The window also prunes the table's day partitions.
 * @param table fully qualified `project.dataset.job_runs`
 */
export function jobRunsSinceSql(table: string, hours: number): string {
  return `
WITH runs AS (
  SELECT model, status, error_code, duration_ms
  FROM (
    SELECT model, status, error_code, duration_ms,
      ROW_NUMBER() OVER (PARTITION BY model, job_id, IF(job_id = '', started_at, NULL) ORDER BY finished_at DESC) AS latest
    FROM \`${table}\`
    WHERE finished_at >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${Math.round(hours)} HOUR)
  )
  WHERE latest = 1
)
SELECT model, status, error_code, COUNT(*) AS runs, ANY_VALUE(p50) AS p50_ms, ANY_VALUE(p95) AS p95_ms
FROM (
  SELECT model, status, error_code,
    PERCENTILE_CONT(duration_ms, 0.5) OVER (PARTITION BY model) AS p50,
    PERCENTILE_CONT(duration_ms, 0.95) OVER (PARTITION BY model) AS p95
  FROM runs
)
GROUP BY model, status, error_code
ORDER BY model`.trim();
}

const groupedRow = z.object({
  model: z.string(),
  status: z.string(),
  error_code: z.string().nullable().optional(),
  runs: z.coerce.number().int().min(0),
  p50_ms: z.coerce.number().nullable().optional(),
  p95_ms: z.coerce.number().nullable().optional(),
});

/** The rows of jobRunsSinceSql, folded into one ModelJobStats per model. */
export function statsFromGroupedRows(rows: readonly unknown[]): ModelJobStats[] {
  const byModel = new Map<string, { jobs: number; completed: number; failedByCode: Record<string, number>; p50Ms: number | null; p95Ms: number | null }>();
  for (const raw of rows) {
    const row = groupedRow.parse(raw);
    const stats = byModel.get(row.model) ?? { jobs: 0, completed: 0, failedByCode: {}, p50Ms: row.p50_ms ?? null, p95Ms: row.p95_ms ?? null };
    stats.jobs += row.runs;
    if (row.status === 'completed') stats.completed += row.runs;
    else if (row.status === 'failed') {
      const code = row.error_code ?? 'unknown';
      stats.failedByCode[code] = (stats.failedByCode[code] ?? 0) + row.runs;
    }
    byModel.set(row.model, stats);
  }
  return [...byModel.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([model, s]) => ({ model, ...s }));
}
