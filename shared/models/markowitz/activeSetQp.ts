/**
 * min 1/2 w' S w  subject to  A w = b,  w >= 0, for a positive definite S: the primal
 * active-set method (Nocedal & Wright, Numerical Optimization, 2nd ed., Algorithm 16.3)
 * specialised to bound constraints. The working set is the set of "free" variables; the
 * others sit at zero. Each iteration solves the equality-constrained problem on the free
 * variables through a Cholesky factor of S_FF that grows by one row when a variable is
 * freed and is downdated when one is fixed at zero (both O(k^2)), so each iteration of a
 * portfolio with k holdings out of p assets costs O(k^2 + p k) rather than O(p^3).
 */
export interface BoundedQp {
  /** p*p row-major, symmetric positive definite. */
  readonly covariance: Float64Array;
  readonly assets: number;
  /** Equality constraint rows (each of length p) and right-hand sides. */
  readonly equalities: readonly Float64Array[];
  readonly rhs: readonly number[];
}

export interface BoundedQpSolution {
  readonly weights: Float64Array;
  /** Multipliers nu of the equalities: S w = A' nu + lambda at the solution. */
  readonly equalityMultipliers: Float64Array;
  /** Multipliers lambda >= 0 of w >= 0 (zero on the free variables). */
  readonly boundMultipliers: Float64Array;
  readonly iterations: number;
}

/**
 * A released variable must lower the objective by more than this, relative to the
 * gradient's scale, for the method to free it: round-off in the multipliers is about
 * 1e-15 of that scale, so a smaller threshold could free and drop the same variable forever.
 */
const releaseTolerance = 1e-12;
/** Pivots of the small Schur system below this fraction of its diagonal: dependent constraints. */
const dependentConstraintTolerance = 1e-12;

/** The equalities A w = b of a {@link BoundedQp} without their right-hand sides. */
export type BoundedQpShape = Omit<BoundedQp, 'rhs'>;

/**
 * A solver for a sequence of problems sharing S and A (frontier points differ only in b):
 * it keeps the last free set and its Cholesky factor, so a warm start whose support is
 * close to the previous solution's costs O(k^2) per changed variable instead of O(k^3).
 */
export interface BoundedQpSolver {
  /**
   * @param rhs b for this solve.
   * @param start a feasible point (A start = b, start >= 0).
   * @param alsoFree variables to free from the start even at zero (e.g. the positive
   *   entries of the unconstrained optimum, a good guess at the optimal support).
   * @throws Error if the method does not converge (a bug or a badly scaled problem).
   */
  solve(rhs: readonly number[], start: Float64Array, alsoFree?: Iterable<number>): BoundedQpSolution;
}

/**
 * Solves the QP from a feasible start.
 * @param qp the problem.
 * @param start a feasible point (A start = b, start >= 0); its positive entries are the first free set.
 * @returns the optimum with its KKT multipliers.
 */
export function solveBoundedQp(qp: BoundedQp, start: Float64Array, alsoFree?: Iterable<number>): BoundedQpSolution {
  return boundedQpSolver(qp).solve(qp.rhs, start, alsoFree);
}

/** A {@link BoundedQpSolver} for problems with covariance S and equality rows A. */
export function boundedQpSolver(shape: BoundedQpShape): BoundedQpSolver {
  const { covariance: s, assets: p, equalities } = shape;
  const m = equalities.length;
  const isFree = new Uint8Array(p);
  const free: number[] = [];
  // Cholesky factor of S restricted to `free` (in that order), stored with stride p.
  const l = new Float64Array(p * p);
  const notPositiveDefinite = () => new Error('covariance restricted to the holdings is not positive definite');
  const release = (i: number) => {
    free.push(i);
    isFree[i] = 1;
    if (!appendRow(l, p, s, free, free.length - 1)) throw notPositiveDefinite();
  };
  const fix = (r: number) => {
    removeRow(l, p, free.length, r);
    isFree[free[r]] = 0;
    free.splice(r, 1);
  };

  return {
    solve(rhs, start, alsoFree = []) {
      const w = Float64Array.from(start, (x) => (x > 0 ? x : 0));
      const wanted = new Uint8Array(p);
      for (let i = 0; i < p; i++) if (w[i] > 0) wanted[i] = 1;
      for (const i of alsoFree) wanted[i] = 1;
      for (let r = free.length - 1; r >= 0; r--) if (!wanted[free[r]]) fix(r);
      for (let i = 0; i < p; i++) if (wanted[i] && !isFree[i]) release(i);

      const nu = new Float64Array(m);
      const lambda = new Float64Array(p);
      const maxIterations = 20 * p + 200;
      for (let iteration = 1; iteration <= maxIterations; iteration++) {
        const k = free.length;
        // Equality-constrained minimum on the free set: w_F = S_FF^{-1} A_F' nu with
        // (A_F S_FF^{-1} A_F') nu = b, via Z = L^{-1} A_F' so that the Schur matrix is Z'Z.
        const z: Float64Array[] = equalities.map((row) => forwardSolve(l, p, k, Float64Array.from(free, (i) => row[i])));
        solveSchur(z, rhs, nu);
        const zNu = new Float64Array(k);
        for (let c = 0; c < m; c++) for (let r = 0; r < k; r++) zNu[r] += z[c][r] * nu[c];
        const target = backSolve(l, p, k, zNu);

        let alpha = 1;
        let blocking = -1;
        for (let r = 0; r < k; r++) {
          const step = target[r] - w[free[r]];
          if (step < 0) {
            const ratio = -w[free[r]] / step;
            if (ratio < alpha) {
              alpha = ratio;
              blocking = r;
            }
          }
        }
        if (blocking >= 0) {
          for (let r = 0; r < k; r++) w[free[r]] += alpha * (target[r] - w[free[r]]);
          w[free[blocking]] = 0;
          fix(blocking);
          continue;
        }
        for (let r = 0; r < k; r++) w[free[r]] = target[r];

        // At the minimum on the free set: lambda = S w - A' nu; free the most negative one.
        const gradient = new Float64Array(p);
        for (const j of free) {
          const wj = w[j];
          const row = j * p;
          for (let i = 0; i < p; i++) gradient[i] += s[row + i] * wj;
        }
        let scale = 0;
        let entering = -1;
        let mostNegative = 0;
        for (let i = 0; i < p; i++) {
          let g = gradient[i];
          for (let c = 0; c < m; c++) g -= nu[c] * equalities[c][i];
          lambda[i] = isFree[i] ? 0 : g;
          scale = Math.max(scale, Math.abs(gradient[i]));
          if (!isFree[i] && g < mostNegative) {
            mostNegative = g;
            entering = i;
          }
        }
        if (entering < 0 || mostNegative >= -releaseTolerance * scale) {
          for (let i = 0; i < p; i++) if (!isFree[i]) lambda[i] = Math.max(lambda[i], 0);
          return { weights: w, equalityMultipliers: Float64Array.from(nu), boundMultipliers: lambda, iterations: iteration };
        }
        release(entering);
      }
      throw new Error(`active-set QP did not converge in ${maxIterations} iterations`);
    },
  };
}

