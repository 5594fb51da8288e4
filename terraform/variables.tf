variable "project" {
  description = "Google Cloud project id to deploy into."
  type        = string
}

variable "region" {
  description = "Region of the functions, buckets, Scheduler jobs and (unless bigquery_location is set) the datasets."
  type        = string
  default     = "europe-west3"
}

variable "name_prefix" {
  description = "Prefix for the names this project chooses (functions, service accounts, buckets, subscriptions, secrets, Scheduler jobs), to run two deployments in one project. Topic names come from the job contract and dataset ids from dataset_raw/dataset_curated; override those separately. Empty: no prefix."
  type        = string
  default     = ""

  validation {
    # Service account ids are at most 30 characters; the longest one is "<prefix>-blackscholes-fn".
    condition     = can(regex("^([a-z][a-z0-9-]{0,9})?$", var.name_prefix))
    error_message = "name_prefix must be empty or 1-10 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "dataset_raw" {
  description = "BigQuery dataset id of the vendor price tables (the code's BQ_DATASET_RAW)."
  type        = string
  default     = "raw"
}

variable "dataset_curated" {
  description = "BigQuery dataset id of the job output tables (the code's BQ_DATASET_CURATED)."
  type        = string
  default     = "curated"
}

variable "bigquery_location" {
  description = "Location of the datasets, e.g. EU; null puts them in region."
  type        = string
  default     = null
}

variable "artifact_retention_days" {
  description = "Days after which job artifacts (result.json, status.json, chart.svg) are deleted from the artifacts bucket; 0 keeps them forever. A job_id whose artifacts were deleted runs again if re-sent."
  type        = number
  default     = 90

  validation {
    condition     = var.artifact_retention_days >= 0 && floor(var.artifact_retention_days) == var.artifact_retention_days
    error_message = "artifact_retention_days must be a whole number of days, 0 or more."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of a job message (first one included) before Pub/Sub moves it to the function's dead-letter topic. Only transient faults are retried; a bad job is acknowledged at once."
  type        = number
  default     = 5

  validation {
    # The bounds Pub/Sub accepts for a dead-letter policy.
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every function: DEBUG, INFO, WARNING or ERROR."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARNING, ERROR."
  }
}

variable "function_ingress" {
  description = "Ingress setting of the functions. Invocation needs run.invoker either way, which only the Pub/Sub push identity has; ALLOW_INTERNAL_ONLY also closes the network path, but whether a same-project push subscription counts as internal traffic depends on the project's network setup (VPC Service Controls), so verify it before tightening."
  type        = string
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.function_ingress)
    error_message = "function_ingress must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "node_runtime" {
  description = "Cloud Run functions runtime of every function (function_overrides.<fn>.runtime changes one): a GA Node.js runtime of node-runtimes.json, not decommissioned. `npm run build` reads it (and terraform.tfvars) to build each bundle for its runtime; rebuild after changing it. Moving to the next runtime: README.md, Deploy."
  type        = string
  default     = "nodejs24"

  validation {
    condition     = can(regex("^nodejs[0-9]+$", var.node_runtime))
    error_message = "node_runtime must be a Cloud Run functions Node.js runtime id such as nodejs24."
  }
}

variable "function_overrides" {
  description = "Per-function changes to the settings in local.function_settings (functions.tf), keyed by function name: runtime (\"nodejs22\"; default node_runtime), memory (\"4Gi\"), cpu (\"4\"), timeout_seconds (at most 540), min/max instances, topic (the job topic's name) and extra environment variables."
  type = map(object({
    runtime         = optional(string)
    memory          = optional(string)
    cpu             = optional(string)
    timeout_seconds = optional(number)
    min_instances   = optional(number)
    max_instances   = optional(number)
    topic           = optional(string)
    env             = optional(map(string), {})
  }))
  default = {}

  validation {
    # Refers to the one list of functions (functions.tf), so adding a model edits only that map.
    condition     = alltrue([for name in keys(var.function_overrides) : contains(keys(local.function_settings), name)])
    error_message = "function_overrides keys must be function names (the keys of local.function_settings in functions.tf)."
  }

  validation {
    # A push subscription waits at most 600 s for an answer; a longer run would be redelivered while still running.
    condition     = alltrue([for o in values(var.function_overrides) : o.timeout_seconds == null || try(o.timeout_seconds <= 540, false)])
    error_message = "timeout_seconds must be at most 540 (Pub/Sub's 600 s acknowledgement deadline, less a margin)."
  }

  validation {
    condition     = alltrue([for o in values(var.function_overrides) : o.runtime == null || can(regex("^nodejs[0-9]+$", o.runtime))])
    error_message = "function_overrides.<fn>.runtime must be a Cloud Run functions Node.js runtime id such as nodejs24."
  }
}

variable "ingest_schedules" {
  description = "Daily ingestion jobs, one Cloud Scheduler job each, keyed by a short name used in the job_id. Each publishes to the ingest topic a job whose {date} placeholders the function expands from the message's publish time (see README). With exchange (an EODHD exchange code such as US), the job loads every symbol of that exchange (or only symbols, if listed) from EODHD's bulk end-of-day endpoint: one request a day instead of one a symbol."
  type = map(object({
    symbols           = optional(list(string), [])
    exchange          = optional(string, null)
    source            = string
    asset_class       = string
    window_days       = optional(number, 7)
    corporate_actions = optional(bool, false)
    cron              = optional(string)
  }))
  default = {
    equities = {
      symbols           = ["AAPL.US", "MSFT.US"]
      source            = "eodhd"
      asset_class       = "equity"
      corporate_actions = true
    }
  }

  validation {
    condition = alltrue([for k, s in var.ingest_schedules :
      can(regex("^[a-z0-9-]{1,40}$", k)) && (length(s.symbols) > 0 || s.exchange != null) &&
      contains(["eodhd", "twelvedata"], s.source) && contains(["equity", "fx", "crypto"], s.asset_class) &&
      s.window_days >= 0 && (!s.corporate_actions || (s.source == "eodhd" && s.asset_class == "equity" && s.exchange == null)) &&
      (s.exchange == null || (s.source == "eodhd" && can(regex("^[A-Za-z0-9]{1,10}$", coalesce(s.exchange, "-")))))])
    error_message = "Each ingest schedule needs a key of 1-40 lowercase letters, digits or hyphens, at least one symbol or an exchange, source eodhd|twelvedata, asset_class equity|fx|crypto, window_days >= 0, corporate_actions only for eodhd equities listed by symbol, and exchange (an EODHD exchange code) only with source eodhd."
  }
}

variable "ingest_requests_per_minute" {
  description = "Requests a minute the ingest function makes per vendor key (the plan's limit): EODHD allows 1000 on every plan; Twelve Data 8 (Basic), 55 and up (Grow), 610 and up (Pro). A 429 lowers the rate by itself; this keeps it from being hit."
  type = object({
    eodhd      = optional(number, 1000)
    twelvedata = optional(number, 55)
  })
  default = {}

  validation {
    condition     = var.ingest_requests_per_minute.eodhd >= 1 && var.ingest_requests_per_minute.twelvedata >= 1
    error_message = "ingest_requests_per_minute values must be at least 1."
  }
}

variable "ingest_cron" {
  description = "Default cron schedule of the ingest jobs (a schedule's own cron wins), in schedule_time_zone."
  type        = string
  default     = "0 23 * * *"
}

variable "schedule_time_zone" {
  description = "Time zone of the cron schedules. {date} is always the UTC date of the publish time, so keep runs clear of midnight UTC."
  type        = string
  default     = "Etc/UTC"
}

variable "deletion_protection" {
  description = "Refuse to destroy the BigQuery tables and delete non-empty buckets on terraform destroy."
  type        = bool
  default     = true
}

variable "job_events_topic" {
  description = "Topic on which every function announces each finished job (the job contract's job-events; like the job topics, not prefixed by name_prefix)."
  type        = string
  default     = "job-events"
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/<p>/notificationChannels/<id>) the alert policies notify. Empty: incidents open in the console without notifying anyone."
  type        = list(string)
  default     = []
}

variable "alert_error_rate" {
  description = "Share of a function's deliveries answered 5xx (transient faults, crashes, timeouts) over 10 minutes above which the error-rate alert fires."
  type        = number
  default     = 0.1

  validation {
    condition     = var.alert_error_rate > 0 && var.alert_error_rate < 1
    error_message = "alert_error_rate must be a fraction between 0 and 1, e.g. 0.1."
  }
}

variable "alert_timeout_fraction" {
  description = "Fraction of a function's timeout_seconds above which its p99 run time fires the near-timeout alert."
  type        = number
  default     = 0.8

  validation {
    condition     = var.alert_timeout_fraction > 0 && var.alert_timeout_fraction < 1
    error_message = "alert_timeout_fraction must be a fraction between 0 and 1, e.g. 0.8."
  }
}
