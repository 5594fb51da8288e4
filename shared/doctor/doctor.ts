import path from 'node:path';
import type { BigQuery } from '@google-cloud/bigquery';
import type { ClientConfig, PubSub } from '@google-cloud/pubsub';
import { FUNCTION_NAMES } from '../registry.js';
import { LocalObjectStore } from '../results/localObjectStore.js';
import { EnvSecretSource } from '../secrets/envSecretSource.js';
import type { SecretSource } from '../secrets/secretSource.js';
import { JOB_STATISTICS_VIEW } from '../warehouse/jobStatisticsView.js';
import { LocalWarehouse } from '../warehouse/localWarehouse.js';
import { PRICE_TABLES as PRICE_TABLE_OF_CLASS, PRICES_VIEW, TABLES } from '../warehouse/schemas.js';
import { bucketCheck } from './bucketCheck.js';
import { fail, ok, skip, type Check } from './check.js';
import { doctorConfigSchema, type DoctorConfig } from './doctorConfig.js';
import { jobRunsCheck } from './jobRunsCheck.js';
import { jobRunsSinceSql, statsFromGroupedRows, summarizeJobRuns } from './jobRunStats.js';
import type { MonitoringGet } from './monitoringBacklogReader.js';
import { localFreshness } from './localPrices.js';
import { pricesCheck, type TableFreshness } from './pricesCheck.js';
import { pubsubChecks, type BacklogReader } from './pubsubChecks.js';
import { secretsCheck, type SecretAccessors } from './secretsCheck.js';
import { tablesCheck } from './tablesCheck.js';

/** The vendor keys the ingest function reads. */
export const VENDOR_SECRETS = ['EODHD_API_KEY', 'TWELVE_DATA_API_KEY'] as const;

/** The raw tables holding prices, whose freshness is checked. */
const PRICE_TABLES = Object.values(PRICE_TABLE_OF_CLASS);

/** Every table, then the views Terraform creates over them (locally, views are computed, not stored). */
const CLOUD_RELATIONS = [...Object.values(TABLES), { ...PRICES_VIEW, kind: 'view' as const }, { ...JOB_STATISTICS_VIEW, kind: 'view' as const }];

/** Things tests replace: the clock, and the clients that cannot point at a local stand-in. */
export interface DoctorOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => Date;
  /** Secret Manager (gRPC only) in place of the real one. */
  readonly secrets?: SecretSource;
  /** Who is granted access to a secret; default: Secret Manager's getIamPolicy. */
  readonly secretAccessors?: SecretAccessors;
  /** GETs a Cloud Monitoring URL; default: with Application Default Credentials. */
  readonly monitoringGet?: MonitoringGet;
}

/** The checks to run, in report order, and how to release the clients they opened. */
export interface Doctor {
  readonly checks: Check[];
  close(): Promise<void>;
}

/**
 * The doctor's checks for the configured environment: the project's bucket, tables,
 * topics, secrets and job runs when GCS_BUCKET is set; LOCAL_DATA_DIR, the fixture prices
 * and (with PUBSUB_EMULATOR_HOST) the emulator's topics otherwise. The Google clients are
 * imported only when needed, as in the functions.
 */
export async function createDoctor(options: DoctorOptions = {}): Promise<Doctor> {
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  const parsed = doctorConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    return { checks: [constant(fail('config', problems, 'fix these variables (see the Configuration section of the README)'))], close: async () => {} };
  }
  const config = parsed.data;
  return config.GCS_BUCKET ? cloudDoctor(config, config.GCS_BUCKET, now, options) : localDoctor(config, env, now);
}

