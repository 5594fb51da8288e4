import { allocateBatch, IMPLIED_SOURCE, type OptionBatch } from './optionBatch.js';

/**
 * A large Black-Scholes job's options read from the job's bytes straight into a batch's
 * columns, without JSON.parse, objects or validation: what a worker does as soon as the
 * command line has the bytes, so that valuation starts early (speculativeValuation.ts). The
 * command line then hands the job these columns in place of the options' objects
 * (presentedOptions.ts), once the schema's compiled validator has accepted every option as
 * read; otherwise the job parses the options itself, and uses these columns only if they
 * equal, bit for bit, the ones it resolved. The reader also gives which fields each option
 * gave and where the options' array lies in the bytes (ReadOptions).
 *
 * It reads only the plainest form of a batch and gives up (null) on anything else: a job whose
 * params hold anything but `options` (and `periods_per_year`), an option with a symbol, an
 * unknown or repeated key, a missing strike, time to expiry or spot, no volatility and no
 * quote, a string with an escape, JSON it does not expect. Numbers are read as JSON.parse
 * reads them: up to 15 significant digits with a power of ten up to 22 by one correctly
 * rounded division or product of two exact doubles (Clinger's fast path), anything longer by
 * Number() on its text.
 */
export function readOptionColumns(bytes: Uint8Array, minimumOptions: number): ReadOptions | null {
  try {
    return new OptionsReader(bytes).document(minimumOptions);
  } catch (error) {
    if (error === GIVE_UP) return null;
    throw error;
  }
}

/** A plain batch read from a job's bytes: its columns, which fields each option gave, and where its array lies in the bytes. */
export interface ReadOptions {
  readonly batch: OptionBatch;
  /**
   * Per option, a bit per field it gave (OPTION_FIELDS order): columns alone cannot tell a
   * rate of 0 given from one left out, which the job's canonical text does tell apart.
   */
  readonly present: Uint8Array;
  /** `params.options`'s array in the bytes: from its '[' to just after its ']'. */
  readonly start: number;
  readonly end: number;
  /**
   * Where each number's text is in the bytes, at `i * OPTION_FIELDS.length + field`, and its
   * length where the text is already canonical (what the canonical writer writes for its
   * value, so it can be copied), else 0.
   */
  readonly textStart: Int32Array;
  readonly textLength: Uint8Array;
}

const GIVE_UP = new Error('not a plain batch');

/** Option fields by the bit that marks each as seen, in an option object (ReadOptions.present). */
export const OPTION_FIELDS = ['option_type', 'spot', 'strike', 'time_to_expiry', 'risk_free_rate', 'dividend_yield', 'volatility', 'market_price'] as const;
const FIELDS = OPTION_FIELDS;
const FIELD_KEYS = FIELDS.map((name) => Buffer.from(`"${name}"`, 'latin1'));
const [OPTION_TYPE, SPOT, STRIKE, TIME, RATE, YIELD, VOLATILITY, MARKET_PRICE] = [0, 1, 2, 3, 4, 5, 6, 7];

const EXACT_POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const BACKSLASH = 0x5c;

class OptionsReader {
  at = 0;

  constructor(private readonly bytes: Uint8Array) {}

  document(minimumOptions: number): ReadOptions | null {
    let batch: ReadOptions | null = null;
    this.expect(OPEN_OBJECT);
    if (this.peek() === CLOSE_OBJECT) return null;
    for (;;) {
      const key = this.key();
      if (key === 'params') {
        if (batch !== null) throw GIVE_UP; // a repeated key: the last one counts in JSON.parse
        batch = this.params(minimumOptions);
      } else this.skipValue();
      if (this.next() === CLOSE_OBJECT) break;
      this.back(COMMA);
    }
    this.skipSpace();
    if (this.at !== this.bytes.length) throw GIVE_UP;
    return batch;
  }

