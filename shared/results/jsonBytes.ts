/**
 * JSON written straight into UTF-8 byte chunks: no intermediate strings for the numbers and
 * keys of a 100,000-option result, and no 40 MB string to encode at the end. The bytes are
 * exactly those of `Buffer.from(JSON.stringify(...))` for the same values written in the same
 * order (numbers through writeJsonNumber, strings through JSON.stringify).
 */
export class JsonBytesWriter {
  private readonly full: Uint8Array[] = [];
  private chunk: Uint8Array;
  private at = 0;

  /** @param chunkBytes the size of each chunk (one ArrayBuffer each, never Node's pool, so a worker can transfer them) */
  constructor(private readonly chunkBytes = 1 << 20) {
    this.chunk = new Uint8Array(chunkBytes);
  }

  /** Makes room for `bytes` more bytes in the current chunk (a new chunk when they do not fit). */
  private reserve(bytes: number): void {
    if (this.at + bytes <= this.chunk.length) return;
    if (this.at > 0) this.full.push(this.chunk.subarray(0, this.at));
    this.chunk = new Uint8Array(Math.max(this.chunkBytes, bytes));
    this.at = 0;
  }

  /** A number as JSON.stringify writes it: shortest round-trip digits, `null` if not finite. */
  number(value: number): void {
    this.reserve(MAX_NUMBER_BYTES);
    this.at = writeJsonNumber(this.chunk, this.at, value);
  }

  /** Bytes as they are (a key and its quotes, encoded once). */
  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    const chunk = this.chunk;
    let at = this.at;
    // Most pieces are a few bytes: a loop beats TypedArray.set's call overhead on them.
    if (bytes.length < 32) for (let i = 0; i < bytes.length; i++) chunk[at++] = bytes[i];
    else (chunk.set(bytes, at), (at += bytes.length));
    this.at = at;
  }

  /** One ASCII byte (a bracket, a comma). */
  byte(code: number): void {
    this.reserve(1);
    this.chunk[this.at++] = code;
  }

  /** A string value, quoted and escaped as JSON.stringify writes it. */
  string(value: string): void {
    this.text(JSON.stringify(value));
  }

  /** Text that is already JSON (a literal, an escaped string), as UTF-8. */
  text(json: string): void {
    const most = json.length * 3;
    this.reserve(most);
    this.at += Buffer.from(this.chunk.buffer, this.chunk.byteOffset, this.chunk.length).write(json, this.at, most, 'utf8');
  }

  /** Bytes written so far, counted across chunks. */
  get length(): number {
    let total = this.at;
    for (const piece of this.full) total += piece.length;
    return total;
  }

  /** Hands over the chunks written since the last call (the writer starts a fresh chunk). */
  take(): Uint8Array[] {
    const out = this.full.splice(0);
    if (this.at > 0) out.push(this.chunk.subarray(0, this.at));
    this.chunk = new Uint8Array(this.chunkBytes);
    this.at = 0;
    return out;
  }
}

/** Enough for any number's text: "-1.2345678901234567e-308" is 24 bytes, `null` 4. */
export const MAX_NUMBER_BYTES = 25;

/** Exact powers of ten (every one up to 1e22 is a double exactly). */
const EXACT_POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

const DIGIT = 0x30;

/** A number's bits, for its binary exponent and the last bit of its significand. */
const bits = new Float64Array(1);
const bitsHigh = new Uint32Array(bits.buffer, 4, 1);
const bitsLow = new Uint32Array(bits.buffer, 0, 1);
// (little-endian: the high word, sign and exponent, is the second; every platform Node runs on)

/** Veltkamp's splitting constant for doubles, 2^27 + 1: splits a double into two halves of 26 bits whose products are exact. */
const SPLITTER = 134217729;

/** The high and low halves (Veltkamp) of each exact power of ten, for an exact product with it. */
const POW10_HIGH = EXACT_POW10.map((p) => SPLITTER * p - (SPLITTER * p - p));
const POW10_LOW = EXACT_POW10.map((p, k) => p - POW10_HIGH[k]);

/** "00".."99" as pairs of ASCII codes: two digits a lookup. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) (PAIRS[2 * i] = DIGIT + Math.floor(i / 10)), (PAIRS[2 * i + 1] = DIGIT + (i % 10));

/** The digits of a decimal before they are placed: 15 from index 1 (index 0 is a leading zero), or 17 from 0. */
const DIGITS = new Uint8Array(17);

