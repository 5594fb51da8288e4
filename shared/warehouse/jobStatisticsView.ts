import type { Column, ViewSchema } from './schemas.js';

const col = (name: string, type: Column['type'], description: string): Column => ({ name, type, mode: 'NULLABLE', description });

/** The error codes of the job contract, each with its own count in the view. */
export const CONTRACT_ERROR_CODES = ['invalid_job', 'unknown_symbol', 'insufficient_data', 'internal'] as const;

/**
 * `job_statistics`: per model and UTC day, over job_runs with one run per (model, job_id),
 * the latest finished_at. Terraform creates it from terraform/views/job_statistics.sql;
 * the doctor checks it has these columns and the Terraform test that the SQL yields them.
 */
export const JOB_STATISTICS_VIEW = {
  dataset: 'curated',
  name: 'job_statistics',
  description: 'Per model and UTC day: jobs, completed, failed by error code, p50/p95/max duration_ms (latest run per job)',
  columns: [
    col('model', 'STRING', 'Function that ran the jobs'),
    col('day', 'DATE', 'UTC day the runs finished'),
    col('jobs', 'INT64', 'Jobs that finished that day'),
    col('completed', 'INT64', 'Of which completed'),
    col('failed', 'INT64', 'Of which failed'),
    ...CONTRACT_ERROR_CODES.map((code) => col(`failed_${code}`, 'INT64', `Failed with error_code ${code}`)),
    col('failed_other', 'INT64', 'Failed with no or another error code'),
    col('p50_duration_ms', 'FLOAT64', 'Median duration_ms'),
    col('p95_duration_ms', 'FLOAT64', '95th percentile of duration_ms'),
    col('max_duration_ms', 'FLOAT64', 'Longest duration_ms'),
  ],
} as const satisfies ViewSchema;
