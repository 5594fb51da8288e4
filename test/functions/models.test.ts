import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { startFunction, type FunctionUnderTest } from '../support/functionServer.js';

// Each model's fixture job sent as a real CloudEvent over HTTP to the functions-framework:
// the contract's result document and the artifacts must come out in the local folder.
const open: FunctionUnderTest[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});

async function runFixtureJob(model: ModelDefinition<never>, overrides: Record<string, unknown> = {}) {
  const fn = await startFunction(model);
  open.push(fn);
  const job = { ...JSON.parse(await fs.readFile(path.join('fixtures', 'jobs', `${model.name}.json`), 'utf8')), ...overrides };
  const { status } = await fn.publish(job);
  expect(status).toBeLessThan(300);
  const folder = path.join(fn.dataDir, 'bucket', 'jobs', model.name, job.job_id);
  const document = JSON.parse(await fs.readFile(path.join(folder, 'result.json'), 'utf8'));
  return { fn, job, folder, document };
}

function expectCompletedEnvelope(document: Record<string, unknown>, model: string, jobId: string, folder: string) {
  expect(document).toMatchObject({ job_id: jobId, model, status: 'completed' });
  expect(Object.keys(document).sort()).toEqual(['artifacts', 'duration_ms', 'finished_at', 'inputs', 'job_id', 'model', 'result', 'started_at', 'status']);
  const uri = (file: string) => pathToFileURL(path.resolve(folder, file)).href;
  expect(document.artifacts).toEqual({ result: uri('result.json'), chart: uri('chart.svg'), report: uri('report.html') });
}

async function expectChart(folder: string) {
  const svg = await fs.readFile(path.join(folder, 'chart.svg'), 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).not.toMatch(/NaN|undefined|Infinity/);
}

