import { promises as fs } from 'node:fs';
import type { PriceHistory } from './history.js';
import { historiesFromRows, type PriceRow, type PriceSource } from './priceSource.js';

const REQUIRED_COLUMNS = ['date', 'symbol', 'close', 'adj_close'] as const;

/** One symbol's bars as read from the CSV: dates (interned strings) and their closes. */
export interface CsvSeries {
  readonly dates: string[];
  readonly close: (number | null)[];
  readonly adjClose: (number | null)[];
}

/**
 * Prices from a CSV with header `date,symbol,open,high,low,close,adj_close,volume`
 * (FIXTURE_PRICES), plus any rows that a local `ingest` loaded: those come from
 * `extraRows` and win over the CSV for the same symbol and date.
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
    return historiesFromRows(rowsOf(series, symbols, start, end, ingested), symbols, start, end, `the fixture prices (${this.csvPath})`);
  }
}

function* rowsOf(series: Map<string, CsvSeries>, symbols: readonly string[], start: string, end: string, extra: readonly PriceRow[]): Generator<PriceRow> {
  for (const symbol of symbols) {
    const s = series.get(symbol);
    if (!s) continue;
    for (let i = 0; i < s.dates.length; i++) {
      const date = s.dates[i];
      if (date >= start && date <= end) yield { date, symbol, close: s.close[i], adj_close: s.adjClose[i] };
    }
  }
  yield* extra;
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
    s.close.push(numberOrNull(cells[index.close]));
    s.adjClose.push(numberOrNull(cells[index.adj_close]));
  }
  return series;
}

function numberOrNull(cell: string | undefined): number | null {
  if (cell === undefined || cell.trim() === '') return null;
  const value = Number(cell);
  return Number.isFinite(value) ? value : null;
}
