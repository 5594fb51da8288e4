import { describe, expect, it } from 'vitest';
import { alignOnCommonDates, distinctDateCount, type PriceHistory } from '../../shared/prices/history.js';

// The reference: a map per symbol, the first symbol's dates that every map has, sorted.
function reference(histories: readonly PriceHistory[]) {
  const lookups = histories.map((h) => new Map(h.dates.map((d, i) => [d, h.prices[i]])));
  const dates = [...lookups[0].keys()].filter((d) => lookups.every((m) => m.has(d))).sort();
  return { symbols: histories.map((h) => h.symbol), dates, prices: lookups.map((m) => Float64Array.from(dates, (d) => m.get(d) as number)) };
}

let seed = 5;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const days = Array.from({ length: 300 }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10));

describe('alignOnCommonDates', () => {
  it('keeps the dates every symbol has, in order, with each symbol\'s price on them, sorted histories or not', () => {
    for (let trial = 0; trial < 200; trial++) {
      const histories: PriceHistory[] = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, k) => {
        let dates = days.filter(() => random() < (trial % 4 === 0 ? 1 : 0.9));
        if (trial % 5 === 1) dates = [...dates].reverse(); // unsorted: the general path
        if (trial % 7 === 2 && dates.length > 2) dates = [...dates, dates[1]]; // a repeated date
        return { symbol: `S${k}`, dates, prices: dates.map(() => 1 + random()) };
      });
      expect(alignOnCommonDates(histories)).toEqual(reference(histories));
      expect(distinctDateCount(histories)).toBe(new Set(histories.flatMap((h) => h.dates)).size);
    }
  });

  it('counts the distinct dates of sorted histories that each miss other dates', () => {
    const histories: PriceHistory[] = [
      { symbol: 'A', dates: ['2024-01-02', '2024-01-04'], prices: [1, 1] },
      { symbol: 'B', dates: ['2024-01-01', '2024-01-02', '2024-01-03'], prices: [1, 1, 1] },
      { symbol: 'C', dates: ['2024-01-03', '2024-01-05'], prices: [1, 1] },
      { symbol: 'D', dates: ['2024-01-01', '2024-01-05'], prices: [1, 1] },
    ];
    expect(distinctDateCount(histories)).toBe(5);
    expect(distinctDateCount([])).toBe(0);
  });
});
