import { describe, expect, it } from 'vitest';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import { runFixtureJob } from '../support/fixtureJob.js';

// December 2025 holds 23 weekdays of fixture prices: 22 returns.
describe('a calibration on few observations completes with a warning in the result', () => {
  it('blackscholes: names the symbol whose historical volatility is short of data', async () => {
    const out = await runFixtureJob(blackscholesModel, { job_id: 'few', symbols: ['AAPL'], start: '2025-12-01', end: '2025-12-31', params: { strike: 200, time_to_expiry: 1 } });
    expect(out.result.warnings).toEqual([
      "AAPL's historical volatility rests on 22 daily returns (2025-12-01 to 2025-12-31), fewer than 60: the estimate is noisy; widen start/end for a steadier one.",
    ]);
    const given = await runFixtureJob(blackscholesModel, { job_id: 'few', symbols: ['AAPL'], start: '2025-12-01', end: '2025-12-31', params: { strike: 200, time_to_expiry: 1, volatility: 0.2 } });
    expect(given.result).not.toHaveProperty('warnings');
  });

  it('markowitz: says the covariance rests on few returns; a three-year window says nothing', async () => {
    const out = await runFixtureJob(markowitzModel, { job_id: 'few', symbols: ['AAPL', 'MSFT'], start: '2025-12-01', end: '2025-12-31', params: {} });
    expect(out.result.warnings).toEqual([expect.stringMatching(/^The estimate of expected returns and covariance for AAPL, MSFT rests on 22 daily returns/)]);
    expect((await runFixtureJob(markowitzModel, 'fixtures/jobs/markowitz.json')).result).not.toHaveProperty('warnings');
  });
});