/**
 * Deletes row and column r from a k x k Cholesky factor (stride p) in O(k^2): the rows
 * below move up one, which leaves one entry above the diagonal in each; Givens rotations of
 * adjacent columns (L Q Q' L' = L L') zero them (Golub & Van Loan, 4th ed., 6.5.4).
 */
function removeRow(l: Float64Array, p: number, k: number, r: number): void {
  for (let i = r + 1; i < k; i++) l.copyWithin((i - 1) * p, i * p, i * p + i + 1);
  for (let j = r; j < k - 1; j++) {
    const a = l[j * p + j];
    const b = l[j * p + j + 1];
    const h = Math.hypot(a, b);
    const c = a / h;
    const sn = b / h;
    l[j * p + j] = h;
    l[j * p + j + 1] = 0;
    for (let i = j + 1; i < k - 1; i++) {
      const x = l[i * p + j];
      const y = l[i * p + j + 1];
      l[i * p + j] = c * x + sn * y;
      l[i * p + j + 1] = c * y - sn * x;
    }
  }
}

/** Computes row r of the Cholesky factor of S_FF given rows 0..r-1; false if not positive definite. */
function appendRow(l: Float64Array, p: number, s: Float64Array, free: readonly number[], r: number): boolean {
  const row = r * p;
  const i = free[r];
  for (let c = 0; c < r; c++) {
    let v = s[i * p + free[c]];
    const rowC = c * p;
    for (let q = 0; q < c; q++) v -= l[row + q] * l[rowC + q];
    l[row + c] = v / l[rowC + c];
  }
  let d = s[i * p + i];
  for (let q = 0; q < r; q++) d -= l[row + q] * l[row + q];
  if (!(d > 1e-14 * s[i * p + i])) return false;
  l[row + r] = Math.sqrt(d);
  return true;
}

function forwardSolve(l: Float64Array, p: number, k: number, b: Float64Array): Float64Array {
  for (let r = 0; r < k; r++) {
    const row = r * p;
    let v = b[r];
    for (let q = 0; q < r; q++) v -= l[row + q] * b[q];
    b[r] = v / l[row + r];
  }
  return b;
}

function backSolve(l: Float64Array, p: number, k: number, b: Float64Array): Float64Array {
  for (let r = k - 1; r >= 0; r--) {
    const row = r * p;
    const v = b[r] / l[row + r];
    b[r] = v;
    for (let q = 0; q < r; q++) b[q] -= l[row + q] * v;
  }
  return b;
}

/**
 * Solves (Z'Z) nu = b for the m x m Schur matrix by Cholesky, setting to zero the multiplier
 * of any constraint that depends on earlier ones on the free set (e.g. a return target when
 * every held asset has the same expected return): the current point satisfies it already,
 * so dropping it leaves the same feasible set.
 */
function solveSchur(z: readonly Float64Array[], b: readonly number[], nu: Float64Array): void {
  const m = z.length;
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) {
    let v = 0;
    for (let r = 0; r < z[i].length; r++) v += z[i][r] * z[j][r];
    a[i * m + j] = v;
  }
  const l = new Float64Array(m * m);
  const keep = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < i; j++) {
      if (!keep[j]) continue;
      let v = a[i * m + j];
      for (let q = 0; q < j; q++) v -= l[i * m + q] * l[j * m + q];
      l[i * m + j] = v / l[j * m + j];
    }
    let d = a[i * m + i];
    for (let q = 0; q < i; q++) d -= l[i * m + q] * l[i * m + q];
    if (d > dependentConstraintTolerance * a[i * m + i]) {
      keep[i] = 1;
      l[i * m + i] = Math.sqrt(d);
    }
  }
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    if (!keep[i]) continue;
    let v = b[i];
    for (let q = 0; q < i; q++) v -= l[i * m + q] * y[q];
    y[i] = v / l[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    if (!keep[i]) {
      nu[i] = 0;
      continue;
    }
    let v = y[i];
    for (let q = i + 1; q < m; q++) v -= l[q * m + i] * nu[q];
    nu[i] = v / l[i * m + i];
  }
}