describe('blackscholes through the CloudEvent path', () => {
  it('prices the fixture batch per the contract', async () => {
    const model = blackscholesModel as ModelDefinition<never>;
    const { document, job, folder } = await runFixtureJob(model);
    expectCompletedEnvelope(document, 'blackscholes', job.job_id, folder);
    const options = document.result.options as Record<string, unknown>[];
    expect(options).toHaveLength(job.params.options.length);
    for (const o of options) {
      for (const key of ['option_type', 'spot', 'strike', 'time_to_expiry', 'risk_free_rate', 'dividend_yield', 'volatility', 'price', 'delta', 'gamma', 'theta', 'vega', 'rho']) {
        expect(o).toHaveProperty(key);
      }
    }
    // Defaults from params, overrides from the option, spot from the symbol's last price.
    expect(options[0]).toMatchObject({ option_type: 'call', symbol: 'AAPL', strike: 210, time_to_expiry: 0.5, risk_free_rate: 0.04, dividend_yield: 0.005, spot: 212.672 });
    expect(options[5]).toMatchObject({ spot: 100, volatility: 0.2, risk_free_rate: 0.03, dividend_yield: 0 });
    // A quote under intrinsic value... the deep OTM put at 0.01 is fine; the one that breaks a bound gets a sentence.
    for (const o of options.filter((x) => x.market_price !== undefined)) {
      if (o.implied_volatility === null) expect(typeof o.implied_volatility_error).toBe('string');
      else expect(o.implied_volatility as number).toBeGreaterThan(0);
    }
    await expectChart(folder);
  });

  it('a quote outside the no-arbitrage bounds gets implied_volatility null and a reason, the others are solved', async () => {
    const model = blackscholesModel as ModelDefinition<never>;
    const { document } = await runFixtureJob(model, {
      job_id: 'bs-bounds',
      params: {
        spot: 100,
        time_to_expiry: 1,
        options: [
          { strike: 100, market_price: 10 },
          { strike: 50, market_price: 40 },
          { strike: 100, market_price: 150 },
        ],
      },
    });
    const [ok, below, above] = document.result.options as Record<string, unknown>[];
    expect(ok.implied_volatility as number).toBeGreaterThan(0.1);
    expect(ok.price as number).toBeCloseTo(10, 10);
    for (const bad of [below, above]) {
      expect(bad.implied_volatility).toBeNull();
      expect(bad.implied_volatility_error).toMatch(/\w+/);
      expect(bad.price).toBeNull();
    }
  });

  it('a batch of 100,000 options in one message is priced (a 20 MB message decodes)', async () => {
    const model = blackscholesModel as ModelDefinition<never>;
    const options = Array.from({ length: 100_000 }, (_, i) => ({ option_type: i % 2 ? 'put' : 'call', strike: 50 + (Math.floor(i / 2) % 1000) / 10, market_price: i % 7 === 0 ? 1e6 : undefined }));
    const { document } = await runFixtureJob(model, { job_id: 'bs-100k', symbols: [], params: { spot: 100, volatility: 0.25, time_to_expiry: 1, risk_free_rate: 0.03, options } });
    expect(document.status).toBe('completed');
    const priced = document.result.options as Record<string, number | null>[];
    expect(priced).toHaveLength(100_000);
    // Put-call parity for every neighbouring pair (call 2k, put 2k+1, same strike): C - P = S - K e^{-rT}.
    for (let k = 0; k < priced.length; k += 2) {
      const parity = (priced[k].price as number) - (priced[k + 1].price as number) - (100 - (priced[k].strike as number) * Math.exp(-0.03));
      if (Math.abs(parity) > 1e-9) throw new Error(`put-call parity broken at options ${k}/${k + 1}: ${parity}`);
    }
    // The absurd quotes got no implied volatility and did not fail the batch.
    expect(priced[0].implied_volatility).toBeNull();
  }, 60_000);

  it('a bad option is a failed invalid_job naming the field', async () => {
    const model = blackscholesModel as ModelDefinition<never>;
    const { document } = await runFixtureJob(model, { job_id: 'bs-bad', params: { spot: 100, volatility: 0.2, time_to_expiry: 1, options: [{ strike: 100 }, { strike: -5 }] } });
    expect(document).toMatchObject({ status: 'failed', error: { code: 'invalid_job' } });
    expect(document.error.message).toContain('params.options[1].strike');
  });

  it('an unknown symbol is a failed unknown_symbol naming it', async () => {
    const model = blackscholesModel as ModelDefinition<never>;
    const { document } = await runFixtureJob(model, { job_id: 'bs-unknown', symbols: ['NOPE'], params: { strike: 100, time_to_expiry: 1 } });
    expect(document).toMatchObject({ status: 'failed', error: { code: 'unknown_symbol' } });
    expect(document.error.message).toContain('NOPE');
  });
});

