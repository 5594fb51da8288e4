/**
 * xoshiro256** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro256starstar.c) on
 * 32-bit limbs: every 64-bit word is a (hi, lo) pair of uint32 so the hot loop stays in
 * small-integer and exact-double arithmetic, never BigInt. One step yields 64 bits,
 * handed out as two uint32 words (hi first, then lo).
 *
 * Substreams: the 256-bit state of stream `s` under seed `k` is four consecutive SplitMix64
 * outputs starting at counter (k mixed) + 4*s*gamma, the seeding Vigna recommends; distinct
 * (seed, stream) pairs never share a SplitMix64 input, and with a 2^256 - 1 period the
 * chance that two of a job's few thousand streams overlap is negligible.
 */

const MASK64 = (1n << 64n) - 1n;
const GAMMA = 0x9e3779b97f4a7c15n;

function splitMix64Mix(z0: bigint): bigint {
  let z = z0 & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/**
 * The four 64-bit state words of substream `stream` for `seed` (BigInt only here, once per stream).
 * @param seed a non-negative safe integer
 * @param stream a non-negative safe integer (a block index)
 */
export function substreamState(seed: number, stream: number): bigint[] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
  if (!Number.isSafeInteger(stream) || stream < 0) throw new RangeError(`stream must be a non-negative safe integer, got ${stream}`);
  // Mixing the seed first keeps seeds k and k+1 from giving streams that are shifts of each other.
  const base = splitMix64Mix(BigInt(seed) ^ 0x5851f42d4c957f2dn);
  const words: bigint[] = [];
  for (let i = 1; i <= 4; i++) {
    const counter = (base + (BigInt(stream) * 4n + BigInt(i)) * GAMMA) & MASK64;
    words.push(splitMix64Mix(counter));
  }
  return words;
}

/** The xoshiro256** generator; see the file comment for the limb layout and substreams. */
export class Xoshiro256 {
  private s0h = 0;
  private s0l = 0;
  private s1h = 0;
  private s1l = 0;
  private s2h = 0;
  private s2l = 0;
  private s3h = 0;
  private s3l = 0;
  /** The low half of the last 64-bit output, pending for the next nextUint32(). */
  private pendingLo = 0;
  private hasPending = false;

  /** @param state four 64-bit words, not all zero */
  constructor(state: readonly bigint[]) {
    if (state.length !== 4 || state.every((w) => (w & MASK64) === 0n)) {
      throw new RangeError('xoshiro256** needs four 64-bit state words, not all zero');
    }
    const hi = (w: bigint) => Number((w >> 32n) & 0xffffffffn) | 0;
    const lo = (w: bigint) => Number(w & 0xffffffffn) | 0;
    this.s0h = hi(state[0]);
    this.s0l = lo(state[0]);
    this.s1h = hi(state[1]);
    this.s1l = lo(state[1]);
    this.s2h = hi(state[2]);
    this.s2l = lo(state[2]);
    this.s3h = hi(state[3]);
    this.s3l = lo(state[3]);
  }

  /** The generator of substream `stream` under `seed` (see substreamState). */
  static forStream(seed: number, stream: number): Xoshiro256 {
    return new Xoshiro256(substreamState(seed, stream));
  }

  /**
   * Fills `out[0..count)` with uint32 words: the (hi, lo) halves of successive 64-bit
   * outputs. Consumes ceil(count / 2) steps plus a pending half from nextUint32().
   */
  fillUint32(out: Uint32Array, count: number = out.length): void {
    let i = 0;
    if (count > 0 && this.hasPending) {
      out[i++] = this.pendingLo;
      this.hasPending = false;
    }
    let s0h = this.s0h, s0l = this.s0l, s1h = this.s1h, s1l = this.s1l;
    let s2h = this.s2h, s2l = this.s2l, s3h = this.s3h, s3l = this.s3l;
    while (i < count) {
      // result = rotl(s1 * 5, 7) * 9 in int32 limbs: x * 5 = (x << 2) + x and x * 9 =
      // (x << 3) + x; the low limb's carry-out is the top bit of (a & b) | ((a | b) & ~sum),
      // branch-free because the carry is a coin flip the CPU cannot predict.
      const a4 = s1l << 2;
      const al = (a4 + s1l) | 0;
      const ah = (Math.imul(s1h, 5) + (s1l >>> 30) + (((a4 & s1l) | ((a4 | s1l) & ~al)) >>> 31)) | 0;
      const rh = (ah << 7) | (al >>> 25);
      const rl = (al << 7) | (ah >>> 25);
      const r8 = rl << 3;
      const bl = (r8 + rl) | 0;
      const bh = (Math.imul(rh, 9) + (rl >>> 29) + (((r8 & rl) | ((r8 | rl) & ~bl)) >>> 31)) | 0;
      // t = s1 << 17
      const th = (s1h << 17) | (s1l >>> 15);
      const tl = s1l << 17;
      s2h ^= s0h; s2l ^= s0l;
      s3h ^= s1h; s3l ^= s1l;
      s1h ^= s2h; s1l ^= s2l;
      s0h ^= s3h; s0l ^= s3l;
      s2h ^= th; s2l ^= tl;
      // s3 = rotl(s3, 45) = swap halves, then rotate left by 13
      const nh = (s3l << 13) | (s3h >>> 19);
      const nl = (s3h << 13) | (s3l >>> 19);
      s3h = nh; s3l = nl;
      out[i++] = bh;
      if (i < count) out[i++] = bl;
      else {
        this.pendingLo = bl;
        this.hasPending = true;
      }
    }
    this.s0h = s0h; this.s0l = s0l; this.s1h = s1h; this.s1l = s1l;
    this.s2h = s2h; this.s2l = s2l; this.s3h = s3h; this.s3l = s3l;
  }

  private readonly one = new Uint32Array(2);

  /** The next uint32 word (hi half of a 64-bit output, then its lo half). */
  nextUint32(): number {
    if (this.hasPending) {
      this.hasPending = false;
      return this.pendingLo;
    }
    this.fillUint32(this.one, 2);
    this.pendingLo = this.one[1];
    this.hasPending = true;
    return this.one[0];
  }

  /** A uniform double in [0, 1) with 53 random bits (top 53 bits of two words). */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}
