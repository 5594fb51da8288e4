import { TABLES, type Column } from '../warehouse/schemas.js';
import { fail, ok, type Check, type CheckOutcome } from './check.js';

/** A column as the warehouse reports it; type and mode are unknown for local NDJSON tables. */
export interface FoundColumn {
  readonly name: string;
  readonly type?: string;
  readonly mode?: string;
}

/** What the warehouse holds under a dataset and table name. */
export type FoundTable =
  | { readonly kind: 'no-dataset' }
  | { readonly kind: 'no-table' }
  /** Local tables are files created by the first write: not an error. */
  | { readonly kind: 'not-created-yet' }
  /** Rows that cannot be read (a local file with a line that is not a JSON object). */
  | { readonly kind: 'unreadable'; readonly reason: string; readonly fix: string }
  | { readonly kind: 'table'; readonly columns: readonly FoundColumn[] };

/** Reads a table's definition: BigQuery's metadata, or the keys of a local NDJSON table's rows. */
export interface TableInspector {
  /** Where the tables live, for the report (`project my-proj`, a folder). */
  readonly where: string;
  inspect(dataset: string, table: string): Promise<FoundTable>;
}

// BigQuery's REST API reports the legacy names of some standard SQL types.
const TYPE_ALIASES: Record<string, string> = { FLOAT: 'FLOAT64', INTEGER: 'INT64', BOOLEAN: 'BOOL' };

/** A table or view the code relies on: where it lives and the columns it must have. */
export interface Relation {
  readonly kind?: 'table' | 'view';
  readonly dataset: 'raw' | 'curated';
  readonly name: string;
  readonly columns: readonly Column[];
}

/**
 * Every table of `shared/warehouse/schemas.ts` (and any views given) exists in its dataset
 * with the columns the code writes or reads: one line per relation.
 * @param datasets the configured dataset ids (BQ_DATASET_RAW, BQ_DATASET_CURATED)
 * @param fix what to do when a table is missing or differs
 */
export function tablesCheck(inspector: TableInspector, datasets: { raw: string; curated: string }, fix: string, tables: readonly Relation[] = Object.values(TABLES)): Check {
  return {
    name: 'tables',
    async run() {
      const outcomes: CheckOutcome[] = [];
      for (const table of tables) {
        const id = `${datasets[table.dataset]}.${table.name}`;
        const name = `${table.kind ?? 'table'} ${id}`;
        const found = await inspector.inspect(datasets[table.dataset], table.name);
        if (found.kind === 'no-dataset') outcomes.push(fail(name, `dataset ${datasets[table.dataset]} does not exist in ${inspector.where}`, fix));
        else if (found.kind === 'no-table') outcomes.push(fail(name, `${table.kind ?? 'table'} does not exist in ${inspector.where}`, fix));
        else if (found.kind === 'unreadable') outcomes.push(fail(name, found.reason, found.fix));
        else if (found.kind === 'not-created-yet') outcomes.push(ok(name, 'not created yet (the first job or ingest that writes it creates it)'));
        else {
          const problems = columnProblems(table, found.columns);
          outcomes.push(problems.length === 0 ? ok(name, `the ${table.columns.length} columns the code expects`) : fail(name, problems.join('; '), fix));
        }
      }
      return outcomes;
    },
  };
}

/**
 * How a table's columns differ from the schema, in words (empty when they match):
 * missing columns, other types, a NOT NULL column the code may leave empty.
 */
export function columnProblems(table: Relation, found: readonly FoundColumn[]): string[] {
  const problems: string[] = [];
  const byName = new Map(found.map((c) => [c.name, c]));
  const missing = table.columns.filter((c) => !byName.has(c.name)).map((c) => c.name);
  if (missing.length > 0) problems.push(`missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  for (const column of table.columns) {
    const actual = byName.get(column.name);
    if (!actual) continue;
    const type = actual.type ? (TYPE_ALIASES[actual.type] ?? actual.type) : undefined;
    if (type && type !== column.type) problems.push(`${column.name} is ${type}, expected ${column.type}`);
    if (actual.mode === 'REQUIRED' && column.mode === 'NULLABLE') problems.push(`${column.name} is REQUIRED but the code may leave it null`);
  }
  const known = new Set(table.columns.map((c) => c.name));
  const extra = found.filter((c) => !known.has(c.name));
  const extraRequired = extra.filter((c) => c.mode === 'REQUIRED').map((c) => c.name);
  if (extraRequired.length > 0) problems.push(`REQUIRED column${extraRequired.length > 1 ? 's' : ''} ${extraRequired.join(', ')} the code never writes`);
  // Local rows carry exactly the schema's columns; any other key means the file was written by something else.
  const unknownLocal = extra.filter((c) => c.mode === undefined).map((c) => c.name);
  if (unknownLocal.length > 0) problems.push(`unknown column${unknownLocal.length > 1 ? 's' : ''} ${unknownLocal.join(', ')}`);
  return problems;
}
