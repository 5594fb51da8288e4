/**
 * The bad inputs found by issue 10's fuzz, each as its own case: every one ends as
 * `invalid_job` naming the field (and the limit), or completes with finite numbers.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runJobEvent, type JobServices } from '../../shared/job/lifecycle.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { createLogger } from '../../shared/log.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import { createServices } from '../../shared/runtime.js';
import { PARAM_KEYS } from '../../shared/job/paramKeys.js';
import { MODEL_LOADERS } from '../../shared/registry.js';

let services: JobServices;
beforeAll(async () => {
  services = await createServices({ USE_FIXTURE: 'true', LOCAL_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'issue-cases-')), MC_THREADS: '1' }, createLogger('ERROR'));
});

let n = 0;
async function run(model: unknown, document: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = `case-${++n}`;
  const data = Buffer.from(JSON.stringify(document), 'utf8').toString('base64');
  const outcome = await runJobEvent(model as ModelDefinition<never>, { id, data: { message: { data, messageId: id, publishTime: '2026-06-01T00:00:00Z' } } }, services);
  return JSON.parse((await services.store.get(outcome.resultObject))!.body) as Record<string, unknown>;
}

const numbersIn = (value: unknown): unknown[] =>
  value === null ? [null] : Array.isArray(value) ? value.flatMap(numbersIn) : typeof value === 'object' ? Object.values(value as object).flatMap(numbersIn) : typeof value === 'number' ? [value] : [];

describe('dates, job ids and keys', () => {
  it.each(['2024-13-01', '2024-01-32', '99999-01-01', '', '2024-1-1', '20240101', '2024-01-01T00:00:00Z', '2023-02-29'])('start "%s" is invalid_job naming start', async (start) => {
    const document = await run(markowitzModel, { job_id: `date-${n}`, symbols: ['AAPL', 'MSFT'], start, end: '2025-01-01' });
    expect(document.error).toMatchObject({ code: 'invalid_job', message: expect.stringMatching(/^start: /) });
  });

  it.each(['.', '..'])('job_id "%s" is invalid_job, filed under the message id', async (jobId) => {
    const document = await run(markowitzModel, { job_id: jobId, symbols: ['AAPL', 'MSFT'] });
    expect(document).toMatchObject({ job_id: null, error: { code: 'invalid_job', message: expect.stringMatching(/^job_id: .*not only dots/) } });
  });

  it.each([
    ['params', { job_id: 'proto-1', symbols: ['AAPL', 'MSFT'], params: JSON.parse('{"__proto__": {"long_only": true}}') }, /^params has a key "__proto__"/],
    ['the top level', JSON.parse('{"job_id": "proto-2", "symbols": ["AAPL", "MSFT"], "__proto__": {}}'), /^the job has a key "__proto__"/],
  ])('"__proto__" in %s is invalid_job, not silently dropped', async (_where, body, message) => {
    const document = await run(markowitzModel, body as Record<string, unknown>);
    expect(document.error).toMatchObject({ code: 'invalid_job', message: expect.stringMatching(message) });
  });

  it("a job sent to the wrong function says which function its keys are", async () => {
    const document = await run(montecarloModel, { job_id: 'wrong-fn', symbols: ['AAPL', 'MSFT'], params: { covariance: 'sample', long_only: true } });
    expect((document.error as { message: string }).message).toBe('Unknown keys "covariance", "long_only" in params: they are markowitz\'s, not montecarlo\'s; publish this job to jobs-markowitz.');
  });

  it('a known symbol without prices in the window is insufficient_data naming the symbol and window', async () => {
    const document = await run(markowitzModel, { job_id: 'old-window', symbols: ['AAPL', 'MSFT'], start: '2010-01-01', end: '2010-12-31' });
    expect(document.error).toMatchObject({ code: 'insufficient_data', message: expect.stringMatching(/"AAPL" has no prices between 2010-01-01 and 2010-12-31/) });
  });
});

describe('numbers inside the documented ranges end finite or as invalid_job naming the limit', () => {
  const cases: [string, unknown, Record<string, unknown>][] = [
    ['Black-Scholes dividend_yield -1 for 1000 years', blackscholesModel, { spot: 100, strike: 100, time_to_expiry: 1000, dividend_yield: -1, volatility: 0.2 }],
    ['a put with strike 1e308', blackscholesModel, { option_type: 'put', spot: 100, strike: 1e308, time_to_expiry: 1, volatility: 0.2 }],
    ['spot 5e-324', blackscholesModel, { spot: 5e-324, strike: 100, time_to_expiry: 1, volatility: 0.2 }],
    ['Monte Carlo drift 10 over 100 years', montecarloModel, { initial_price: 100, drift: 10, volatility: 0.2, horizon_years: 100, simulations: 200, time_steps: 10, seed: 1 }],
    ['initial_price 1e308', montecarloModel, { initial_price: 1e308, drift: 0.05, volatility: 0.2, simulations: 200, time_steps: 10, seed: 1 }],
    ['time_steps 100000 without horizon_years', montecarloModel, { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 10, time_steps: 100_000, seed: 1 }],
  ];
  it.each(cases)('%s', async (_name, model, params) => {
    const document = await run(model, { job_id: `range-${n}`, params });
    if (document.status === 'failed') {
      expect(document.error).toMatchObject({ code: 'invalid_job', message: expect.stringMatching(/^params\.\w+/) });
      expect((document.error as { message: string }).message).toMatch(/at most|at least|limit|maximum|minimum/);
    } else {
      expect(numbersIn(document.result).every((v) => typeof v === 'number' && Number.isFinite(v)), JSON.stringify(document.result).slice(0, 500)).toBe(true);
    }
  });

  it('weights [1e308, -1e308, 1] are invalid_job naming params.weights', async () => {
    const document = await run(montecarloModel, { job_id: 'weights-huge', symbols: ['AAPL', 'MSFT', 'GOOGL'], params: { weights: [1e308, -1e308, 1], simulations: 200, time_steps: 10, seed: 1 } });
    expect(document.error).toMatchObject({ code: 'invalid_job', message: expect.stringMatching(/^params\.weights/) });
  });
});

describe('PARAM_KEYS (the wrong-function hint) lists each model\'s params exactly', () => {
  it.each(['blackscholes', 'montecarlo', 'markowitz', 'ingest'] as const)('%s', async (name) => {
    const loaded = await MODEL_LOADERS[name]();
    const schema = loaded.params as unknown as { shape?: Record<string, unknown> };
    expect(Object.keys(schema.shape ?? {}).sort(), `update shared/job/paramKeys.ts for ${name}`).toEqual([...PARAM_KEYS[name]].sort());
  });
});
