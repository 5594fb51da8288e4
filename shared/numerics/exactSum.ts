/**
 * An exact sum of float64 values, rounded once at the end: a fixed-point superaccumulator
 * (the idea of Kulisch's long accumulator, as in Neal's "small superaccumulator", 2015).
 * Every finite double is an integer multiple of 2^-1074 below 2^1024; the accumulator holds
 * that integer in 32-bit chunks, each a float64 that adds integers exactly while below 2^53,
 * so a value splits into three chunk parts and carries are propagated every 2^20 additions.
 * The sum is therefore the same number whatever the order of the additions or how partial
 * sums are merged: what lets a sum over many paths be split over shards and still give one
 * instance's digits. value() rounds to nearest (ties to even) once, through a BigInt.
 */

/** 32-bit chunks from 2^-1074 upward: 2098 bits of finite doubles, three chunks of a value's parts, a carry chunk. */
const CHUNKS = 68;
const CHUNK = 4294967296;
/** Additions between carry propagations: each adds under 2^32 to a chunk, which stays exact below 2^53. */
const CARRY_EVERY = 1 << 20;

const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const SHIFT = Float64Array.from({ length: 32 }, (_, r) => 2 ** r);

export class ExactSum {
  /** The integer sum / 2^-1074 in base 2^32, least significant chunk first (signed chunks). */
  readonly chunks: Float64Array;
  /** The sum of any infinities and NaNs added (they make the result non-finite, as a plain sum would). */
  private special = 0;
  private pending = 0;

  constructor(chunks?: ArrayLike<number>, special = 0) {
    this.chunks = new Float64Array(CHUNKS);
    if (chunks) {
      if (chunks.length !== CHUNKS) throw new RangeError(`an exact sum has ${CHUNKS} chunks, got ${chunks.length}`);
      this.chunks.set(chunks);
      this.pending = CARRY_EVERY - 1;
    }
    this.special = special;
  }

  /** Adds x exactly. */
  add(x: number): void {
    if (x === 0) return;
    if (!Number.isFinite(x)) {
      this.special += x;
      return;
    }
    scratch[0] = x;
    const lo = words[LO];
    const hi = words[HI];
    const exponent = (hi >>> 20) & 0x7ff;
    // x = +-m 2^(s - 1074) with m the 53-bit integer mantissa (21 bits in hi, 32 in lo).
    const top = (hi & 0xfffff) + (exponent === 0 ? 0 : 0x100000);
    const s = (exponent === 0 ? 1 : exponent) - 1;
    const k = s >>> 5;
    const r = s & 31;
    // m 2^r = p0 + p1 2^32 + p2 2^64 with each part below 2^32.
    const p0 = (lo << r) >>> 0;
    const middle = top * SHIFT[r] + (r === 0 ? 0 : lo >>> (32 - r));
    const p1 = middle % CHUNK;
    const p2 = (middle - p1) / CHUNK;
    const c = this.chunks;
    if (hi >>> 31) {
      c[k] -= p0;
      c[k + 1] -= p1;
      c[k + 2] -= p2;
    } else {
      c[k] += p0;
      c[k + 1] += p1;
      c[k + 2] += p2;
    }
    if (++this.pending >= CARRY_EVERY) this.carry();
  }

  /**
   * Adds x * count exactly (count a non-negative integer below 2^53), by Dekker's product:
   * x * count = p + e with both doubles (exact while neither overflows nor underflows).
   */
  addProduct(x: number, count: number): void {
    const p = x * count;
    if (!Number.isFinite(p)) {
      this.add(p);
      return;
    }
    const [xh, xl] = split(x);
    const [ch, cl] = split(count);
    this.add(p);
    this.add(xh * ch - p + xh * cl + xl * ch + xl * cl);
  }

  /** Adds another exact sum (merging partial sums: exact, so in any order). */
  addSum(other: ExactSum): void {
    other.carry();
    this.carry();
    const c = this.chunks;
    for (let i = 0; i < CHUNKS; i++) c[i] += other.chunks[i];
    this.special += other.special;
    this.carry();
  }

  /** The sum rounded to the nearest double (ties to even); +-Infinity past the largest double. */
  value(): number {
    if (this.special !== 0 || Number.isNaN(this.special)) return this.special;
    this.carry();
    let total = 0n;
    for (let i = CHUNKS - 1; i >= 0; i--) total = (total << 32n) + BigInt(this.chunks[i]);
    return scaledByMinValue(total);
  }

  /** The chunks (carried) and the special part, to store and rebuild with the constructor. */
  state(): { readonly chunks: Float64Array; readonly special: number } {
    this.carry();
    return { chunks: this.chunks, special: this.special };
  }

  /** Propagates carries so that every chunk but the last is in [0, 2^32). */
  private carry(): void {
    if (this.pending === 0) return;
    const c = this.chunks;
    for (let i = 0; i < CHUNKS - 1; i++) {
      const q = Math.floor(c[i] / CHUNK);
      if (q !== 0) {
        c[i] -= q * CHUNK;
        c[i + 1] += q;
      }
    }
    this.pending = 0;
  }
}

/** Veltkamp's split of a double into two halves of 26 bits each (for Dekker's product). */
function split(a: number): [number, number] {
  const t = 134217729 * a;
  const hi = t - (t - a);
  return [hi, a - hi];
}

/** n * 2^-1074 rounded to the nearest double (ties to even). */
function scaledByMinValue(n: bigint): number {
  if (n === 0n) return 0;
  const negative = n < 0n;
  let m = negative ? -n : n;
  const bits = m.toString(2).length;
  let shift = 0;
  if (bits > 64) {
    // Keep 64 bits and a sticky bit for what is dropped: Number() then rounds as the whole would.
    shift = bits - 64;
    const dropped = m & ((1n << BigInt(shift)) - 1n);
    m = (m >> BigInt(shift)) | (dropped === 0n ? 0n : 1n);
  }
  // Number(m) is m rounded to 53 bits; under 2^53 it is exact (a subnormal result then is
  // exact too), over it the result is a normal double and the scaling below is exact.
  let x = Number(m);
  let e = shift - 1074;
  const step = e < -1000 ? -1000 : Math.min(e, 1000);
  x *= powerOfTwo(step);
  e -= step;
  x *= powerOfTwo(e);
  return negative ? -x : x;
}

/** 2^e exactly, for -1022 <= e <= 1023. */
function powerOfTwo(e: number): number {
  const bits = new Uint32Array(2);
  bits[HI] = (e + 1023) << 20;
  bits[LO] = 0;
  return new Float64Array(bits.buffer)[0];
}
