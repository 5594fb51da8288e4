/**
 * xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c): a
 * 128-bit state of four uint32 words, stepped with native int32 operations only (Math.imul,
 * shifts, xor), so one output costs about a nanosecond in V8. It replaces xoshiro256**,
 * whose 64-bit words had to be emulated on pairs of 32-bit limbs (about 3x the work per
 * uint32 handed out) while the ziggurat only ever consumes 32 bits at a time.
 *
 * Quality: Vigna's site lists xoshiro128** as an all-purpose 32-bit generator that passes
 * all tests they are aware of (BigCrush included). The linear-complexity weakness of the low
 * bits belongs to the `+` scrambler (xoshiro128+); the `**` scrambler (rotl(s1 * 5, 7) * 9)
 * leaves every output bit usable, so the ziggurat may take its layer index from the low 8
 * bits. Period 2^128 - 1.
 *
 * Substreams: the state of stream `s` under seed `k` is two SplitMix64 outputs (hi and lo
 * halves of each give the four words) at counters (k mixed) + (2 s + 1) gamma and
 * (k mixed) + (2 s + 2) gamma, Vigna's recommended seeding. Within a seed no two streams
 * share a SplitMix64 input, and since SplitMix64's finalizer is a bijection with mix(0) = 0,
 * two consecutive counters cannot both map to 0: the state is never all zero. Streams start
 * at effectively random points of the 2^128 - 1 cycle; a job has at most ~1,300 blocks of
 * at most ~1e10 words in all, so the chance that any two overlap is below
 * blocks x words / 2^128 < 1e-22. (Jumping a base state by 2^64 steps per block, the other
 * standard scheme, would guarantee disjointness but costs O(block index) jumps per block.)
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
 * The four uint32 state words of substream `stream` for `seed` (BigInt only here, once per stream).
 * @param seed a non-negative safe integer
 * @param stream a non-negative safe integer (a block index)
 */
export function substreamState(seed: number, stream: number): number[] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
  if (!Number.isSafeInteger(stream) || stream < 0) throw new RangeError(`stream must be a non-negative safe integer, got ${stream}`);
  // Mixing the seed first keeps seeds k and k+1 from giving streams that are shifts of each other.
  const base = splitMix64Mix(BigInt(seed) ^ 0x5851f42d4c957f2dn);
  const words: number[] = [];
  for (let i = 1; i <= 2; i++) {
    const z = splitMix64Mix(base + (BigInt(stream) * 2n + BigInt(i)) * GAMMA);
    words.push(Number(z >> 32n), Number(z & 0xffffffffn));
  }
  return words;
}

/**
 * The xoshiro128** generator; see the file comment for quality and substreams. The state is
 * public so a fused hot loop (ziggurat.ts) can load it into locals and store it back;
 * everyone else should use the methods. It is an Int32Array rather than four fields so
 * loads are always int32 (a field holding a value beyond the 31-bit small-integer range
 * becomes a boxed double, and the loop's state variables would then not stay int32).
 */
export class Xoshiro128 {
  readonly s = new Int32Array(4);

  /** @param state four uint32 words, not all zero */
  constructor(state: readonly number[]) {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w)) || state.every((w) => (w | 0) === 0)) {
      throw new RangeError('xoshiro128** needs four 32-bit integer state words, not all zero');
    }
    for (let i = 0; i < 4; i++) this.s[i] = state[i];
  }

  /** The generator of substream `stream` under `seed` (see substreamState). */
  static forStream(seed: number, stream: number): Xoshiro128 {
    return new Xoshiro128(substreamState(seed, stream));
  }

  /** Fills `out[0..count)` with successive outputs (one step per word). */
  fillUint32(out: Uint32Array | Int32Array, count: number = out.length): void {
    const s = this.s;
    let s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    for (let i = 0; i < count; i++) {
      const r = Math.imul(s1, 5);
      out[i] = Math.imul((r << 7) | (r >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;
  }

  /** The next output as a uint32 in [0, 2^32). */
  nextUint32(): number {
    const s = this.s;
    const s0 = s[0];
    const s1 = s[1];
    const r = Math.imul(s1, 5);
    const result = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
    const s2 = s[2] ^ s0;
    const s3 = s[3] ^ s1;
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ (s1 << 9);
    s[3] = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits (top 27 bits of one word, top 26 of the next). */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}
