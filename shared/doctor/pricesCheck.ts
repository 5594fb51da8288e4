import { fail, ok, type Check, type CheckOutcome } from './check.js';

/** The latest date of each raw price table (null when it has no rows). */
export interface TableFreshness {
  readonly table: string;
  readonly latest: string | null;
}

/** Reads the latest date per raw price table. */
export type FreshnessSource = () => Promise<TableFreshness[]>;

/**
 * Calendar days a table may lag today (UTC) before it counts as stale: a weekend and a
 * holiday for markets that close, one missed daily run for crypto, which trades every day.
 */
export const STALE_AFTER_DAYS: Readonly<Record<string, number>> = { eq_ohlcv: 4, fx_ohlcv: 4, crypto_ohlcv: 2 };

/**
 * Price freshness: one line per raw price table with its latest date. An empty table
 * passes (no schedule may load it); a table behind by more than STALE_AFTER_DAYS fails
 * unless `stale` is false (local tables are loaded by hand, not daily).
 */
export function pricesCheck(source: FreshnessSource, now: () => Date, options: { stale: boolean; fix: string; where: string }): Check {
  return {
    name: 'prices',
    async run() {
      const today = now().toISOString().slice(0, 10);
      return (await source()).map((t): CheckOutcome => {
        const name = `prices ${t.table}`;
        if (t.latest === null) return ok(name, `empty in ${options.where}`);
        const lag = daysBetween(t.latest, today);
        const limit = STALE_AFTER_DAYS[t.table] ?? 4;
        const detail = `latest ${t.latest} (${lag} day${lag === 1 ? '' : 's'} ago)`;
        return options.stale && lag > limit ? fail(name, `${detail}: stale, more than ${limit} days behind`, options.fix) : ok(name, detail);
      });
    },
  };
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
