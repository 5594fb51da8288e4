import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  blackScholes,
  blackScholesPrice,
  normalisedOtmCall,
  type BlackScholesInputs,
  type OptionType,
} from '../../../shared/models/blackscholes/blackscholes.js';

interface ReferenceCase {
  option_type: OptionType;
  spot: number;
  strike: number;
  time_to_expiry: number;
  risk_free_rate: number;
  dividend_yield: number;
  volatility: number;
  price: number;
  delta: number;
  gamma: number;
  theta: number;
  vega: number;
  rho: number;
  theta_scale: number;
  condition: number;
}
const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/blackscholes/reference.json', import.meta.url), 'utf8'),
) as { cases: ReferenceCase[] };

const EPS = Number.EPSILON;
const inputsOf = (c: ReferenceCase): BlackScholesInputs => ({
  optionType: c.option_type,
  spot: c.spot,
  strike: c.strike,
  timeToExpiry: c.time_to_expiry,
  riskFreeRate: c.risk_free_rate,
  dividendYield: c.dividend_yield,
  volatility: c.volatility,
});
const informative = reference.cases.filter((c) => c.price > 1e-8 * c.spot);

describe('blackScholes against mpmath (50 digits): 2,160 cases, T 1 hour..30 years, vol 0.1%..500%, r < 0, q != 0', () => {
  it('covers the grid it claims', () => {
    expect(reference.cases.length).toBe(2160);
    expect(informative.length).toBeGreaterThan(1500);
  });

  it('prices hold 1e-12 relative wherever price > 1e-8 * spot', () => {
    // The bound is also within 4 eps * condition (the price's sensitivity to rounding its
    // inputs, which no double implementation can beat): measured worst 1.6e-14, 2.6 eps * condition.
    for (const c of informative) {
      const got = blackScholesPrice(inputsOf(c));
      const rel = Math.abs(got - c.price) / c.price;
      expect(rel, `${JSON.stringify(inputsOf(c))} got=${got} want=${c.price}`).toBeLessThanOrEqual(1e-12);
      expect(rel).toBeLessThanOrEqual(Math.max(4 * EPS * c.condition, 4 * EPS));
    }
  });

  it('blackScholes returns the same price as blackScholesPrice', () => {
    for (const c of informative.slice(0, 200)) expect(blackScholes(inputsOf(c)).price).toBe(blackScholesPrice(inputsOf(c)));
  });

  it('Greeks hold 1e-12 of their scale times the condition number', () => {
    // Each Greek is a product of exp, N or phi at d1 or d2; d1 carries the inputs' rounding
    // amplified by the same condition number as the price, and phi(d1) turns an absolute error
    // in d1 into a relative one of |d1| times it. Measured worst 1e-13 * scale * max(1, condition);
    // 1e-12 leaves a factor 10. Theta is a sum of three terms that can cancel: its scale is the
    // largest of them (theta_scale), not theta itself.
    for (const c of informative) {
      const got = blackScholes(inputsOf(c));
      const k = Math.max(1, c.condition);
      for (const greek of ['delta', 'gamma', 'vega', 'rho', 'theta'] as const) {
        const scale = greek === 'theta' ? c.theta_scale : Math.abs(c[greek]);
        const err = Math.abs(got[greek] - c[greek]);
        expect(err, `${greek} ${JSON.stringify(inputsOf(c))} got=${got[greek]} want=${c[greek]}`).toBeLessThanOrEqual(
          1e-12 * scale * k + Number.MIN_VALUE,
        );
      }
    }
  });

  it('below 1e-8 * spot prices are still non-negative and within 1e-8 * spot absolute', () => {
    for (const c of reference.cases.filter((x) => x.price <= 1e-8 * x.spot)) {
      const got = blackScholesPrice(inputsOf(c));
      expect(got).toBeGreaterThanOrEqual(0);
      expect(Math.abs(got - c.price)).toBeLessThanOrEqual(1e-8 * c.spot);
    }
  });
});

