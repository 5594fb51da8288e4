import type { RelationName, TableName } from './schemas.js';
import type { InsertRow, Row, StagedRows, Warehouse } from './warehouse.js';

/**
 * A warehouse that is still being built (its client module loading) when the job starts:
 * each call waits for it. A job's first warehouse call comes after its storage requests
 * (the rows, after the commit), so a client that loads meanwhile is off the job's path
 * whenever those requests leave the process idle. A failure to build it is met by the first
 * call, as any other warehouse fault of that call would be.
 */
export class DeferredWarehouse implements Warehouse {
  constructor(private readonly ready: Promise<Warehouse>) {
    // Awaited by every call; this only keeps a failure before the first call from being unhandled.
    ready.catch(() => undefined);
  }

  async insertRows(table: TableName, rows: readonly InsertRow[]): Promise<void> {
    return (await this.ready).insertRows(table, rows);
  }

  async upsertRows(table: TableName, keyColumns: readonly string[], rows: readonly Row[]): Promise<{ inserted: number; updated: number }> {
    return (await this.ready).upsertRows(table, keyColumns, rows);
  }

  async mergeStaged(table: TableName, keyColumns: readonly string[], staged: StagedRows, stageId: string): Promise<{ inserted: number; updated: number }> {
    return (await this.ready).mergeStaged(table, keyColumns, staged, stageId);
  }

  async queryBySymbols(relation: RelationName, symbols: readonly string[], start: string, end: string): Promise<Row[]> {
    return (await this.ready).queryBySymbols(relation, symbols, start, end);
  }
}
