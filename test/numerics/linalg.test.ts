import { describe, expect, it } from 'vitest';
import { cholesky } from '../../shared/numerics/linalg/cholesky.js';
import { dot, matVec, quadraticForm } from '../../shared/numerics/linalg/matrixVector.js';
import { choleskySolve, solveLower, solveLowerTransposed } from '../../shared/numerics/linalg/triangularSolve.js';

// A 4x4 SPD matrix with a hand-checkable factor: A = L L' for the integer L below.
const lExact = [
  [2, 0, 0, 0],
  [1, 3, 0, 0],
  [-1, 2, 1, 0],
  [0.5, -1, 2, 4],
];
const n = 4;
const a = new Float64Array(n * n);
for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
  let v = 0;
  for (let k = 0; k < n; k++) v += lExact[i][k] * lExact[j][k];
  a[i * n + j] = v;
}

describe('cholesky', () => {
  it('recovers the exact factor of a matrix built as L L\' (entries are exact in binary)', () => {
    const f = cholesky(a, n);
    expect(f.ok).toBe(true);
    if (!f.ok) return;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(f.lower[i * n + j]).toBeCloseTo(lExact[i][j], 14);
  });

  it('rejects a rank-deficient matrix, naming the dependent column', () => {
    // Column 2 = column 0 + column 1 of a Gram matrix: rank 2.
    const x = [
      [1, 2, 3],
      [0, 1, 1],
      [2, -1, 1],
      [1, 1, 2],
    ];
    const g = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) g[i * 3 + j] = x.reduce((s, row) => s + row[i] * row[j], 0);
    expect(cholesky(g, 3)).toEqual({ ok: false, column: 2 });
  });

  it('rejects an indefinite matrix', () => {
    expect(cholesky(Float64Array.from([1, 2, 2, 1]), 2).ok).toBe(false);
  });
});

describe('triangular solves', () => {
  const f = cholesky(a, n);
  if (!f.ok) throw new Error('setup');
  const b = [1, -2, 0.5, 3];

  it('solveLower and solveLowerTransposed leave residuals at round-off', () => {
    const y = solveLower(f.lower, n, b);
    const x = solveLowerTransposed(f.lower, n, b);
    for (let i = 0; i < n; i++) {
      let ly = 0;
      let ltx = 0;
      for (let k = 0; k < n; k++) {
        ly += f.lower[i * n + k] * y[k];
        ltx += f.lower[k * n + i] * x[k];
      }
      expect(Math.abs(ly - b[i])).toBeLessThan(1e-14);
      expect(Math.abs(ltx - b[i])).toBeLessThan(1e-14);
    }
  });

  it('choleskySolve solves A x = b', () => {
    const x = choleskySolve(f.lower, n, b);
    const ax = matVec(a, n, x);
    for (let i = 0; i < n; i++) expect(Math.abs(ax[i] - b[i])).toBeLessThan(1e-13);
  });

  it('dot, matVec and quadraticForm agree with hand values', () => {
    expect(dot([1, 2, 3], [4, -5, 6])).toBe(12);
    expect(Array.from(matVec(Float64Array.from([1, 2, 3, 4]), 2, [1, 1]))).toEqual([3, 7]);
    expect(quadraticForm(Float64Array.from([2, 1, 1, 3]), 2, [1, -1])).toBe(3);
  });
});
