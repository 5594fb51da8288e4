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
  if (histories.every((h) => strictlyIncreasing(h.dates))) return alignSorted(symbols, histories);
  const lookups = histories.map((h) => {
    const byDate = new Map<string, number>();
    h.dates.forEach((d, i) => byDate.set(d, h.prices[i]));
    return byDate;
  });
  const dates = [...lookups[0].keys()].filter((d) => lookups.every((m) => m.has(d))).sort();
  const prices = lookups.map((m) => Float64Array.from(dates, (d) => m.get(d) as number));
  return { symbols, dates, prices };
}

/**
 * The same alignment for histories whose dates are each strictly increasing (what every
 * price source returns): the common dates by merging sorted lists, then each symbol's prices
 * picked along them, in time linear in the bars (1,000 symbols x 2,520 days: milliseconds,
 * where 1,000 maps of 2,520 dates took seconds and most of the job's garbage).
 */
function alignSorted(symbols: string[], histories: readonly PriceHistory[]): AlignedPrices {
  let common: readonly string[] = histories[0].dates;
  // Symbols mostly share dates arrays (a price source gives symbols listed on the same dates
  // one array): intersecting with an array already intersected changes nothing, so each
  // distinct array is merged once, not once a symbol (1,000 merges of 2,520 dates and as
  // many arrays of garbage when one symbol misses a day).
  const merged = new Set<readonly string[]>([common]);
  for (let k = 1; k < histories.length; k++) {
    const other = histories[k].dates;
    if (merged.has(other)) continue;
    merged.add(other);
    const kept: string[] = [];
    for (let i = 0, j = 0; i < common.length && j < other.length; ) {
      if (common[i] === other[j]) {
        kept.push(common[i]);
        i++;
        j++;
      } else if (common[i] < other[j]) i++;
      else j++;
    }
    common = kept;
  }
  const dates = [...common];
  const prices = histories.map((h) => {
    // A history on the common dates themselves: every price, in order.
    if (h.dates === common) return Float64Array.from(h.prices);
    const out = new Float64Array(dates.length);
    for (let t = 0, i = 0; t < dates.length; i++) {
      if (h.dates[i] === dates[t]) out[t++] = h.prices[i];
    }
    return out;
  });
  return { symbols, dates, prices };
}

/**
 * How many distinct dates the histories have between them (the union of their dates). For
 * histories each strictly increasing (what every price source returns) by walking sorted
 * lists, the union rebuilt only when a history brings a date it lacks: 1,000 symbols x 2,520
 * days in a few milliseconds, where a Set of 2.5 million insertions took a quarter of a second.
 */
export function distinctDateCount(histories: readonly PriceHistory[]): number {
  if (histories.length === 0) return 0;
  if (!histories.every((h) => strictlyIncreasing(h.dates))) return new Set(histories.flatMap((h) => h.dates)).size;
  let union: readonly string[] = histories[0].dates;
  // Each distinct dates array once (symbols mostly share them): the union only grows, so an
  // array already in it stays in it.
  const added = new Set<readonly string[]>([union]);
  for (let k = 1; k < histories.length; k++) {
    const other = histories[k].dates;
    if (added.has(other)) continue;
    added.add(other);
    if (!sortedSubset(other, union)) union = sortedUnion(union, other);
  }
  return union.length;
}

/** Whether every date of sorted `part` is in sorted `whole`. */
function sortedSubset(part: readonly string[], whole: readonly string[]): boolean {
  let j = 0;
  for (let i = 0; i < part.length; i++) {
    const date = part[i];
    while (j < whole.length && whole[j] !== date && whole[j] < date) j++;
    if (j === whole.length || whole[j] !== date) return false;
    j++;
  }
  return true;
}

function sortedUnion(a: readonly string[], b: readonly string[]): string[] {
  const union: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      union.push(a[i++]);
      j++;
    } else if (a[i] < b[j]) union.push(a[i++]);
    else union.push(b[j++]);
  }
  while (i < a.length) union.push(a[i++]);
  while (j < b.length) union.push(b[j++]);
  return union;
}

/** Whether dates are strictly increasing, found once per dates array (symbols mostly share them; arrays are never modified). */
function strictlyIncreasing(dates: readonly string[]): boolean {
  if (increasing.has(dates)) return true;
  for (let i = 1; i < dates.length; i++) if (!(dates[i - 1] < dates[i])) return false;
  increasing.add(dates);
  return true;
}

const increasing = new WeakSet<readonly string[]>();
