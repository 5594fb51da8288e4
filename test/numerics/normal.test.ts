import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { erfc, inverseNormalCdf, normalCdf, normalPdf } from '../../shared/numerics/normal.js';

interface NormalFixture {
  points: { x: number; pdf: number; cdf: number }[];
  quantiles: { p: number; x: number }[];
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/blackscholes/normal.json', import.meta.url), 'utf8'),
) as NormalFixture;

// jstat ships no types; load it through require with the one signature we use.
const jStat = createRequire(import.meta.url)('jstat') as { normal: { cdf(x: number, mean: number, sd: number): number } };

const EPS = Number.EPSILON;
const relativeError = (got: number, want: number) => (want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want));

describe('normalCdf and normalPdf against mpmath (50 digits)', () => {
  // Cody's approximations are good to ~1e-17 in the rational part; what remains is a handful
  // of roundings in exp and the products. 8 eps (1.8e-15) is the budget, stated in ulps as
  // stdlib-js does; the measured worst is printed on failure.
  const TOL = 8 * EPS;
  it('cdf holds 8 eps relative from x = -38.4 (1e-316) to 8.5, the lower tail computed directly', () => {
    for (const { x, cdf } of fixture.points) {
      const got = normalCdf(x);
      // Subnormal results (x < -37.5) have fewer significant bits than eps assumes.
      const tol = cdf < 1e-300 ? 1e-12 : TOL;
      expect(relativeError(got, cdf), `x=${x} got=${got} want=${cdf}`).toBeLessThanOrEqual(tol);
    }
  });
  it('pdf holds 8 eps relative over the same range', () => {
    for (const { x, pdf } of fixture.points) {
      const tol = pdf < 1e-300 ? 1e-12 : TOL;
      expect(relativeError(normalPdf(x), pdf), `x=${x}`).toBeLessThanOrEqual(tol);
    }
  });
  it('cdf(-x) is not 1 - cdf(x): the lower tail keeps its digits where 1 - cdf would be 0', () => {
    expect(normalCdf(-10)).toBeGreaterThan(0);
    expect(1 - normalCdf(10)).toBe(0);
  });
  it('handles infinities and NaN', () => {
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(Number.NaN)).toBeNaN();
    expect(normalPdf(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
  });
  it('erfc agrees with the cdf it underlies: erfc(y) = 2 cdf(-y sqrt 2)', () => {
    for (const y of [-3, -0.4, 0.1, 0.5, 2, 4.5, 10]) {
      expect(relativeError(erfc(y), 2 * normalCdf(-y * Math.SQRT2))).toBeLessThan(1e-13);
    }
  });
});

describe('inverseNormalCdf', () => {
  it('inverts the cdf to 4 eps relative from p = 1e-300 to 0.999', () => {
    for (const { p, x } of fixture.quantiles) {
      // Above p = 0.5 the quantile works on 1 - p, exact here only to eps/p; allow 16 eps there.
      const tol = p > 0.5 ? 16 * EPS / (1 - p) : 4 * EPS;
      expect(relativeError(inverseNormalCdf(p), x), `p=${p}`).toBeLessThanOrEqual(tol);
    }
  });
  it('returns the infinities at 0 and 1 and NaN outside [0, 1]', () => {
    expect(inverseNormalCdf(0)).toBe(-Infinity);
    expect(inverseNormalCdf(1)).toBe(Infinity);
    expect(inverseNormalCdf(1.5)).toBeNaN();
  });
});

describe('why not jstat: its normal cdf measured against mpmath', () => {
  // Documents the reason for normal.ts (see its header). jstat's erfc is a Chebyshev fit: in the
  // body it is good to ~7e-15 (15x ours), but from x = -3 down it loses digits (2.5e-9 relative
  // at x = -6) and from about x = -6.3 it returns 0. An option six standard deviations out of
  // the money would be priced with a 1e-9 relative error, and an implied-volatility solver would
  // see a flat zero price where the true one is 1e-23. Measured worsts when written:
  // body 6.6e-15 (ours 4.3e-16); [-6, -3) 2.5e-9 (ours 4.8e-16); below -6: 1, i.e. 100%.
  const worst = (cdf: (x: number) => number, lo: number, hi: number) =>
    Math.max(...fixture.points.filter((p) => p.x >= lo && p.x < hi).map((p) => relativeError(cdf(p.x), p.cdf)));
  const jstatCdf = (x: number) => jStat.normal.cdf(x, 0, 1);
  it('body (-3 <= x < 3): jstat within 1e-13, ours within 1e-15', () => {
    expect(worst(jstatCdf, -3, 3)).toBeGreaterThan(1e-15);
    expect(worst(jstatCdf, -3, 3)).toBeLessThan(1e-13);
    expect(worst(normalCdf, -3, 3)).toBeLessThan(1e-15);
  });
  it('tail (-6 <= x < -3): jstat loses about half the digits, ours none', () => {
    expect(worst(jstatCdf, -6, -3)).toBeGreaterThan(1e-10);
    expect(worst(normalCdf, -6, -3)).toBeLessThan(1e-15);
  });
  it('deep tail (x < -6): jstat returns 0 somewhere, a 100% error; ours stays within 1e-15', () => {
    expect(worst(jstatCdf, -38, -6)).toBe(1);
    expect(worst(normalCdf, -37.5, -6)).toBeLessThan(1e-15);
  });
});
