# The four functions, driven by one map: adding a model is one entry in function_settings.
# Each is built by `npm run build` into dist/<name>/ and registered with the
# functions-framework under its own name, which is therefore the entry point.
# Each runs on var.node_runtime unless its settings or function_overrides name another
# runtime; the build reads the same settings (scripts/nodeRuntime.mjs).

locals {
  function_settings = {
    blackscholes = {
      topic           = "jobs-blackscholes"
      # Its largest valid job (100,000 options, MAX_OPTIONS) peaks at ~410 MB: 1 GiB
      # keeps 30% spare (test/limits/memoryLimits.test.ts runs it with the heap capped).
      memory          = "1Gi"
      cpu             = "1"
      timeout_seconds = 120
      min_instances   = 0
      max_instances   = 10
      # Reads prices (historical volatility); never writes them.
      raw_dataset_role = "roles/bigquery.dataViewer"
      secrets          = []
      # One vCPU: a second thread for a large batch would only share it. With cpu = "2",
      # BS_THREADS = "2" (or unset) values and writes a large batch on two threads.
      env = { BS_THREADS = "1" }
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
      # One worker thread per vCPU; sharded jobs publish their shard tasks to the shard topic
      # (montecarloShards.tf) and acknowledge; the task storing the last shard commits the job.
      env = { MC_THREADS = "4", MC_SHARD_TOPIC = "${local.prefix}montecarlo-shards" }
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
      # One vCPU: a helper thread would only share it, and its heap (the covariance's JSON)
      # took the largest job's peak to 816 MiB on Node 24, past 70% of 1 GiB.
      env = { HELPER_THREAD = "0" }
    }
    ingest = {
      topic           = "jobs-ingest"
      # Its largest job, a whole exchange at MAX_EXCHANGE_TICKERS a day, peaks at ~250-280 MB on
      # Node 20 and ~385-435 MB on Node 24 (the deployed runtime): 512 MiB would leave 15%;
      # 1 GiB keeps 30% spare (test/limits/memoryLimits.test.ts, run on both by .ci/run).
      memory          = "1Gi"
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

  # function_settings with var.function_overrides applied (env is merged, not replaced),
  # on var.node_runtime unless the settings or the overrides name another runtime.
  functions = {
    for name, settings in local.function_settings : name => merge(
      { runtime = var.node_runtime },
      settings,
      { for key, value in try(var.function_overrides[name], {}) : key => value if value != null && key != "env" },
      { env = merge(settings.env, try(var.function_overrides[name].env, {})) },
    )
  }

  # The published runtime schedule: deprecation and decommission dates (YYYY-MM-DD).
  node_runtimes = jsondecode(file("${path.module}/node-runtimes.json")).runtimes

  # Runtimes within 90 days of their decommission date at plan time (a warning, below).
  runtimes_ending_soon = sort(distinct([
    for name, f in local.functions : f.runtime
    if try(timecmp(timeadd(plantimestamp(), "2160h"), "${local.node_runtimes[f.runtime].decommission}T00:00:00Z") >= 0, false)
  ]))

  # Environment every function reads (shared/config.ts).
  common_env = {
    GCP_PROJECT        = var.project
    GCS_BUCKET         = google_storage_bucket.artifacts.name
    BQ_DATASET_RAW     = google_bigquery_dataset.dataset["raw"].dataset_id
    BQ_DATASET_CURATED = google_bigquery_dataset.dataset["curated"].dataset_id
    # Where the datasets live: BigQuery looks jobs up there (required outside US and EU).
    BQ_LOCATION      = google_bigquery_dataset.dataset["curated"].location
    LOG_LEVEL        = var.log_level
    JOB_EVENTS_TOPIC = google_pubsub_topic.job_events.name
    JOB_EVENTS       = "pubsub"
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
    runtime         = each.value.runtime
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

  lifecycle {
    # Fail the plan, with the way out, rather than the deployment.
    precondition {
      condition     = contains(keys(local.node_runtimes), each.value.runtime)
      error_message = "${each.key}: runtime ${each.value.runtime} is not in terraform/node-runtimes.json; add its dates from the Cloud Run functions runtime support schedule, or use one of ${join(", ", keys(local.node_runtimes))}."
    }
    precondition {
      # (A runtime missing from the table is the precondition above.)
      condition     = try(timecmp(plantimestamp(), "${local.node_runtimes[each.value.runtime].decommission}T00:00:00Z") < 0, true)
      error_message = "${each.key}: runtime ${each.value.runtime} was decommissioned on ${try(local.node_runtimes[each.value.runtime].decommission, "")}: no function can be created or updated on it. Move to a supported runtime (node_runtime; README.md, Deploy)."
    }
    precondition {
      # The bundle's target and package.json engines follow the runtime (scripts/build.mjs).
      condition     = try(jsondecode(file("${path.module}/../dist/${each.key}/package.json")).engines.node == "${trimprefix(each.value.runtime, "nodejs")}.x", false)
      error_message = "${each.key}: dist/${each.key} was not built for ${each.value.runtime} (its package.json engines.node must be \"${trimprefix(each.value.runtime, "nodejs")}.x\"): run npm run build."
    }
  }
}

# A warning, not an error: the deployment still works, but only until the decommission date.
check "node_runtime_support" {
  assert {
    condition     = length(local.runtimes_ending_soon) == 0
    error_message = "Runtime ${join(", ", local.runtimes_ending_soon)} is past or within 90 days of its decommission date (terraform/node-runtimes.json): move to the next runtime (README.md, Deploy)."
  }
}