async function cloudDoctor(config: DoctorConfig, bucket: string, now: () => Date, options: DoctorOptions): Promise<Doctor> {
  const [{ BigQuery }, { GcsObjectStore }, { emulatorAuth }, { BigQueryTableInspector }] = await Promise.all([
    import('@google-cloud/bigquery'),
    import('../results/gcsObjectStore.js'),
    import('../emulatorAuth.js'),
    import('./bigQueryTableInspector.js'),
  ]);
  const bigquery = new BigQuery({
    ...(config.GCP_PROJECT ? { projectId: config.GCP_PROJECT } : {}),
    ...(config.BIGQUERY_EMULATOR_HOST ? { apiEndpoint: config.BIGQUERY_EMULATOR_HOST, authClient: emulatorAuth() } : {}),
  });
  const project = config.GCP_PROJECT ?? (await bigquery.getProjectId());
  const datasets = { raw: config.BQ_DATASET_RAW, curated: config.BQ_DATASET_CURATED };
  const pubsub = await pubsubOf(config, project, options);
  const secrets = options.secrets ?? (await secretManagerOnly(project));
  const ingestIdentity = `serviceAccount:${config.INGEST_SERVICE_ACCOUNT ?? `ingest-fn@${project}.iam.gserviceaccount.com`}`;
  const accessors = options.secretAccessors ?? (await secretAccessorsOf(project));
  const logs = (model: string) => `gcloud logging read 'resource.labels.service_name="${model}" AND jsonPayload.error_code="internal"' --freshness=1d --project=${project}`;

  const checks: Check[] = [
    constant(ok('config', `cloud: project ${project}, bucket gs://${bucket}, datasets ${datasets.raw} and ${datasets.curated}${config.PUBSUB_EMULATOR_HOST ? `, Pub/Sub emulator ${config.PUBSUB_EMULATOR_HOST}` : ''}`)),
    bucketCheck(new GcsObjectStore(bucket), `gs://${bucket}`, `check GCS_BUCKET (terraform output artifacts_bucket) and that your account may write objects in it (roles/storage.objectUser)`),
    tablesCheck(new BigQueryTableInspector(bigquery, `project ${project}`), datasets, 'run terraform apply (terraform/warehouse.tf creates the datasets and tables from shared/warehouse/schemas.ts, and the views beside them)', CLOUD_RELATIONS),
    ...pubsub.checks,
    secretsCheck(secrets, VENDOR_SECRETS, {
      required: true,
      source: 'Secret Manager',
      reader: { member: ingestIdentity, accessors },
      fix: (name) => `add a value with: printf %s "$KEY" | gcloud secrets versions add ${name} --data-file=- (and check your account, or the ingest service account you impersonate, has roles/secretmanager.secretAccessor)`,
    }),
    pricesCheck(() => cloudFreshness(bigquery, `${project}.${datasets.raw}`), now, {
      stale: true,
      where: `${project}.${datasets.raw}`,
      fix: `check the ingest Scheduler jobs (gcloud scheduler jobs list) and the ingest function's logs (${logs('ingest')})`,
    }),
    jobRunsCheck(async (since) => statsFromGroupedRows(await query(bigquery, jobRunsSinceSql(`${project}.${datasets.curated}.job_runs`, (now().getTime() - since.getTime()) / 3600_000))), now, logs),
  ];
  return { checks, close: pubsub.close };
}

async function localDoctor(config: DoctorConfig, env: NodeJS.ProcessEnv, now: () => Date): Promise<Doctor> {
  const root = path.resolve(config.LOCAL_DATA_DIR);
  const datasets = { raw: config.BQ_DATASET_RAW, curated: config.BQ_DATASET_CURATED };
  const warehouse = new LocalWarehouse(path.join(root, 'bigquery'), datasets);
  const { LocalTableInspector } = await import('./localTableInspector.js');
  const project = config.GCP_PROJECT ?? 'local';
  const pubsub = config.PUBSUB_EMULATOR_HOST ? await pubsubOf(config, project, {}) : { checks: [constant(skip('pubsub', 'PUBSUB_EMULATOR_HOST is not set: locally jobs go straight to the functions (npm run job, npm run demo)'))], close: async () => {} };
  const jobRunsFile = warehouse.tableFile('job_runs');

  const checks: Check[] = [
    constant(ok('config', `local: LOCAL_DATA_DIR ${root}${config.PUBSUB_EMULATOR_HOST ? `, Pub/Sub emulator ${config.PUBSUB_EMULATOR_HOST} (project ${project})` : ''}`)),
    bucketCheck(new LocalObjectStore(path.join(root, 'bucket')), path.join(root, 'bucket'), 'make LOCAL_DATA_DIR a folder you can write to (or point LOCAL_DATA_DIR elsewhere)'),
    tablesCheck(new LocalTableInspector(path.join(root, 'bigquery')), datasets, `delete the table's file to start it afresh (it is recreated by the next job)`),
    ...pubsub.checks,
    secretsCheck(new EnvSecretSource(env), VENDOR_SECRETS, { required: false, source: 'the environment', fix: (name) => `set ${name}` }),
    localFreshness(config.FIXTURE_PRICES),
    pricesCheck(async () => Promise.all(PRICE_TABLES.map(async (table): Promise<TableFreshness> => ({ table, latest: latestDate(await warehouse.readRows(table)) }))), now, {
      stale: false,
      where: path.join(root, 'bigquery', datasets.raw),
      fix: 'run an ingest job (npm run job -- ingest <job.json>)',
    }),
    jobRunsCheck(async (since) => summarizeJobRuns(await warehouse.readRows('job_runs'), since), now, () => `grep '"error_code":"internal"' ${jobRunsFile} (error_message says what went wrong)`),
  ];
  return { checks, close: pubsub.close };
}

