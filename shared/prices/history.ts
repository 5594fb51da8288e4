import type { AssetClass } from '../warehouse/schemas.js';

/**
 * One symbol's daily price history in a job's window, oldest first. `prices` are
 * `adj_close`, falling back to `close` where the vendor gave no adjusted close, so that
 * levels and returns are on one scale.
 */
export interface PriceHistory {
  readonly symbol: string;
  readonly dates: readonly string[];
  readonly prices: readonly number[];
  /**
   * Whose table the bars come from, which sets their calendar: crypto trades every day, FX
   * on weekdays, equities on their exchange's sessions. Absent for the fixture CSV.
   */
  readonly assetClass?: AssetClass;
}

/** Several symbols on the dates all of them have. `prices[k][t]` is symbol k on `dates[t]`. */
export interface AlignedPrices {
  readonly symbols: readonly string[];
  readonly dates: readonly string[];
  readonly prices: readonly Float64Array[];
}

/**
 * Keeps only the dates every history has, so that a gap in one symbol never shifts
 * another's returns: a return is always between the same two dates for every symbol.
 */
export function alignOnCommonDates(histories: readonly PriceHistory[]): AlignedPrices {
  const symbols = histories.map((h) => h.symbol);
  if (histories.length === 0) return { symbols, dates: [], prices: [] };
  const lookups = histories.map((h) => {
    const byDate = new Map<string, number>();
    h.dates.forEach((d, i) => byDate.set(d, h.prices[i]));
    return byDate;
  });
  const dates = [...lookups[0].keys()].filter((d) => lookups.every((m) => m.has(d))).sort();
  const prices = lookups.map((m) => Float64Array.from(dates, (d) => m.get(d) as number));
  return { symbols, dates, prices };
}
