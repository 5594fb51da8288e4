/** Solves L x = b for lower-triangular L (n*n row-major); returns a new vector. */
export function solveLower(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = x[i];
    for (let k = 0; k < i; k++) s -= l[row + k] * x[k];
    x[i] = s / l[row + i];
  }
  return x;
}

/** Solves L' x = b for lower-triangular L (n*n row-major); returns a new vector. */
export function solveLowerTransposed(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = Float64Array.from(b);
  // Column-oriented back substitution: once x[i] is known, subtract its contribution from
  // every earlier unknown by walking row i of L, which is contiguous in memory.
  for (let i = n - 1; i >= 0; i--) {
    const row = i * n;
    const xi = x[i] / l[row + i];
    x[i] = xi;
    for (let k = 0; k < i; k++) x[k] -= l[row + k] * xi;
  }
  return x;
}

/** Solves A x = b given the Cholesky factor L of A (A = L L'). */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  return solveLowerTransposed(l, n, solveLower(l, n, b));
}
