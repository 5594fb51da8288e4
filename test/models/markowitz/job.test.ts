import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import { JobError } from '../../../shared/job/errors.js';
import type { Job, ModelContext } from '../../../shared/job/model.js';
import { createLogger } from '../../../shared/log.js';
import { markowitzModel, markowitzParams } from '../../../shared/models/markowitz/job.js';
import type { MarkowitzResult } from '../../../shared/models/markowitz/result.js';
import type { PriceHistory } from '../../../shared/prices/history.js';
import { seededUniform } from '../../support/seededRandom.js';

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/markowitz/markowitz_cases.json', import.meta.url), 'utf8')) as {
  cases: { name: string; symbols: string[]; histories: PriceHistory[]; shrinkage: number; expected_returns: number[]; max_sharpe: unknown }[];
};
const gaps = fixture.cases.find((c) => c.name === 'gaps_ledoit_wolf')!;
const noTangency = fixture.cases.find((c) => c.name === 'no_tangency')!;

function context(histories: PriceHistory[]): ModelContext {
  const unavailable = () => Promise.reject(new Error('not used by markowitz'));
  return {
    async history(symbols) {
      return symbols.map((s) => {
        const h = histories.find((x) => x.symbol === s);
        if (!h) throw new JobError('unknown_symbol', `${s} has no prices in the window.`);
        return h;
      });
    },
    log: createLogger('ERROR', () => {}),
    config: loadConfig({}),
    warehouse: { insertRows: unavailable, upsertRows: unavailable, mergeStaged: unavailable, queryBySymbols: unavailable },
    secrets: { get: unavailable },
  };
}

function job(symbols: string[], params: unknown = {}): Job<ReturnType<typeof markowitzParams.parse>> {
  return { job_id: 'mkw-test', symbols, start: '2000-01-01', end: '2100-01-01', params: markowitzParams.parse(params) };
}

describe('markowitz params', () => {
  it('applies the contract defaults', () => {
    expect(markowitzParams.parse({})).toEqual({ covariance: 'ledoit_wolf', long_only: false, risk_free_rate: 0, frontier_points: 20, periods_per_year: 252 });
  });
  it.each<[Record<string, unknown>, string]>([
    [{ covarience: 'sample' }, 'unknown key (typo)'],
    [{ covariance: 'shrunk' }, 'unknown covariance method'],
    [{ frontier_points: 1 }, 'fewer than 2 frontier points'],
    [{ frontier_points: 2.5 }, 'fractional frontier points'],
    [{ frontier_points: 201 }, 'more than 200 frontier points'],
    [{ periods_per_year: 0 }, 'non-positive periods_per_year'],
    [{ risk_free_rate: 5 }, 'a percentage instead of a fraction'],
  ])('rejects %j (%s)', (params) => {
    expect(markowitzParams.safeParse(params).success).toBe(false);
  });
});

