/** What one MERGE upserts: source rows into a target table, matched on key columns. */
export interface MergeSpec {
  /** `project.dataset.table`, quoted by the builder. */
  readonly target: string;
  /** A FROM item: `UNNEST(@rows)` or a quoted table. */
  readonly source: string;
  readonly keyColumns: readonly string[];
  /** Every column of the table, in schema order. */
  readonly columns: readonly string[];
  /**
   * Inclusive ISO dates every source row lies in: the target is then matched only there,
   * so BigQuery prunes what it reads of a date-partitioned target instead of scanning it.
   */
  readonly dateRange?: { readonly first: string; readonly last: string };
}

/**
 * The MERGE statement of an upsert: a matched key has every other column replaced, an
 * unmatched one is inserted, so loading the same rows twice leaves the table as one load
 * does. One statement per table per job keeps the DML count independent of the row count.
 */
export function mergeSql({ target, source, keyColumns, columns, dateRange }: MergeSpec): string {
  const updated = columns.filter((c) => !keyColumns.includes(c));
  const on = keyColumns.map((k) => `t.${k} = s.${k}`);
  if (dateRange) {
    if (![dateRange.first, dateRange.last].every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) throw new Error(`Not ISO dates: ${dateRange.first}..${dateRange.last}`);
    on.push(`t.date BETWEEN DATE '${dateRange.first}' AND DATE '${dateRange.last}'`);
  }
  return (
    `MERGE \`${target}\` AS t USING ${source} AS s ON ${on.join(' AND ')} ` +
    `WHEN MATCHED THEN UPDATE SET ${updated.map((c) => `${c} = s.${c}`).join(', ')} ` +
    `WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`
  );
}
