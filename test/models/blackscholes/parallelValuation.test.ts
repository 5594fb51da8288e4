import { describe, expect, it } from 'vitest';
import { resultJsonChunks } from '../../../shared/models/blackscholes/job.js';
import { allEntries, IMPLIED_SOURCE, JSON_CHUNK_OPTIONS } from '../../../shared/models/blackscholes/optionBatch.js';
import { newBatch, valuationThreads, valueBatch } from '../../../shared/models/blackscholes/parallelValuation.js';
import { CHUNK_OPTIONS } from '../../../shared/models/blackscholes/sharedChunks.js';
import type { BlackScholesResult } from '../../../shared/models/blackscholes/result.js';

/**
 * A batch with the cases whose JSON is easy to get wrong: -0 rates and yields, prices and
 * Greeks written with exponents (strikes at the price limits, 100 years), quotes below and
 * above their no-arbitrage bounds (null implied volatility and an error sentence), a
 * volatility to be implied from a quote that has none (null price and Greeks), options with
 * and without a symbol, and plain ones in between.
 */
function edgeBatch(threads: number, n = 400) {
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

/** Chunks of UTF-8 as the text they spell. */
const text = (chunks: readonly Uint8Array[] | undefined): string => Buffer.concat(chunks ?? []).toString('utf8');

describe('valuing a batch on two threads', () => {
  it('gives the same entries as one thread, and their JSON byte for byte', async () => {
    const single = await valueBatch(edgeBatch(1), 1);
    const parallel = await valueBatch(edgeBatch(2), 2);
    expect(single.optionsJson).toBeUndefined(); // not asked for
    expect(parallel.threads).toBe(2); // the worker did value its half
    expect(allEntries(parallel.entries)).toEqual(allEntries(single.entries));
    expect(`[${text(parallel.optionsJson)}]`).toBe(JSON.stringify(allEntries(single.entries)));
    // The batch does hold the cases it is meant to.
    const json = text(parallel.optionsJson);
    expect(json).toMatch(/"risk_free_rate":0,"dividend_yield":0,/);
    expect(json).toMatch(/e-\d/);
    expect(json).toContain('"implied_volatility":null,"implied_volatility_error":"The ');
    expect(json).toContain('"volatility":null,"volatility_source":"implied","price":null');
    expect(json).toContain('"symbol":null');
    expect(json).toContain('"symbol":"BRK.B"');
  });

  it('writes the same bytes on one thread and on two across many chunks, with every error sentence', async () => {
    const n = 35 * JSON_CHUNK_OPTIONS + 7; // ~3 MB: chunks of CHUNK_OPTIONS taken by either thread, the last one short
    const single = await valueBatch(edgeBatch(1, n), 1, { json: true });
    const parallel = await valueBatch(edgeBatch(2, n), 2);
    expect(parallel.threads).toBe(2);
    expect(single.optionsJson!.length).toBeGreaterThanOrEqual(3);
    expect(parallel.optionsJson!.length).toBeGreaterThanOrEqual(4);
    const bytes = Buffer.concat(parallel.optionsJson!);
    expect(bytes.equals(Buffer.concat(single.optionsJson!))).toBe(true);
    expect(`[${bytes.toString('utf8')}]`).toBe(JSON.stringify(allEntries(single.entries)));
    expect(allEntries(parallel.entries)).toEqual(allEntries(single.entries));
    const errors = allEntries(single.entries).filter((o) => o.implied_volatility_error !== undefined).length;
    expect(errors).toBeGreaterThan(n / 10);
    expect(bytes.toString('utf8').split('"implied_volatility_error":').length - 1).toBe(errors);
  });

  it('values the worker half on this thread when the worker cannot start', async () => {
    const single = await valueBatch(edgeBatch(1), 1);
    const fallback = await valueBatch(edgeBatch(2), 2, { workerUrl: new URL('file:///no/such/worker.js') });
    expect(fallback.threads).toBe(1);
    expect(allEntries(fallback.entries)).toEqual(allEntries(single.entries));
    expect(`[${text(fallback.optionsJson)}]`).toBe(JSON.stringify(allEntries(single.entries)));
  });

  it('values and writes again on this thread the chunks a worker took when it dies before answering', async () => {
    const n = 4 * CHUNK_OPTIONS + 7;
    const single = await valueBatch(edgeBatch(1, n), 1);
    let drawnFrom = -1;
    const workerUrl = new URL('../../support/valuingThenExitingWorker.ts', import.meta.url);
    const survived = await valueBatch(edgeBatch(2, n), 2, { workerUrl, whenValued: (entries) => void (drawnFrom = entries.length) });
    expect(survived.threads).toBe(1); // nothing of the worker's was used
    expect(drawnFrom).toBe(n);
    expect(allEntries(survived.entries)).toEqual(allEntries(single.entries));
    expect(`[${text(survived.optionsJson)}]`).toBe(JSON.stringify(allEntries(single.entries)));
  });

  it('writes the result as JSON.stringify does, with and without warnings', async () => {
    const valued = await valueBatch(edgeBatch(2), 2);
    const { optionsJson } = valued;
    const options = allEntries(valued.entries);
    const plain: BlackScholesResult = { options };
    const warned: BlackScholesResult = { options, warnings: ['AAPL\'s historical volatility rests on 5 "returns" — é'] };
    expect(text(resultJsonChunks(plain, optionsJson!))).toBe(JSON.stringify(plain));
    expect(text(resultJsonChunks(warned, optionsJson!))).toBe(JSON.stringify(warned));
  });
});

describe('the number of threads', () => {
  it('is 2 from 20,000 options on when two cores (or BS_THREADS=2) are there, else 1', () => {
    expect(valuationThreads(19_999, 2)).toBe(1);
    expect(valuationThreads(20_000, 2)).toBe(2);
    expect(valuationThreads(100_000, 1)).toBe(1);
  });
});
