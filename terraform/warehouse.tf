# BigQuery: the raw (vendor prices) and curated (job output) datasets and every table of
# shared/warehouse/schemas.ts. The schemas are generated from that file into schemas/
# (npx tsx scripts/terraformSchemas.ts); test/terraform.test.ts fails when they drift.

locals {
  datasets = {
    raw = {
      id          = var.dataset_raw
      description = "Vendor prices and corporate actions, loaded by the ingest function."
    }
    curated = {
      id          = var.dataset_curated
      description = "Job runs and model metrics, written by every function."
    }
  }

  # Table name => { dataset, description, partition_field, clustering }.
  tables = jsondecode(file("${path.module}/schemas/tables.json"))
}

resource "google_bigquery_dataset" "dataset" {
  for_each = local.datasets

  dataset_id  = each.value.id
  description = each.value.description
  location    = coalesce(var.bigquery_location, var.region)

  depends_on = [google_project_service.api]
}

resource "google_bigquery_table" "table" {
  for_each = local.tables

  dataset_id  = google_bigquery_dataset.dataset[each.value.dataset].dataset_id
  table_id    = each.key
  description = each.value.description
  schema      = file("${path.module}/schemas/${each.key}.json")

  time_partitioning {
    type  = "DAY"
    field = each.value.partition_field
  }

  clustering = each.value.clustering

  deletion_protection = var.deletion_protection
}
