import { choleskyKernel, FACTOR_OFFSET } from './choleskyKernel.js';

/**
 * Cholesky factorization A = L L' of a symmetric positive definite matrix stored dense,
 * row-major, in a Float64Array of n*n entries (only the lower triangle of A is read).
 */
export type CholeskyResult =
  | { readonly ok: true; readonly lower: Float64Array }
  | { readonly ok: false; readonly column: number };

/**
 * Pivots below this fraction of the matrix's own diagonal mean the column is (numerically)
 * a combination of the previous ones: 1 - R^2 < 1e-12, a condition number beyond what
 * double precision weights can be trusted for. Rank-deficient matrices give pivots of
 * order 1e-16 relative, so this rejects them with a wide margin.
 */
const relativePivotTolerance = 1e-12;

/**
 * Factors a symmetric positive definite matrix.
 * @param a n*n row-major matrix (lower triangle read).
 * @param n dimension.
 * @returns `{ ok: true, lower }` with L row-major (upper triangle zero), or `{ ok: false, column }`
 *   naming the first column whose pivot is not safely positive.
 */
export function cholesky(a: Float64Array, n: number): CholeskyResult {
  if (n >= LARGE) return choleskyTiled(a, n) ?? choleskyLarge(a, n);
  const l = new Float64Array(n * n);
  // Row-by-row (Cholesky-Banachiewicz): every inner product runs over two contiguous row
  // prefixes of L, which keeps the O(n^3/3) work cache-friendly in row-major storage.
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j < i; j++) {
      const rowJ = j * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= l[rowI + k] * l[rowJ + k];
      l[rowI + j] = s / l[rowJ + j];
    }
    let d = a[rowI + i];
    for (let k = 0; k < i; k++) d -= l[rowI + k] * l[rowI + k];
    if (!(d > relativePivotTolerance * a[rowI + i])) return { ok: false, column: i };
    l[rowI + i] = Math.sqrt(d);
  }
  return { ok: true, lower: l };
}

/**
 * From this size on (a Markowitz universe, not Monte Carlo's few symbols) the inner products
 * run on the WebAssembly SIMD kernel (choleskyTiled), or in four accumulators without it.
 */
const LARGE = 64;

/**
 * The same factorization for large n, each inner product summed in four independent
 * accumulators: one accumulator chains every addition on the previous one (a floating-point
 * add's latency per term); four keep the multiplier busy, about 3x faster at n = 1000. The
 * sums are reassociated, which moves results by a few ulps (well under 1e-12 relative).
 */
function choleskyLarge(a: Float64Array, n: number): CholeskyResult {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j <= i; j++) {
      const rowJ = j * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 3 < j; k += 4) {
        s0 += l[rowI + k] * l[rowJ + k];
        s1 += l[rowI + k + 1] * l[rowJ + k + 1];
        s2 += l[rowI + k + 2] * l[rowJ + k + 2];
        s3 += l[rowI + k + 3] * l[rowJ + k + 3];
      }
      for (; k < j; k++) s0 += l[rowI + k] * l[rowJ + k];
      const s = a[rowI + j] - (s0 + s1 + (s2 + s3));
      if (j < i) l[rowI + j] = s / l[rowJ + j];
      else {
        if (!(s > relativePivotTolerance * a[rowI + i])) return { ok: false, column: i };
        l[rowI + i] = Math.sqrt(s);
      }
    }
  }
  return { ok: true, lower: l };
}

/**
 * The same factorization by 4-column blocks (left-looking), the inner products of each 4 x 4
 * tile on the WebAssembly SIMD kernel (choleskyKernel.wat: 8 vector loads for 16 vector
 * multiply-adds, where a dot product at a time loads two numbers a multiply-add), the
 * remaining few terms and the divisions here. Column by column as before, so the first
 * failing pivot is the same column's. Null without WebAssembly SIMD or past the kernel's
 * memory. The sums are reassociated: the factor moves by a few ulps (well under 1e-12 relative).
 */
function choleskyTiled(a: Float64Array, n: number): CholeskyResult | null {
  const k = choleskyKernel();
  if (!k) return null;
  // L is padded to a multiple of 4 rows and columns (zeros), so every tile reads inside it.
  const width = (n + 3) & ~3;
  const needed = FACTOR_OFFSET + width * width * 8;
  if (needed > 2 ** 31) return null;
  const missing = needed - k.memory.buffer.byteLength;
  if (missing > 0) k.memory.grow(Math.ceil(missing / 65536));
  const l = new Float64Array(k.memory.buffer, FACTOR_OFFSET, width * width);
  l.fill(0);
  const s = new Float64Array(k.memory.buffer, 0, 16);
  const stride = width * 8;
  for (let j0 = 0; j0 < n; j0 += 4) {
    const w = Math.min(4, n - j0);
    const rowJ = FACTOR_OFFSET + j0 * stride;
    // The diagonal block: its columns' pivots, and the entries below them inside the block.
    k.tile(rowJ, rowJ, stride, j0);
    for (let c = 0; c < w; c++) {
      const j = j0 + c;
      let d = a[j * n + j] - s[c * 4 + c];
      for (let q = 0; q < c; q++) d -= l[j * width + j0 + q] * l[j * width + j0 + q];
      if (!(d > relativePivotTolerance * a[j * n + j])) return { ok: false, column: j };
      const pivot = Math.sqrt(d);
      l[j * width + j] = pivot;
      for (let r = c + 1; r < w; r++) {
        const i = j0 + r;
        let t = a[i * n + j] - s[r * 4 + c];
        for (let q = 0; q < c; q++) t -= l[i * width + j0 + q] * l[j * width + j0 + q];
        l[i * width + j] = t / pivot;
      }
    }
    // Every block below it.
    for (let i0 = j0 + 4; i0 < n; i0 += 4) {
      k.tile(FACTOR_OFFSET + i0 * stride, rowJ, stride, j0);
      const h = Math.min(4, n - i0);
      for (let r = 0; r < h; r++) {
        const i = i0 + r;
        for (let c = 0; c < w; c++) {
          const j = j0 + c;
          let t = a[i * n + j] - s[r * 4 + c];
          for (let q = 0; q < c; q++) t -= l[i * width + j0 + q] * l[j * width + j0 + q];
          l[i * width + j] = t / l[j * width + j];
        }
      }
    }
  }
  const lower = new Float64Array(n * n);
  for (let i = 0; i < n; i++) lower.set(l.subarray(i * width, i * width + i + 1), i * n);
  return { ok: true, lower };
}
