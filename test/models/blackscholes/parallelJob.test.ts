import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelDefinition } from '../../../shared/job/model.js';
import { blackscholesModel } from '../../../shared/models/blackscholes/job.js';
import { PARALLEL_OPTIONS } from '../../../shared/models/blackscholes/parallelValuation.js';
import { startFunction, type FunctionUnderTest } from '../../support/functionServer.js';

/**
 * A large batch with what its JSON may get wrong: quotes below and above their no-arbitrage
 * bounds (an error sentence each), volatilities to imply from quotes without one (null price
 * and Greeks), -0 rates, exponents, options with and without a symbol.
 */
function largeJob(jobId: string) {
  const options = Array.from({ length: PARALLEL_OPTIONS + 501 }, (_, i) => {
    const kind = i % 6;
    return {
      option_type: i % 3 === 0 ? 'put' : 'call',
      strike: kind === 4 ? 1e9 : 50 + (i % 97),
      time_to_expiry: kind === 5 ? 100 : 0.01 + (i % 40) / 8,
      risk_free_rate: kind === 3 ? -0 : ((i % 7) - 3) / 100,
      ...(i % 4 === 0 ? { symbol: 'AAPL' } : { spot: 100 }),
      ...(kind === 0 ? { market_price: 0 } : kind === 1 ? { market_price: 1e6 } : kind === 2 ? { market_price: 2 + (i % 11) } : { volatility: 0.05 + (i % 30) / 20 }),
    };
  });
  return { job_id: jobId, symbols: ['AAPL'], start: '2025-01-01', end: '2025-12-31', params: { volatility: 0.3, options } };
}

let one: FunctionUnderTest;
let two: FunctionUnderTest;
beforeAll(async () => {
  one = await startFunction(blackscholesModel as ModelDefinition<never>, { BS_THREADS: '1' });
  two = await startFunction(blackscholesModel as ModelDefinition<never>, { BS_THREADS: '2' });
});
afterAll(async () => {
  await one.close();
  await two.close();
});

const folder = (fn: FunctionUnderTest, id: string) => path.join(fn.dataDir, 'bucket', 'jobs', 'blackscholes', id);
/** A result document's bytes less what differs between two runs (the times, the artifacts' folders). */
const comparable = (text: string) => text.replace(/"started_at":"[^"]*","finished_at":"[^"]*","duration_ms":[\d.]+/, '').replace(/"artifacts":\{[^}]*\}/, '');

describe('a large Black-Scholes job', () => {
  it('stores the same result.json, byte for byte, and the same chart on two threads as on one', async () => {
    expect((await one.publish(largeJob('threads-1'))).status).toBe(204);
    expect((await two.publish(largeJob('threads-1'))).status).toBe(204);
    const threadsOf = (fn: FunctionUnderTest) => fn.logLines.map((line) => JSON.parse(line) as { message: string; threads?: number }).find((l) => l.message === 'Options valued.')?.threads;
    expect(threadsOf(one)).toBe(1);
    expect(threadsOf(two)).toBe(2);
    const [text1, text2] = await Promise.all([one, two].map((fn) => fs.readFile(path.join(folder(fn, 'threads-1'), 'result.json'), 'utf8')));
    expect(comparable(text2!)).toBe(comparable(text1!));
    // What the comparison covers: a compact document (a large one is not indented), every entry, the sentences.
    const document = JSON.parse(text2!) as { status: string; result: { options: { implied_volatility_error?: string; price: number | null }[] } };
    expect(document.status).toBe('completed');
    expect(text2!.startsWith('{"job_id":"threads-1","model":"blackscholes","status":"completed",')).toBe(true);
    expect(document.result.options).toHaveLength(PARALLEL_OPTIONS + 501);
    expect(document.result.options.filter((o) => o.implied_volatility_error?.includes('below its lower no-arbitrage bound')).length).toBeGreaterThan(3000);
    expect(document.result.options.filter((o) => o.implied_volatility_error?.includes('at or above its upper no-arbitrage bound')).length).toBeGreaterThan(3000);
    expect(text2).toMatch(/"risk_free_rate":0,/);
    expect(text2).toMatch(/e-\d/);
    const [chart1, chart2] = await Promise.all([one, two].map((fn) => fs.readFile(path.join(folder(fn, 'threads-1'), 'chart.svg'), 'utf8')));
    expect(chart2).toBe(chart1);
    expect(chart2).toContain('Implied volatility smile');
  });
});
