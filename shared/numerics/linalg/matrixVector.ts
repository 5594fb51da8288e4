/** Dot product of two vectors of equal length. */
export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** A x for a dense n*n row-major matrix A. */
export function matVec(a: Float64Array, n: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += a[row + j] * x[j];
    y[i] = s;
  }
  return y;
}

/** x' A x for a dense n*n row-major matrix A. */
export function quadraticForm(a: Float64Array, n: number, x: ArrayLike<number>): number {
  return dot(x, matVec(a, n, x));
}
