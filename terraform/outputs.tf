output "topics" {
  description = "Job topic of each function (publish jobs here)."
  value       = { for name, topic in google_pubsub_topic.jobs : name => topic.name }
}

output "job_events_topic" {
  description = "Topic announcing every finished job: { job_id, model, status, error?, result_uri, chart_uri?, duration_ms }, attributes model, status, job_id."
  value       = google_pubsub_topic.job_events.name
}

output "dead_letter_topics" {
  description = "Dead-letter topic of each function."
  value       = { for name, topic in google_pubsub_topic.dead_letter : name => topic.name }
}

output "dead_letter_subscriptions" {
  description = "Pull subscription holding each function's dead-lettered jobs."
  value       = { for name, sub in google_pubsub_subscription.dead_letter : name => sub.name }
}

output "artifacts_bucket" {
  description = "Bucket of job artifacts (the functions' GCS_BUCKET)."
  value       = google_storage_bucket.artifacts.name
}

output "source_bucket" {
  description = "Bucket of the function source archives."
  value       = google_storage_bucket.function_sources.name
}

output "datasets" {
  description = "BigQuery dataset ids: raw (prices) and curated (job output)."
  value       = { for role, dataset in google_bigquery_dataset.dataset : role => dataset.dataset_id }
}

output "function_uris" {
  description = "HTTPS endpoint of each function (IAM-protected; invoked by its push subscription)."
  value       = { for name, fn in google_cloudfunctions2_function.function : name => fn.service_config[0].uri }
}

output "service_accounts" {
  description = "Runtime service account of each function."
  value       = { for name, sa in google_service_account.function : name => sa.email }
}

output "vendor_secrets" {
  description = "Secret Manager secret ids of the vendor API keys (add versions with gcloud)."
  value       = { for name, secret in google_secret_manager_secret.vendor : name => secret.secret_id }
}

output "ingest_schedules" {
  description = "Cloud Scheduler job of each daily ingestion."
  value       = { for name, job in google_cloud_scheduler_job.ingest : name => job.name }
}

output "job_statistics_view" {
  description = "BigQuery view of job statistics per model and day (project.dataset.table)."
  value       = "${var.project}.${google_bigquery_table.job_statistics.dataset_id}.${google_bigquery_table.job_statistics.table_id}"
}

output "alert_policies" {
  description = "Alert policy ids per function: dead_letter, error_rate, near_timeout."
  value = {
    for fn in keys(local.functions) : fn => {
      dead_letter  = google_monitoring_alert_policy.dead_letter[fn].name
      error_rate   = google_monitoring_alert_policy.error_rate[fn].name
      near_timeout = google_monitoring_alert_policy.near_timeout[fn].name
    }
  }
}
