import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DEDUPED_VIEWS, dedupeRows, type DedupedViewName } from './dedupedViews.js';
import { PRICE_TABLES, PRICES_VIEW, TABLES, type RelationName, type TableName } from './schemas.js';
import type { InsertRow, Row, StagedRows, Warehouse } from './warehouse.js';

export interface LocalWarehouseOptions {
  /**
   * How long an insertId is remembered. BigQuery drops a re-sent row by its insertId only
   * on a best-effort basis over about a minute, so a row re-sent later (a Pub/Sub
   * redelivery) is stored again; readers use the de-duplicated views. @default 60_000
   */
  readonly insertIdWindowMs?: number;
  /** The clock of that window (tests move it). @default Date.now */
  readonly now?: () => number;
}

/**
 * The warehouse as NDJSON files, `<root>/<dataset>/<table>.ndjson`, one row a line with
 * the columns of `schemas.ts`. Insert ids are kept beside each table
 * (`<table>.insert_ids`, one `<id>\t<ms>` a line) and a re-sent row is dropped only within
 * the insertId window, as in BigQuery; `readView()` applies the de-duplicated views' rule.
 * Writes within one process are serialized per table; the tables are not meant to be
 * shared by several processes at once.
 */
export class LocalWarehouse implements Warehouse {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly insertIdWindowMs: number;
  private readonly now: () => number;
  /** How many times a table file was rewritten (tests: one per table per job). */
  rewrites = 0;

  constructor(
    private readonly root: string,
    private readonly datasets: { raw: string; curated: string },
    options: LocalWarehouseOptions = {},
  ) {
    this.insertIdWindowMs = options.insertIdWindowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** The file holding a table's rows. */
  tableFile(table: TableName): string {
    return path.join(this.root, this.datasets[TABLES[table].dataset], `${table}.ndjson`);
  }

  insertRows(table: TableName, rows: readonly InsertRow[]): Promise<void> {
    return this.serialized(table, async () => {
      const file = this.tableFile(table);
      const idsFile = file.replace(/\.ndjson$/, '.insert_ids');
      await fs.mkdir(path.dirname(file), { recursive: true });
      const now = this.now();
      const seen = new Set<string>();
      for (const line of (await readText(idsFile)).split('\n')) {
        const [id, at] = line.split('\t');
        if (id && now - Number(at ?? 0) < this.insertIdWindowMs) seen.add(id);
      }
      const fresh = rows.filter((r) => !seen.has(r.insertId) && (seen.add(r.insertId), true));
      if (fresh.length === 0) return;
      await fs.appendFile(file, fresh.map((r) => JSON.stringify(project(table, r.row)) + '\n').join(''));
      await fs.appendFile(idsFile, fresh.map((r) => `${r.insertId}\t${now}\n`).join(''));
    });
  }

  upsertRows(table: TableName, keyColumns: readonly string[], rows: readonly Row[]): Promise<{ inserted: number; updated: number }> {
    return this.rewrite(table, keyColumns, (async function* () {
      yield rows;
    })());
  }

  /** One rewrite of the table for all the staged rows. */
  mergeStaged(table: TableName, keyColumns: readonly string[], staged: StagedRows): Promise<{ inserted: number; updated: number }> {
    return this.rewrite(table, keyColumns, staged.objects());
  }

  private rewrite(table: TableName, keyColumns: readonly string[], batches: AsyncIterable<readonly Row[]>): Promise<{ inserted: number; updated: number }> {
    return this.serialized(table, async () => {
      const file = this.tableFile(table);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const key = (row: Row) => JSON.stringify(keyColumns.map((c) => row[c]));
      const byKey = new Map((await this.readRows(table)).map((row) => [key(row), row]));
      let inserted = 0;
      let updated = 0;
      for await (const rows of batches) {
        for (const row of rows) {
          const k = key(row);
          if (byKey.has(k)) updated++;
          else inserted++;
          byKey.set(k, project(table, row));
        }
      }
      const tmp = `${file}.${process.pid}.tmp`;
      const out = await fs.open(tmp, 'w');
      try {
        // In chunks: one string of a few million rows would outgrow V8's string limit.
        let chunk: string[] = [];
        for (const r of byKey.values()) {
          chunk.push(JSON.stringify(r));
          if (chunk.length === 10_000) {
            await out.write(chunk.join('\n') + '\n');
            chunk = [];
          }
        }
        if (chunk.length > 0) await out.write(chunk.join('\n') + '\n');
      } finally {
        await out.close();
      }
      await fs.rename(tmp, file);
      this.rewrites++;
      return { inserted, updated };
    });
  }

  async queryBySymbols(relation: RelationName, symbols: readonly string[], start: string, end: string): Promise<Row[]> {
    const wanted = new Set(symbols);
    const rows = relation === PRICES_VIEW.name ? await this.readPricesView() : await this.readRows(relation);
    return rows.filter((r) => wanted.has(String(r.symbol)) && String(r.date) >= start && String(r.date) <= end);
  }

  /** Every row of a table (empty if the table has no file yet). */
  async readRows(table: TableName): Promise<Row[]> {
    const text = await readText(this.tableFile(table));
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Row);
  }

  /** The rows of a de-duplicated view (`job_runs_deduped`, `model_metrics_deduped`), by the same rule as in BigQuery. */
  async readView(view: DedupedViewName): Promise<Row[]> {
    const definition = DEDUPED_VIEWS[view];
    return dedupeRows(definition, await this.readRows(definition.table));
  }

  /** The `prices` view as BigQuery computes it: each price table's rows with its asset class. */
  private async readPricesView(): Promise<Row[]> {
    const perClass = await Promise.all(
      Object.entries(PRICE_TABLES).map(async ([assetClass, table]) => (await this.readRows(table)).map((row) => ({ asset_class: assetClass, ...row }))),
    );
    return perClass.flat();
  }

  private serialized<T>(table: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(table) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.queues.set(table, next.catch(() => undefined));
    return next;
  }
}

/** The row restricted to the table's columns, in schema order, missing ones as null. */
function project(table: TableName, row: Row): Row {
  const out: Row = {};
  for (const column of TABLES[table].columns) out[column.name] = row[column.name] ?? null;
  return out;
}

async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}
