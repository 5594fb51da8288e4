import { BLOCK_SIZE } from './limits.js';

/**
 * Mean, spread, extremes and a count below a threshold of a simulated series, gathered per
 * block while the block's values are in cache and combined afterwards in block order, so
 * the statistics tasks make no pass of their own over a million values, and the numbers do
 * not depend on which thread simulated which block. Per block: the sum, min, max, the count
 * below the threshold, and the sum of squared deviations from the block's own mean, each
 * over at most 4096 values in a few independent accumulators (relative error under 1e-13
 * even in the worst case, and no long dependency chain to wait on); blocks combine by
 * Neumaier's compensated sum and Chan, Golub and LeVeque's pairwise update
 * M2 = sum M2_b + sum n_b (mean_b - mean)^2, as accurate as two passes over all values.
 */

/** Numbers recorded per block and series: sum, min, max, below, M2. */
export const MOMENT_FIELDS = 5;

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
  let s0 = 0;
  let s1 = 0;
  let min = Infinity;
  let max = -Infinity;
  let below = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    below += v < threshold ? 1 : 0;
    const x = v - shift;
    if (x < min) min = x;
    if (x > max) max = x;
    if (i & 1) s1 += x;
    else s0 += x;
  }
  const sum = s0 + s1;
  const mean = sum / n;
  let m0 = 0;
  let m1 = 0;
  let m2 = 0;
  let m3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const d0 = values[i] - shift - mean;
    const d1 = values[i + 1] - shift - mean;
    const d2 = values[i + 2] - shift - mean;
    const d3 = values[i + 3] - shift - mean;
    m0 += d0 * d0;
    m1 += d1 * d1;
    m2 += d2 * d2;
    m3 += d3 * d3;
  }
  for (; i < n; i++) {
    const d = values[i] - shift - mean;
    m0 += d * d;
  }
  out[at] = sum;
  out[at + 1] = min;
  out[at + 2] = max;
  out[at + 3] = below;
  out[at + 4] = m0 + m1 + (m2 + m3);
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
    const x = out[o];
    const t = sum + x;
    c += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
    min = Math.min(min, out[o + 1]);
    max = Math.max(max, out[o + 2]);
    below += out[o + 3];
  }
  const mean = (sum + c) / simulations;
  let m2 = 0;
  for (let b = 0; b < blocks; b++) {
    const o = b * stride + at;
    const n = Math.min(BLOCK_SIZE, simulations - b * BLOCK_SIZE);
    const d = out[o] / n - mean;
    m2 += out[o + 4] + n * d * d;
  }
  return { mean, std: Math.sqrt(m2 / simulations), min, max, below };
}
