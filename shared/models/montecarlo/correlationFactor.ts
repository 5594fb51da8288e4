import { JobError } from '../../job/errors.js';
import { cholesky } from '../../numerics/linalg/cholesky.js';

/**
 * The lower Cholesky factor L (row-major) of a correlation matrix, so that L z has that
 * correlation for independent standard normals z.
 *
 * Repair of numerical noise: the matrix is symmetrized, its entries clipped to [-1, 1] and
 * its diagonal set to exactly 1 before factoring (rounding in a sample correlation can give
 * 1 + 1e-16). Beyond that nothing is "repaired": a sample correlation of n > k observations
 * is positive semi-definite, and it fails to be safely positive definite (pivot below 1e-12
 * of the diagonal, see linalg/cholesky.ts) only when a symbol's returns are, to rounding,
 * a linear combination of the others' (a symbol listed twice, a share class and its twin,
 * an index and all its members). Jittering the diagonal would then simulate a correlation
 * the data do not support, so such a job is rejected with a message naming the symbols.
 * @throws JobError invalid_job naming the degenerate symbols
 */
export function correlationFactor(correlation: readonly (readonly number[])[], symbols: readonly string[]): Float64Array {
  const k = correlation.length;
  const a = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const v = i === j ? 1 : 0.5 * (correlation[i][j] + correlation[j][i]);
      a[i * k + j] = Math.min(1, Math.max(-1, v));
    }
  }
  const factor = cholesky(a, k);
  if (factor.ok) return factor.lower;
  const c = factor.column;
  let partner = 0;
  for (let j = 1; j < c; j++) if (Math.abs(a[c * k + j]) > Math.abs(a[c * k + partner])) partner = j;
  const rho = a[c * k + partner];
  if (Math.abs(rho) > 1 - 1e-9) {
    throw new JobError(
      'invalid_job',
      `symbols ${symbols[partner]} and ${symbols[c]} have log-return correlation ${rho.toFixed(12)} on the common dates, so they cannot be simulated as separate assets: remove one of them.`,
    );
  }
  throw new JobError(
    'invalid_job',
    `symbol ${symbols[c]}'s log returns are a linear combination of ${symbols.slice(0, c).join(', ')}'s on the common dates (singular correlation matrix): remove one of them.`,
  );
}
