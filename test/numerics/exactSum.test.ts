import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExactSum } from '../../shared/numerics/exactSum.js';

// Reference: Python's math.fsum (exact, rounded once to nearest-even), written by
// test/fixtures/exactSum/make_fsum_cases.py. The sum must match it bit for bit.
const cases = JSON.parse(readFileSync(new URL('../fixtures/exactSum/fsum_cases.json', import.meta.url), 'utf8')) as { name: string; values: number[]; sum: number }[];

function exactSum(values: readonly number[]): number {
  const s = new ExactSum();
  for (const v of values) s.add(v);
  return s.value();
}

describe('ExactSum', () => {
  for (const c of cases) {
    it(`equals math.fsum bit for bit: ${c.name}`, () => {
      expect(Object.is(exactSum(c.values), c.sum), `got ${exactSum(c.values)}, fsum ${c.sum}`).toBe(true);
      // Any order, any grouping into merged partial sums: the same number.
      const reversed = [...c.values].reverse();
      expect(Object.is(exactSum(reversed), c.sum)).toBe(true);
      const parts = [new ExactSum(), new ExactSum(), new ExactSum()];
      c.values.forEach((v, i) => parts[(i * 7) % 3].add(v));
      const merged = new ExactSum();
      for (const p of parts.reverse()) merged.addSum(p);
      expect(Object.is(merged.value(), c.sum)).toBe(true);
    });
  }

  it('carries correctly over more additions than a chunk holds between carries', () => {
    const s = new ExactSum();
    for (let i = 0; i < 3_000_000; i++) s.add(0.1);
    // 3e6 x fl(0.1) exactly, rounded once: the product's correctly rounded value.
    const check = new ExactSum();
    check.addProduct(0.1, 3_000_000);
    expect(s.value()).toBe(check.value());
    expect(s.value()).not.toBe(Array.from({ length: 3_000_000 }, () => 0.1).reduce((a, b) => a + b, 0)); // the naive sum drifts
  });

  it('adds x * count exactly (Dekker product)', () => {
    const s = new ExactSum();
    s.addProduct(-0.2999999999999998, 5_000_000_017);
    const t = new ExactSum();
    for (let i = 0; i < 17; i++) t.add(-0.2999999999999998);
    t.addProduct(-0.2999999999999998, 5_000_000_000);
    expect(s.value()).toBe(t.value());
    expect(s.value()).toBe(-0.2999999999999998 * 5_000_000_017); // IEEE multiplication is the product rounded once
  });

  it('round-trips through its state, gives 0 for nothing, and propagates infinities and NaN', () => {
    const s = new ExactSum();
    [1e300, -3.5, 2 ** -1074, 7].forEach((v) => s.add(v));
    const { chunks, special } = s.state();
    expect(new ExactSum(Array.from(chunks), special).value()).toBe(s.value());
    expect(new ExactSum().value()).toBe(0);
    const inf = new ExactSum();
    inf.add(1);
    inf.add(Infinity);
    expect(inf.value()).toBe(Infinity);
    inf.add(-Infinity);
    expect(inf.value()).toBeNaN();
    const over = new ExactSum();
    over.add(Number.MAX_VALUE);
    over.add(Number.MAX_VALUE);
    expect(over.value()).toBe(Infinity);
  });
});
