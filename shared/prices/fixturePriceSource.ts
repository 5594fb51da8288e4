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
    this.parsed ??= fs.readFile(this.csvPath).then((bytes) => parsePriceCsv(bytes, this.csvPath));
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
 * Parses the fixture CSV into per-symbol columns; empty cells are nulls. Works on the file's
 * bytes: each row is read in place (no line, cell or date string per row: a 1000-symbol,
 * 10-year file is 2.5 million rows), dates are interned by their digits, symbols by their
 * bytes, and plain decimals like `123.4567` are read exactly as Number() reads them. A row the
 * fast reader does not recognise (quotes, exponents, spaces, missing cells...) is read by the
 * general one below, so both give the same columns and the same errors. Throws naming the line
 * of a malformed row.
 */
export function parsePriceCsv(input: string | Uint8Array, name: string): Map<string, CsvSeries> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  let lineEnd = bytes.indexOf(NEWLINE);
  if (lineEnd < 0) lineEnd = bytes.length;
  const header = bytes.toString('utf8', 0, lineEnd).replace(/\r$/, '').split(',').map((h) => h.trim());
  const index = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof REQUIRED_COLUMNS)[number], number>;
  for (const column of REQUIRED_COLUMNS) {
    if (index[column] < 0) throw new Error(`${name}: the header has no "${column}" column (expected date,symbol,open,high,low,close,adj_close,volume).`);
  }
  const series = new Map<string, CsvSeries>();
  const dates = new Map<string, string>();
  const datesByDigits = new Map<number, string>();
  const symbols = new SymbolTable(bytes);
  const lastColumn = Math.max(index.date, index.symbol, index.close, index.adj_close);
  const starts = new Int32Array(lastColumn + 2);
  let line = 1;
  for (let pos = lineEnd + 1; pos < bytes.length; ) {
    let next = bytes.indexOf(NEWLINE, pos);
    if (next < 0) next = bytes.length;
    line++;
    const rowStart = pos;
    let rowEnd = next;
    pos = next + 1;
    if (rowEnd > rowStart && bytes[rowEnd - 1] === CARRIAGE_RETURN) rowEnd--;
    // Where the cells up to the last one needed start (starts[k + 1] - 1 is where cell k ends).
    let cell = 0;
    starts[0] = rowStart;
    for (let i = rowStart; i < rowEnd && cell <= lastColumn; i++) if (bytes[i] === COMMA) starts[++cell] = i + 1;
    if (cell <= lastColumn) starts[cell + 1] = rowEnd + 1;
    const fast =
      cell >= lastColumn &&
      readRow(bytes, starts, index, datesByDigits, symbols, series);
    if (!fast) generalRow(bytes.toString('utf8', rowStart, rowEnd), line, index, name, dates, datesByDigits, series);
  }
  return series;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COMMA = 0x2c;

/** The row read in place, if it is plain (ISO date, a symbol, plain decimals or empty cells); false to leave it to generalRow. */
function readRow(
  bytes: Buffer,
  starts: Int32Array,
  index: Record<(typeof REQUIRED_COLUMNS)[number], number>,
  datesByDigits: Map<number, string>,
  symbols: SymbolTable,
  series: Map<string, CsvSeries>,
): boolean {
  const dateStart = starts[index.date];
  if (starts[index.date + 1] - 1 - dateStart !== 10) return false;
  const digits = isoDateDigits(bytes, dateStart);
  if (digits < 0) return false;
  const symbolStart = starts[index.symbol];
  const symbolEnd = starts[index.symbol + 1] - 1;
  if (symbolEnd <= symbolStart) return false;
  const close = plainDecimal(bytes, starts[index.close], starts[index.close + 1] - 1);
  const adjClose = plainDecimal(bytes, starts[index.adj_close], starts[index.adj_close + 1] - 1);
  if (close === NOT_PLAIN || adjClose === NOT_PLAIN) return false;
  const symbol = symbols.intern(symbolStart, symbolEnd);
  if (symbol === undefined) return false;
  let date = datesByDigits.get(digits);
  if (date === undefined) datesByDigits.set(digits, (date = bytes.toString('latin1', dateStart, dateStart + 10)));
  let s = series.get(symbol);
  if (!s) series.set(symbol, (s = { dates: [], close: [], adjClose: [] }));
  s.dates.push(date);
  s.close.push(close);
  s.adjClose.push(adjClose);
  return true;
}

