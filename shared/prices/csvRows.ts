/**
 * The fast reader of the fixture CSV's rows (fixturePriceSource.ts): rows whose cells are an
 * ISO date, a plain ASCII symbol and plain decimals (or empty), read in place from the file's
 * bytes into columns: no string per row, no object per row. It stops at the first row it
 * does not take, for the general reader. Pure (no I/O), so the CSV worker runs it on its
 * half of a file as the calling thread runs it on the other.
 */

/** Where the cells the reader needs are, by position in a row (from the header). */
export interface CsvColumns {
  readonly date: number;
  readonly symbol: number;
  readonly close: number;
  readonly adjClose: number;
}

/** Rows read so far, in file order, as columns (the first `count` entries of each array). */
export interface FastRows {
  readonly count: number;
  /** Index into `symbols` of each row's symbol. */
  readonly symbolIds: Int32Array<ArrayBuffer>;
  /** YYYYMMDD of each row's date (the date cell is exactly `YYYY-MM-DD`). */
  readonly dateDigits: Int32Array<ArrayBuffer>;
  /** NaN for an empty cell. */
  readonly close: Float64Array<ArrayBuffer>;
  readonly adjClose: Float64Array<ArrayBuffer>;
  /** The symbols, in the order the reader first met them. */
  readonly symbols: readonly string[];
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COMMA = 0x2c;

/**
 * Reads rows of `bytes` into columns, call after call (a symbol keeps its id across calls;
 * ids are given in the order symbols are first met).
 * `take()` gives the rows read since the last take, valid until the next `read`.
 */
export class FastRowReader {
  private readonly symbols = new SymbolTable();
  private readonly starts: Int32Array;
  private readonly lastColumn: number;
  private capacity: number;
  private count = 0;
  private symbolIds: Int32Array<ArrayBuffer>;
  private dateDigits: Int32Array<ArrayBuffer>;
  private close: Float64Array<ArrayBuffer>;
  private adjClose: Float64Array<ArrayBuffer>;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly columns: CsvColumns,
    /** Rows expected (grows as needed). */
    expectedRows = 1024,
  ) {
    this.lastColumn = Math.max(columns.date, columns.symbol, columns.close, columns.adjClose);
    this.starts = new Int32Array(this.lastColumn + 2);
    this.capacity = Math.max(16, expectedRows);
    this.symbolIds = new Int32Array(this.capacity);
    this.dateDigits = new Int32Array(this.capacity);
    this.close = new Float64Array(this.capacity);
    this.adjClose = new Float64Array(this.capacity);
  }

  /**
   * Reads the rows that start in [from, to) (`from` at a row's start) until one the fast
   * reader does not take (a blank line, a quote, an exponent, a missing cell...).
   * @returns where it stopped (`to`, or past it when the last row ends past it; else the
   *   start of the row not taken) and the lines read.
   */
  read(from: number, to: number): { readonly stop: number; readonly lines: number } {
    const bytes = this.bytes;
    const starts = this.starts;
    const lastColumn = this.lastColumn;
    const { date: dateColumn, symbol: symbolColumn, close: closeColumn, adjClose: adjCloseColumn } = this.columns;
    const length = bytes.length;
    let lines = 0;
    let pos = from;
    while (pos < to) {
      const rowStart = pos;
      // One pass over the row: where the cells up to the last one needed start
      // (starts[k + 1] - 1 is where cell k ends), and where the row ends.
      let cell = 0;
      starts[0] = rowStart;
      let next = rowStart;
      for (; next < length; next++) {
        const b = bytes[next];
        // One comparison for most bytes: digits, '-' and '.' all sort after ',' and '\n'.
        if (b <= COMMA) {
          if (b === NEWLINE) break;
          if (b === COMMA && cell <= lastColumn) starts[++cell] = next + 1;
        }
      }
      let rowEnd = next;
      if (rowEnd > rowStart && bytes[rowEnd - 1] === CARRIAGE_RETURN) rowEnd--;
      if (cell < lastColumn) return { stop: rowStart, lines };
      if (cell === lastColumn) starts[cell + 1] = rowEnd + 1;
      const dateStart = starts[dateColumn];
      if (starts[dateColumn + 1] - 1 - dateStart !== 10) return { stop: rowStart, lines };
      const digits = isoDateDigits(bytes, dateStart);
      const close = plainDecimal(bytes, starts[closeColumn], starts[closeColumn + 1] - 1);
      const adjClose = plainDecimal(bytes, starts[adjCloseColumn], starts[adjCloseColumn + 1] - 1);
      const symbolStart = starts[symbolColumn];
      const symbolEnd = starts[symbolColumn + 1] - 1;
      if (digits < 0 || close === NOT_PLAIN || adjClose === NOT_PLAIN || symbolEnd <= symbolStart) return { stop: rowStart, lines };
      const id = this.symbols.intern(bytes, symbolStart, symbolEnd);
      if (id < 0) return { stop: rowStart, lines };
      if (this.count === this.capacity) this.grow();
      const k = this.count++;
      this.symbolIds[k] = id;
      this.dateDigits[k] = digits;
      this.close[k] = close;
      this.adjClose[k] = adjClose;
      lines++;
      pos = next + 1;
    }
    return { stop: pos, lines };
  }

