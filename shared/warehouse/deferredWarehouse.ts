import type { RelationName, TableName } from './schemas.js';
import type { InsertRow, Row, StagedRows, Warehouse } from './warehouse.js';

/**
 * A warehouse whose client is still loading when the job starts: built in the background
 * from the moment it is constructed, and each call waits for it. A job's first warehouse
 * call comes after its storage requests (the rows, after the commit), so a client that loads
 * meanwhile is off the job's path whenever those requests leave the process idle. A build
 * that fails is met by the call waiting for it, and retried by the next call (as a failed
 * start-up is retried by the next event), never remembered.
 */
export class DeferredWarehouse implements Warehouse {
  private building: Promise<Warehouse> | undefined;

  constructor(private readonly build: () => Promise<Warehouse>) {
    // Started now; a failure before the first call is that call's to meet (by building again).
    this.warehouse().catch(() => undefined);
  }

  async insertRows(table: TableName, rows: readonly InsertRow[]): Promise<void> {
    return (await this.warehouse()).insertRows(table, rows);
  }

  async upsertRows(table: TableName, keyColumns: readonly string[], rows: readonly Row[]): Promise<{ inserted: number; updated: number }> {
    return (await this.warehouse()).upsertRows(table, keyColumns, rows);
  }

  async mergeStaged(table: TableName, keyColumns: readonly string[], staged: StagedRows, stageId: string): Promise<{ inserted: number; updated: number }> {
    return (await this.warehouse()).mergeStaged(table, keyColumns, staged, stageId);
  }

  async queryBySymbols(relation: RelationName, symbols: readonly string[], start: string, end: string): Promise<Row[]> {
    return (await this.warehouse()).queryBySymbols(relation, symbols, start, end);
  }

  private warehouse(): Promise<Warehouse> {
    this.building ??= this.build().catch((error: unknown) => {
      this.building = undefined;
      throw error;
    });
    return this.building;
  }
}
