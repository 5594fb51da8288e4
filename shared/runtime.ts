import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from './config.js';
import type { EventPublisher } from './events/eventPublisher.js';
import { LocalEventPublisher } from './events/localEventPublisher.js';
import type { JobServices } from './job/lifecycle.js';
import type { Publisher } from './messaging/publisher.js';
import { createLogger, type Logger } from './log.js';
import { FixturePriceSource } from './prices/fixturePriceSource.js';
import type { PriceRow, PriceSource } from './prices/priceSource.js';
import { WarehousePriceSource } from './prices/warehousePriceSource.js';
import { LocalObjectStore } from './results/localObjectStore.js';
import type { ObjectStore } from './results/objectStore.js';
import { EnvSecretSource } from './secrets/envSecretSource.js';
import type { SecretSource } from './secrets/secretSource.js';
import { DeferredWarehouse } from './warehouse/deferredWarehouse.js';
import { LocalWarehouse } from './warehouse/localWarehouse.js';
import { PRICES_VIEW } from './warehouse/schemas.js';
import type { Warehouse } from './warehouse/warehouse.js';

/**
 * Chooses every adapter from configuration. The Google clients are imported only when
 * the configuration asks for them: locally they are never loaded, and in the cloud they
 * load on the first event rather than at start-up.
 */
export async function createServices(env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<JobServices> {
  const config = loadConfig(env);
  const logger = log ?? createLogger(config.LOG_LEVEL);
  const local = path.resolve(config.LOCAL_DATA_DIR);
  const datasets = { raw: config.BQ_DATASET_RAW, curated: config.BQ_DATASET_CURATED };

  let store: ObjectStore;
  let warehouse: Warehouse;
  let localWarehouse: LocalWarehouse | undefined;
  if (config.GCS_BUCKET) {
    // The job needs the bucket first (its first look and its claim); BigQuery only for its
    // rows, after the commit: that client finishes loading while the first requests are out.
    warehouse = new DeferredWarehouse(async () => {
      const { BigQueryWarehouse } = await bigQueryModule();
      return new BigQueryWarehouse({ projectId: config.GCP_PROJECT, datasets, location: config.BQ_LOCATION, emulatorHost: config.BIGQUERY_EMULATOR_HOST });
    });
    const { GcsObjectStore } = await storageModule();
    store = new GcsObjectStore(config.GCS_BUCKET);
  } else {
    store = new LocalObjectStore(path.join(local, 'bucket'));
    warehouse = localWarehouse = new LocalWarehouse(path.join(local, 'bigquery'), datasets);
  }

  let prices: PriceSource;
  if (config.USE_FIXTURE) {
    const csv = config.FIXTURE_PRICES ? path.resolve(config.FIXTURE_PRICES) : defaultFixturePrices();
    const ingested = localWarehouse;
    prices = new FixturePriceSource(csv, ingested ? async (symbols, start, end) => (await ingested.queryBySymbols(PRICES_VIEW.name, symbols, start, end)) as unknown as PriceRow[] : undefined);
  } else {
    prices = new WarehousePriceSource(warehouse);
  }

  let secrets: SecretSource = new EnvSecretSource(env);
  if (config.USE_SECRET_MANAGER) {
    const { SecretManagerSource } = await import('./secrets/secretManagerSource.js');
    secrets = new SecretManagerSource(config.GCP_PROJECT, secrets);
  }

  let publisher: Publisher | undefined;
  if (config.MC_SHARD_TOPIC) {
    if (!config.GCP_PROJECT) throw new Error('Invalid configuration: MC_SHARD_TOPIC needs GCP_PROJECT (the project of the topic). See the Configuration section of the README.');
    const { PubsubRestPublisher } = await import('./messaging/pubsubRestPublisher.js');
    publisher = new PubsubRestPublisher(config.GCP_PROJECT, config.PUBSUB_EMULATOR_HOST);
  }

  let events: EventPublisher | undefined;
  // Deployed, Terraform sets JOB_EVENTS=pubsub; with a bucket but no such setting (a laptop
  // or a test against a storage stand-in) there is no topic to assume.
  switch (config.JOB_EVENTS ?? (config.PUBSUB_EMULATOR_HOST ? 'pubsub' : config.GCS_BUCKET ? 'none' : 'local')) {
    case 'pubsub': {
      const { PubsubEventPublisher } = await import('./events/pubsubEventPublisher.js');
      events = new PubsubEventPublisher({ topic: config.JOB_EVENTS_TOPIC, projectId: config.GCP_PROJECT, emulatorHost: config.PUBSUB_EMULATOR_HOST });
      break;
    }
    case 'local':
      events = new LocalEventPublisher(path.join(local, 'pubsub', `${config.JOB_EVENTS_TOPIC}.ndjson`));
      break;
    case 'none':
      break;
  }

  return { store, warehouse, prices, secrets, config, log: logger, leaseMs: config.JOB_LEASE_SECONDS * 1000, events, ...(publisher && { publisher }) };
}

// The Storage and BigQuery adapters' modules: their own requests, no Google client (the
// BigQuery client, which the warehouse needs for queries and MERGE only, loads on such a call).
const storageModule = () => import('./results/gcsObjectStore.js');
const bigQueryModule = () => import('./warehouse/bigQueryWarehouse.js');

/**
 * Starts loading, in the background, the Google clients that `createServices` will load for
 * this environment (a bucket: the Storage client, then BigQuery's), so that a deployed
 * function's first event finds them loaded, or partly loaded, rather than starting to load
 * them then: the framework finishes starting and the event travels while they load. Only the
 * modules are loaded (a module is loaded once, whoever imports it first); nothing is built
 * from the environment here, and a failure is left for `createServices` to meet and report.
 */
export function preloadAdapters(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.GCS_BUCKET) return;
  storageModule()
    .then(bigQueryModule)
    .catch(() => undefined);
}

/**
 * The fixture CSV: beside a function's bundle (dist/<function>/fixtures/), else the repo's
 * fixtures/ seen from the sources (shared/) or from the command line's bundle (dist/cli/),
 * whatever folder the command runs in; else fixtures/ under the working folder.
 */
export function defaultFixturePrices(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'fixtures', 'prices.csv'),
    path.join(here, '..', 'fixtures', 'prices.csv'),
    path.join(here, '..', '..', 'fixtures', 'prices.csv'),
    path.resolve('fixtures', 'prices.csv'),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[candidates.length - 1];
}

export type { Config };
