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

/** The cells of a row, as the reader sees them. */
const SKIPPED = 0;
const DATE = 1;
const SYMBOL = 2;
const CLOSE = 3;
const ADJ_CLOSE = 4;

/**
 * Reads rows of `bytes` into columns, call after call (a symbol keeps its id across calls;
 * ids are given in the order symbols are first met).
 * `take()` gives the rows read since the last take, valid until the next `read`.
 */
export class FastRowReader {
  private readonly symbols = new SymbolTable();
  /** What each cell up to the last one needed is to the reader. */
  private readonly roles: Uint8Array;
  /** The same bytes, to read four at once. */
  private view: DataView;
  private readonly lastColumn: number;
  private capacity: number;
  private count = 0;
  private symbolIds: Int32Array<ArrayBuffer>;
  private dateDigits: Int32Array<ArrayBuffer>;
  private close: Float64Array<ArrayBuffer>;
  private adjClose: Float64Array<ArrayBuffer>;

  constructor(
    private bytes: Uint8Array,
    private readonly columns: CsvColumns,
    /** Rows expected (grows as needed). */
    expectedRows = 1024,
  ) {
    this.lastColumn = Math.max(columns.date, columns.symbol, columns.close, columns.adjClose);
    this.roles = new Uint8Array(this.lastColumn + 1);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.roles[columns.date] = DATE;
    this.roles[columns.symbol] = SYMBOL;
    this.roles[columns.close] = CLOSE;
    this.roles[columns.adjClose] = ADJ_CLOSE;
    this.capacity = Math.max(16, expectedRows);
    this.symbolIds = new Int32Array(this.capacity);
    this.dateDigits = new Int32Array(this.capacity);
    this.close = new Float64Array(this.capacity);
    this.adjClose = new Float64Array(this.capacity);
  }

