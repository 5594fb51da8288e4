import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { compile, fastParse, NOT_SURE } from '../../shared/job/fastParse.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';

// The fast validator may only ever say "valid, and this is zod's output" or "not sure":
// checked against zod itself on valid inputs and on every kind of near miss.
let seed = 20261201;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];

// Values that sit on, inside and outside the schemas' bounds, of every JSON type.
const edgeValues = [0, -0, 1, -1, 0.5, 1e-300, 100, 100.0000001, 1000, 1000.5, 1e6, -1e-9, 2.5, 252, 365, 100_000, 100_001,
  'call', 'put', 'CALL', '', 'AAPL', 'x', true, false, null, [], {}, [1], 'ledoit_wolf', 'sample', 7.5];

// Mostly plausible values for each key, so that many objects are valid and the rest miss by one.
const plausible: Record<string, readonly unknown[]> = {
  option_type: ['call', 'put'], spot: [100, 0.01], strike: [90, 250.5], time_to_expiry: [0.25, 1000], risk_free_rate: [0.05, -1, 1],
  dividend_yield: [0, 0.02], volatility: [0.2, 100], market_price: [0, 12.5], symbol: ['AAPL'], periods_per_year: [252, 365],
  covariance: ['ledoit_wolf', 'sample'], long_only: [true, false], frontier_points: [2, 20],
};

function randomObject(keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const shuffled = [...keys].sort(() => random() - 0.5);
  for (const key of shuffled) if (random() < 0.6) out[key] = random() < 0.97 && plausible[key] ? pick(plausible[key]) : pick(edgeValues);
  if (random() < 0.02) out[pick(['strikee', 'voltility', 'extra'])] = 1;
  return out;
}

function agreesWithZod(schema: z.ZodType, value: unknown): void {
  const fast = fastParse(schema, value);
  const zod = schema.safeParse(value);
  if (fast === NOT_SURE) return;
  expect(zod.success, JSON.stringify(value)).toBe(true);
  // Same values, same key order (what JSON.stringify of a job would show).
  expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
  expect(fast).toEqual(zod.data);
}

describe('fastParse', () => {
  const optionKeys = ['option_type', 'spot', 'strike', 'time_to_expiry', 'risk_free_rate', 'dividend_yield', 'volatility', 'market_price', 'symbol'];

  it('agrees with zod on Black-Scholes params: valid, out of range, wrong types, unknown keys, any key order', () => {
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      const params: Record<string, unknown> = randomObject([...optionKeys, 'periods_per_year']);
      if (random() < 0.5) params.options = Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomObject(optionKeys));
      agreesWithZod(blackscholesModel.params, params);
      if (fastParse(blackscholesModel.params, params) !== NOT_SURE) accepted++;
    }
    expect(accepted).toBeGreaterThan(50); // the fast path is exercised, not only the fallback
  });

  it('agrees with zod on Markowitz params', () => {
    const keys = ['covariance', 'long_only', 'risk_free_rate', 'frontier_points', 'periods_per_year'];
    for (let i = 0; i < 2000; i++) agreesWithZod(markowitzModel.params, randomObject(keys));
  });

  it('vouches for a typical large batch without copying it, and fills defaults as zod does', () => {
    const options = Array.from({ length: 1000 }, (_, i) => ({ option_type: i % 2 ? 'put' : 'call', spot: 100, strike: 50 + i / 10, time_to_expiry: 1, volatility: 0.2 }));
    const params = { options };
    const parsed = fastParse(blackscholesModel.params, params) as { options: unknown[]; periods_per_year: number };
    expect(parsed).not.toBe(NOT_SURE);
    expect(parsed.options).toBe(options);
    expect(parsed.periods_per_year).toBe(252);
    expect(parsed).toEqual(blackscholesModel.params.parse(params));
  });

  it('leaves to zod what it cannot model exactly: refinements, transforms, unions', () => {
    expect(compile(z.object({ a: z.number() }).refine((o) => o.a > 0))).toBeNull();
    expect(compile(z.object({ a: z.string().transform((s) => s.length) }))).toBeNull();
    expect(compile(z.union([z.number(), z.string()]))).toBeNull();
    // Monte Carlo's params cross-check fields (weights against symbols...): zod alone.
    expect(compile(montecarloModel.params)).toBeNull();
  });
});
