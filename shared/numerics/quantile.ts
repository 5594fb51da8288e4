/**
 * Quantiles by partial selection: numpy's default definition (`method="linear"`, Hyndman &
 * Fan type 7), computed without sorting. For probability q over n values the virtual index
 * is h = (n - 1) q; the quantile interpolates between the order statistics x(floor h) and
 * x(floor h + 1) exactly as numpy's `_lerp` does (a + (b - a) g below g = 0.5,
 * b - (b - a)(1 - g) from 0.5 up), so small arrays match numpy bit for bit.
 */

type NumericArray = Float64Array | Float32Array;

/** Rearranges a[lo..hi] so that a[k] is the k-th smallest, smaller left, larger right. */
function selectInPlace(a: NumericArray, k: number, lo0: number, hi0: number): void {
  let lo = lo0;
  let hi = hi0;
  while (hi > lo) {
    if (hi - lo > 600) {
      // Floyd & Rivest (1975) SELECT: recurse on a small sample to pick two pivots that
      // bracket k tightly, so each pass discards nearly everything in ~n comparisons.
      const n = hi - lo + 1;
      const i = k - lo + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * Math.sign(i - n / 2);
      const newLo = Math.max(lo, Math.floor(k - (i * s) / n + sd));
      const newHi = Math.min(hi, Math.floor(k + ((n - i) * s) / n + sd));
      selectInPlace(a, k, newLo, newHi);
    }
    const t = a[k];
    let i = lo;
    let j = hi;
    swap(a, lo, k);
    if (a[hi] > t) swap(a, lo, hi);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i] < t) i++;
      while (a[j] > t) j--;
    }
    if (a[lo] === t) swap(a, lo, j);
    else {
      j++;
      swap(a, j, hi);
    }
    if (j <= k) lo = j + 1;
    if (k <= j) hi = j - 1;
  }
}

function swap(a: NumericArray, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/** The smallest of a[lo..hi]. */
function minimum(a: NumericArray, lo: number, hi: number): number {
  let m = a[lo];
  for (let i = lo + 1; i <= hi; i++) if (a[i] < m) m = a[i];
  return m;
}

/**
 * Quantiles of `values` (numpy's default linear definition), rearranging `values` in place:
 * pass a copy if the order matters. Probabilities are processed in increasing order so each
 * selection only searches the part right of the previous one.
 * @param values the data, no NaN; rearranged
 * @param probabilities each in [0, 1]
 * @returns the quantiles, in the order of `probabilities`
 */
export function quantilesInPlace(values: NumericArray, probabilities: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) throw new RangeError('quantiles of an empty array are undefined');
  const order = probabilities.map((_, i) => i).sort((a, b) => probabilities[a] - probabilities[b]);
  const result = new Array<number>(probabilities.length);
  let from = 0;
  for (const index of order) {
    const { below, g } = quantilePosition(n, probabilities[index]);
    selectInPlace(values, below, from, n - 1);
    from = below;
    const a = values[below];
    const b = below + 1 < n ? minimum(values, below + 1, n - 1) : a;
    result[index] = lerpQuantile(a, b, g);
  }
  return result;
}

/**
 * Quantiles of `values` (numpy's default linear definition) on a copy; `values` is untouched.
 * @param scratch optional array of at least values.length to copy into (reused by callers
 *   that take quantiles of many arrays)
 */
export function quantiles(values: NumericArray, probabilities: readonly number[], scratch?: NumericArray): number[] {
  const copy = scratch && scratch.length >= values.length ? scratch.subarray(0, values.length) : values.slice();
  copy.set(values);
  return quantilesInPlace(copy, probabilities);
}

/** numpy's `_lerp` between order statistics a <= b at fraction g: exact at both ends. */
export function lerpQuantile(a: number, b: number, g: number): number {
  const d = b - a;
  return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}

/**
 * Where numpy's linear quantile of probability q over n values lies: between the order
 * statistics `below` and `below + 1` (clamped to n - 1), at fraction g.
 */
