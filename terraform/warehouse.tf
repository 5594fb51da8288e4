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

  # Table name => { dataset, description, partition_field (null: unpartitioned), clustering }.
  tables = jsondecode(file("${path.module}/schemas/tables.json"))

  # View name => { dataset, table, description, query with {table} for the table it reads }.
  deduped_views = jsondecode(file("${path.module}/schemas/views.json"))
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

  # The price tables are unpartitioned and clustered on (symbol, date): see shared/warehouse/schemas.ts.
  dynamic "time_partitioning" {
    for_each = each.value.partition_field == null ? [] : [each.value.partition_field]
    content {
      type  = "DAY"
      field = time_partitioning.value
    }
  }

  clustering = each.value.clustering

  deletion_protection = var.deletion_protection
}

# One row per job (and per metric) even when BigQuery kept a re-sent row: readers query these.
resource "google_bigquery_table" "deduped_view" {
  for_each = local.deduped_views

  dataset_id  = google_bigquery_dataset.dataset[each.value.dataset].dataset_id
  table_id    = each.key
  description = each.value.description

  view {
    query          = replace(each.value.query, "{table}", "${var.project}.${google_bigquery_dataset.dataset[each.value.dataset].dataset_id}.${each.value.table}")
    use_legacy_sql = false
  }

  # A view holds no data: recreating it loses nothing.
  deletion_protection = false

  depends_on = [google_bigquery_table.table]
}
