import type { RelationName, TableName } from './schemas.js';

/** A row as the warehouse stores it: column name to value (dates as YYYY-MM-DD, timestamps as ISO strings). */
export type Row = Record<string, string | number | boolean | null>;

/** One row to stream in, with the id that makes a re-sent copy harmless. */
export interface InsertRow {
  readonly insertId: string;
  readonly row: Row;
}

/**
 * Rows staged as NDJSON objects in the bucket (one row a line, the table's columns), for
 * one load and one MERGE per table.
 */
export interface StagedRows {
  /** Where a BigQuery load job reads them: `gs://` URIs, a `*` wildcard allowed. */
  readonly uris: readonly string[];
  /** The same rows, object by object (the local warehouse reads them this way). */
  readonly objects: () => AsyncIterable<readonly Row[]>;
  /** Inclusive ISO dates every staged row's `date` lies in (lets the MERGE prune the target). */
  readonly dateRange?: { readonly first: string; readonly last: string };
}

/**
 * The data warehouse: BigQuery in the cloud, NDJSON files locally. Table names are
 * from `schemas.ts`; which dataset each belongs to is configuration.
 * Faults that may pass are thrown as `TransientError`.
 */
export interface Warehouse {
  /** Streams rows in; a row whose insertId was already inserted is not added again. */
  insertRows(table: TableName, rows: readonly InsertRow[]): Promise<void>;
  /**
   * Inserts or replaces rows keyed by `keyColumns` (a MERGE): loading the same rows twice
   * leaves the table as after one load.
   */
  upsertRows(table: TableName, keyColumns: readonly string[], rows: readonly Row[]): Promise<{ inserted: number; updated: number }>;
  /**
   * Upserts staged rows keyed by `keyColumns` with one load and one MERGE (BigQuery), or one
   * rewrite of the table (locally), however many rows there are. The staged rows must be
   * unique by key. Idempotent like `upsertRows`.
   * @param stageId names the staging table (letters, digits, `_`), unique per job and table.
   */
  mergeStaged(table: TableName, keyColumns: readonly string[], staged: StagedRows, stageId: string): Promise<{ inserted: number; updated: number }>;
  /** Rows of a table or view whose `symbol` is one of `symbols` and `date` is within [start, end]. */
  queryBySymbols(relation: RelationName, symbols: readonly string[], start: string, end: string): Promise<Row[]>;
}
