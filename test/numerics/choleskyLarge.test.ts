import { describe, expect, it } from 'vitest';
import { cholesky } from '../../shared/numerics/linalg/cholesky.js';
import { choleskyKernel } from '../../shared/numerics/linalg/choleskyKernel.js';

// Sizes from 64 on take the tiled path (4-column blocks, inner products on the WebAssembly
// SIMD kernel; four accumulators without SIMD): checked against the plain sequential
// recurrence and by rebuilding A = L L', with sizes that are not multiples of 4.
function sequential(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / l[j * n + j];
    }
    let d = a[i * n + i];
    for (let k = 0; k < i; k++) d -= l[i * n + k] ** 2;
    l[i * n + i] = Math.sqrt(d);
  }
  return l;
}

let seed = 3;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;

function covariance(n: number, observations: number): Float64Array {
  const x = Array.from({ length: n }, () => Array.from({ length: observations }, random));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = x[i].reduce((s, v, t) => s + v * x[j][t], 0) / observations;
  return a;
}

describe('cholesky, large matrices', () => {
  it('runs on the WebAssembly SIMD kernel in this Node', () => {
    expect(choleskyKernel()).not.toBeNull();
  });

  it('matches the sequential recurrence to 1e-13 and rebuilds A', () => {
    for (const n of [64, 67, 130, 201]) {
      const a = covariance(n, 2 * n);
      const result = cholesky(a, n);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      const reference = sequential(a, n);
      let worst = 0;
      for (let i = 0; i < n * n; i++) worst = Math.max(worst, Math.abs(result.lower[i] - reference[i]));
      expect(worst).toBeLessThan(1e-13);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let k = 0; k <= j; k++) s += result.lower[i * n + k] * result.lower[j * n + k];
          expect(Math.abs(s - a[i * n + j])).toBeLessThan(1e-13);
        }
      }
    }
  });

  it('names the first column of a rank-deficient matrix, as the small path does', () => {
    const n = 80;
    const a = covariance(n, 50); // 50 observations: rank 50
    const result = cholesky(a, n);
    expect(result).toEqual({ ok: false, column: 50 });
  });
});
