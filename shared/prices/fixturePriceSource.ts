import { promises as fs } from 'node:fs';
import type { PriceHistory } from './history.js';
import { FastRowReader, isoDate, type CsvColumns, type FastRows } from './csvRows.js';
import { newlineFrom, readAt, readRowWindows, WINDOW_BYTES } from './csvWindows.js';
import { helperThread, type HelperThread } from '../parallel/helperThread.js';
import { historiesFromRows, type PriceRow, type PriceSource } from './priceSource.js';

const REQUIRED_COLUMNS = ['date', 'symbol', 'close', 'adj_close'] as const;

/**
 * One symbol's bars as read from the CSV: dates (interned strings) and their closes, with
 * NaN for an empty cell so the arrays hold unboxed doubles.
 */
export interface CsvSeries {
  readonly dates: readonly string[];
  readonly close: Float64Array;
  readonly adjClose: Float64Array;
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
    this.parsed ??= readPriceCsv(this.csvPath);
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
  const { dates: all, close, adjClose } = csv;
  // First whether the dates are in order (once per dates array: symbols share calendars)...
  if (!increasing.has(all)) {
    for (let i = 1; i < all.length; i++) if (!(all[i - 1] < all[i])) return undefined;
    increasing.add(all);
  }
  // ... then which bars are kept, then arrays of that size.
  const inside = all.length > 0 && all[0] >= start && all[all.length - 1] <= end;
  let kept = 0;
  for (let i = 0; i < all.length; i++) {
    if ((inside || (all[i] >= start && all[i] <= end)) && isPrice(Number.isNaN(adjClose[i]) ? close[i] : adjClose[i])) kept++;
  }
  if (kept === 0) return undefined;
  // Every bar kept (the common case): the dates are the series' own (neither is ever modified).
  const some = kept === all.length ? null : sizedArray(kept, '');
  const prices = sizedArray(kept, 0);
  for (let i = 0, k = 0; i < all.length; i++) {
    const date = all[i];
    const price = Number.isNaN(adjClose[i]) ? close[i] : adjClose[i];
    if (!(inside || (date >= start && date <= end)) || !isPrice(price)) continue;
    if (some) some[k] = date;
    prices[k++] = price;
  }
  return { symbol, dates: some ?? all, prices };
}

/** Dates arrays already found strictly increasing. */
const increasing = new WeakSet<readonly string[]>();

function isPrice(value: number): boolean {
  return Number.isFinite(value) && value > 0;
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
 * bytes: plain rows are read in place by the fast reader (csvRows.ts: no line, cell or date
 * string per row: a 1000-symbol, 10-year file is 2.5 million rows), and a row it does not
 * take (quotes, exponents, spaces, missing cells...) by the general one below, so both give
 * the same columns and the same errors. Throws naming the line of a malformed row.
 */
export function parsePriceCsv(input: string | Uint8Array, name: string): Map<string, CsvSeries> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const parser = new CsvParser(bytes, name);
  parser.parse(parser.bodyStart, bytes.length);
  return parser.finish();
}

/**
 * From this size on a file is read by two threads, where there is a helper thread: below,
 * starting the thread (~0.1 s of CPU) costs more than it saves (a 16 MB file reads in ~0.1 s).
 */
const SPLIT_BYTES = 32 << 20;

/**
 * Reads and parses the fixture CSV, as parsePriceCsv does. A large file is never in memory
 * whole: it is read a window at a time (csvWindows.ts) in two halves split at a line
 * boundary, the second by the helper thread's fast reader, which reads its half of the file
 * itself; the halves are joined in file order, so the columns and the errors are the ones of
 * one thread (a row the fast reader does not take in the second half is read by this
 * thread, from there on).
 */
export async function readPriceCsv(
  file: string,
  helperOf: () => HelperThread | null = helperThread,
  /** Tests' knobs: the size from which a file is read in two, and the window (bytes). */
  { splitBytes = SPLIT_BYTES, windowBytes = WINDOW_BYTES }: { readonly splitBytes?: number; readonly windowBytes?: number } = {},
): Promise<Map<string, CsvSeries>> {
  const handle = await fs.open(file);
  try {
    const { size } = await handle.stat();
    // The helper thread starts (if it has not) only for a large file, and loads while the header is read.
    const helper = size < splitBytes ? null : helperOf();
    if (!helper) return parsePriceCsv(await handle.readFile(), file);
    const head = Buffer.allocUnsafe(Math.min(size, WINDOW_BYTES));
    const headLength = readAt(handle.fd, head, head.length, 0);
    // A header longer than a window (not a price file anyone writes) is read the plain way.
    if (head.subarray(0, headLength).indexOf(NEWLINE) < 0) return parsePriceCsv(await handle.readFile(), file);
    return await parseInTwo(handle.fd, size, new CsvParser(head.subarray(0, headLength), file, size), file, helper, windowBytes);
  } finally {
    await handle.close();
  }
}

