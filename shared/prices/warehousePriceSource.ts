import type { TableName } from '../warehouse/schemas.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { PriceHistory } from './history.js';
import { historiesFromRows, type PriceRow, type PriceSource } from './priceSource.js';

/** Prices from the raw dataset's OHLCV table (BigQuery in the cloud, NDJSON locally). */
export class WarehousePriceSource implements PriceSource {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly table: TableName = 'eq_ohlcv',
  ) {}

  async histories(symbols: readonly string[], start: string, end: string): Promise<PriceHistory[]> {
    const rows = await this.warehouse.queryBySymbols(this.table, symbols, start, end);
    return historiesFromRows(rows as unknown as PriceRow[], symbols, start, end, `the ${this.table} table`);
  }
}
