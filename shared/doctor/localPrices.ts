import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parsePriceCsv } from '../prices/fixturePriceSource.js';
import { defaultFixturePrices } from '../runtime.js';
import { fail, ok, type Check } from './check.js';

/**
 * The fixture prices the local functions read (FIXTURE_PRICES, default fixtures/prices.csv):
 * the file parses, with its symbols and latest date. Fixtures do not age, so no staleness.
 */
export function localFreshness(fixturePrices: string | undefined): Check {
  const name = 'fixture prices';
  return {
    name,
    async run() {
      const file = fixturePrices ? path.resolve(fixturePrices) : defaultFixturePrices();
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (error) {
        return [fail(name, `${file} cannot be read: ${(error as Error).message}`, 'point FIXTURE_PRICES at a CSV with header date,symbol,open,high,low,close,adj_close,volume')];
      }
      let series;
      try {
        series = parsePriceCsv(text, file);
      } catch (error) {
        return [fail(name, (error as Error).message, 'repair the CSV (header date,symbol,open,high,low,close,adj_close,volume)')];
      }
      if (series.size === 0) return [fail(name, `${file} has no rows`, 'point FIXTURE_PRICES at a CSV with prices')];
      const latest = [...series.values()].flatMap((s) => s.dates).reduce((a, b) => (b > a ? b : a), '');
      return [ok(name, `${file}: ${series.size} symbols (${[...series.keys()].sort().join(', ')}), latest ${latest}`)];
    },
  };
}
