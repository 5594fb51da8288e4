# Identities and grants, each on the narrowest resource that works. No primitive roles.

# --- Runtime: one service account per function -------------------------------------------

resource "google_service_account" "function" {
  for_each = local.functions

  account_id   = "${local.prefix}${each.key}-fn"
  display_name = "Runtime of the ${each.key} function"

  depends_on = [google_project_service.api]
}

# Every function writes jobs/<model>/<job_id>/... and reads it back (has this job already
# run?); overwriting status.json and chart.svg needs delete, which objectCreator lacks.
resource "google_storage_bucket_iam_member" "artifacts_user" {
  for_each = local.functions

  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectUser"
  member = google_service_account.function[each.key].member
}

# Every function inserts its run into job_runs and its scalars into model_metrics.
resource "google_bigquery_dataset_iam_member" "curated_editor" {
  for_each = local.functions

  dataset_id = google_bigquery_dataset.dataset["curated"].dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.function[each.key].member
}

# Models read prices; ingest MERGEs them (function_settings.raw_dataset_role).
resource "google_bigquery_dataset_iam_member" "raw_access" {
  for_each = local.functions

  dataset_id = google_bigquery_dataset.dataset["raw"].dataset_id
  role       = each.value.raw_dataset_role
  member     = google_service_account.function[each.key].member
}

# Queries and MERGEs run as BigQuery jobs, which are created in the project.
resource "google_project_iam_member" "bigquery_job_user" {
  for_each = local.functions

  project = var.project
  role    = "roles/bigquery.jobUser"
  member  = google_service_account.function[each.key].member
}

locals {
  # One grant per (function, secret) in function_settings.secrets: only ingest has any.
  secret_grants = {
    for grant in flatten([
      for name, f in local.functions : [for secret in f.secrets : { function = name, secret = secret }]
    ]) : "${grant.function}/${grant.secret}" => grant
  }
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.secret_grants

  secret_id = google_secret_manager_secret.vendor[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.value.function].member
}

# --- Build: Cloud Build runs as this account (the default one may lack rights since 2024) --

resource "google_service_account" "builder" {
  account_id   = "${local.prefix}function-builder"
  display_name = "Cloud Build of the functions"

  depends_on = [google_project_service.api]
}

resource "google_project_iam_member" "builder" {
  # The roles Google documents for a user-specified function build service account
  # (Cloud Run "build service account" page): build logs, the gcf-artifacts image
  # repository, and the source objects the platform stages in its own gcf-v2-sources
  # bucket (project level, because that bucket is not ours to name).
  for_each = toset([
    "roles/logging.logWriter",
    "roles/artifactregistry.writer",
    "roles/storage.objectAdmin",
  ])

  project = var.project
  role    = each.value
  member  = google_service_account.builder.member
}

# --- Delivery: Pub/Sub push and dead-lettering ---------------------------------------------

resource "google_service_account" "pubsub_invoker" {
  account_id   = "${local.prefix}pubsub-push"
  display_name = "Identity of Pub/Sub pushes to the functions"

  depends_on = [google_project_service.api]
}

resource "google_cloud_run_service_iam_member" "pubsub_invoker" {
  for_each = local.functions

  location = var.region
  service  = google_cloudfunctions2_function.function[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.pubsub_invoker.member
}

# The Pub/Sub service agent signs the push OIDC tokens as pubsub_invoker (needed explicitly
# in projects created before April 2021; harmless otherwise).
resource "google_service_account_iam_member" "pubsub_token_creator" {
  service_account_id = google_service_account.pubsub_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# Dead-lettering: the service agent must publish to the dead-letter topic and acknowledge
# the forwarded message on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.functions

  topic  = google_pubsub_topic.dead_letter[each.key].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = local.functions

  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# Each function announces its finished jobs on job-events: the publisher role on that topic,
# for the function accounts and nobody else.
resource "google_pubsub_topic_iam_member" "job_events_publisher" {
  for_each = local.functions

  topic  = google_pubsub_topic.job_events.name
  role   = "roles/pubsub.publisher"
  member = google_service_account.function[each.key].member
}
