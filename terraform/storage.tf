# Buckets: job artifacts (results, status, charts) and function source archives.

resource "google_storage_bucket" "artifacts" {
  name     = "${var.project}-${local.prefix}artifacts"
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  # status.json is overwritten as a job progresses; old versions would only cost money.
  versioning {
    enabled = false
  }

  dynamic "lifecycle_rule" {
    for_each = var.artifact_retention_days > 0 ? [var.artifact_retention_days] : []
    content {
      condition {
        age = lifecycle_rule.value
      }
      action {
        type = "Delete"
      }
    }
  }

  # Ingest jobs stage their rows and per-symbol checkpoints under staging/ (a redelivery
  # resumes from them); once the job has committed they are dead weight.
  lifecycle_rule {
    condition {
      age            = 3
      matches_prefix = ["staging/"]
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket" "function_sources" {
  name     = "${var.project}-${local.prefix}function-sources"
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Holds nothing but rebuildable zips of dist/.
  force_destroy = true

  depends_on = [google_project_service.api]
}
