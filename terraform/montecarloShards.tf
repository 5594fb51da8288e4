# Monte Carlo shard tasks: a topic of their own, pushed to the montecarlo function with the
# same retry and dead-letter set-up as the job topics (messaging.tf). The instance that
# receives a sharded job publishes one task per shard here (MC_SHARD_TOPIC) and acknowledges
# the job; the function tells tasks from jobs by the message attribute kind=montecarlo-shard,
# and the task that stores the last shard merges and commits the job. A dead-lettered task
# is kept (pull subscription) and brought back to the function on the dead-letter topic's
# path (push subscription), which fails its job naming the shard, so no job waits forever
# for a shard that will not come.

locals {
  montecarlo_shard_topic = "${local.prefix}montecarlo-shards"
}

resource "google_pubsub_topic" "montecarlo_shards" {
  name = local.montecarlo_shard_topic

  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "montecarlo_shards_dead_letter" {
  name = "${local.montecarlo_shard_topic}-dead-letter"

  depends_on = [google_project_service.api]
}

resource "google_pubsub_subscription" "montecarlo_shards_dead_letter" {
  name                       = "${local.montecarlo_shard_topic}-dead-letter"
  topic                      = google_pubsub_topic.montecarlo_shards_dead_letter.id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "montecarlo_shards_dead_letter_push" {
  name  = "${local.montecarlo_shard_topic}-dead-letter-push"
  topic = google_pubsub_topic.montecarlo_shards_dead_letter.id

  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.function["montecarlo"].service_config[0].uri}/projects/${var.project}/topics/${google_pubsub_topic.montecarlo_shards_dead_letter.name}"

    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = google_cloudfunctions2_function.function["montecarlo"].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  depends_on = [google_cloud_run_service_iam_member.pubsub_invoker]
}

resource "google_pubsub_subscription" "montecarlo_shards_push" {
  name  = "${local.montecarlo_shard_topic}-push"
  topic = google_pubsub_topic.montecarlo_shards.id

  # A shard runs within the function's timeout, below this.
  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.function["montecarlo"].service_config[0].uri}/projects/${var.project}/topics/${google_pubsub_topic.montecarlo_shards.name}"

    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = google_cloudfunctions2_function.function["montecarlo"].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.montecarlo_shards_dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  depends_on = [
    google_cloud_run_service_iam_member.pubsub_invoker,
    google_pubsub_topic_iam_member.montecarlo_shards_dead_letter_publisher,
  ]
}

# The montecarlo function publishes the tasks, to this topic only.
resource "google_pubsub_topic_iam_member" "montecarlo_shards_publisher" {
  topic  = google_pubsub_topic.montecarlo_shards.name
  role   = "roles/pubsub.publisher"
  member = google_service_account.function["montecarlo"].member
}

resource "google_pubsub_topic_iam_member" "montecarlo_shards_dead_letter_publisher" {
  topic  = google_pubsub_topic.montecarlo_shards_dead_letter.name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "montecarlo_shards_dead_letter_subscriber" {
  subscription = google_pubsub_subscription.montecarlo_shards_push.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