  private params(minimumOptions: number): ReadOptions {
    let batch: ReadOptions | undefined;
    this.expect(OPEN_OBJECT);
    for (;;) {
      const key = this.key();
      if (key === 'options' && batch === undefined) batch = this.options(minimumOptions);
      else if (key === 'periods_per_year') this.skipValue();
      else throw GIVE_UP; // job-wide defaults (or a repeated key): left to the job's thread
      if (this.next() === CLOSE_OBJECT) break;
      this.back(COMMA);
    }
    if (batch === undefined) throw GIVE_UP;
    return batch;
  }

  /** The options array, read into columns of a batch allocated for as many options as the bytes could hold. */
  private options(minimumOptions: number): ReadOptions {
    this.expect(OPEN_ARRAY);
    const start = this.at - 1;
    // No option is shorter than {"spot":1,"strike":1,"time_to_expiry":1,"volatility":1}: the
    // columns are sized for that many, on shared memory whose untouched pages cost nothing.
    const capacity = Math.ceil((this.bytes.length - this.at) / MIN_OPTION_BYTES) + 1;
    const columns = allocateBatch(capacity, [], true);
    const present = new Uint8Array(new SharedArrayBuffer(capacity));
    const texts = { start: new Int32Array(new SharedArrayBuffer(4 * FIELDS.length * capacity)), length: new Uint8Array(new SharedArrayBuffer(FIELDS.length * capacity)) };
    const count = readOptions(this.bytes, this, columns, present, texts);
    if (count < minimumOptions) throw GIVE_UP;
    return {
      batch: trimmed(columns, count),
      present: present.subarray(0, count),
      start,
      end: this.at,
      textStart: texts.start.subarray(0, FIELDS.length * count),
      textLength: texts.length.subarray(0, FIELDS.length * count),
    };
  }

  /** A key without escapes, and its colon. */
  private key(): string {
    this.skipSpace();
    const b = this.bytes;
    if (b[this.at] !== QUOTE) throw GIVE_UP;
    const start = ++this.at;
    while (b[this.at] !== QUOTE) {
      if (b[this.at] === BACKSLASH || this.at >= b.length) throw GIVE_UP;
      this.at++;
    }
    const key = Buffer.from(b.buffer, b.byteOffset + start, this.at - start).toString('utf8');
    this.at++;
    this.expect(COLON);
    return key;
  }

  /** Skips any JSON value (a string's escapes included), checking only its brackets and quotes. */
  private skipValue(): void {
    this.skipSpace();
    const b = this.bytes;
    let depth = 0;
    for (; this.at < b.length; this.at++) {
      const c = b[this.at];
      if (c === QUOTE) {
        for (this.at++; b[this.at] !== QUOTE; this.at++) {
          if (this.at >= b.length) throw GIVE_UP;
          if (b[this.at] === BACKSLASH) this.at++;
        }
        if (depth === 0) {
          this.at++;
          return;
        }
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        if (depth === 0) return; // the end of the enclosing value: a scalar before it ended
        if (--depth === 0) {
          this.at++;
          return;
        }
      } else if (depth === 0 && c === COMMA) return;
    }
    throw GIVE_UP;
  }

  private skipSpace(): void {
    const b = this.bytes;
    let c = b[this.at];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++this.at];
  }

  private peek(): number {
    this.skipSpace();
    return this.bytes[this.at];
  }

  /** The next byte after any space, consumed. */
  private next(): number {
    this.skipSpace();
    return this.bytes[this.at++];
  }

  /** The byte just consumed must be `code`. */
  private back(code: number): void {
    if (this.bytes[this.at - 1] !== code) throw GIVE_UP;
  }

  private expect(code: number): void {
    this.skipSpace();
    if (this.bytes[this.at] !== code) throw GIVE_UP;
    this.at++;
  }
}


const REQUIRED = (1 << STRIKE) | (1 << TIME) | (1 << SPOT);
const MIN_OPTION_BYTES = '{"spot":1,"strike":1,"time_to_expiry":1,"volatility":1},'.length;

