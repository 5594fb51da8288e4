import { JobError } from '../job/errors.js';
import { PRICE_TABLES, type AssetClass } from '../warehouse/schemas.js';
import type { PriceHistory } from './history.js';

/** Where daily prices come from: BigQuery's `prices` view in the cloud, the fixture CSV and local tables locally. */
export interface PriceSource {
  /**
   * Each symbol's history within [start, end] (inclusive ISO dates), in the order asked.
   * Throws JobError `unknown_symbol` naming the first symbol with no prices in the window,
   * and `invalid_job` for a symbol stored in the tables of two asset classes.
   */
  histories(symbols: readonly string[], start: string, end: string): Promise<PriceHistory[]>;
}

/** The columns of a daily bar that prices are read from. */
export interface PriceRow {
  readonly date: string;
  readonly symbol: string;
  readonly close: number | null;
  readonly adj_close: number | null;
  /** The asset class whose table holds the bar (the `prices` view's column); absent in the fixture CSV. */
  readonly asset_class?: string | null;
}

/**
 * A symbol with no prices in a job's window: `unknown_symbol` if the source has never heard
 * of it, `insufficient_data` naming the window if it has prices at other dates.
 */
export function noPricesError(symbol: string, start: string, end: string, describe: string, known: boolean): JobError {
  return known
    ? new JobError('insufficient_data', `Symbol "${symbol}" has no prices between ${start} and ${end} in ${describe} (it has prices at other dates): widen or move the window.`)
    : new JobError('unknown_symbol', `No prices for symbol "${symbol}" in ${describe}: check the ticker (none between ${start} and ${end}, nor at any other date).`);
}

/**
 * Groups bars into per-symbol histories, oldest first, one price a date: `adj_close`,
 * falling back to `close`. Bars without a positive finite price are skipped, since a
 * zero or missing price has no log return. A symbol with bars of two asset classes (the
 * same ticker in, say, eq_ohlcv and crypto_ohlcv) is ambiguous: `invalid_job`, never a pick.
 * @param describe names the source in the error, e.g. "the fixture prices".
 * @param isKnown whether the source has prices for a symbol at any date (see noPricesError).
 */
export function historiesFromRows(
  rows: Iterable<PriceRow>,
  symbols: readonly string[],
  start: string,
  end: string,
  describe: string,
  isKnown: (symbol: string) => boolean = () => false,
): PriceHistory[] {
  const bySymbol = new Map<string, Map<string, number>>(symbols.map((s) => [s, new Map()]));
  const classes = new Map<string, Set<AssetClass>>();
  for (const row of rows) {
    const series = bySymbol.get(row.symbol);
    if (!series || row.date < start || row.date > end) continue;
    if (row.asset_class != null) {
      let seen = classes.get(row.symbol);
      if (!seen) classes.set(row.symbol, (seen = new Set()));
      seen.add(assetClassOf(row.asset_class));
    }
    const price = row.adj_close ?? row.close;
    if (price === null || !Number.isFinite(price) || price <= 0) continue;
    series.set(row.date, price);
  }
  for (const [symbol, seen] of classes) {
    if (seen.size > 1) {
      const tables = (Object.keys(PRICE_TABLES) as AssetClass[]).filter((c) => seen.has(c)).map((c) => PRICE_TABLES[c]);
      throw new JobError(
        'invalid_job',
        `Symbol "${symbol}" has prices in ${tables.join(' and ')} between ${start} and ${end}: one symbol must name one asset; delete the wrong table's rows or rename one of them.`,
      );
    }
  }
  return symbols.map((symbol) => {
    const series = bySymbol.get(symbol) as Map<string, number>;
    if (series.size === 0) throw noPricesError(symbol, start, end, describe, isKnown(symbol));
    const dates = [...series.keys()].sort();
    const assetClass = classes.get(symbol)?.values().next().value;
    return { symbol, dates, prices: dates.map((d) => series.get(d) as number), ...(assetClass ? { assetClass } : {}) };
  });
}

function assetClassOf(value: string): AssetClass {
  if (Object.hasOwn(PRICE_TABLES, value)) return value as AssetClass;
  throw new Error(`A price row has asset_class "${value}", not one of ${Object.keys(PRICE_TABLES).join(', ')}: the prices view and the code disagree.`);
}
