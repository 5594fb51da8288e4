# The `prices` view: every asset class's daily bars (eq_ohlcv, fx_ohlcv, crypto_ohlcv) in one
# relation with an asset_class column, which the models query (shared/prices/warehousePriceSource.ts).
# Its SQL is generated from shared/warehouse/schemas.ts (PRICES_VIEW) into schemas/prices.sql.tftpl
# by scripts/terraformSchemas.ts. No schema block: BigQuery derives a view's columns from its
# query (a declared one would come back NULLABLE and diff on every plan).

resource "google_bigquery_table" "prices_view" {
  dataset_id  = google_bigquery_dataset.dataset["raw"].dataset_id
  table_id    = "prices"
  description = "Daily OHLCV bars of every asset class (eq_ohlcv, fx_ohlcv, crypto_ohlcv), one row per table, symbol and date"

  view {
    query = templatefile("${path.module}/schemas/prices.sql.tftpl", {
      project = var.project
      dataset = google_bigquery_dataset.dataset["raw"].dataset_id
    })
    use_legacy_sql = false
  }

  deletion_protection = var.deletion_protection

  # The view is validated against the tables it reads when it is created.
  depends_on = [google_bigquery_table.table]
}