/** The batch's first `count` options: views of the same shared columns. */
function trimmed(columns: OptionBatch, count: number): OptionBatch {
  return {
    count,
    isCall: columns.isCall.subarray(0, count),
    spot: columns.spot.subarray(0, count),
    strike: columns.strike.subarray(0, count),
    timeToExpiry: columns.timeToExpiry.subarray(0, count),
    riskFreeRate: columns.riskFreeRate.subarray(0, count),
    dividendYield: columns.dividendYield.subarray(0, count),
    marketPrice: columns.marketPrice.subarray(0, count),
    hasMarketPrice: columns.hasMarketPrice.subarray(0, count),
    volatility: columns.volatility.subarray(0, count),
    source: columns.source.subarray(0, count),
    symbolIndex: columns.symbolIndex.subarray(0, count).fill(-1),
    symbols: [],
  };
}

/** Where a number read by readNumber ended (one module-level slot: the reader is not re-entrant). */
let numberEnd = 0;
/**
 * Whether that number's text is the one the canonical writer writes for its value
 * (writeJsonNumber, as JSON.stringify): at most 15 significant digits (the shortest text
 * that reads back as the same double is then those digits), no exponent, no trailing zero
 * after a point, and a value JSON.stringify writes without an exponent (from 1e-6 up; 0
 * only as "0", not "-0").
 */
let numberCanonical = false;

/**
 * Reads the options of an array whose '[' is behind `reader.at` into `columns`, up to its ']'
 * (left behind too); returns how many. One function with the position in a local: the loop
 * that runs 100,000 times keeps everything in registers.
 */
