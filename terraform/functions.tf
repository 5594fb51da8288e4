# The four functions, driven by one map: adding a model is one entry in function_settings.
# Each is built by `npm run build` into dist/<name>/ and registered with the
# functions-framework under its own name, which is therefore the entry point.

locals {
  function_settings = {
    blackscholes = {
      topic           = "jobs-blackscholes"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 120
      min_instances   = 0
      max_instances   = 10
      # Reads prices (historical volatility); never writes them.
      raw_dataset_role = "roles/bigquery.dataViewer"
      secrets          = []
      env              = {}
    }
    montecarlo = {
      topic           = "jobs-montecarlo"
      memory          = "4Gi"
      cpu             = "4"
      timeout_seconds = 540
      min_instances   = 0
      max_instances   = 5
      raw_dataset_role = "roles/bigquery.dataViewer"
      secrets          = []
      # One worker thread per vCPU.
      env = { MC_THREADS = "4" }
    }
    markowitz = {
      topic           = "jobs-markowitz"
      memory          = "1Gi"
      cpu             = "1"
      timeout_seconds = 300
      min_instances   = 0
      max_instances   = 10
      raw_dataset_role = "roles/bigquery.dataViewer"
      secrets          = []
      env              = {}
    }
    ingest = {
      topic           = "jobs-ingest"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 540
      min_instances   = 0
      # Few at a time: vendors rate-limit per key.
      max_instances = 2
      # MERGEs vendor rows into the raw tables.
      raw_dataset_role = "roles/bigquery.dataEditor"
      secrets          = ["EODHD_API_KEY", "TWELVE_DATA_API_KEY"]
      # Per-vendor request budgets (the plan's limit) and requests in flight.
      env = {
        EODHD_REQUESTS_PER_MINUTE       = tostring(var.ingest_requests_per_minute.eodhd)
        TWELVE_DATA_REQUESTS_PER_MINUTE = tostring(var.ingest_requests_per_minute.twelvedata)
        INGEST_CONCURRENCY              = "8"
      }
    }
  }

  # function_settings with var.function_overrides applied (env is merged, not replaced).
  functions = {
    for name, settings in local.function_settings : name => merge(
      settings,
      { for key, value in try(var.function_overrides[name], {}) : key => value if value != null && key != "env" },
      { env = merge(settings.env, try(var.function_overrides[name].env, {})) },
    )
  }

  # Environment every function reads (shared/config.ts).
  common_env = {
    GCP_PROJECT        = var.project
    GCS_BUCKET         = google_storage_bucket.artifacts.name
    BQ_DATASET_RAW     = google_bigquery_dataset.dataset["raw"].dataset_id
    BQ_DATASET_CURATED = google_bigquery_dataset.dataset["curated"].dataset_id
    LOG_LEVEL          = var.log_level
    # Set by the platform on 2nd gen functions anyway; declaring it avoids a permanent diff.
    LOG_EXECUTION_ID = "true"
  }
}

data "archive_file" "source" {
  for_each = local.functions

  type        = "zip"
  source_dir  = "${path.module}/../dist/${each.key}"
  output_path = "${path.module}/.build/${each.key}.zip"
}

resource "google_storage_bucket_object" "source" {
  for_each = local.functions

  # Named by content: changed code is a new object, and a new object redeploys the function.
  name   = "${each.key}/${data.archive_file.source[each.key].output_md5}.zip"
  bucket = google_storage_bucket.function_sources.name
  source = data.archive_file.source[each.key].output_path
}

resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  name     = "${local.prefix}${each.key}"
  location = var.region

  build_config {
    runtime         = "nodejs20"
    entry_point     = each.key
    service_account = google_service_account.builder.id
    source {
      storage_source {
        bucket = google_storage_bucket.function_sources.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  service_config {
    available_memory = each.value.memory
    available_cpu    = each.value.cpu
    timeout_seconds  = each.value.timeout_seconds
    min_instance_count = each.value.min_instances
    max_instance_count = each.value.max_instances
    # The models are CPU-bound: one job per instance.
    max_instance_request_concurrency = 1
    service_account_email            = google_service_account.function[each.key].email
    # Network reach; who may invoke is IAM's job (run.invoker for the push identity only).
    ingress_settings               = var.function_ingress
    all_traffic_on_latest_revision = true
    environment_variables          = merge(local.common_env, each.value.env)

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = secret_environment_variables.value
        project_id = var.project
        secret     = google_secret_manager_secret.vendor[secret_environment_variables.value].secret_id
        # New versions reach new instances without a redeploy.
        version = "latest"
      }
    }
  }

  # No event_trigger: the trigger is the push subscription in messaging.tf, which (unlike
  # the one Eventarc would create) can carry a dead-letter policy.

  depends_on = [
    google_project_iam_member.builder,
    google_secret_manager_secret_iam_member.accessor,
  ]
}
