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
    const q = probabilities[index];
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile probability must be in [0, 1], got ${q}`);
    const h = (n - 1) * q;
    const below = Math.floor(h);
    const g = h - below;
    selectInPlace(values, below, from, n - 1);
    from = below;
    const a = values[below];
    const b = below + 1 < n ? minimum(values, below + 1, n - 1) : a;
    const d = b - a;
    result[index] = g >= 0.5 ? b - d * (1 - g) : a + d * g;
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

/**
 * The same quantiles as quantilesInPlace, by a radix selection that leaves `values`
 * untouched: a 65,536-bin histogram of each value's order-preserving key (a float32's
 * bits, or a float64's high word; bins over the keys' own range) finds the bins holding
 * the wanted order statistics, and only those bins' values are selected among. Two
 * linear passes instead of one selection and one minimum scan per probability: the
 * percentiles of a million values cost a few milliseconds. Same order statistics, same
 * interpolation, so bit-identical results. Assumes a little-endian machine (every platform
 * Node runs functions on).
 */
export function radixQuantiles(values: Float32Array | Float64Array, probabilities: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) throw new RangeError('quantiles of an empty array are undefined');
  const wide = values instanceof Float64Array;
  const stride = wide ? 2 : 1;
  const high = wide ? 1 : 0;
  const words = new Int32Array(values.buffer, values.byteOffset, stride * n);
  // The key b ^ ((b >> 31) & 0x7fffffff) of a word b orders like the values (no NaN):
  // negative numbers have their magnitude bits flipped. The bins span the key range of an
  // evenly spaced sample, so even tightly clustered values spread over them; keys outside
  // that range go to the first or last bin, which keeps the bins in order (exactness does
  // not depend on the sample, only the bin sizes do).
  const step = Math.max(1, Math.floor(n / 16384));
  let lowKey = 0x7fffffff;
  let highKey = -0x80000000;
  for (let i = 0; i < n; i += step) {
    const b = words[stride * i + high];
    const key = b ^ ((b >> 31) & 0x7fffffff);
    if (key < lowKey) lowKey = key;
    if (key > highKey) highKey = key;
  }
  let shift = 0;
  while ((highKey - lowKey) / 2 ** shift >= 65534) shift++;
  // Bin 0 holds keys below lowKey, bins 1..65534 the sampled range, 65535 keys above it.
  const counts = new Int32Array(65536);
  for (let i = high; i < stride * n; i += stride) {
    const b = words[i];
    const key = b ^ ((b >> 31) & 0x7fffffff);
    counts[key < lowKey ? 0 : key > highKey ? 65535 : 1 + ((key - lowKey) >>> shift)]++;
  }

  const wanted: { below: number; g: number }[] = probabilities.map((q) => {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile probability must be in [0, 1], got ${q}`);
    const h = (n - 1) * q;
    const below = Math.floor(h);
    return { below, g: h - below };
  });
  const ranks = [...new Set(wanted.flatMap((w) => [w.below, Math.min(w.below + 1, n - 1)]))].sort((a, b) => a - b);

  // Which bin each rank falls in, and how many values lie in the bins before it.
  const binOfRank = new Map<number, { bin: number; before: number }>();
  let bin = 0;
  let before = 0;
  for (const rank of ranks) {
    while (before + counts[bin] <= rank) before += counts[bin++];
    binOfRank.set(rank, { bin, before });
  }
  const bins = [...new Set([...binOfRank.values()].map((b) => b.bin))];
  const slotOfBin = new Int32Array(65536).fill(-1);
  const members = bins.map((b, slot) => ((slotOfBin[b] = slot), wide ? new Float64Array(counts[b]) : new Float32Array(counts[b])));
  const filled = new Int32Array(bins.length);
  for (let i = 0; i < n; i++) {
    const b = words[stride * i + high];
    const key = b ^ ((b >> 31) & 0x7fffffff);
    const slot = slotOfBin[key < lowKey ? 0 : key > highKey ? 65535 : 1 + ((key - lowKey) >>> shift)];
    if (slot >= 0) members[slot][filled[slot]++] = values[i];
  }
  const orderStatistic = new Map<number, number>();
  for (const rank of ranks) {
    const { bin: b, before: offset } = binOfRank.get(rank) as { bin: number; before: number };
    const inBin = members[slotOfBin[b]];
    selectInPlace(inBin, rank - offset, 0, inBin.length - 1);
    orderStatistic.set(rank, inBin[rank - offset]);
  }
  return wanted.map(({ below, g }) => {
    const a = orderStatistic.get(below) as number;
    const b = orderStatistic.get(Math.min(below + 1, n - 1)) as number;
    const d = b - a;
    return g >= 0.5 ? b - d * (1 - g) : a + d * g;
  });
}
