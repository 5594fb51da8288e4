import { BLOCK_SIZE } from './limits.js';

/**
 * Mean, spread, extremes and a count below a threshold of a simulated series, gathered per
 * block while the block's values are in cache and combined afterwards in block order, so
 * the statistics tasks make no pass of their own over a million values, and the numbers do
 * not depend on which thread simulated which block. Per block: Neumaier's compensated sum,
 * min, max, the count below the threshold, and the compensated sum of squared deviations
 * from the block's own mean; blocks combine by Chan, Golub and LeVeque's pairwise update
 * M2 = sum M2_b + sum n_b (mean_b - mean)^2, as accurate as two passes over all values.
 */

/** Numbers recorded per block and series: sum, compensation, min, max, below, M2. */
export const MOMENT_FIELDS = 6;

export interface Moments {
  readonly mean: number;
  /** Population standard deviation (ddof = 0, numpy's np.std default). */
  readonly std: number;
  readonly min: number;
  readonly max: number;
  /** How many values were strictly below the threshold. */
  readonly below: number;
}

/**
 * Records the moments of x_i = values[i] - shift (shift 0 for prices, 1 for the returns of
 * portfolio values) at out[at ..], counting the values (before the shift) below `threshold`.
 */
export function recordBlockMoments(values: Float64Array, shift: number, threshold: number, out: Float64Array, at: number): void {
  const n = values.length;
  let sum = 0;
  let c = 0;
  let min = Infinity;
  let max = -Infinity;
  let below = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < threshold) below++;
    const x = v - shift;
    if (x < min) min = x;
    if (x > max) max = x;
    const t = sum + x;
    c += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  const mean = (sum + c) / n;
  let m2 = 0;
  let e = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - shift - mean;
    const y = d * d - e;
    const t = m2 + y;
    e = t - m2 - y;
    m2 = t;
  }
  out[at] = sum;
  out[at + 1] = c;
  out[at + 2] = min;
  out[at + 3] = max;
  out[at + 4] = below;
  out[at + 5] = m2;
}

/**
 * Combines the moments a series' blocks recorded, block b at out[b * stride + at], for
 * `simulations` values in blocks of BLOCK_SIZE.
 */
export function combineBlockMoments(out: Float64Array, simulations: number, stride: number, at: number): Moments {
  const blocks = Math.ceil(simulations / BLOCK_SIZE);
  let sum = 0;
  let c = 0;
  let min = Infinity;
  let max = -Infinity;
  let below = 0;
  for (let b = 0; b < blocks; b++) {
    const o = b * stride + at;
    for (const x of [out[o], out[o + 1]]) {
      const t = sum + x;
      c += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
      sum = t;
    }
    min = Math.min(min, out[o + 2]);
    max = Math.max(max, out[o + 3]);
    below += out[o + 4];
  }
  const mean = (sum + c) / simulations;
  let m2 = 0;
  for (let b = 0; b < blocks; b++) {
    const o = b * stride + at;
    const n = Math.min(BLOCK_SIZE, simulations - b * BLOCK_SIZE);
    const d = (out[o] + out[o + 1]) / n - mean;
    m2 += out[o + 5] + n * d * d;
  }
  return { mean, std: Math.sqrt(m2 / simulations), min, max, below };
}