export function quantilePosition(n: number, q: number): { below: number; above: number; g: number } {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile probability must be in [0, 1], got ${q}`);
  const h = (n - 1) * q;
  const below = Math.floor(h);
  return { below, above: Math.min(below + 1, n - 1), g: h - below };
}

/** Below this many values, a selection on a copy beats two passes and a histogram. */
const RADIX_MIN_VALUES = 4096;

/** Bins of orderStatistics' histogram: 16 KiB of counts, which stay in the L1 cache. */
const BINS = 4096;

/** Histogram levels orderStatistics goes down before selecting among what is left. */
const MAX_DEPTH = 4;

/**
 * The same quantiles as quantilesInPlace, leaving `values` untouched, by radix selection
 * (orderStatistics): same order statistics, same interpolation, so bit-identical results.
 */
export function radixQuantiles(values: Float32Array | Float64Array, probabilities: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) throw new RangeError('quantiles of an empty array are undefined');
  const positions = probabilities.map((q) => quantilePosition(n, q));
  if (n < RADIX_MIN_VALUES) return quantiles(values, probabilities);
  const wide = values instanceof Float64Array ? values : Float64Array.from(values);
  const stats = orderStatistics(wide, positions.flatMap((p) => [p.below, p.above]));
  return positions.map((p, i) => lerpQuantile(stats[2 * i], stats[2 * i + 1], p.g));
}

/**
 * The order statistics of the given ranks (0 = smallest) of `values` (no NaN), which are
 * left untouched, in the order of `ranks`. Radix selection: a histogram over BINS bins
 * evenly spaced between the least and greatest of an evenly spaced sample (values beyond
 * go to the end bins) finds the bins holding the ranks; a second pass copies out only
 * those bins' values, and a selection among them gives the order statistics; a bin still
 * holding many values (clustered data) gets a histogram of its own. The bin of v is
 * floor((v - lo) s), non-decreasing in v even in floating point, so the bins are in order
 * and the result is exact whatever the sample; the sample only sets how evenly the values
 * spread. Two linear passes instead of a selection per rank: a few ms per million values.
 * Float64 only: V8 compiles the loops for one element type, and a second type would
 * deoptimize them (measured: a 70 ms first call after the switch). The passes are functions
 * of their own (sampledRange, countBins, keepBins): a loop inside this function was compiled
 * on the stack (OSR) before the code after it had run, and that code's first run threw the
 * compiled function away, the rest of the loop interpreted, call after call (seen with
 * --trace-deopt in a several-symbol Monte Carlo job, whose 24 selections took ~2.5x longer
 * than warm ones while both cores simulated and the compiler waited for one).
 */
export function orderStatistics(values: Float64Array, ranks: readonly number[], depth = 0): Float64Array {
  const n = values.length;
  for (const rank of ranks) {
    if (!(Number.isInteger(rank) && rank >= 0 && rank < n)) throw new RangeError(`rank ${rank} is outside 0..${n - 1}`);
  }
  const { lo, hi } = sampledRange(values, Math.max(1, Math.floor(n / 16384)));
  const scale = (BINS - 2) / (hi - lo);
  if (n < RADIX_MIN_VALUES || depth >= MAX_DEPTH || !(scale > 0 && scale < Infinity)) return selectRanks(Float64Array.from(values), ranks);
  // Bin 0 holds values below lo, bins 1..BINS-2 the sampled range, the last those above.
  const counts = new Int32Array(BINS);
  countBins(values, lo, scale, counts);

  // The bin of each rank and the values in the bins before it; the wanted bins' values are
  // copied to consecutive stretches of one array, a bin's from its first[] offset.
  const sorted = [...new Set(ranks)].sort((a, b) => a - b);
  const placed = new Map<number, { bin: number; before: number }>();
  const first = new Int32Array(BINS).fill(-1);
  let total = 0;
  let bin = 0;
  let before = 0;
  for (const rank of sorted) {
    while (before + counts[bin] <= rank) before += counts[bin++];
    placed.set(rank, { bin, before });
    if (first[bin] < 0) {
      first[bin] = total;
      total += counts[bin];
    }
  }
  const members = new Float64Array(total);
  keepBins(values, lo, scale, first.slice(), members);
  const result = new Float64Array(ranks.length);
  const bins = new Set([...placed.values()].map((p) => p.bin));
  for (const b of bins) {
    const inBin = members.subarray(first[b], first[b] + counts[b]);
    const wanted = ranks.map((rank, i) => ({ rank, i })).filter(({ rank }) => placed.get(rank)?.bin === b);
    const local = wanted.map(({ rank }) => rank - (placed.get(rank) as { before: number }).before);
    const stats = inBin.length > RADIX_MIN_VALUES ? orderStatistics(inBin, local, depth + 1) : selectRanks(inBin, local);
    wanted.forEach(({ i }, j) => (result[i] = stats[j]));
  }
  return result;
}

/** The least and greatest of every step-th value. */
function sampledRange(values: Float64Array, step: number): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i += step) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { lo, hi };
}

/** The bin of (v - lo) * scale: 0 below the range, BINS - 1 above it (orderStatistics). */
function countBins(values: Float64Array, lo: number, scale: number, counts: Int32Array): void {
  const last = BINS - 1;
  for (let i = 0; i < values.length; i++) {
    const t = (values[i] - lo) * scale;
    counts[t < 0 ? 0 : t >= BINS - 2 ? last : 1 + (t | 0)]++;
  }
}

/** Copies each value whose bin k has next[k] >= 0 to members[next[k]++] (bins as countBins). */
function keepBins(values: Float64Array, lo: number, scale: number, next: Int32Array, members: Float64Array): void {
  const last = BINS - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = (v - lo) * scale;
    const k = t < 0 ? 0 : t >= BINS - 2 ? last : 1 + (t | 0);
    const at = next[k];
    if (at >= 0) {
      members[at] = v;
      next[k] = at + 1;
    }
  }
}

/** The order statistics of `ranks` by selection, rearranging `values`. */
export function selectRanks(values: Float64Array, ranks: readonly number[]): Float64Array {
  return Float64Array.from(ranks, (rank) => {
    selectInPlace(values, rank, 0, values.length - 1);
    return values[rank];
  });
}
