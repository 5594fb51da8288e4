import type { ResultDocument } from './documents.js';
import { isFinal } from './finality.js';
import type { Metric } from './model.js';
import type { InsertRow } from '../warehouse/warehouse.js';

/**
 * The `job_runs` row of a job. A final outcome's insert id is the job's identity, so the
 * row sent again after a redelivery is dropped by the warehouse instead of counted twice.
 * An `internal` failure does not consume the job_id: its row is keyed by its run's start
 * too, so that the row of the run that later succeeds is not dropped as its duplicate.
 */
export function jobRunRow(document: ResultDocument): InsertRow {
  const key = document.job_id ?? document.started_at;
  return {
    insertId: isFinal(document) ? `${document.model}/${key}` : `${document.model}/${key}/attempt/${document.started_at}`,
    row: {
      job_id: document.job_id ?? '',
      model: document.model,
      status: document.status,
      started_at: document.started_at,
      finished_at: document.finished_at,
      duration_ms: document.duration_ms,
      error_code: document.status === 'failed' ? document.error.code : null,
      error_message: document.status === 'failed' ? document.error.message : null,
      result_uri: document.status === 'completed' ? document.artifacts.result : null,
      chart_uri: document.status === 'completed' ? (document.artifacts.chart ?? null) : null,
    },
  };
}

/** One `model_metrics` row per finite scalar, with an insert id per job, metric and symbol. */
export function metricRows(document: ResultDocument, metrics: readonly Metric[]): InsertRow[] {
  return metrics
    .filter((m) => Number.isFinite(m.value))
    .map((m) => ({
      insertId: `${document.model}/${document.job_id}/${m.metric}/${m.symbol ?? ''}`,
      row: { job_id: document.job_id ?? '', model: document.model, metric: m.metric, symbol: m.symbol ?? null, value: m.value, recorded_at: document.finished_at },
    }));
}