/**
 * Writes `value` as `JSON.stringify(value)` does (`String(value)` for a finite number, `null`
 * otherwise, "0" for -0) as ASCII into `out` from `at`; returns the end. `out` must have
 * MAX_NUMBER_BYTES free from `at`.
 *
 * A number that is a decimal of at most 15 significant digits between 1e-6 and 1e15 (every
 * input a person or a vendor writes: 100, 115.52, 0.0216) is written here, without a string:
 * the 15-digit decimal nearest to it is m / 10^k for the integer m = round(|value| * 10^k);
 * when that division gives back the value exactly (m < 2^53 and 10^k exact, so it is rounded
 * correctly), m is the decimal, and its digits without trailing zeros are the shortest that
 * round-trip, which is what ECMAScript's Number::toString writes: two different decimals of
 * 15 digits or fewer are never within one double's rounding interval of each other (their
 * spacing, 1e-15 relative at the least, exceeds the interval's 2.2e-16), so no shorter
 * decimal can be another one. m is found even when the product rounds: the decimal is within
 * 0.11 of |value| * 10^k and the product within 0.07 of that. A number of that range that
 * needs 16 or 17 digits (a price, a Greek) is written by writeRoundTripDecimal; any other
 * number, and the rare one that leaves undecided, is written from V8's own String().
 */
export function writeJsonNumber(out: Uint8Array, at: number, value: number): number {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-6 && magnitude < 1e15) {
    // The decimal exponent from the binary one: floor(log10) or one less (then m has 16 digits, and k is lowered by one).
    bits[0] = magnitude;
    let k = 14 - Math.floor(((bitsHigh[0] >>> 20) - 1023) * 0.3010299956639812);
    let scale = EXACT_POW10[k];
    let m = Math.round(magnitude * scale);
    if (m >= 1e15) (k--, (scale = EXACT_POW10[k]), (m = Math.round(magnitude * scale)));
    if (m >= 1e14 && m < 1e15 && m / scale === magnitude) {
      if (value < 0) out[at++] = 0x2d;
      return writeDecimal(out, at, m, k);
    }
    // Not 15 digits or fewer: 16 or 17 (the price, the Greeks, an implied volatility).
    const end = writeRoundTripDecimal(out, value < 0 ? at + 1 : at, magnitude);
    if (end >= 0) {
      if (value < 0) out[at] = 0x2d;
      return end;
    }
  } else if (value === 0) {
    out[at] = DIGIT;
    return at + 1;
  } else if (magnitude !== magnitude || magnitude === Infinity) {
    out[at] = 0x6e; // null
    out[at + 1] = 0x75;
    out[at + 2] = 0x6c;
    out[at + 3] = 0x6c;
    return at + 4;
  }
  const text = String(value);
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/** Writes the four digits of `x` (0 <= x < 10,000, leading zeros kept) into DIGITS at `at`. */
function fourDigits(at: number, x: number): void {
  const a = (x * 5243) >>> 19; // floor(x / 100), exact below 43,699
  const b = x - a * 100;
  DIGITS[at] = PAIRS[2 * a];
  DIGITS[at + 1] = PAIRS[2 * a + 1];
  DIGITS[at + 2] = PAIRS[2 * b];
  DIGITS[at + 3] = PAIRS[2 * b + 1];
}

/**
 * Writes m * 10^-k (m a 15-digit integer, 1e14 <= m < 1e15) as Number::toString writes it for
 * n = 15 - k, the position of the decimal point, between -5 and 15.
 */
function writeDecimal(out: Uint8Array, at: number, m: number, k: number): number {
  // The 15 digits in four groups that fit 32 bits, each written by table, leading zeros kept.
  const high = Math.floor(m / 1e8) | 0; // 7 digits
  const low = (m - high * 1e8) | 0; // 8 digits
  const h1 = (high / 1e4) | 0;
  const l1 = (low / 1e4) | 0;
  const l2 = (low - l1 * 1e4) | 0;
  // The first group has 3 digits: written as four with a leading zero at DIGITS[0].
  fourDigits(0, h1);
  fourDigits(4, (high - h1 * 1e4) | 0);
  // The last significant digit, skipping the trailing zero groups without looking at them.
  let last = 7;
  if (l2 !== 0) (fourDigits(8, l1), fourDigits(12, l2), (last = 15));
  else if (l1 !== 0) (fourDigits(8, l1), (last = 11));
  while (DIGITS[last] === DIGIT) last--;
  return placeDigits(out, at, 1, last, 15 - k);
}

/**
 * Writes the significant digits DIGITS[first..last] of 0.d1d2... * 10^n (n between -5 and 21)
 * as Number::toString does: with the point inside them, or after "0." and zeros, or followed
 * by zeros.
 */
function placeDigits(out: Uint8Array, at: number, first: number, last: number, n: number): number {
  const count = last - first + 1;
  if (n <= 0) {
    out[at++] = DIGIT;
    out[at++] = 0x2e;
    for (let z = n; z < 0; z++) out[at++] = DIGIT;
    for (let i = first; i <= last; i++) out[at++] = DIGITS[i];
    return at;
  }
  if (n >= count) {
    for (let i = first; i <= last; i++) out[at++] = DIGITS[i];
    for (let z = count; z < n; z++) out[at++] = DIGIT;
    return at;
  }
  const point = first + n;
  for (let i = first; i < point; i++) out[at++] = DIGITS[i];
  out[at++] = 0x2e;
  for (let i = point; i <= last; i++) out[at++] = DIGITS[i];
  return at;
}

