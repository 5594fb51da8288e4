# Daily ingestion: Cloud Scheduler publishes a fixed message, but job_id must differ each
# day (a job_id that already completed is skipped). The body therefore carries date
# placeholders that the ingest function expands from the message's publish time (UTC):
#   {date}     the publish date, YYYY-MM-DD
#   {date-Nd}  N days before it
# so "ingest-equities-{date}" becomes "ingest-equities-2024-06-03" on that day.

locals {
  ingest_job_bodies = {
    for name, s in var.ingest_schedules : name => jsonencode({
      job_id  = "ingest-${name}-{date}"
      symbols = s.symbols
      start   = "{date-${s.window_days}d}"
      end     = "{date}"
      params = {
        source            = s.source
        asset_class       = s.asset_class
        corporate_actions = s.corporate_actions
        # null unless the schedule loads a whole exchange (EODHD's bulk endpoint, one
        # request a day instead of one a symbol); the function reads null as absent.
        exchange = s.exchange
      }
    })
  }
}

resource "google_cloud_scheduler_job" "ingest" {
  for_each = var.ingest_schedules

  name        = "${local.prefix}ingest-${each.key}"
  description = each.value.exchange == null ? "Daily ${each.value.asset_class} prices from ${each.value.source} into the raw dataset." : "Daily ${each.value.asset_class} prices of the exchange ${each.value.exchange} from ${each.value.source} into the raw dataset."
  region      = var.region
  schedule    = coalesce(each.value.cron, var.ingest_cron)
  time_zone   = var.schedule_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.jobs["ingest"].id
    data       = base64encode(local.ingest_job_bodies[each.key])
  }

  depends_on = [google_project_service.api]
}
