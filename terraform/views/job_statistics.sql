-- Job statistics per model and UTC day, over curated.job_runs (terraform/job_statistics.tf).
-- One row per (model, job_id) first: the one with the latest finished_at, the same rule as
-- the job_runs_deduped view (a redelivered or re-run job can have several rows; the latest
-- is its outcome). A message whose job_id could not be read (job_id '') is its own run,
-- told apart by started_at. Its day is the day that run finished.
-- Durations: exact percentiles (PERCENTILE_CONT, linear interpolation as numpy's default);
-- runs without duration_ms are left out of them.
WITH latest_runs AS (
  SELECT model, job_id, status, error_code, duration_ms, finished_at
  FROM (
    SELECT model, job_id, status, error_code, duration_ms, finished_at,
      ROW_NUMBER() OVER (PARTITION BY model, job_id, IF(job_id = '', started_at, NULL) ORDER BY finished_at DESC) AS recency
    FROM `${job_runs}`
  )
  WHERE recency = 1
),
with_percentiles AS (
  SELECT model, DATE(finished_at) AS day, status, error_code, duration_ms,
    PERCENTILE_CONT(duration_ms, 0.5) OVER (PARTITION BY model, DATE(finished_at)) AS p50,
    PERCENTILE_CONT(duration_ms, 0.95) OVER (PARTITION BY model, DATE(finished_at)) AS p95
  FROM latest_runs
)
SELECT
  model,
  day,
  COUNT(*) AS jobs,
  COUNTIF(status = 'completed') AS completed,
  COUNTIF(status = 'failed') AS failed,
  COUNTIF(status = 'failed' AND error_code = 'invalid_job') AS failed_invalid_job,
  COUNTIF(status = 'failed' AND error_code = 'unknown_symbol') AS failed_unknown_symbol,
  COUNTIF(status = 'failed' AND error_code = 'insufficient_data') AS failed_insufficient_data,
  COUNTIF(status = 'failed' AND error_code = 'internal') AS failed_internal,
  COUNTIF(status = 'failed' AND (error_code IS NULL OR error_code NOT IN ('invalid_job', 'unknown_symbol', 'insufficient_data', 'internal'))) AS failed_other,
  ANY_VALUE(p50) AS p50_duration_ms,
  ANY_VALUE(p95) AS p95_duration_ms,
  MAX(duration_ms) AS max_duration_ms
FROM with_percentiles
GROUP BY model, day