const base: BlackScholesInputs = {
  optionType: 'call',
  spot: 100,
  strike: 95,
  timeToExpiry: 0.75,
  riskFreeRate: 0.03,
  dividendYield: 0.01,
  volatility: 0.25,
};

describe('put-call parity: C - P = S e^-qT - K e^-rT', () => {
  it('holds to 1e-13 of the spot across strikes, maturities, vols and rates', () => {
    for (const strike of [1, 50, 90, 100, 110, 200, 5000])
      for (const timeToExpiry of [1 / 8760, 0.02, 1, 10, 30])
        for (const volatility of [0.001, 0.2, 1, 5])
          for (const [riskFreeRate, dividendYield] of [[0, 0], [0.07, 0.02], [-0.02, 0.04]]) {
            const i = { ...base, strike, timeToExpiry, volatility, riskFreeRate, dividendYield };
            const call = blackScholes(i);
            const put = blackScholes({ ...i, optionType: 'put' });
            const forward = 100 * Math.exp(-dividendYield * timeToExpiry) - strike * Math.exp(-riskFreeRate * timeToExpiry);
            // A difference of two prices up to max(S, K): rounding is relative to that.
            const scale = Math.max(100, strike);
            expect(Math.abs(call.price - put.price - forward), JSON.stringify(i)).toBeLessThanOrEqual(1e-13 * scale);
            // Greeks: delta_C - delta_P = e^-qT, gamma and vega equal, rho_C - rho_P = K T e^-rT.
            expect(call.delta - put.delta).toBeCloseTo(Math.exp(-dividendYield * timeToExpiry), 13);
            expect(Math.abs(call.gamma - put.gamma)).toBeLessThanOrEqual(1e-13 * Math.abs(call.gamma));
            expect(Math.abs(call.vega - put.vega)).toBeLessThanOrEqual(1e-13 * Math.abs(call.vega));
            const rhoGap = strike * timeToExpiry * Math.exp(-riskFreeRate * timeToExpiry);
            expect(Math.abs(call.rho - put.rho - rhoGap)).toBeLessThanOrEqual(1e-13 * Math.max(rhoGap, 1));
          }
  });
});

describe('Greeks are the partial derivatives (central differences)', () => {
  // Central differences with step h have error ~ h^2 V''' / 6 + eps V / h: ~1e-8 for h = 1e-2 in
  // spot (asserted to 5e-8) and ~1e-9 for h = 1e-5 in vol, rate, time (asserted to 5e-7), enough
  // to catch a wrong sign, factor or convention (per day instead of per year, per 1% vol).
  const fd = (f: (x: number) => number, x: number, h: number) => (f(x + h) - f(x - h)) / (2 * h);
  for (const optionType of ['call', 'put'] as const) {
    it(`${optionType}: delta, gamma, vega, rho, theta = -dV/dT`, () => {
      const i = { ...base, optionType };
      const v = blackScholes(i);
      const price = (patch: Partial<BlackScholesInputs>) => blackScholesPrice({ ...i, ...patch });
      expect(v.delta).toBeCloseTo(fd((s) => price({ spot: s }), i.spot, 1e-2), 7);
      expect(v.gamma).toBeCloseTo(fd((s) => blackScholes({ ...i, spot: s }).delta, i.spot, 1e-2), 7);
      expect(v.vega).toBeCloseTo(fd((s) => price({ volatility: s }), i.volatility, 1e-5), 6);
      expect(v.rho).toBeCloseTo(fd((r) => price({ riskFreeRate: r }), i.riskFreeRate, 1e-5), 6);
      expect(v.theta).toBeCloseTo(-fd((t) => price({ timeToExpiry: t }), i.timeToExpiry, 1e-5), 6);
    });
  }
  it('theta of a plain long call (q = 0) is negative', () => {
    expect(blackScholes({ ...base, dividendYield: 0 }).theta).toBeLessThan(0);
  });
});

