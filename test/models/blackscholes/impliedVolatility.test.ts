import { describe, expect, it } from 'vitest';
import { blackScholes, blackScholesPrice, type BlackScholesInputs } from '../../../shared/models/blackscholes/blackscholes.js';
import { impliedVolatility } from '../../../shared/models/blackscholes/impliedVolatility.js';

const EPS = Number.EPSILON;
const STRIKES = [1, 25, 50, 70, 90, 95, 99, 100, 101, 105, 120, 150, 200, 400, 1000];
const TIMES = [1 / 8760, 1 / 365, 1 / 52, 0.1, 0.5, 1, 2, 5, 10, 30];
const VOLS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3, 5];
const RATES = [[0, 0], [0.05, 0.02], [-0.01, 0.03]] as const;

function* grid(): Generator<BlackScholesInputs> {
  for (const optionType of ['call', 'put'] as const)
    for (const strike of STRIKES)
      for (const timeToExpiry of TIMES)
        for (const volatility of VOLS)
          for (const [riskFreeRate, dividendYield] of RATES)
            yield { optionType, spot: 100, strike, timeToExpiry, riskFreeRate, dividendYield, volatility };
}

/**
 * How precisely a double price pins down the volatility: the quote is known to about
 * eps * (price + |intrinsic|) (an in-the-money price is intrinsic plus time value, and the solver
 * must subtract the two), and a price error dV moves the volatility by dV / vega.
 */
function attainableVolatilityError(i: BlackScholesInputs, price: number, vega: number): number {
  const intrinsic = Math.abs(i.spot * Math.exp(-i.dividendYield * i.timeToExpiry) - i.strike * Math.exp(-i.riskFreeRate * i.timeToExpiry));
  return (EPS * (price + intrinsic)) / vega;
}

describe('impliedVolatility round trips: 9,900 quotes, calls and puts, K/S 0.01..10, 1 hour..30 years, vol 0.1%..500%', () => {
  const informative: { i: BlackScholesInputs; price: number }[] = [];
  const other: { i: BlackScholesInputs; price: number }[] = [];
  for (const i of grid()) {
    const v = blackScholes(i);
    // "The price carries information" = the volatility it pins down is 1000x finer than the
    // 1e-10 asserted. Elsewhere (e.g. a one-hour 0.1%-vol option 10% out of the money, worth
    // 1e-300) no algorithm can recover sigma from a double price.
    (attainableVolatilityError(i, v.price, v.vega) < 1e-13 ? informative : other).push({ i, price: v.price });
  }
  const iterations: number[] = [];

  it('recovers sigma to 1e-10 wherever the price carries information', () => {
    expect(informative.length).toBeGreaterThan(4000);
    for (const { i, price } of informative) {
      const r = impliedVolatility({ ...i, price });
      expect(r.ok, JSON.stringify(i)).toBe(true);
      if (!r.ok) continue;
      iterations.push(r.iterations);
      expect(Math.abs(r.volatility - i.volatility), `${JSON.stringify(i)} got ${r.volatility}`).toBeLessThan(1e-10);
    }
  });

  it('converges in a handful of iterations: mean <= 4, max <= 8 (measured 2.9 and 7)', () => {
    const mean = iterations.reduce((a, b) => a + b, 0) / iterations.length;
    expect(iterations.length).toBe(informative.length);
    expect(mean).toBeLessThanOrEqual(4);
    expect(Math.max(...iterations)).toBeLessThanOrEqual(8);
  });

  it('where the price carries no information, it still returns a volatility that reprices the quote', () => {
    for (const { i, price } of other) {
      const r = impliedVolatility({ ...i, price });
      if (!r.ok) {
        // Only a quote that rounds onto a bound may be refused.
        expect(r.reason).toMatch(/bound/);
        continue;
      }
      expect(r.volatility).toBeGreaterThanOrEqual(0);
      const repriced = blackScholesPrice({ ...i, volatility: r.volatility });
      const scale = price + Math.abs(i.spot * Math.exp(-i.dividendYield * i.timeToExpiry) - i.strike * Math.exp(-i.riskFreeRate * i.timeToExpiry));
      expect(Math.abs(repriced - price), JSON.stringify(i)).toBeLessThanOrEqual(64 * EPS * scale + Number.MIN_VALUE);
    }
  });
});

describe('no-arbitrage bounds', () => {
  const terms = { spot: 100, strike: 90, timeToExpiry: 2, riskFreeRate: 0.05, dividendYield: 0.02 };
  const assetValue = 100 * Math.exp(-0.04);
  const strikeValue = 90 * Math.exp(-0.1);

  it('a call below max(S e^-qT - K e^-rT, 0) fails with a sentence naming the bound and the numbers', () => {
    const r = impliedVolatility({ ...terms, optionType: 'call', price: assetValue - strikeValue - 0.01 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(/below its lower no-arbitrage bound/);
      expect(r.reason).toContain(String(assetValue - strikeValue));
    }
  });

  it('a call at or above S e^-qT fails naming the upper bound', () => {
    const r = impliedVolatility({ ...terms, optionType: 'call', price: assetValue });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(new RegExp(`upper no-arbitrage bound ${assetValue}`));
  });

  it('a put above K e^-rT fails naming the upper bound; a put at intrinsic has zero volatility', () => {
    const r = impliedVolatility({ ...terms, strike: 150, optionType: 'put', price: 150 * Math.exp(-0.1) + 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/K e\^-rT/);
    const atIntrinsic = impliedVolatility({ ...terms, strike: 150, optionType: 'put', price: 150 * Math.exp(-0.1) - assetValue });
    expect(atIntrinsic).toMatchObject({ ok: true, volatility: 0 });
  });

  it('a quote a few ulps below intrinsic is at the bound (volatility 0); 1e-9 below it fails', () => {
    const intrinsic = assetValue - strikeValue;
    const ulpsBelow = impliedVolatility({ ...terms, optionType: 'call', price: intrinsic * (1 - 2 * EPS) });
    expect(ulpsBelow).toMatchObject({ ok: true, volatility: 0 });
    expect(impliedVolatility({ ...terms, optionType: 'call', price: intrinsic - 1e-9 }).ok).toBe(false);
  });

  it('negative, NaN and infinite quotes fail instead of throwing', () => {
    for (const price of [-1, Number.NaN, Infinity]) expect(impliedVolatility({ ...terms, optionType: 'call', price }).ok).toBe(false);
  });

  it('an out-of-the-money quote of zero has zero volatility', () => {
    expect(impliedVolatility({ ...terms, strike: 200, optionType: 'call', price: 0 })).toMatchObject({ ok: true, volatility: 0 });
  });
});
