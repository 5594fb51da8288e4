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

/** A number's bits, for its binary exponent. */
const bits = new Float64Array(1);
const bitsHigh = new Uint32Array(bits.buffer, 4, 1);
// (little-endian: the high word, sign and exponent, is the second; every platform Node runs on)

/** "00".."99" as pairs of ASCII codes: two digits a lookup. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) (PAIRS[2 * i] = DIGIT + Math.floor(i / 10)), (PAIRS[2 * i + 1] = DIGIT + (i % 10));

/** The 15 digits of a decimal before they are placed (index 0 is a leading zero). */
const DIGITS = new Uint8Array(16);

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
 * 0.11 of |value| * 10^k and the product within 0.07 of that. Any other number (16 or 17
 * digits, or outside that range) is written from V8's own String().
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
 * n = 15 - k, the position of the decimal point, between -5 and 15: the digits without
 * trailing zeros, with the point inside them, or after "0." and zeros, or followed by zeros.
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
  // The significant digits are DIGITS[1..last]; the value is 0.d1d2... * 10^n.
  const n = 15 - k;
  if (n <= 0) {
    out[at++] = DIGIT;
    out[at++] = 0x2e;
    for (let z = n; z < 0; z++) out[at++] = DIGIT;
    for (let i = 1; i <= last; i++) out[at++] = DIGITS[i];
    return at;
  }
  if (n >= last) {
    for (let i = 1; i <= last; i++) out[at++] = DIGITS[i];
    for (let z = last; z < n; z++) out[at++] = DIGIT;
    return at;
  }
  for (let i = 1; i <= n; i++) out[at++] = DIGITS[i];
  out[at++] = 0x2e;
  for (let i = n + 1; i <= last; i++) out[at++] = DIGITS[i];
  return at;
}
