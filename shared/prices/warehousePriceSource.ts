import { PRICES_VIEW } from '../warehouse/schemas.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { PriceHistory } from './history.js';
import { historiesFromRows, type PriceRow, type PriceSource } from './priceSource.js';

/**
 * Prices of every asset class from the raw dataset's `prices` view (BigQuery in the cloud,
 * the NDJSON tables locally): one parameterized query over the symbols and window.
 */
export class WarehousePriceSource implements PriceSource {
  constructor(private readonly warehouse: Warehouse) {}

  async histories(symbols: readonly string[], start: string, end: string): Promise<PriceHistory[]> {
    const rows = (await this.warehouse.queryBySymbols(PRICES_VIEW.name, symbols, start, end)) as unknown as PriceRow[];
    const present = new Set(rows.map((r) => r.symbol));
    const missing = symbols.find((s) => !present.has(s));
    // Only on the way to failing: does the view know the symbol at other dates?
    const known = missing !== undefined && (await this.warehouse.queryBySymbols(PRICES_VIEW.name, [missing], '1000-01-01', '9999-12-31')).length > 0;
    return historiesFromRows(rows, symbols, start, end, `the ${PRICES_VIEW.name} view (eq_ohlcv, fx_ohlcv, crypto_ohlcv)`, (s) => s === missing && known);
  }
}
