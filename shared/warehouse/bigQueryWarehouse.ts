import type { BigQuery } from '@google-cloud/bigquery';
import type { AccessTokenSource } from '../cloudAccessToken.js';
import { cloudFailure } from '../cloudErrors.js';
import { INSERT_ALL_RETRY, InsertAllClient, type InsertAllRetry } from './insertAllClient.js';
import { insertBatches } from './insertBatches.js';
import { mergeSql } from './mergeSql.js';
import { mergeStatement } from './mergeStatement.js';
import { PRICES_VIEW, TABLES, type Column, type RelationName, type TableName } from './schemas.js';
import type { InsertRow, Row, StagedRows, Warehouse } from './warehouse.js';

export interface BigQueryWarehouseOptions {
  readonly projectId?: string;
  readonly datasets: { raw: string; curated: string };
  /**
   * Location of the datasets (`europe-west3`, `EU`...). Every job is created and looked up
   * there: BigQuery finds a job outside the US and EU multi-regions only with its location,
   * and the client's recovery of a retried job insert (409) looks the job up by it.
   */
  readonly location: string;
  /** REST endpoint override. */
  readonly apiEndpoint?: string;
  /** An emulator's URL: used as the endpoint, with a placeholder token instead of Google credentials. */
  readonly emulatorHost?: string;
  readonly client?: BigQuery;
  /** Retries of a failed request inside the client before the fault goes to Pub/Sub (client default: 3). */
  readonly maxRetries?: number;
  /** The streaming inserts' retry delays (default: the client's; tests shorten them). `maxRetries` above still counts. */
  readonly insertRetry?: InsertAllRetry;
  /** The streaming inserts' access token (default: the metadata server, or application default credentials; none with an emulator). */
  readonly token?: AccessTokenSource;
}

type BigQueryModule = typeof import('./bigQueryClient.js');

/** Rows per MERGE statement: keeps each request well under BigQuery's 10 MB limit. */
const MERGE_BATCH = 2000;

/**
 * The warehouse in BigQuery: streaming inserts with insert ids, MERGE for upserts, parameterized queries.
 * The inserts (a job's rows and metrics: all a cloud function's first event writes) are direct
 * `insertAll` requests (`InsertAllClient`); everything else goes through the BigQuery client,
 * whose module (~90 ms of evaluation) is imported on the first such call only.
 */
export class BigQueryWarehouse implements Warehouse {
  private readonly inserts: InsertAllClient;
  private loading: Promise<{ client: BigQuery; BigQuery: BigQueryModule['BigQuery'] }> | undefined;

  constructor(private readonly options: BigQueryWarehouseOptions) {
    const retry = options.insertRetry ?? INSERT_ALL_RETRY;
    this.inserts = new InsertAllClient({
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      ...(options.emulatorHost ? { emulatorHost: options.emulatorHost } : {}),
      ...(options.token ? { token: options.token } : {}),
      retry: options.maxRetries !== undefined ? { ...retry, maxRetries: options.maxRetries } : retry,
    });
  }

