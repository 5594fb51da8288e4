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
    const rows = (await this.warehouse.queryBySymbols(this.table, symbols, start, end)) as unknown as PriceRow[];
    const present = new Set(rows.map((r) => r.symbol));
    const missing = symbols.find((s) => !present.has(s));
    // Only on the way to failing: does the table know the symbol at other dates?
    const known = missing !== undefined && (await this.warehouse.queryBySymbols(this.table, [missing], '1000-01-01', '9999-12-31')).length > 0;
    return historiesFromRows(rows, symbols, start, end, `the ${this.table} table`, (s) => s === missing && known);
  }
}
