import { describe, expect, it } from 'vitest';
import { polynomialExp } from '../../shared/numerics/polynomialExp.js';

/** Distance in representable doubles between two positive doubles. */
function ulpsApart(a: number, b: number): number {
  const bits = new BigInt64Array(Float64Array.of(a, b).buffer);
  const d = bits[0] - bits[1];
  return Number(d < 0n ? -d : d);
}

describe('polynomialExp (the several-asset kernel\'s e^x)', () => {
  it('is within one ulp of Math.exp over [-700, 700] near multiples of ln 2, and 1 at 0', () => {
    // A fixed pseudo-random sweep: 200,000 points, half on the scale of daily and yearly log-prices.
    let seed = 12345;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let differing = 0;
    let worst = { x: 0, ulps: 0 };
    for (let i = 0; i < 200_000; i++) {
      const x = (2 * next() - 1) * (i % 2 ? 3 : 700);
      const d = ulpsApart(polynomialExp(x), Math.exp(x));
      if (d > worst.ulps) worst = { x, ulps: d };
      differing += d;
    }
    expect(worst.ulps, `at x = ${worst.x}`).toBeLessThanOrEqual(1);
    // Both are within about an ulp of e^x; they disagree in the last bit now and then, not often.
    expect(differing / 200_000).toBeLessThan(0.1);
    expect(polynomialExp(0)).toBe(1);
    expect(polynomialExp(-0)).toBe(1);
    for (const k of [-1000, -52, -1, 1, 10, 1000]) expect(ulpsApart(polynomialExp(k * Math.LN2), Math.exp(k * Math.LN2))).toBeLessThanOrEqual(1);
  });

  it('is Math.exp beyond |x| > 700, where 2^k would leave the normal range', () => {
    for (const x of [700.5, 709, 710, -700.5, -745, -746, -1e9, Infinity, -Infinity]) expect(polynomialExp(x)).toBe(Math.exp(x));
    expect(polynomialExp(NaN)).toBeNaN();
  });
});