  /** The BigQuery client, its module imported on first use (a failed import is tried again by the next call). */
  private bigQuery(): Promise<{ client: BigQuery; BigQuery: BigQueryModule['BigQuery'] }> {
    this.loading ??= import('./bigQueryClient.js').then(
      ({ BigQuery, createBigQueryClient }) => ({ client: this.options.client ?? createBigQueryClient(this.options), BigQuery }),
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  /**
   * Streams rows in, one `insertAll` request per batch of `insertBatches` (BigQuery refuses a
   * request over 10 MB or 50,000 rows), one after the other. A batch that fails is thrown; the
   * batches before it stay, and their insert ids make sending them again harmless.
   */
  async insertRows(table: TableName, rows: readonly InsertRow[]): Promise<void> {
    if (rows.length === 0) return;
    const dataset = this.dataset(table);
    let sent = 0;
    for (const batch of insertBatches(rows)) {
      try {
        // Rows BigQuery rejected as invalid are not re-sent (they never pass); the failure is classified below.
        await this.inserts.insert(await this.project(), dataset, table, batch);
      } catch (error) {
        const which = batch.length === rows.length ? `${rows.length} rows` : `rows ${sent + 1}-${sent + batch.length} of ${rows.length}`;
        throw cloudFailure(`Inserting ${which} into ${dataset}.${table}`, error);
      }
      sent += batch.length;
    }
  }

  async upsertRows(table: TableName, keyColumns: readonly string[], rows: readonly Row[]): Promise<{ inserted: number; updated: number }> {
    const columns = TABLES[table].columns;
    const target = await this.qualified(table);
    const { client, BigQuery } = await this.bigQuery();
    const rowType = Object.fromEntries(columns.map((c) => [c.name, paramType(c)]));
    let inserted = 0;
    let updated = 0;
    for (let i = 0; i < rows.length; i += MERGE_BATCH) {
      const slice = rows.slice(i, i + MERGE_BATCH);
      const { sql, range } = mergeStatement(target, columns, keyColumns, slice);
      const batch = slice.map((row) => Object.fromEntries(columns.map((c) => [c.name, paramValue(BigQuery, c, row[c.name])])));
      try {
        const [job] = await client.createQueryJob({
          query: sql,
          location: this.options.location,
          params: { rows: batch, ...(range ? { symbols: [...range.symbols], first_date: BigQuery.date(range.firstDate), last_date: BigQuery.date(range.lastDate) } : {}) },
          types: { rows: [rowType], ...(range ? { symbols: ['STRING'], first_date: 'DATE', last_date: 'DATE' } : {}) },
        });
        await job.getQueryResults();
        const [metadata] = await job.getMetadata();
        const stats = metadata?.statistics?.query?.dmlStats ?? {};
        inserted += Number(stats.insertedRowCount ?? 0);
        updated += Number(stats.updatedRowCount ?? 0);
      } catch (error) {
        throw cloudFailure(`Merging ${batch.length} rows into ${target}`, error);
      }
    }
    return { inserted, updated };
  }

  /**
   * A load job from the staged NDJSON objects into a staging table beside the target
   * (`_stage_<stageId>`, replaced if a crashed run left one), one MERGE from it, then the
   * staging table is dropped. Load jobs are free and do not count as DML.
   */
  async mergeStaged(table: TableName, keyColumns: readonly string[], staged: StagedRows, stageId: string): Promise<{ inserted: number; updated: number }> {
    const columns = TABLES[table].columns;
    const target = await this.qualified(table);
    const projectId = target.split('.')[0];
    const datasetId = this.dataset(table);
    const tableId = `_stage_${stageId.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 1024);
    const { client } = await this.bigQuery();
    try {
      const [load] = await client.createJob({
        location: this.options.location,
        configuration: {
          load: {
            sourceUris: [...staged.uris],
            sourceFormat: 'NEWLINE_DELIMITED_JSON',
            destinationTable: { projectId, datasetId, tableId },
            schema: { fields: columns.map((c) => ({ name: c.name, type: c.type, mode: c.mode, description: c.description })) },
            createDisposition: 'CREATE_IF_NEEDED',
            writeDisposition: 'WRITE_TRUNCATE',
          },
        },
      });
      await load.promise();
    } catch (error) {
      throw cloudFailure(`Loading ${staged.uris.join(', ')} into ${projectId}.${datasetId}.${tableId}`, error);
    }
    const sql = mergeSql({ target, source: `\`${projectId}.${datasetId}.${tableId}\``, keyColumns, columns: columns.map((c) => c.name), dateRange: staged.dateRange });
    let counts: { inserted: number; updated: number };
    try {
      const [job] = await client.createQueryJob({ query: sql, location: this.options.location });
      await job.getQueryResults();
      const [metadata] = await job.getMetadata();
      const stats = metadata?.statistics?.query?.dmlStats ?? {};
      counts = { inserted: Number(stats.insertedRowCount ?? 0), updated: Number(stats.updatedRowCount ?? 0) };
    } catch (error) {
      throw cloudFailure(`Merging ${projectId}.${datasetId}.${tableId} into ${target}`, error);
    }
    // The rows are merged: a staging table left behind (the drop failed) is replaced by the next load of this stage.
    await client
      .dataset(datasetId)
      .table(tableId)
      .delete({ ignoreNotFound: true })
      .catch(() => undefined);
    return counts;
  }

  async queryBySymbols(relation: RelationName, symbols: readonly string[], start: string, end: string): Promise<Row[]> {
    const target = await this.qualified(relation);
    const schema = relation === PRICES_VIEW.name ? PRICES_VIEW : TABLES[relation];
    const names = schema.columns.map((c) => (c.type === 'DATE' ? `CAST(${c.name} AS STRING) AS ${c.name}` : c.name));
    const { client, BigQuery } = await this.bigQuery();
    try {
      const [rows] = await client.query({
        query: `SELECT ${names.join(', ')} FROM \`${target}\` WHERE symbol IN UNNEST(@symbols) AND date BETWEEN @start AND @end ORDER BY symbol, date`,
        location: this.options.location,
        params: { symbols: [...symbols], start: BigQuery.date(start), end: BigQuery.date(end) },
        types: { symbols: ['STRING'], start: 'DATE', end: 'DATE' },
      });
      return rows as Row[];
    } catch (error) {
      throw cloudFailure(`Querying ${target}`, error);
    }
  }

  private dataset(relation: RelationName): string {
    return this.options.datasets[relation === PRICES_VIEW.name ? PRICES_VIEW.dataset : TABLES[relation].dataset];
  }

  private async qualified(relation: RelationName): Promise<string> {
    return `${await this.project()}.${this.dataset(relation)}.${relation}`;
  }

  /** The configured project, else the one the client finds (its credentials, the metadata server): the client is loaded only then. */
  private async project(): Promise<string> {
    return this.options.projectId ?? (await (await this.bigQuery()).client.getProjectId());
  }
}

function paramType(column: Column): string {
  return column.type;
}

/**
 * The client sends a plain string as a DATE or TIMESTAMP parameter with an empty value;
 * it needs its own wrapper types for those.
 */
function paramValue(BigQuery: BigQueryModule['BigQuery'], column: Column, value: Row[string] | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (column.type === 'DATE') return BigQuery.date(String(value));
  if (column.type === 'TIMESTAMP') return BigQuery.timestamp(String(value));
  return value;
}
