/**
 * Every BigQuery table the code reads or writes, with its columns, partitioning and
 * clustering. The one source of truth: the adapters write these columns, the local
 * tables use them, and the Terraform test checks terraform/ against them.
 */
export type ColumnType = 'DATE' | 'STRING' | 'FLOAT64' | 'INT64' | 'TIMESTAMP' | 'BOOL';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly mode: 'REQUIRED' | 'NULLABLE';
  readonly description: string;
}

export interface TableSchema {
  /** Which dataset the table lives in: the raw (vendor data) or curated (job output) one. */
  readonly dataset: 'raw' | 'curated';
  readonly name: string;
  readonly description: string;
  readonly columns: readonly Column[];
  /** Day partitioning on this DATE or TIMESTAMP column; null: not partitioned (see the price tables). */
  readonly partitionBy: string | null;
  readonly clusterBy: readonly string[];
}

const req = (name: string, type: ColumnType, description: string): Column => ({ name, type, mode: 'REQUIRED', description });
const opt = (name: string, type: ColumnType, description: string): Column => ({ name, type, mode: 'NULLABLE', description });

const ohlcvColumns: readonly Column[] = [
  req('date', 'DATE', 'Trading day'),
  req('symbol', 'STRING', 'Ticker as used in jobs, vendor suffix removed (AAPL, EURUSD, BTCUSD)'),
  opt('open', 'FLOAT64', 'Opening price'),
  opt('high', 'FLOAT64', 'High price'),
  opt('low', 'FLOAT64', 'Low price'),
  req('close', 'FLOAT64', 'Closing price, as traded'),
  opt('adj_close', 'FLOAT64', 'Close adjusted for splits and dividends'),
  opt('volume', 'FLOAT64', 'Traded volume'),
  req('source', 'STRING', 'Vendor the row came from: eodhd or twelvedata'),
  req('ingested_at', 'TIMESTAMP', 'When the row was loaded'),
];

/**
 * The price tables are not partitioned, and are clustered on (symbol, date). They are small
 * for BigQuery (5,000 symbols x 30 years of trading days is ~38 M rows, a few GB; a day
 * partition would hold ~1 MB, where Google advises partitions of ~10 GB and clustering
 * below that), they are read by symbol and date range, and written by MERGEs restricted to
 * a batch's symbols and dates. Day partitions on `date` made one universe backfill reach
 * both the 10,000-partitions-per-table limit (27 years of days) and the 30,000 partition
 * modifications per table per day (each MERGE of one symbol's history modifies one
 * partition per date it holds). Unpartitioned, neither limit applies; clustering keeps the
 * reads and the pruned MERGEs to the blocks of the symbols concerned.
 */
const ohlcv = (name: string, what: string): TableSchema => ({
  dataset: 'raw',
  name,
  description: `Daily OHLCV bars of ${what}, one row per symbol and date`,
  columns: ohlcvColumns,
  partitionBy: null,
  clusterBy: ['symbol', 'date'],
});

