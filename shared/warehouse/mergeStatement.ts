import type { Column } from './schemas.js';
import type { Row } from './warehouse.js';

/** The target rows a MERGE may touch: the batch's symbols and its date range. */
export interface MergeTargetRange {
  readonly symbols: readonly string[];
  readonly firstDate: string;
  readonly lastDate: string;
}

export interface MergeStatement {
  /** The statement; the rows are the array parameter `@rows`, the range `@symbols`, `@first_date`, `@last_date`. */
  readonly sql: string;
  /** Present when the statement restricts the target to the batch's symbols and dates. */
  readonly range: MergeTargetRange | null;
}

/**
 * The MERGE that upserts `rows` (passed as `@rows`) into `target` on `keyColumns`.
 *
 * When the key holds `symbol` and `date` (the price and corporate-action tables), the ON
 * clause also restricts the target to the batch's symbols and its first..last date. Every
 * source row lies in that range, so no match is lost; and BigQuery prunes what it reads of
 * the target by those constant filters (clustering on symbol, date) instead of scanning the
 * whole table for each batch. Without a range, the statement compares against every row.
 * @param target `project.dataset.table`
 */
export function mergeStatement(target: string, columns: readonly Column[], keyColumns: readonly string[], rows: readonly Row[]): MergeStatement {
  const names = columns.map((c) => c.name);
  const range = keyColumns.includes('symbol') && keyColumns.includes('date') ? targetRange(rows) : null;
  const on = keyColumns.map((k) => `t.${k} = s.${k}`);
  if (range) on.push('t.symbol IN UNNEST(@symbols)', 't.date BETWEEN @first_date AND @last_date');
  const sql =
    `MERGE \`${target}\` AS t USING UNNEST(@rows) AS s ON ${on.join(' AND ')} ` +
    `WHEN MATCHED THEN UPDATE SET ${names.filter((n) => !keyColumns.includes(n)).map((n) => `${n} = s.${n}`).join(', ')} ` +
    `WHEN NOT MATCHED THEN INSERT (${names.join(', ')}) VALUES (${names.map((n) => `s.${n}`).join(', ')})`;
  return { sql, range };
}

/** The batch's distinct symbols (sorted) and its first and last date; null for an empty batch. */
export function targetRange(rows: readonly Row[]): MergeTargetRange | null {
  if (rows.length === 0) return null;
  const symbols = new Set<string>();
  let firstDate = String(rows[0]!.date);
  let lastDate = firstDate;
  for (const row of rows) {
    symbols.add(String(row.symbol));
    const date = String(row.date);
    if (date < firstDate) firstDate = date;
    if (date > lastDate) lastDate = date;
  }
  return { symbols: [...symbols].sort(), firstDate, lastDate };
}
