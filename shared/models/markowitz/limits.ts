import { JobError } from '../../job/errors.js';

/**
 * Most symbols x calendar days of the window (both ends included) a Markowitz job may ask
 * for. The prices held (one close per symbol and trading day), the returns matrix and the
 * covariance work grow with it; test/limits/memoryLimits.test.ts runs a job at the limit
 * (2,000 symbols x 2,000 days, long-only: ~540 MB peak resident memory) with the heap capped at 70%
 * of the function's 1 GiB. 4,000,000 is 2,000 symbols over 5.5 years, 1,000 over 11, 250
 * over 44.
 */
export const MAX_SYMBOL_DAYS = 4_000_000;

/** Calendar days from `start` to `end` (ISO dates), both included. */
export function calendarDays(start: string, end: string): number {
  return Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000) + 1;
}

/** Refuses, before any price is loaded, a job whose symbols x window exceeds MAX_SYMBOL_DAYS. */
export function checkSymbolDays(symbolCount: number, start: string, end: string): void {
  const days = calendarDays(start, end);
  const symbolDays = symbolCount * days;
  if (symbolDays > MAX_SYMBOL_DAYS) {
    const most = Math.floor(MAX_SYMBOL_DAYS / symbolCount);
    throw new JobError(
      'invalid_job',
      `symbols x window is ${symbolCount} symbols x ${days} calendar days = ${symbolDays.toLocaleString('en')}, over the limit of ` +
        `${MAX_SYMBOL_DAYS.toLocaleString('en')} (MAX_SYMBOL_DAYS, what fits the function's memory); shorten start/end to at most ` +
        `${most} days for ${symbolCount} symbols, or split the symbols into smaller portfolios.`,
    );
  }
}
