import { describe, expect, it } from 'vitest';
import { resultJsonText } from '../../../shared/models/blackscholes/job.js';
import { IMPLIED_SOURCE } from '../../../shared/models/blackscholes/optionBatch.js';
import { newBatch, valueBatch } from '../../../shared/models/blackscholes/parallelValuation.js';
import type { BlackScholesResult } from '../../../shared/models/blackscholes/result.js';

/**
 * A batch with the cases whose JSON is easy to get wrong: -0 rates and yields, prices and
 * Greeks written with exponents (strikes at the price limits, 100 years), quotes below and
 * above their no-arbitrage bounds (null implied volatility and an error sentence), a
 * volatility to be implied from a quote that has none (null price and Greeks), options with
 * and without a symbol, and plain ones in between.
 */
function edgeBatch(threads: number) {
  const n = 400;
  const batch = newBatch(n, ['AAPL', 'BRK.B'], threads);
  for (let i = 0; i < n; i++) {
    const kind = i % 8;
    batch.isCall[i] = i % 3 === 0 ? 0 : 1;
    batch.spot[i] = kind === 1 ? 1e-6 : kind === 2 ? 1e9 : 100;
    batch.strike[i] = kind === 1 ? 1e9 : kind === 2 ? 1e-6 : 50 + (i % 100);
    batch.timeToExpiry[i] = kind === 3 ? 100 : 1 / 365 + (i % 40) / 4;
    batch.riskFreeRate[i] = kind === 4 ? -0 : ((i % 7) - 3) / 100;
    batch.dividendYield[i] = kind === 4 ? -0 : (i % 5) / 100;
    batch.volatility[i] = 0.05 + (i % 30) / 20;
    batch.symbolIndex[i] = (i % 3) - 1;
    if (kind >= 5) {
      batch.hasMarketPrice[i] = 1;
      // 5: a fair quote; 6: below the lower bound (0) for deep in-the-money ones, else a fair one; 7: above the upper bound.
      batch.marketPrice[i] = kind === 5 ? 2 + (i % 13) : kind === 6 ? (i % 2 ? 0 : 7.25) : 1e6;
      // Half of the quoted ones imply their volatility (null when the quote has none).
      if (i % 2 === 1) batch.source[i] = IMPLIED_SOURCE;
    }
  }
  return batch;
}

describe('valuing a batch on two threads', () => {
  it('gives the same entries as one thread, and their JSON byte for byte', async () => {
    const single = await valueBatch(edgeBatch(1), 1);
    const parallel = await valueBatch(edgeBatch(2), 2);
    expect(single.optionsJson).toBeUndefined();
    expect(parallel.threads).toBe(2); // the worker did value its half
    expect(parallel.options).toEqual(single.options);
    expect(parallel.optionsJson).toBe(JSON.stringify(single.options));
    // The batch does hold the cases it is meant to.
    const text = parallel.optionsJson as string;
    expect(text).toMatch(/"risk_free_rate":0,"dividend_yield":0,/);
    expect(text).toMatch(/e-\d/);
    expect(text).toContain('"implied_volatility":null,"implied_volatility_error":"The ');
    expect(text).toContain('"volatility":null,"volatility_source":"implied","price":null');
    expect(text).toContain('"symbol":null');
    expect(text).toContain('"symbol":"BRK.B"');
  });

  it('values the worker half on this thread when the worker cannot start', async () => {
    const single = await valueBatch(edgeBatch(1), 1);
    const fallback = await valueBatch(edgeBatch(2), 2, new URL('file:///no/such/worker.js'));
    expect(fallback.threads).toBe(1);
    expect(fallback.options).toEqual(single.options);
    expect(fallback.optionsJson).toBe(JSON.stringify(single.options));
  });

  it('writes the result as JSON.stringify does, with and without warnings', async () => {
    const { options, optionsJson } = await valueBatch(edgeBatch(2), 2);
    const plain: BlackScholesResult = { options };
    const warned: BlackScholesResult = { options, warnings: ['AAPL\'s historical volatility rests on 5 "returns"'] };
    expect(resultJsonText(plain, optionsJson as string)).toBe(JSON.stringify(plain));
    expect(resultJsonText(warned, optionsJson as string)).toBe(JSON.stringify(warned));
  });
});
