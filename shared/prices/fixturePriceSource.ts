import { promises as fs } from 'node:fs';
import type { PriceHistory } from './history.js';
import { historiesFromRows, type PriceRow, type PriceSource } from './priceSource.js';

const REQUIRED_COLUMNS = ['date', 'symbol', 'close', 'adj_close'] as const;

/**
 * One symbol's bars as read from the CSV: dates (interned strings) and their closes, with
 * NaN for an empty cell so the arrays hold unboxed doubles.
 */
export interface CsvSeries {
  readonly dates: string[];
  readonly close: number[];
  readonly adjClose: number[];
}

/**
 * Prices from a CSV with header `date,symbol,open,high,low,close,adj_close,volume`
 * (FIXTURE_PRICES), plus what a local `ingest` loaded, of any asset class: `extraRows` (the
 * local `prices` view). A symbol found there is read from there only, never mixed with the
 * CSV's bars: one source a symbol, so one calendar (the CSV's weekdays would otherwise slip
 * exchange holidays into an ingested stock's dates).
 * The file is parsed once per instance into per-symbol columns: a few bytes a bar, so a
 * 1000-symbol, 10-year file fits a function's memory.
 */
export class FixturePriceSource implements PriceSource {
  private parsed?: Promise<Map<string, CsvSeries>>;

  constructor(
    private readonly csvPath: string,
    private readonly extraRows: (symbols: readonly string[], start: string, end: string) => Promise<PriceRow[]> = async () => [],
  ) {}

  async histories(symbols: readonly string[], start: string, end: string): Promise<PriceHistory[]> {
    this.parsed ??= fs.readFile(this.csvPath, 'utf8').then((text) => parsePriceCsv(text, this.csvPath));
    const [series, ingested] = await Promise.all([this.parsed, this.extraRows(symbols, start, end)]);
    const ingestedSymbols = new Set(ingested.map((r) => r.symbol));
    const fromTables = symbols.filter((s) => ingestedSymbols.has(s));
    const tableHistories = new Map(historiesFromRows(ingested, fromTables, start, end, 'the locally ingested tables').map((h) => [h.symbol, h]));
    const describe = `the fixture prices (${this.csvPath}) or the locally ingested tables`;
    return symbols.map((symbol) => {
      const fromTable = tableHistories.get(symbol);
      if (fromTable) return fromTable;
      const csv = series.get(symbol);
      return (csv && orderedHistory(symbol, csv, start, end)) ?? historiesFromRows(rowsOf(csv, symbol, start, end), [symbol], start, end, describe, (s) => series.has(s))[0];
    });
  }
}

/**
 * The history straight from the columns when the file has the symbol's dates in strictly
 * increasing order (the common case): no per-row objects. Undefined otherwise, or when the
 * window is empty, so the general path sorts, dedupes or reports.
 */
function orderedHistory(symbol: string, csv: CsvSeries, start: string, end: string): PriceHistory | undefined {
  const dates: string[] = [];
  const prices: number[] = [];
  let previous = '';
  for (let i = 0; i < csv.dates.length; i++) {
    const date = csv.dates[i];
    if (date <= previous) return undefined;
    previous = date;
    if (date < start || date > end) continue;
    const price = Number.isNaN(csv.adjClose[i]) ? csv.close[i] : csv.adjClose[i];
    if (!Number.isFinite(price) || price <= 0) continue;
    dates.push(date);
    prices.push(price);
  }
  return dates.length > 0 ? { symbol, dates, prices } : undefined;
}

function* rowsOf(csv: CsvSeries | undefined, symbol: string, start: string, end: string): Generator<PriceRow> {
  if (csv) {
    for (let i = 0; i < csv.dates.length; i++) {
      const date = csv.dates[i];
      if (date >= start && date <= end) yield { date, symbol, close: nullIfNaN(csv.close[i]), adj_close: nullIfNaN(csv.adjClose[i]) };
    }
  }
}

function nullIfNaN(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

/**
 * Parses the fixture CSV into per-symbol columns; empty cells are nulls. Scans the text
 * without splitting it into a line array, and interns dates (a few thousand distinct values
 * over millions of rows). Throws naming the line of a malformed row.
 */
export function parsePriceCsv(text: string, name: string): Map<string, CsvSeries> {
  let lineEnd = text.indexOf('\n');
  if (lineEnd < 0) lineEnd = text.length;
  const header = text.slice(0, lineEnd).replace(/\r$/, '').split(',').map((h) => h.trim());
  const index = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof REQUIRED_COLUMNS)[number], number>;
  for (const column of REQUIRED_COLUMNS) {
    if (index[column] < 0) throw new Error(`${name}: the header has no "${column}" column (expected date,symbol,open,high,low,close,adj_close,volume).`);
  }
  const series = new Map<string, CsvSeries>();
  const dates = new Map<string, string>();
  let line = 1;
  for (let pos = lineEnd + 1; pos < text.length; ) {
    let next = text.indexOf('\n', pos);
    if (next < 0) next = text.length;
    line++;
    const row = text.slice(pos, next).replace(/\r$/, '');
    pos = next + 1;
    if (row.trim() === '') continue;
    const cells = row.split(',');
    const rawDate = cells[index.date];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(rawDate)) throw new Error(`${name}: line ${line} has no ISO date.`);
    let date = dates.get(rawDate);
    if (date === undefined) dates.set(rawDate, (date = rawDate));
    const symbol = cells[index.symbol];
    let s = series.get(symbol);
    if (!s) series.set(symbol, (s = { dates: [], close: [], adjClose: [] }));
    s.dates.push(date);
    s.close.push(numberOrNaN(cells[index.close]));
    s.adjClose.push(numberOrNaN(cells[index.adj_close]));
  }
  return series;
}

function numberOrNaN(cell: string | undefined): number {
  if (cell === undefined || cell.trim() === '') return NaN;
  const value = Number(cell);
  return Number.isFinite(value) ? value : NaN;
}
