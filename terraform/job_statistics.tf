# Job statistics for dashboards and notebooks: a view over curated.job_runs, per model and
# UTC day (jobs, completed, failed by error code, p50/p95/max duration). The query lives in
# views/job_statistics.sql; it de-duplicates job_runs inline (latest finished_at per model
# and job_id) so it does not depend on other views.

resource "google_bigquery_table" "job_statistics" {
  dataset_id  = google_bigquery_dataset.dataset["curated"].dataset_id
  table_id    = "job_statistics"
  description = "Per model and UTC day: jobs, completed, failed by error code, p50/p95/max duration_ms. One run per (model, job_id): the latest finished_at."

  view {
    query = templatefile("${path.module}/views/job_statistics.sql", {
      job_runs = "${var.project}.${google_bigquery_dataset.dataset["curated"].dataset_id}.${google_bigquery_table.table["job_runs"].table_id}"
    })
    use_legacy_sql = false
  }

  # A view holds no data: replacing it loses nothing.
  deletion_protection = false
}
