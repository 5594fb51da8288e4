/** What one MERGE upserts: source rows into a target table, matched on key columns. */
export interface MergeSpec {
  /** `project.dataset.table`, quoted by the builder. */
  readonly target: string;
  /** A FROM item: `UNNEST(@rows)` or a quoted table. */
  readonly source: string;
  readonly keyColumns: readonly string[];
  /** Every column of the table, in schema order. */
  readonly columns: readonly string[];
}

/**
 * The MERGE statement of an upsert: a matched key has every other column replaced, an
 * unmatched one is inserted, so loading the same rows twice leaves the table as one load
 * does. One statement per table per job keeps the DML count independent of the row count.
 */
export function mergeSql({ target, source, keyColumns, columns }: MergeSpec): string {
  const updated = columns.filter((c) => !keyColumns.includes(c));
  return (
    `MERGE \`${target}\` AS t USING ${source} AS s ON ${keyColumns.map((k) => `t.${k} = s.${k}`).join(' AND ')} ` +
    `WHEN MATCHED THEN UPDATE SET ${updated.map((c) => `${c} = s.${c}`).join(', ')} ` +
    `WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`
  );
}