  /**
   * Reads from `bytes` from now on: the next window of a file read through one reused buffer
   * (csvWindows.ts). Symbols met before stay known (the table keeps its own copy of their bytes).
   */
  rebind(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Reads the rows that start in [from, to) (`from` at a row's start) until one the fast
   * reader does not take (a blank line, a quote, an exponent, a missing cell...).
   * One pass over each row's bytes: the cells it needs are read as they are scanned
   * (the date's digits, the decimals' mantissas), the others skipped to their comma.
   * @returns where it stopped (`to`, or past it when the last row ends past it; else the
   *   start of the row not taken) and the lines read.
   */
  read(from: number, to: number): { readonly stop: number; readonly lines: number } {
    const bytes = this.bytes;
    const roles = this.roles;
    const lastColumn = this.lastColumn;
    const length = bytes.length;
    const view = this.view;
    let lines = 0;
    let pos = from;
    while (pos < to) {
      const rowStart = pos;
      let i = pos;
      let digits = -1;
      let close = NaN;
      let adjClose = NaN;
      let symbolStart = 0;
      let symbolEnd = 0;
      for (let cell = 0; ; cell++) {
        const role = roles[cell];
        const cellStart = i;
        if (role === SKIPPED) {
          // Four bytes at a time while none is below '-' (',' and '\n' are: digits, '.' and
          // letters are not), then byte by byte to the cell's end.
          while (i + 4 <= length) {
            const x = view.getUint32(i, true);
            if (((x - 0x2d2d2d2d) & ~x & 0x80808080) !== 0) break;
            i += 4;
          }
          while (i < length) {
            const b = bytes[i];
            if (b <= COMMA && (b === COMMA || b === NEWLINE)) break;
            i++;
          }
        } else if (role === DATE) {
          digits = i + 10 <= length ? isoDateDigits(bytes, i) : -1;
          if (digits < 0) return { stop: rowStart, lines };
          i += 10;
        } else if (role === SYMBOL) {
          // Plain ASCII, no quote: anything else is the general reader's.
          while (i < length) {
            const b = bytes[i];
            if (b === COMMA || b === NEWLINE || b === CARRIAGE_RETURN) break;
            if (b <= 0x20 || b >= 0x7f || b === 0x22) return { stop: rowStart, lines };
            i++;
          }
          if (i === cellStart) return { stop: rowStart, lines };
          symbolStart = cellStart;
          symbolEnd = i;
        } else {
          // A plain decimal, read as it is scanned: digits with at most one '.', at most 15
          // significant digits, so m / 10^k with m and 10^k exact doubles, and the one division
          // is correctly rounded, which is what Number() returns. NaN for an empty cell (as the
          // general reader); anything else (signs, exponents, spaces, more digits) is the
          // general reader's.
          let mantissa = 0;
          let significant = 0;
          let fraction = -1;
          for (; i < length; i++) {
            const b = bytes[i];
            const d = b - 0x30;
            if (d >= 0 && d <= 9) {
              mantissa = mantissa * 10 + d;
              if (mantissa > 0) significant++;
              if (fraction >= 0) fraction++;
            } else if (b === 0x2e && fraction < 0) fraction = 0;
            else break;
          }
          let value: number;
          if (i === cellStart) value = NaN;
          else if (significant > 15 || fraction === 0 || fraction > 22) return { stop: rowStart, lines };
          else value = fraction > 0 ? mantissa / POWERS_OF_TEN[fraction] : mantissa;
          if (role === CLOSE) close = value;
          else adjClose = value;
        }
        // The cell ends here: at a comma, at the end of the row ('\n', '\r\n', the end of the file) or not at all.
        if (i < length) {
          const b = bytes[i];
          if (b === COMMA) {
            i++;
            if (cell < lastColumn) continue;
            // Cells after the last one needed: to the end of the row.
            while (i < length && bytes[i] !== NEWLINE) i++;
          } else if (b === CARRIAGE_RETURN && (i + 1 === length || bytes[i + 1] === NEWLINE)) {
            if (cell < lastColumn) return { stop: rowStart, lines };
            i++;
          } else if (b !== NEWLINE || cell < lastColumn) return { stop: rowStart, lines };
        } else if (cell < lastColumn) return { stop: rowStart, lines };
        break;
      }
      // The symbol's id only now: a row not taken must not add its symbol to the table.
      const id = this.symbols.intern(bytes, symbolStart, symbolEnd);
      if (id < 0) return { stop: rowStart, lines };
      if (this.count === this.capacity) this.grow();
      const k = this.count++;
      this.symbolIds[k] = id;
      this.dateDigits[k] = digits;
      this.close[k] = close;
      this.adjClose[k] = adjClose;
      lines++;
      pos = i + 1;
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
  const y0 = bytes[at] - 0x30;
  const y1 = bytes[at + 1] - 0x30;
  const y2 = bytes[at + 2] - 0x30;
  const y3 = bytes[at + 3] - 0x30;
  const m0 = bytes[at + 5] - 0x30;
  const m1 = bytes[at + 6] - 0x30;
  const d0 = bytes[at + 8] - 0x30;
  const d1 = bytes[at + 9] - 0x30;
  // A digit d is in [0, 9] when d and 9 - d are both non-negative: one test for all eight.
  const outside = y0 | (9 - y0) | y1 | (9 - y1) | y2 | (9 - y2) | y3 | (9 - y3) | m0 | (9 - m0) | m1 | (9 - m1) | d0 | (9 - d0) | d1 | (9 - d1);
  if (outside < 0 || bytes[at + 4] !== 0x2d || bytes[at + 7] !== 0x2d) return -1;
  return ((((((y0 * 10 + y1) * 10 + y2) * 10 + y3) * 10 + m0) * 10 + m1) * 10 + d0) * 10 + d1;
}

/** 10^k for the plain decimals' fraction digits. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** A symbol met by the fast reader: its bytes (bytes[start, end)), its id. */
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
      // Its own copy of the bytes (not `slice`: a Buffer's is a view), as the reader's buffer
      // holds the next window of the file later.
      const own = new Uint8Array(bytes.subarray(start, end));
      found = { bytes: own, start: 0, end: own.length, id: this.idOf(String.fromCharCode(...own)), next: null };
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