describe('markowitz job', () => {
  it('returns the contract result keyed by symbol, inputs, metrics and a chart', async () => {
    const out = await markowitzModel.run(job(gaps.symbols, { risk_free_rate: 0.02, frontier_points: 12 }), context(gaps.histories));
    const result = out.result as unknown as MarkowitzResult;
    expect(Object.keys(result.gmv.weights)).toEqual(gaps.symbols);
    expect(Object.values(result.gmv.weights).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(result.max_sharpe).not.toBeNull();
    expect(result.frontier).toHaveLength(12);
    expect(result.shrinkage).toBeCloseTo(gaps.shrinkage, 14);
    expect(result.covariance).toHaveLength(5);
    expect(result.covariance[2]).toHaveLength(5);
    gaps.symbols.forEach((s, i) => expect(result.expected_returns[s]).toBeCloseTo(gaps.expected_returns[i], 13));
    const union = new Set(gaps.histories.flatMap((h) => h.dates)).size;
    expect(out.inputs).toMatchObject({ covariance: 'ledoit_wolf', periods_per_year: 252, observations: 266, common_dates: 267, dropped_dates: union - 267 });
    expect(out.metrics.filter((m) => m.metric === 'gmv_weight').map((m) => m.symbol)).toEqual(gaps.symbols);
    expect(out.metrics.find((m) => m.metric === 'shrinkage')?.value).toBe(result.shrinkage);
    expect(out.chart).toMatch(/^<svg|^<\?xml/);
    expect(out.chart).toContain('Capital market line');
    expect(out.chart).toContain('GMV');
    expect(JSON.parse(JSON.stringify(out.result))).toEqual(out.result);
  });

  it('reports max_sharpe: null with a sentence when no tangency portfolio exists', async () => {
    const out = await markowitzModel.run(job(noTangency.symbols, { risk_free_rate: 0.05 }), context(noTangency.histories));
    const result = out.result as unknown as MarkowitzResult;
    expect(result.max_sharpe).toBeNull();
    expect(result.max_sharpe_error).toMatch(/risk_free_rate \(0\.05\)/);
    expect(out.chart).not.toContain('Capital market line');
    expect(out.metrics.some((m) => m.metric.startsWith('max_sharpe'))).toBe(false);
  });

  it.each([
    [['AAA'], /at least 2 symbols/],
    [['AAA', 'BBB', 'AAA'], /AAA twice/],
  ])('rejects symbols %j as invalid_job', async (symbols, message) => {
    await expect(markowitzModel.run(job(symbols), context(gaps.histories))).rejects.toMatchObject({ code: 'invalid_job', message: expect.stringMatching(message) });
  });

  it('fails with insufficient_data naming the window when fewer than 3 dates are common', async () => {
    const histories: PriceHistory[] = [
      { symbol: 'X', dates: ['2024-01-02', '2024-01-03', '2024-01-04'], prices: [1, 2, 3] },
      { symbol: 'Y', dates: ['2024-01-03', '2024-01-04', '2024-01-05'], prices: [1, 2, 3] },
    ];
    await expect(markowitzModel.run(job(['X', 'Y']), context(histories))).rejects.toMatchObject({
      code: 'insufficient_data',
      message: expect.stringMatching(/X, Y have 2 date\(s\) in common between 2000-01-01 and 2100-01-01/),
    });
  });

  it('passes unknown_symbol through from the context', async () => {
    await expect(markowitzModel.run(job(['AAA', 'NOPE']), context(gaps.histories))).rejects.toMatchObject({ code: 'unknown_symbol' });
  });

  it('writes a large covariance\'s JSON on the helper thread: the result text is JSON.stringify(result), byte for byte', async () => {
    // 400 symbols (from there the covariance's text is written on the helper thread), one named
    // "covariance", over 30 days: few observations, so a warning is in the result too.
    const u = seededUniform(400);
    const dates = Array.from({ length: 30 }, (_, t) => new Date(Date.UTC(2024, 0, 1 + t)).toISOString().slice(0, 10));
    const symbols = Array.from({ length: 400 }, (_, k) => (k === 7 ? 'covariance' : `S${k}`));
    const histories: PriceHistory[] = symbols.map((symbol) => {
      let price = 50 + 100 * u();
      return { symbol, dates, prices: dates.map(() => (price *= 1 + 0.02 * (u() - 0.5))) };
    });
    const out = await markowitzModel.run({ ...job(symbols, { risk_free_rate: 0.01 }), start: '2024-01-01', end: '2024-12-31' }, context(histories));
    expect(Array.isArray(out.resultText)).toBe(true);
    expect(Buffer.concat(out.resultText as Uint8Array[]).toString('utf8')).toBe(JSON.stringify(out.result));
    expect((out.result as unknown as MarkowitzResult).covariance[7][7]).toBeGreaterThan(0);
    expect(out.result.warnings).toBeDefined();
  });
});
