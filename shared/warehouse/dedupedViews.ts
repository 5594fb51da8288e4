import type { TableName } from './schemas.js';
import type { Row } from './warehouse.js';

/**
 * A view that shows one row per logical key of a streamed table. BigQuery drops a re-sent
 * row by its insertId only on a best-effort basis over about a minute, and Pub/Sub
 * redelivers 10-600 s later, so `job_runs` and `model_metrics` can hold a job twice (and
 * streamed rows cannot be deleted by DML for ~30 minutes). Readers use these views.
 */
export interface DedupedView {
  readonly name: string;
  /** The streamed table the view reads. */
  readonly table: TableName;
  readonly description: string;
  /** Columns that name one logical row. */
  readonly key: readonly string[];
  /**
   * A column that joins the key only when `job_id` is empty: a message rejected before a
   * job_id could be read is its own run (its rows carry the run's start time).
   */
  readonly keyWithoutJobId?: string;
  /** A TIMESTAMP column: of the rows sharing a key, the one with the latest value is kept. */
  readonly latest: string;
}

export const DEDUPED_VIEWS = {
  job_runs_deduped: {
    name: 'job_runs_deduped',
    table: 'job_runs',
    description: 'job_runs with one row per (model, job_id): the latest finished_at. Query this, not job_runs.',
    key: ['model', 'job_id'],
    keyWithoutJobId: 'started_at',
    latest: 'finished_at',
  },
  model_metrics_deduped: {
    name: 'model_metrics_deduped',
    table: 'model_metrics',
    description: 'model_metrics with one row per (model, job_id, metric, symbol): the latest recorded_at. Query this, not model_metrics.',
    key: ['model', 'job_id', 'metric', 'symbol'],
    latest: 'recorded_at',
  },
} as const satisfies Record<string, DedupedView>;

export type DedupedViewName = keyof typeof DEDUPED_VIEWS;

/**
 * The view's query (GoogleSQL): the rows ranked within each key by `latest`, newest first,
 * and the first kept. NULL key values (a metric without a symbol) group together.
 * @param table the table as the query names it, e.g. `project.curated.job_runs`
 */
export function dedupedViewSql(view: DedupedView, table: string): string {
  const partition = [...view.key, ...(view.keyWithoutJobId ? [`IF(job_id = '', ${view.keyWithoutJobId}, NULL)`] : [])];
  return (
    `SELECT * EXCEPT (row_rank) FROM (\n` +
    `  SELECT *, ROW_NUMBER() OVER (PARTITION BY ${partition.join(', ')} ORDER BY ${view.latest} DESC) AS row_rank\n` +
    `  FROM \`${table}\`\n` +
    `)\nWHERE row_rank = 1\n`
  );
}

/** The same rule applied to rows in memory (the local warehouse), keeping first-seen order. */
export function dedupeRows(view: DedupedView, rows: readonly Row[]): Row[] {
  const kept = new Map<string, Row>();
  for (const row of rows) {
    const parts = view.key.map((k) => row[k] ?? null);
    if (view.keyWithoutJobId) parts.push(row.job_id === '' ? (row[view.keyWithoutJobId] ?? null) : null);
    const key = JSON.stringify(parts);
    const held = kept.get(key);
    if (!held || instant(row[view.latest]) > instant(held[view.latest])) kept.set(key, row);
  }
  return [...kept.values()];
}

function instant(value: Row[string] | undefined): number {
  const t = Date.parse(String(value ?? ''));
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}