function readOptions(b: Uint8Array, reader: { at: number }, columns: OptionBatch, present: Uint8Array, texts: { start: Int32Array; length: Uint8Array }): number {
  const { start: textStart, length: textLength } = texts;
  const { isCall, spot, strike, timeToExpiry, riskFreeRate, dividendYield, volatility, marketPrice, hasMarketPrice, source } = columns;
  const capacity = columns.count;
  let at = reader.at;
  let c = 0;
  let i = 0;
  for (;;) {
    // '{' (or the ']' of an empty array)
    while ((c = b[at]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
    if (c === CLOSE_ARRAY && i === 0) break;
    if (c !== OPEN_OBJECT || i >= capacity) throw GIVE_UP;
    at++;
    let seen = 0;
    let vol = 0;
    let quote = 0;
    isCall[i] = 1;
    for (;;) {
      while ((c = b[at]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      if (c !== QUOTE) throw GIVE_UP;
      // The key, told apart by its length and a letter, then checked whole.
      let field = -1;
      for (let f = 0; f < FIELD_KEYS.length; f++) {
        const key = FIELD_KEYS[f];
        const n = key.length;
        if (b[at + n - 1] !== QUOTE || b[at + 2] !== key[2]) continue;
        let j = 3;
        while (j < n - 1 && b[at + j] === key[j]) j++;
        if (j === n - 1) {
          field = f;
          at += n;
          break;
        }
      }
      if (field < 0 || seen & (1 << field)) throw GIVE_UP; // a symbol, a key no option has, or one given twice
      seen |= 1 << field;
      while ((c = b[at]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      if (c !== COLON) throw GIVE_UP;
      at++;
      while ((c = b[at]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      if (field === OPTION_TYPE) {
        if (c === QUOTE && b[at + 1] === 0x63 && b[at + 2] === 0x61 && b[at + 3] === 0x6c && b[at + 4] === 0x6c && b[at + 5] === QUOTE) at += 6;
        else if (c === QUOTE && b[at + 1] === 0x70 && b[at + 2] === 0x75 && b[at + 3] === 0x74 && b[at + 4] === QUOTE) (isCall[i] = 0), (at += 5);
        else throw GIVE_UP;
      } else {
        const value = readNumber(b, at);
        const slot = i * FIELDS.length + field;
        textStart[slot] = at;
        textLength[slot] = numberCanonical ? numberEnd - at : 0;
        at = numberEnd;
        if (field === STRIKE) strike[i] = value;
        else if (field === TIME) timeToExpiry[i] = value;
        else if (field === SPOT) spot[i] = value;
        else if (field === RATE) riskFreeRate[i] = value;
        else if (field === YIELD) dividendYield[i] = value;
        else if (field === VOLATILITY) vol = value;
        else quote = value;
      }
      while ((c = b[at]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      at++;
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) throw GIVE_UP;
    }
    if ((seen & REQUIRED) !== REQUIRED) throw GIVE_UP;
    present[i] = seen;
    if (seen & (1 << MARKET_PRICE)) (hasMarketPrice[i] = 1), (marketPrice[i] = quote);
    if (seen & (1 << VOLATILITY)) volatility[i] = vol;
    else if (seen & (1 << MARKET_PRICE)) source[i] = IMPLIED_SOURCE;
    else throw GIVE_UP; // a historical volatility: needs the symbol's prices
    i++;
    while ((c = b[at]) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
    at++;
    if (c === CLOSE_ARRAY) break;
    if (c !== COMMA) throw GIVE_UP;
  }
  reader.at = at;
  return i;
}

/** The JSON number at `start`, as JSON.parse reads it; sets numberEnd. */
function readNumber(b: Uint8Array, start: number): number {
  let at = start;
  const negative = b[at] === 0x2d;
  if (negative) at++;
  let mantissa = 0;
  let digits = 0; // significant digits in mantissa (leading zeros are not)
  let scale = 0; // the value is mantissa * 10^scale
  let c = b[at];
  if (c === 0x30) {
    c = b[++at];
    if (c >= 0x30 && c <= 0x39) throw GIVE_UP; // a leading zero: not JSON
  } else if (c >= 0x31 && c <= 0x39) {
    do {
      if (digits < 16) (mantissa = mantissa * 10 + (c - 0x30)), digits++;
      else scale++;
      c = b[++at];
    } while (c >= 0x30 && c <= 0x39);
  } else throw GIVE_UP;
  let trailingZero = false;
  if (c === 0x2e) {
    c = b[++at];
    if (!(c >= 0x30 && c <= 0x39)) throw GIVE_UP;
    do {
      if (digits < 16) {
        mantissa = mantissa * 10 + (c - 0x30);
        if (mantissa !== 0) digits++;
        scale--;
      }
      trailingZero = c === 0x30;
      c = b[++at];
    } while (c >= 0x30 && c <= 0x39);
  }
  let fast = digits <= 15;
  const exponential = c === 0x65 || c === 0x45;
  if (exponential) {
    c = b[++at];
    let sign = 1;
    if (c === 0x2d || c === 0x2b) (sign = c === 0x2d ? -1 : 1), (c = b[++at]);
    if (!(c >= 0x30 && c <= 0x39)) throw GIVE_UP;
    let exponent = 0;
    do {
      if (exponent < 100_000) exponent = exponent * 10 + (c - 0x30);
      c = b[++at];
    } while (c >= 0x30 && c <= 0x39);
    if (exponent >= 100_000) fast = false;
    scale += sign * exponent;
  }
  numberEnd = at;
  let value: number;
  // Clinger's fast path: an integer below 2^53 and a power of ten up to 1e22, both exact, so one operation rounds correctly.
  if (fast && scale >= -22 && scale <= 22) value = scale < 0 ? mantissa / EXACT_POW10[-scale] : mantissa * EXACT_POW10[scale];
  else {
    numberCanonical = false;
    return Number(Buffer.from(b.buffer, b.byteOffset + start, at - start).toString('latin1'));
  }
  numberCanonical = !exponential && !trailingZero && (value === 0 ? at - start === 1 : value >= 1e-6);
  return negative ? -value : value;
}