async function parseInTwo(fd: number, size: number, parser: CsvParser, file: string, helper: HelperThread, windowBytes: number): Promise<Map<string, CsvSeries>> {
  const parse = (from: number, to: number) =>
    readRowWindows(
      fd,
      size,
      from,
      to,
      (window, end) => {
        parser.rebind(window);
        parser.parse(0, end);
        return end;
      },
      windowBytes,
    );
  const split = newlineFrom(fd, size, parser.bodyStart + ((size - parser.bodyStart) >> 1));
  if (split < 0) {
    parse(parser.bodyStart, size);
    return parser.finish();
  }
  const secondHalf = helper.run({ kind: 'csvRows', input: { file, size, columns: parser.columns, from: split + 1, to: size, windowBytes } });
  try {
    parse(parser.bodyStart, split + 1);
  } catch (error) {
    secondHalf.catch(() => undefined);
    throw error;
  }
  // Should the helper fail, this thread reads the second half itself.
  const other = await secondHalf.catch(() => null);
  if (other) parser.addRows(other.rows, other.lines);
  parse(other ? other.stop : split + 1, size);
  return parser.finish();
}

/**
 * The CSV read into per-symbol columns, a range of rows at a time, in file order: the fast
 * reader's rows (its own, or another thread's over the same bytes) and the general reader's,
 * all kept as columns of rows until `finish` sorts them out by symbol into arrays of their
 * final size (no array grows row by row: 2.5 million rows would make that much garbage).
 */
export class CsvParser {
  /** Where the first row after the header starts. */
  readonly bodyStart: number;
  readonly columns: CsvColumns;
  private readonly index: Record<(typeof REQUIRED_COLUMNS)[number], number>;
  private readonly reader: FastRowReader;
  /** Lines read so far, the header included. */
  private line = 1;