describe('edge cases', () => {
  const intrinsicOnForward = (i: BlackScholesInputs) => {
    const value = i.spot * Math.exp(-i.dividendYield * i.timeToExpiry) - i.strike * Math.exp(-i.riskFreeRate * i.timeToExpiry);
    return Math.max(i.optionType === 'call' ? value : -value, 0);
  };

  it('volatility -> 0 tends to the discounted intrinsic value on the forward', () => {
    for (const optionType of ['call', 'put'] as const)
      for (const strike of [80, 95, 105, 120]) {
        const i = { ...base, optionType, strike, volatility: 1e-9 };
        expect(blackScholesPrice(i)).toBeCloseTo(intrinsicOnForward(i), 12);
        expect(blackScholesPrice({ ...i, volatility: 0 })).toBeCloseTo(intrinsicOnForward(i), 12);
      }
  });

  it('zero volatility gives the limit Greeks: step delta, zero gamma and vega away from the money', () => {
    const itm = blackScholes({ ...base, volatility: 0 });
    expect(itm.delta).toBeCloseTo(Math.exp(-0.01 * 0.75), 15);
    expect(itm.gamma).toBe(0);
    expect(itm.vega).toBe(0);
    expect(Number.isFinite(itm.theta) && Number.isFinite(itm.rho)).toBe(true);
    const otm = blackScholes({ ...base, strike: 120, volatility: 0 });
    expect(otm.price).toBe(0);
    expect(otm.delta).toBe(0);
  });

  it('an hour to expiry at the money: price ~ S sigma sqrt(T) / sqrt(2 pi), finite Greeks', () => {
    const T = 1 / 8760;
    const i = { ...base, strike: 100, riskFreeRate: 0, dividendYield: 0, timeToExpiry: T, volatility: 0.2 };
    const v = blackScholes(i);
    // Leading term of b(0, s) = 2 N(s/2) - 1 = s / sqrt(2 pi) (1 - s^2/24 + ...); s = 0.002.
    expect(v.price / ((100 * 0.2 * Math.sqrt(T)) / Math.sqrt(2 * Math.PI))).toBeCloseTo(1, 6);
    expect(v.delta).toBeCloseTo(0.5, 3);
    for (const g of Object.values(v)) expect(Number.isFinite(g)).toBe(true);
  });

  it('T -> 0 tends to intrinsic for in- and out-of-the-money options', () => {
    const i = { ...base, timeToExpiry: 1e-12 };
    expect(blackScholesPrice(i)).toBeCloseTo(5, 9);
    expect(blackScholesPrice({ ...i, optionType: 'put' })).toBe(0);
  });

  it('deep in the money: value is the discounted forward intrinsic plus a positive remainder', () => {
    const i = { ...base, strike: 1, volatility: 0.3 };
    const v = blackScholes(i);
    expect(v.price).toBeGreaterThanOrEqual(intrinsicOnForward(i));
    expect(v.price - intrinsicOnForward(i)).toBeLessThan(1e-12 * v.price);
    expect(v.delta).toBeCloseTo(Math.exp(-0.01 * 0.75), 15);
  });

  it('deep out of the money prices stay positive and decrease monotonically, no cancellation noise', () => {
    let previous = Infinity;
    for (let strike = 100; strike <= 400; strike += 5) {
      const p = blackScholesPrice({ ...base, strike, volatility: 0.1 });
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(previous);
      previous = p;
    }
  });

  it('normalisedOtmCall is continuous where the small-t series hands over to the direct formula', () => {
    // t = s/2 = 0.21 is the switch; both sides must agree to a few ulps.
    for (const x of [-1e-6, -0.01, -0.3, -2]) {
      const below = normalisedOtmCall(x, 0.42 * (1 - 1e-15));
      const above = normalisedOtmCall(x, 0.42);
      expect(Math.abs(below - above) / above).toBeLessThan(1e-13);
    }
  });
});