describe('montecarlo through the CloudEvent path', () => {
  it('simulates the fixture portfolio per the contract', async () => {
    const model = montecarloModel as ModelDefinition<never>;
    const { document, job, folder } = await runFixtureJob(model, { params: { ...JSON.parse(await fs.readFile('fixtures/jobs/montecarlo.json', 'utf8')).params, simulations: 5000 } });
    expectCompletedEnvelope(document, 'montecarlo', job.job_id, folder);
    const r = document.result;
    expect(Object.keys(r.symbols).sort()).toEqual(['AAPL', 'GOOGL', 'MSFT']);
    for (const s of Object.values(r.symbols) as Record<string, any>[]) {
      expect(Object.keys(s).sort()).toEqual(['drift', 'expected_terminal_price', 'initial_price', 'probability_of_loss', 'terminal_price', 'volatility']);
      expect(Object.keys(s.terminal_price).sort()).toEqual(['max', 'mean', 'min', 'percentiles', 'std']);
      expect(Object.keys(s.terminal_price.percentiles).sort()).toEqual(['p1', 'p25', 'p5', 'p50', 'p75', 'p95', 'p99']);
    }
    expect(Object.keys(r.portfolio.var).sort()).toEqual(['0.95', '0.99']);
    expect(Object.keys(r.portfolio.cvar).sort()).toEqual(['0.95', '0.99']);
    expect(r.portfolio.cvar['0.99']).toBeGreaterThanOrEqual(r.portfolio.var['0.99']);
    expect(r.portfolio.var['0.99']).toBeGreaterThan(r.portfolio.var['0.95']);
    expect(r.bands[0]).toMatchObject({ p5: 1, p50: 1, p95: 1 });
    expect(document.inputs.seed).toBe(42);
    await expectChart(folder);
  });

  it('without a seed, the seed used is reported and repeats the run exactly', async () => {
    const model = montecarloModel as ModelDefinition<never>;
    const params = { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 2000, time_steps: 50 };
    const first = await runFixtureJob(model, { job_id: 'mc-noseed', symbols: [], params });
    const seed = first.document.inputs.seed;
    expect(Number.isInteger(Number(seed))).toBe(true);
    const again = await runFixtureJob(model, { job_id: 'mc-seeded', symbols: [], params: { ...params, seed } });
    expect(again.document.result).toEqual(first.document.result);
    expect(Object.keys(first.document.result.symbols)).toEqual(['asset']);
  });

  it('bad params give failed/invalid_job naming the field', async () => {
    const model = montecarloModel as ModelDefinition<never>;
    const { document } = await runFixtureJob(model, { job_id: 'mc-bad', params: { simulations: -3 } });
    expect(document).toMatchObject({ status: 'failed', error: { code: 'invalid_job' } });
    expect(document.error.message).toContain('params.simulations');
  });
});

describe('markowitz through the CloudEvent path', () => {
  it('builds the fixture portfolios per the contract', async () => {
    const model = markowitzModel as ModelDefinition<never>;
    const { document, job, folder } = await runFixtureJob(model);
    expectCompletedEnvelope(document, 'markowitz', job.job_id, folder);
    const r = document.result;
    for (const p of [r.gmv, r.max_sharpe]) {
      expect(Object.keys(p.weights)).toEqual(job.symbols);
      const total = (Object.values(p.weights) as number[]).reduce((a, b) => a + b, 0);
      expect(Math.abs(total - 1)).toBeLessThan(1e-12);
      for (const key of ['expected_return', 'volatility', 'sharpe']) expect(typeof p[key]).toBe('number');
    }
    expect(r.frontier).toHaveLength(20);
    expect(r.frontier[0].volatility).toBeCloseTo(r.gmv.volatility, 10);
    for (const point of r.frontier) expect(point.volatility).toBeGreaterThanOrEqual(r.gmv.volatility - 1e-12);
    expect(r.shrinkage).toBeGreaterThan(0);
    expect(r.shrinkage).toBeLessThanOrEqual(1);
    await expectChart(folder);
  });

  it('a symbol with no prices is unknown_symbol naming it', async () => {
    const model = markowitzModel as ModelDefinition<never>;
    const { document } = await runFixtureJob(model, { job_id: 'mk-unknown', symbols: ['AAPL', 'ZZZZ'] });
    expect(document).toMatchObject({ status: 'failed', error: { code: 'unknown_symbol' } });
    expect(document.error.message).toContain('ZZZZ');
  });

  it('a window with fewer than two common returns is insufficient_data', async () => {
    const model = markowitzModel as ModelDefinition<never>;
    const { document } = await runFixtureJob(model, { job_id: 'mk-short', start: '2025-12-30', end: '2025-12-31' });
    expect(document).toMatchObject({ status: 'failed', error: { code: 'insufficient_data' } });
  });

  it('an unknown covariance method is invalid_job naming params.covariance', async () => {
    const model = markowitzModel as ModelDefinition<never>;
    const { document } = await runFixtureJob(model, { job_id: 'mk-bad', params: { covariance: 'shrunk' } });
    expect(document).toMatchObject({ status: 'failed', error: { code: 'invalid_job' } });
    expect(document.error.message).toContain('params.covariance');
  });
});