/** YYYYMMDD of `dddd-dd-dd` at `at`, or -1. */
function isoDateDigits(bytes: Buffer, at: number): number {
  let value = 0;
  for (let i = 0; i < 10; i++) {
    const b = bytes[at + i];
    if (i === 4 || i === 7) {
      if (b !== 0x2d) return -1;
    } else {
      const d = b - 0x30;
      if (d < 0 || d > 9) return -1;
      value = value * 10 + d;
    }
  }
  return value;
}

const NOT_PLAIN = -1;
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A cell of digits with at most one '.', at most 15 significant digits: m / 10^k with m and
 * 10^k exact doubles, so the one division is correctly rounded, which is what Number() returns.
 * NaN for an empty cell (as numberOrNaN); NOT_PLAIN for anything else (signs, exponents,
 * spaces, more digits), which the general reader handles.
 */
function plainDecimal(bytes: Buffer, start: number, end: number): number {
  if (end <= start) return NaN;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === 0x2e) {
      if (fraction >= 0) return NOT_PLAIN;
      fraction = 0;
      continue;
    }
    const d = b - 0x30;
    if (d < 0 || d > 9) return NOT_PLAIN;
    mantissa = mantissa * 10 + d;
    if (mantissa > 0) digits++;
    if (fraction >= 0) fraction++;
  }
  if (digits > 15 || fraction === 0 || fraction > 22) return NOT_PLAIN;
  if (bytes[start] === 0x2e && end - start === 1) return NOT_PLAIN;
  return fraction > 0 ? mantissa / POWERS_OF_TEN[fraction] : mantissa;
}

/** Symbols by their bytes: one string per distinct symbol, found again from a row without making one. */
class SymbolTable {
  private readonly byHash = new Map<number, { start: number; end: number; text: string }[]>();

  constructor(private readonly bytes: Buffer) {}

  /** The symbol in bytes[start, end), or undefined if it is not plain ASCII (the general reader takes it). */
  intern(start: number, end: number): string | undefined {
    const bytes = this.bytes;
    let hash = end - start;
    for (let i = start; i < end; i++) {
      const b = bytes[i];
      if (b <= 0x20 || b >= 0x7f || b === 0x22) return undefined;
      hash = (Math.imul(hash, 31) + b) | 0;
    }
    let bucket = this.byHash.get(hash);
    if (bucket) {
      for (const known of bucket) {
        if (known.end - known.start === end - start && sameBytes(bytes, start, known.start, end - start)) return known.text;
      }
    } else this.byHash.set(hash, (bucket = []));
    const text = bytes.toString('latin1', start, end);
    bucket.push({ start, end, text });
    return text;
  }
}

function sameBytes(bytes: Buffer, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** One row read as text, cell by cell: anything the fast reader left. */
function generalRow(
  row: string,
  line: number,
  index: Record<(typeof REQUIRED_COLUMNS)[number], number>,
  name: string,
  dates: Map<string, string>,
  datesByDigits: Map<number, string>,
  series: Map<string, CsvSeries>,
): void {
  if (row.trim() === '') return;
  const cells = row.split(',');
  const rawDate = cells[index.date];
  if (!/^\d{4}-\d{2}-\d{2}$/.test(rawDate)) throw new Error(`${name}: line ${line} has no ISO date.`);
  const digits = Number(rawDate.replaceAll('-', ''));
  let date = datesByDigits.get(digits) ?? dates.get(rawDate);
  if (date === undefined) dates.set(rawDate, (date = rawDate));
  const symbol = cells[index.symbol];
  let s = series.get(symbol);
  if (!s) series.set(symbol, (s = { dates: [], close: [], adjClose: [] }));
  s.dates.push(date);
  s.close.push(numberOrNaN(cells[index.close]));
  s.adjClose.push(numberOrNaN(cells[index.adj_close]));
}

function numberOrNaN(cell: string | undefined): number {
  if (cell === undefined || cell.trim() === '') return NaN;
  const value = Number(cell);
  return Number.isFinite(value) ? value : NaN;
}
