import { describe, expect, it } from 'vitest';
import { annualizedLogReturnStats } from '../../shared/numerics/historicalVolatility.js';

// Reference values: mpmath at 40 digits,
//   r = [log(p[i]/p[i-1])], vol = sqrt(sum((r-mean)^2)/(n-1) * 252), drift = mean*252 + vol^2/2.
const prices = [100, 101.5, 99.8, 102.3, 103.1, 101.9, 104.2];
const expected = { volatility: 0.27795624189183657775, drift: 1.7665914561126750982, meanLogReturn: 0.0068569905551958671214 };

// Six logs and two sums: a few ulps of rounding, so 1e-14 relative is generous but far below any real error.
const TOL = 1e-14;

describe('annualizedLogReturnStats', () => {
  it('matches the contract formulas (mpmath reference)', () => {
    const s = annualizedLogReturnStats(prices);
    expect(Math.abs(s.volatility - expected.volatility) / expected.volatility).toBeLessThan(TOL);
    expect(Math.abs(s.drift - expected.drift) / expected.drift).toBeLessThan(TOL);
    expect(Math.abs(s.meanLogReturn - expected.meanLogReturn) / expected.meanLogReturn).toBeLessThan(TOL);
    expect(s.observations).toBe(6);
  });

  it('accepts a Float64Array and another annualization factor', () => {
    const s = annualizedLogReturnStats(Float64Array.from(prices), 12);
    expect(s.volatility).toBeCloseTo(expected.volatility * Math.sqrt(12 / 252), 14);
  });

  it('gives zero volatility and the exact growth rate for a constant-growth series', () => {
    const growth = Array.from({ length: 11 }, (_, i) => 50 * Math.exp(0.001 * i));
    const s = annualizedLogReturnStats(growth);
    expect(s.volatility).toBeLessThan(1e-12);
    expect(s.drift).toBeCloseTo(0.252, 12);
  });

  it('is undefined (NaN volatility) with one return and throws with fewer than two prices', () => {
    expect(annualizedLogReturnStats([1, 2]).volatility).toBeNaN();
    expect(annualizedLogReturnStats([1, 2]).observations).toBe(1);
    expect(() => annualizedLogReturnStats([1])).toThrow(RangeError);
  });
});
