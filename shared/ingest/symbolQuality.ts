import { isWeekday } from './weekdays.js';

/** What one symbol's load looked like: what a person checks before trusting the series. */
export interface SymbolQuality {
  readonly rows: number;
  readonly first_date: string | null;
  readonly last_date: string | null;
  /**
   * Weekdays of the job's window with no stored bar. Exchange holidays count (no calendar
   * is assumed), so a clean US equity year shows about 9-10; a listing that starts or
   * ends inside the window shows the days before or after it.
   */
  readonly weekdays_without_bar: number;
  /** All-zero placeholder bars the vendor sent (not stored; their days count as without a bar). */
  readonly placeholder_bars: number;
  /** What the vendor said when it had nothing for the symbol. */
  readonly vendor_said?: string;
}

/** A running tally of one symbol's stored dates, added to unit by unit. */
export interface SymbolTally {
  rows: number;
  first_date: string | null;
  last_date: string | null;
  weekday_rows: number;
  placeholder_bars: number;
  vendor_said?: string;
}

export function emptyTally(): SymbolTally {
  return { rows: 0, first_date: null, last_date: null, weekday_rows: 0, placeholder_bars: 0 };
}

/** Adds stored dates (each once per symbol) and placeholders to a tally. */
export function addToTally(tally: SymbolTally, dates: readonly string[], placeholders = 0): SymbolTally {
  for (const date of dates) {
    tally.rows++;
    if (isWeekday(date)) tally.weekday_rows++;
    if (tally.first_date === null || date < tally.first_date) tally.first_date = date;
    if (tally.last_date === null || date > tally.last_date) tally.last_date = date;
  }
  tally.placeholder_bars += placeholders;
  return tally;
}

/** The tally as the result reports it, against the weekdays of the job's window. */
export function symbolQuality(tally: SymbolTally, weekdaysInWindow: number): SymbolQuality {
  return {
    rows: tally.rows,
    first_date: tally.first_date,
    last_date: tally.last_date,
    weekdays_without_bar: Math.max(0, weekdaysInWindow - tally.weekday_rows),
    placeholder_bars: tally.placeholder_bars,
    ...(tally.vendor_said !== undefined ? { vendor_said: tally.vendor_said } : {}),
  };
}