export const TABLES = {
  eq_ohlcv: ohlcv('eq_ohlcv', 'equities'),
  fx_ohlcv: ohlcv('fx_ohlcv', 'currency pairs'),
  crypto_ohlcv: ohlcv('crypto_ohlcv', 'crypto assets'),
  corporate_actions: {
    dataset: 'raw',
    name: 'corporate_actions',
    description: 'Dividends and splits, one row per symbol, date and action',
    columns: [
      req('date', 'DATE', 'Ex-date of the dividend or date of the split'),
      req('symbol', 'STRING', 'Ticker, vendor suffix removed'),
      req('action', 'STRING', 'dividend or split'),
      opt('amount', 'FLOAT64', 'Dividend per share adjusted for every later split (EODHD value), on the scale of adj_close; null for a split'),
      opt('unadjusted_amount', 'FLOAT64', 'Dividend per share as paid on the ex-date (EODHD unadjustedValue), on the scale of that day\'s raw close: use it for total return on raw prices; null for a split or when the vendor gives none'),
      opt('split_ratio', 'FLOAT64', 'New shares per old share (null for a dividend)'),
      req('source', 'STRING', 'Vendor the row came from'),
      req('ingested_at', 'TIMESTAMP', 'When the row was loaded'),
    ],
    // Written and read like the price tables: by symbol, over long date ranges.
    partitionBy: null,
    clusterBy: ['symbol', 'date'],
  },
  job_runs: {
    dataset: 'curated',
    name: 'job_runs',
    description: 'One row per job run: its final status and where its artifacts are',
    columns: [
      req('job_id', 'STRING', 'The job_id of the job'),
      req('model', 'STRING', 'Function that ran it'),
      req('status', 'STRING', 'completed or failed'),
      opt('started_at', 'TIMESTAMP', 'When the run started'),
      req('finished_at', 'TIMESTAMP', 'When the run finished'),
      opt('duration_ms', 'FLOAT64', 'Wall time of the run'),
      opt('error_code', 'STRING', 'invalid_job, unknown_symbol, insufficient_data or internal'),
      opt('error_message', 'STRING', 'Why the job failed'),
      opt('result_uri', 'STRING', 'URI of result.json'),
      opt('chart_uri', 'STRING', 'URI of chart.svg'),
    ],
    partitionBy: 'finished_at',
    clusterBy: ['model', 'job_id'],
  },
  model_metrics: {
    dataset: 'curated',
    name: 'model_metrics',
    description: 'One row per scalar metric of a completed job',
    columns: [
      req('job_id', 'STRING', 'The job_id of the job'),
      req('model', 'STRING', 'Function that ran it'),
      req('metric', 'STRING', 'Dotted path of the metric in result.json, e.g. portfolio.var.0.95'),
      opt('symbol', 'STRING', 'Symbol the metric is about, if any'),
      req('value', 'FLOAT64', 'The value'),
      req('recorded_at', 'TIMESTAMP', 'When the job finished'),
    ],
    partitionBy: 'recorded_at',
    clusterBy: ['job_id', 'metric'],
  },
} as const satisfies Record<string, TableSchema>;

export type TableName = keyof typeof TABLES;

/** The raw table of each asset class (ingest's `params.asset_class` names the classes). */
export const PRICE_TABLES = {
  equity: 'eq_ohlcv',
  fx: 'fx_ohlcv',
  crypto: 'crypto_ohlcv',
} as const satisfies Record<string, TableName>;

export type AssetClass = keyof typeof PRICE_TABLES;

/** A read-only relation defined by a query over tables (a BigQuery view). */
export interface ViewSchema {
  readonly dataset: 'raw' | 'curated';
  readonly name: string;
  readonly description: string;
  readonly columns: readonly Column[];
}

/**
 * `prices`: every daily bar of every asset class in one relation, with the class as a column,
 * so that models read any mix of equities, currencies and coins with one query. A plain
 * UNION ALL: a filter on `date` prunes each table's partitions, on `symbol` uses its clustering.
 */
export const PRICES_VIEW = {
  dataset: 'raw',
  name: 'prices',
  description: 'Daily OHLCV bars of every asset class (eq_ohlcv, fx_ohlcv, crypto_ohlcv), one row per table, symbol and date',
  columns: [req('asset_class', 'STRING', 'equity, fx or crypto: the table the row is stored in'), ...ohlcvColumns],
} as const satisfies ViewSchema;

export type ViewName = typeof PRICES_VIEW.name;

/** A table or a view: what `Warehouse.queryBySymbols` reads. */
export type RelationName = TableName | ViewName;

/**
 * The view's SQL over the three price tables.
 * @param qualified the full name of a table as the query must spell it (project.dataset.table)
 */
export function pricesViewQuery(qualified: (table: TableName) => string): string {
  const columns = ohlcvColumns.map((c) => c.name).join(', ');
  return Object.entries(PRICE_TABLES)
    .map(([assetClass, table]) => `SELECT '${assetClass}' AS asset_class, ${columns} FROM \`${qualified(table)}\``)
    .join('\nUNION ALL\n');
}
