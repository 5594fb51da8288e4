import type { UnitSummary } from './checkpoints.js';
import { addToTally, emptyTally, symbolQuality, type SymbolQuality, type SymbolTally } from './symbolQuality.js';

/**
 * The data quality of every stored symbol of an ingest job, added to unit by unit as each
 * finishes (a symbol's window, or an exchange day), so that an exchange day's list of
 * symbols is dropped once counted: what stays grows with the symbols, not with the days.
 */
export class QualityBySymbol {
  private readonly tallies = new Map<string, SymbolTally>();
  /** Exchange days with at least one stored bar: the days the exchange traded. */
  private tradingDays = 0;

  /** Counts a finished unit (keyed as the job's units are: the stored symbol, or `day-<date>`). */
  add(key: string, summary: UnitSummary): void {
    if (summary.tally) this.tallies.set(key, { ...summary.tally });
    if (summary.day) {
      if (summary.day.symbols.length > 0) this.tradingDays++;
      for (const symbol of summary.day.symbols) addToTally(this.tallyOf(symbol), [summary.day.date]);
      for (const symbol of summary.day.placeholders) addToTally(this.tallyOf(symbol), [], 1);
    }
  }

  /** How many symbols have an entry. */
  get size(): number {
    return this.tallies.size;
  }

  /**
   * Every symbol's quality: symbol units in `order` (the job's), exchange symbols by name.
   * @param weekdaysInWindow the weekdays of the job's window
   */
  *entries(weekdaysInWindow: number, order: readonly string[]): Generator<[string, SymbolQuality]> {
    const rank = new Map(order.map((key, i) => [key, i]));
    const keys = [...this.tallies.keys()].sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity) || (a < b ? -1 : a > b ? 1 : 0));
    for (const key of keys) yield [key, symbolQuality(this.tallies.get(key)!, weekdaysInWindow)];
  }

  /**
   * Whether a symbol's series looks incomplete: placeholder bars, a vendor's note, or fewer
   * bars than the days its exchange traded in the window (for a job by symbols, than the
   * weekdays with any bar of any of its symbols).
   */
  hasIssues(quality: SymbolQuality, weekdaysInWindow: number): boolean {
    const traded = this.tradingDays > 0 ? this.tradingDays : weekdaysInWindow;
    return quality.placeholder_bars > 0 || quality.vendor_said !== undefined || weekdaysInWindow - quality.weekdays_without_bar < traded;
  }

  private tallyOf(symbol: string): SymbolTally {
    let t = this.tallies.get(symbol);
    if (!t) this.tallies.set(symbol, (t = emptyTally()));
    return t;
  }
}
