# Project-wide pieces: the project's number (for service agents), the APIs, shared names.

data "google_project" "this" {
  project_id = var.project
}

locals {
  # "<prefix>-" or nothing: joined in front of every name this project chooses.
  prefix = var.name_prefix == "" ? "" : "${var.name_prefix}-"

  # Google-managed identity that delivers push messages and moves them to dead-letter topics.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  required_apis = toset([
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "iam.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "api" {
  for_each = local.required_apis

  project = var.project
  service = each.value
  # Other workloads in the project may use the same APIs.
  disable_on_destroy = false
}
