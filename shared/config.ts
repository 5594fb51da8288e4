import * as z from 'zod';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * The environment, parsed once at start-up. Every variable is documented in the README;
 * names follow the original Python worker where it had one.
 */
export const configSchema = z.object({
  GCP_PROJECT: z.string().min(1).optional(),
  /** Artifacts bucket; without it, results go to LOCAL_DATA_DIR. */
  GCS_BUCKET: z.string().min(1).optional(),
  BQ_DATASET_RAW: z.string().regex(/^\w+$/, 'must be a BigQuery dataset id').default('raw'),
  BQ_DATASET_CURATED: z.string().regex(/^\w+$/, 'must be a BigQuery dataset id').default('curated'),
  /**
   * Location of both datasets, where BigQuery jobs run and are looked up. The default is
   * Terraform's default region; Terraform sets it from `bigquery_location` or `region`.
   */
  BQ_LOCATION: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a BigQuery location such as europe-west3 or EU').default('europe-west3'),
  /** Read prices from FIXTURE_PRICES (and local tables) instead of BigQuery. */
  USE_FIXTURE: flag,
  FIXTURE_PRICES: z.string().min(1).optional(),
  LOCAL_DATA_DIR: z.string().min(1).default('.local'),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR']).default('INFO'),
  /** Read vendor keys from Secret Manager (deployed) rather than the environment. */
  USE_SECRET_MANAGER: flag,
  EODHD_BASE_URL: z.url().default('https://eodhd.com/api'),
  TWELVE_DATA_BASE_URL: z.url().default('https://api.twelvedata.com'),
  /**
   * A BigQuery emulator or stand-in (tests, benchmarks): its URL becomes the client's
   * apiEndpoint and requests carry a placeholder token, as the storage client does for
   * STORAGE_EMULATOR_HOST.
   */
  BIGQUERY_EMULATOR_HOST: z.url().optional(),
  /**
   * Requests a minute the ingest function may make per vendor key. EODHD allows 1,000 a
   * minute on every plan; Twelve Data's plans allow 8 (Basic), 55 and up (Grow), 610 and up
   * (Pro): 55 fits the smallest paid plan, and a 429 lowers it by itself.
   */
  EODHD_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(1000),
  TWELVE_DATA_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(55),
  /** Vendor requests an ingest job keeps in flight at once (within the per-minute budget). */
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  /**
   * How long a run's claim keeps redeliveries of the same job off it without renewal; a
   * heartbeat renews it every quarter lease while the job runs, so it bounds how long a
   * crashed run strands its job. Shorter than the push subscription's retries (README "Reliability").
   */
  JOB_LEASE_SECONDS: z.coerce.number().int().min(1).default(60),
  /** `host:port` of the Pub/Sub emulator: job events go there (and `npm run submit` publishes there). */
  PUBSUB_EMULATOR_HOST: z.string().regex(/^[\w.-]+:\d+$/, 'must be host:port').optional(),
  /** The topic every finished job is announced on. */
  JOB_EVENTS_TOPIC: z.string().regex(/^[A-Za-z][\w.~+%-]{2,254}$/, 'must be a Pub/Sub topic name').default('job-events'),
  /**
   * Where job events go: `pubsub` (the topic, or the emulator), `local` (a file under
   * LOCAL_DATA_DIR) or `none`. Default: `pubsub` with an emulator, `local` without a bucket,
   * else `none` (Terraform sets `pubsub` on the deployed functions).
   */
  JOB_EVENTS: z.enum(['pubsub', 'local', 'none']).optional(),
  /**
   * Threads valuing and encoding a large Black-Scholes batch (from 20,000 options): 1 or 2;
   * default 2 when the machine has two cores or more.
   */
  BS_THREADS: z.coerce.number().int().min(1).max(2).optional(),
  /**
   * `0` keeps Markowitz on one thread (no helper thread for half the fixture CSV, half the
   * covariance product and a large covariance's JSON); default: a helper with two cores or
   * more. Read by shared/parallel/helperThread.ts before any config exists; listed here for
   * Terraform's check that every variable it sets is one the code reads.
   */
  HELPER_THREAD: z.enum(['0', '1']).optional(),
  /** Threads for Monte Carlo; default: all cores. */
  MC_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  /**
   * The topic Monte Carlo shard tasks go to (Terraform: montecarlo-shards). Without it a
   * sharded job runs its shards in the process that received it.
   */
  MC_SHARD_TOPIC: z.string().regex(/^[A-Za-z][\w.~+%-]{2,254}$/, 'must be a Pub/Sub topic name').optional(),

});

export type Config = z.infer<typeof configSchema>;

/** Parses the environment; a bad variable stops start-up with a message naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}. See the Configuration section of the README.`);
  }
  return parsed.data;
}
