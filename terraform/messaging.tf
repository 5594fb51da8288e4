# Pub/Sub: per function a job topic (the contract's name), a push subscription to the
# function with a dead-letter policy, and a dead-letter topic with a pull subscription that
# keeps what could not be delivered; and one topic, job-events, on which every function
# announces each job that ends (completed or failed), so that callers wait instead of polling
# jobs/<model>/<job_id>/status.json. Callers bring their own subscriptions to it
# (`npm run submit -- ... --wait` makes a short-lived one).

resource "google_pubsub_topic" "job_events" {
  name = var.job_events_topic

  # Long enough for a caller that subscribes a little after publishing its job to seek back.
  message_retention_duration = "86400s"

  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "jobs" {
  for_each = local.functions

  name = each.value.topic

  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.functions

  name = "${local.prefix}${each.key}-dead-letter"

  depends_on = [google_project_service.api]
}

# Keeps dead-lettered jobs for inspection or replay; a topic without a subscription drops them.
resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.functions

  name                       = "${local.prefix}${each.key}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "push" {
  for_each = local.functions

  name  = "${local.prefix}${each.key}-push"
  topic = google_pubsub_topic.jobs[each.key].id

  # The longest Pub/Sub allows; every function's timeout_seconds is below it, so a job is
  # not redelivered while it is still running.
  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }

  push_config {
    # The wrapped push body ({ message, subscription }) is what the functions-framework
    # turns into a messagePublished CloudEvent; it takes the event's source from a
    # projects/<p>/topics/<t> path, hence the path after the function's URL.
    push_endpoint = "${google_cloudfunctions2_function.function[each.key].service_config[0].uri}/projects/${var.project}/topics/${google_pubsub_topic.jobs[each.key].name}"

    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      # Cloud Run checks the token's audience against the service URL, without the path.
      audience = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    }
  }

  # A transient fault (non-2xx answer) is redelivered with backoff, then dead-lettered.
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  depends_on = [
    google_cloud_run_service_iam_member.pubsub_invoker,
    google_pubsub_topic_iam_member.dead_letter_publisher,
  ]
}