/** The Pub/Sub checks against the project, or the emulator; backlogs by metrics in the cloud, by peeking on the emulator. */
async function pubsubOf(config: DoctorConfig, project: string, options: DoctorOptions): Promise<{ checks: Check[]; close: () => Promise<void> }> {
  const [{ PubSub }, { GooglePubsubInspector, PeekBacklogReader }] = await Promise.all([import('@google-cloud/pubsub'), import('./googlePubsubInspector.js')]);
  // With the emulator, a fixed token: otherwise the client looks for Google credentials and a metadata server first.
  // The cast bridges two copies of google-auth-library (ours and google-gax's); the client only asks it for headers.
  const emulatorCredentials = config.PUBSUB_EMULATOR_HOST ? { authClient: (await import('../emulatorAuth.js')).emulatorAuth() as unknown as NonNullable<ClientConfig['authClient']> } : {};
  const client: PubSub = new PubSub({ projectId: project, ...emulatorCredentials });
  const where = config.PUBSUB_EMULATOR_HOST ? `the emulator at ${config.PUBSUB_EMULATOR_HOST} (project ${project})` : `project ${project}`;
  let backlogs: BacklogReader;
  let peek: InstanceType<typeof PeekBacklogReader> | undefined;
  if (config.PUBSUB_EMULATOR_HOST) backlogs = peek = new PeekBacklogReader(client, project);
  else {
    const { MonitoringBacklogReader } = await import('./monitoringBacklogReader.js');
    const get = options.monitoringGet ?? (await monitoringGetter(config));
    backlogs = new MonitoringBacklogReader(project, get, config.MONITORING_EMULATOR_HOST ?? undefined);
  }
  const topics = Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, `jobs-${fn}`]));
  return {
    checks: pubsubChecks(
      topics,
      new GooglePubsubInspector(client, where),
      backlogs,
      config.PUBSUB_EMULATOR_HOST ? 'create it in the emulator as terraform/messaging.tf does in the project (topic, push subscription with dead-letter policy, dead-letter topic and subscription)' : undefined,
    ),
    close: async () => {
      await peek?.close();
      await client.close();
    },
  };
}

/** GET with Application Default Credentials, or with a placeholder token against MONITORING_EMULATOR_HOST. */
async function monitoringGetter(config: DoctorConfig): Promise<MonitoringGet> {
  if (config.MONITORING_EMULATOR_HOST) {
    return async (url) => {
      const response = await fetch(url, { headers: { authorization: 'Bearer emulator' } });
      if (!response.ok) throw new Error(`Cloud Monitoring answered HTTP ${response.status} (the doctor's account needs roles/monitoring.viewer)`);
      return response.json();
    };
  }
  const { GoogleAuth } = await import('google-auth-library');
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/monitoring.read'] });
  return async (url) => (await auth.request({ url })).data;
}

/** Secret Manager alone: the doctor's own environment variables must not pass for the deployed secrets. */
async function secretManagerOnly(project: string): Promise<SecretSource> {
  const { SecretManagerSource } = await import('../secrets/secretManagerSource.js');
  const nothing: SecretSource = { get: (name) => Promise.reject(new Error(`${name} is read from Secret Manager only`)) };
  return new SecretManagerSource(project, nothing);
}

/** The members with roles/secretmanager.secretAccessor on a secret (its own IAM policy). */
async function secretAccessorsOf(project: string): Promise<SecretAccessors> {
  const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
  const client = new SecretManagerServiceClient();
  return async (secret) => {
    const [policy] = await client.getIamPolicy({ resource: `projects/${project}/secrets/${secret}` });
    return (policy.bindings ?? []).filter((b) => b.role === 'roles/secretmanager.secretAccessor').flatMap((b) => b.members ?? []);
  };
}

async function cloudFreshness(bigquery: BigQuery, dataset: string): Promise<TableFreshness[]> {
  const sql = PRICE_TABLES.map((t) => `SELECT '${t}' AS table_name, CAST(MAX(date) AS STRING) AS latest FROM \`${dataset}.${t}\``).join('\nUNION ALL\n');
  const rows = await query(bigquery, sql);
  return PRICE_TABLES.map((table) => {
    const row = rows.find((r) => r.table_name === table);
    const latest = row?.latest;
    return { table, latest: typeof latest === 'string' && latest !== '' ? latest : null };
  });
}

async function query(bigquery: BigQuery, sql: string): Promise<Record<string, unknown>[]> {
  const [job] = await bigquery.createQueryJob({ query: sql });
  const [rows] = await job.getQueryResults();
  return rows as Record<string, unknown>[];
}

function latestDate(rows: readonly Record<string, unknown>[]): string | null {
  let latest: string | null = null;
  for (const row of rows) if (typeof row.date === 'string' && (latest === null || row.date > latest)) latest = row.date;
  return latest;
}

function constant(outcome: ReturnType<typeof ok>): Check {
  return { name: outcome.name, run: async () => [outcome] };
}