  /**
   * @param bytes the file's bytes from its start (its header at least; later windows come by `rebind`)
   * @param fileBytes the whole file's size, to size the columns for its rows
   */
  constructor(
    private bytes: Buffer,
    private readonly name: string,
    fileBytes = bytes.length,
  ) {
    let lineEnd = bytes.indexOf(NEWLINE);
    if (lineEnd < 0) lineEnd = bytes.length;
    const header = bytes.toString('utf8', 0, lineEnd).replace(/\r$/, '').split(',').map((h) => h.trim());
    this.index = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof REQUIRED_COLUMNS)[number], number>;
    for (const column of REQUIRED_COLUMNS) {
      if (this.index[column] < 0) throw new Error(`${name}: the header has no "${column}" column (expected date,symbol,open,high,low,close,adj_close,volume).`);
    }
    this.columns = { date: this.index.date, symbol: this.index.symbol, close: this.index.close, adjClose: this.index.adj_close };
    this.bodyStart = Math.min(bytes.length, lineEnd + 1);
    this.reader = new FastRowReader(bytes, this.columns, Math.ceil((fileBytes - this.bodyStart) / 48));
  }

  /** Reads from `bytes` from now on (the next window of the file); positions are in it. */
  rebind(bytes: Buffer): void {
    this.bytes = bytes;
    this.reader.rebind(bytes);
  }

  /** Reads the rows starting in [from, to), `from` at the start of a row after every row read so far. */
  parse(from: number, to: number): void {
    const bytes = this.bytes;
    for (let pos = from; pos < to; ) {
      const { stop, lines } = this.reader.read(pos, to);
      this.line += lines;
      pos = stop;
      if (pos >= to) break;
      let next = bytes.indexOf(NEWLINE, pos);
      if (next < 0) next = bytes.length;
      let rowEnd = next;
      if (rowEnd > pos && bytes[rowEnd - 1] === CARRIAGE_RETURN) rowEnd--;
      this.generalRow(bytes.toString('utf8', pos, rowEnd), ++this.line);
      pos = next + 1;
    }
  }

  /** Adds rows the fast reader read on another thread (the rows right after every row read so far) and counts their lines. */
  addRows(rows: FastRows, lines: number): void {
    this.reader.addRows(rows);
    this.line += lines;
  }

  /**
   * The series of every symbol, in the order the file first lists them. The rows are sorted
   * out by symbol into one buffer per column (each series is a view of its stretch), and the
   * dates are kept as YYYYMMDD digits until the calendars are found: one array of date strings
   * per distinct calendar, not one per symbol (1,000 arrays of 2,520 pointers were most of
   * the job's garbage-collection time).
   */
  finish(): Map<string, CsvSeries> {
    const { count, symbolIds, dateDigits, close, adjClose, symbols } = this.reader.take();
    const offsets = new Int32Array(symbols.length + 1);
    for (let k = 0; k < count; k++) offsets[symbolIds[k] + 1]++;
    for (let id = 0; id < symbols.length; id++) offsets[id + 1] += offsets[id];
    const filled = offsets.slice(0, symbols.length);
    const digitsBySymbol = new Int32Array(count);
    const closeBySymbol = new Float64Array(count);
    const adjCloseBySymbol = new Float64Array(count);
    for (let k = 0; k < count; k++) {
      const at = filled[symbolIds[k]]++;
      digitsBySymbol[at] = dateDigits[k];
      closeBySymbol[at] = close[k];
      adjCloseBySymbol[at] = adjClose[k];
    }
    const calendars = new Calendars(digitsBySymbol);
    return new Map(
      symbols.map((symbol, id): [string, CsvSeries] => {
        const from = offsets[id];
        const to = offsets[id + 1];
        return [symbol, { dates: calendars.datesOf(from, to), close: closeBySymbol.subarray(from, to), adjClose: adjCloseBySymbol.subarray(from, to) }];
      }),
    );
  }

  /** One row read as text, cell by cell: anything the fast reader left. */
  private generalRow(row: string, line: number): void {
    if (row.trim() === '') return;
    const cells = row.split(',');
    const rawDate = cells[this.index.date];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(rawDate)) throw new Error(`${this.name}: line ${line} has no ISO date.`);
    this.reader.addRow(cells[this.index.symbol], Number(rawDate.replaceAll('-', '')), numberOrNaN(cells[this.index.close]), numberOrNaN(cells[this.index.adj_close]));
  }
}

/**
 * The dates of stretches of YYYYMMDD digits as arrays of strings, one array for every stretch
 * with the same dates: symbols listed on the same dates (most of a file written a date at a
 * time) share it, so 1,000 symbols of 2,520 dates make one array, and the alignment of their
 * histories finds them equal at once. Each date is one string, however many rows list it.
 */
class Calendars {
  private readonly known = new Map<string, { readonly from: number; readonly to: number; readonly dates: readonly string[] }[]>();
  private readonly strings = new Map<number, string>();

  constructor(private readonly digits: Int32Array) {}

  datesOf(from: number, to: number): readonly string[] {
    const digits = this.digits;
    const length = to - from;
    if (length === 0) return [];
    const key = `${length} ${digits[from]} ${digits[to - 1]}`;
    let same = this.known.get(key);
    if (!same) this.known.set(key, (same = []));
    for (const calendar of same) {
      let i = 0;
      while (i < length && digits[calendar.from + i] === digits[from + i]) i++;
      if (i === length) return calendar.dates;
    }
    const dates = sizedArray(length, '');
    let last = -1;
    let date = '';
    for (let i = 0; i < length; i++) {
      const d = digits[from + i];
      if (d !== last) {
        let text = this.strings.get(d);
        if (text === undefined) this.strings.set(d, (text = isoDate(d)));
        last = d;
        date = text;
      }
      dates[i] = date;
    }
    same.push({ from, to, dates });
    return dates;
  }
}

/** An array of `length` slots, every one to be written: preallocated unless too long for fast elements. */
function sizedArray<T>(length: number, fill: T): T[] {
  return length <= 50_000 ? new Array<T>(length) : Array.from({ length }, () => fill);
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

function numberOrNaN(cell: string | undefined): number {
  if (cell === undefined || cell.trim() === '') return NaN;
  const value = Number(cell);
  return Number.isFinite(value) ? value : NaN;
}