  /** Adds a row read elsewhere (the general reader, another thread's fast reader), after every row read so far. */
  addRow(symbol: string, dateDigits: number, close: number, adjClose: number): void {
    if (this.count === this.capacity) this.grow();
    const k = this.count++;
    this.symbolIds[k] = this.symbols.idOf(symbol);
    this.dateDigits[k] = dateDigits;
    this.close[k] = close;
    this.adjClose[k] = adjClose;
  }

  /** Adds the rows another reader read (of the rows after every row read so far). */
  addRows(rows: FastRows): void {
    const ids = rows.symbols.map((symbol) => this.symbols.idOf(symbol));
    while (this.capacity - this.count < rows.count) this.grow();
    for (let k = 0; k < rows.count; k++) this.symbolIds[this.count + k] = ids[rows.symbolIds[k]];
    this.dateDigits.set(rows.dateDigits.subarray(0, rows.count), this.count);
    this.close.set(rows.close.subarray(0, rows.count), this.count);
    this.adjClose.set(rows.adjClose.subarray(0, rows.count), this.count);
    this.count += rows.count;
  }

  /** The rows read since the last take: views of the reader's arrays, valid until the next `read`. */
  take(): FastRows {
    const rows: FastRows = {
      count: this.count,
      symbolIds: this.symbolIds,
      dateDigits: this.dateDigits,
      close: this.close,
      adjClose: this.adjClose,
      symbols: this.symbols.texts,
    };
    this.count = 0;
    return rows;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const widen = <T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.symbolIds = widen(this.symbolIds, (n) => new Int32Array(n));
    this.dateDigits = widen(this.dateDigits, (n) => new Int32Array(n));
    this.close = widen(this.close, (n) => new Float64Array(n));
    this.adjClose = widen(this.adjClose, (n) => new Float64Array(n));
    this.capacity = capacity;
  }
}

/** `YYYY-MM-DD` of YYYYMMDD digits (what the fast reader read the date from). */
export function isoDate(digits: number): string {
  const year = Math.floor(digits / 10000);
  const month = Math.floor(digits / 100) % 100;
  const day = digits % 100;
  return `${String(year).padStart(4, '0')}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

/** YYYYMMDD of `dddd-dd-dd` at `at`, or -1. */
function isoDateDigits(bytes: Uint8Array, at: number): number {
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
 * NaN for an empty cell (as the general reader); NOT_PLAIN for anything else (signs,
 * exponents, spaces, more digits), which the general reader handles.
 */
function plainDecimal(bytes: Uint8Array, start: number, end: number): number {
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

/** A symbol met by the fast reader: where its bytes first were (in `bytes` of that call), its id. */
interface KnownSymbol {
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly id: number;
  /** The symbol of the row that followed this one's last time: files repeat one order of symbols. */
  next: KnownSymbol | null;
}

/**
 * Symbols by their bytes: an id per distinct symbol, found again from a row without making a
 * string. Each row's symbol is first compared with the one that followed the previous row's
 * symbol last time (a file written a date at a time lists its symbols in the same order every
 * date), and looked up by hash only when that guess fails.
 */
class SymbolTable {
  readonly texts: string[] = [];
  private readonly byText = new Map<string, number>();
  private readonly byHash = new Map<number, KnownSymbol[]>();
  private previous: KnownSymbol | null = null;

  /** The id of a symbol given as text (any text: the general reader's cells). */
  idOf(text: string): number {
    let id = this.byText.get(text);
    if (id === undefined) {
      id = this.texts.length;
      this.texts.push(text);
      this.byText.set(text, id);
    }
    return id;
  }

  /** The id of the symbol in bytes[start, end), or -1 if it is not plain ASCII (the general reader takes it). */
  intern(bytes: Uint8Array, start: number, end: number): number {
    const previous = this.previous;
    const guess = previous?.next;
    if (guess && guess.end - guess.start === end - start && sameBytes(bytes, start, guess.bytes, guess.start, end - start)) {
      this.previous = guess;
      return guess.id;
    }
    let hash = end - start;
    for (let i = start; i < end; i++) {
      const b = bytes[i];
      if (b <= 0x20 || b >= 0x7f || b === 0x22) return -1;
      hash = (Math.imul(hash, 31) + b) | 0;
    }
    let found: KnownSymbol | undefined;
    let bucket = this.byHash.get(hash);
    if (bucket) {
      for (const known of bucket) {
        if (known.end - known.start === end - start && sameBytes(bytes, start, known.bytes, known.start, end - start)) {
          found = known;
          break;
        }
      }
    } else this.byHash.set(hash, (bucket = []));
    if (!found) {
      // Met as text before (the general reader) or new.
      found = { bytes, start, end, id: this.idOf(String.fromCharCode(...bytes.subarray(start, end))), next: null };
      bucket.push(found);
    }
    if (previous) previous.next = found;
    this.previous = found;
    return found.id;
  }
}

function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}