/** Half the spacing of the doubles at each binary exponent from -20 to 49 (2^(e-53)), exact. */
const HALF_ULP = Array.from({ length: 70 }, (_, i) => Math.pow(2, i - 20 - 53));

/**
 * Writes a positive `magnitude` between 1e-6 and 1e15 that no decimal of 15 digits or fewer
 * rounds to (writeJsonNumber found none) as Number::toString writes it: the decimal of 16
 * digits nearest to it if that one rounds back to it, else the decimal of 17 digits nearest to
 * it (one always does). Returns the end, or -1 where it leaves the number to String(): a
 * significand that is a power of two (its rounding interval is narrower below), or a decision
 * within 1e-9 of a tie or of the interval's edge, which the arithmetic below cannot settle.
 *
 * Scaled by 10^k into [1e16, 1e17), the number is X = P + E exactly: P = magnitude * 10^k
 * rounded, an integer (above 2^53), E its rounding error, found exactly by Dekker's product
 * with Veltkamp's halves (|E| <= 8, the half-spacing of doubles below 1e17). The nearest
 * 17-digit decimal is P + round(E); the nearest 16-digit one is the multiple of 10 nearest to
 * X, found from P's last digit u as the multiple of 10 nearest to u + E (small numbers:
 * computed within 1e-14). It rounds back to the number when its distance to X is less than
 * half the spacing of doubles at the number times 10^k (exact: a power of two times 10^k).
 * The integers are kept as two parts below 2^31, 8 digits and 9, since P exceeds 2^53.
 */
function writeRoundTripDecimal(out: Uint8Array, at: number, magnitude: number): number {
  bits[0] = magnitude;
  const high = bitsHigh[0];
  if ((high & 0xfffff) === 0 && bitsLow[0] === 0) return -1;
  const exponent = (high >>> 20) - 1023;
  let k = Math.min(22, 16 - Math.floor(exponent * 0.3010299956639812));
  let product = magnitude * EXACT_POW10[k];
  if (product >= 1e17) product = magnitude * EXACT_POW10[--k];
  if (!(product > 1e16 && product < 1e17 - 16)) return -1;
  // Dekker: the exact product is product + error.
  const split = SPLITTER * magnitude;
  const mh = split - (split - magnitude);
  const ml = magnitude - mh;
  const ph = POW10_HIGH[k];
  const pl = POW10_LOW[k];
  const error = mh * ph - product + mh * pl + ml * ph + ml * pl;
  // product = upper * 1e9 + lower, both exact (upper * 1e9 is 2^9 * upper * 5^9 < 2^53 * 2^9).
  let upper = Math.floor(product / 1e9);
  let lower = product - upper * 1e9;
  if (lower < 0) (upper--, (lower += 1e9));
  else if (lower >= 1e9) (upper++, (lower -= 1e9));
  const unit = (lower | 0) % 10; // integer remainder: a double's % is a call to fmod
  const offset = unit + error;
  const nearestTen = Math.round(offset / 10) * 10;
  const distance = Math.abs(offset - nearestTen);
  const halfInterval = HALF_ULP[exponent + 20] * EXACT_POW10[k];
  if (Math.abs(distance - 5) < 1e-9 || Math.abs(distance - halfInterval) < 1e-9) return -1;
  let digits: number;
  if (distance < halfInterval) {
    digits = lower - unit + nearestTen;
  } else {
    const whole = Math.floor(error);
    const fraction = error - whole;
    if (fraction === 0.5) return -1;
    digits = lower + whole + (fraction > 0.5 ? 1 : 0);
  }
  if (digits < 0) (upper--, (digits += 1e9));
  else if (digits >= 1e9) (upper++, (digits -= 1e9));
  if (upper < 1e7 || upper >= 1e8) return -1;
  // 8 digits, then 9.
  const u1 = (upper / 1e4) | 0;
  fourDigits(0, u1);
  fourDigits(4, upper - u1 * 1e4);
  const d0 = (digits / 1e8) | 0;
  const rest = digits - d0 * 1e8;
  const r1 = (rest / 1e4) | 0;
  DIGITS[8] = DIGIT + d0;
  fourDigits(9, r1);
  fourDigits(13, rest - r1 * 1e4);
  let last = 16;
  while (DIGITS[last] === DIGIT) last--;
  // 15 significant digits or fewer would be writeJsonNumber's own case: never expected here.
  if (last < 15) return -1;
  return placeDigits(out, at, 0, last, 17 - k);
}
