# Cloud Monitoring alert policies, one of each per function (README "Operating" says what
# to do for each). Notifications go to var.notification_channels; with none (the default)
# the incidents still open in the console's Alerting page.

locals {
  alert_documentation_url = "See the repository README, section Operating, and run npm run doctor."
}

# Jobs that failed every delivery: the push subscription gave up and moved them here.
resource "google_monitoring_alert_policy" "dead_letter" {
  for_each = local.functions

  display_name          = "${local.prefix}${each.key}: jobs in the dead-letter subscription"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "${google_pubsub_subscription.dead_letter[each.key].name} holds undelivered messages"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.dead_letter[each.key].name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      # One sample above zero is enough: every message here is a job that will not run by itself.
      duration = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    # Closes by itself once the subscription has been empty this long.
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Jobs of **${each.key}** failed every delivery (${var.max_delivery_attempts} attempts) and wait in `${google_pubsub_subscription.dead_letter[each.key].name}`. Read them with `gcloud pubsub subscriptions pull ${google_pubsub_subscription.dead_letter[each.key].name} --limit=10` (no --auto-ack), find the cause in the function's logs, fix it, then republish them to `${google_pubsub_topic.jobs[each.key].name}` or acknowledge them. ${local.alert_documentation_url}"
  }

  depends_on = [google_project_service.api]
}

# 5xx answers: transient faults (storage, warehouse, vendors), crashes and timeouts (504).
# A bad job is not one of them: it is a 2xx with status failed. 429s (all instances busy)
# are left out: Pub/Sub backs off and retries them, and a burst is not an error.
resource "google_monitoring_alert_policy" "error_rate" {
  for_each = local.functions

  display_name          = "${local.prefix}${each.key}: error rate above ${var.alert_error_rate * 100}%"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels

  conditions {
    display_name = "share of 5xx answers of ${google_cloudfunctions2_function.function[each.key].name}"

    condition_threshold {
      filter             = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${google_cloudfunctions2_function.function[each.key].name}\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${google_cloudfunctions2_function.function[each.key].name}\" AND metric.type = \"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_error_rate
      duration           = "600s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }

      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }

      # No traffic is not an error.
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "More than ${var.alert_error_rate * 100}% of the deliveries to **${each.key}** got a 5xx answer for 10 minutes: Pub/Sub retries them and, after ${var.max_delivery_attempts} attempts, dead-letters them. Read the function's logs (`gcloud logging read 'resource.labels.service_name=\"${google_cloudfunctions2_function.function[each.key].name}\" AND severity>=ERROR' --freshness=1h`) for the transient fault (storage, BigQuery, vendor) or crash; 504 means timeouts (see the near-timeout alert). ${local.alert_documentation_url}"
  }

  depends_on = [google_project_service.api]
}

# Runs close to timeout_seconds: a little more input or a slower day and they time out,
# are redelivered and end in the dead-letter topic.
resource "google_monitoring_alert_policy" "near_timeout" {
  for_each = local.functions

  display_name          = "${local.prefix}${each.key}: executions near the ${each.value.timeout_seconds} s timeout"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels

  conditions {
    display_name = "p99 request latency of ${google_cloudfunctions2_function.function[each.key].name} above ${var.alert_timeout_fraction * 100}% of its timeout"

    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${google_cloudfunctions2_function.function[each.key].name}\" AND metric.type = \"run.googleapis.com/request_latencies\""
      comparison      = "COMPARISON_GT"
      # request_latencies is in milliseconds.
      threshold_value = each.value.timeout_seconds * 1000 * var.alert_timeout_fraction
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_PERCENTILE_99"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["resource.labels.service_name"]
      }

      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runs of **${each.key}** took more than ${var.alert_timeout_fraction * 100}% of its ${each.value.timeout_seconds} s timeout. Look at `job_statistics` (p95/max duration per day) and the jobs' sizes; raise `function_overrides.${each.key}.timeout_seconds` (at most 540) or memory/cpu, or ask publishers for smaller jobs. ${local.alert_documentation_url}"
  }

  depends_on = [google_project_service.api]
}
