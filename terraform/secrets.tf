# Vendor API keys. Terraform creates the secrets, never their values (which would land in
# the state): add a version with `gcloud secrets versions add` (see README).

locals {
  # Secret ids equal the environment variables the code reads, so USE_SECRET_MANAGER=true
  # and the mounted environment variables find the same secrets (without a name_prefix).
  vendor_secrets = ["EODHD_API_KEY", "TWELVE_DATA_API_KEY"]
}

resource "google_secret_manager_secret" "vendor" {
  for_each = toset(local.vendor_secrets)

  secret_id = "${local.prefix}${each.value}"

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }

  depends_on = [google_project_service.api]
}
