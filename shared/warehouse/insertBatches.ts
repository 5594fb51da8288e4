import type { InsertRow } from './warehouse.js';

/**
 * BigQuery's streaming insert (`tabledata.insertAll`) takes at most 10 MB per HTTP request and
 * 50,000 rows, and recommends at most 500 rows per request; a request over a limit is refused
 * whole (HTTP 400). These keep every request well inside.
 */
export const INSERT_BATCH_ROWS = 500;
export const INSERT_BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Splits rows into consecutive batches of at most `maxRows` rows and about `maxBytes` of JSON
 * (a row larger than `maxBytes` alone is a batch of its own: BigQuery's 1 MB row limit is the
 * table's business, not the batching's).
 * @returns the batches, in row order, covering every row once.
 */
export function insertBatches(rows: readonly InsertRow[], maxRows = INSERT_BATCH_ROWS, maxBytes = INSERT_BATCH_BYTES): InsertRow[][] {
  const batches: InsertRow[][] = [];
  let batch: InsertRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    // The row as the request carries it, `{"insertId":...,"json":{...}}`, plus a comma.
    const size = Buffer.byteLength(JSON.stringify(row.row), 'utf8') + Buffer.byteLength(row.insertId, 'utf8') + 32;
    if (batch.length > 0 && (batch.length >= maxRows || bytes + size > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
