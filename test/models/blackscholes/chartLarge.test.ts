import { describe, expect, it } from 'vitest';
import { blackscholesChartSvg, CHART_OPTIONS, SMILE_QUOTES, smilePanel } from '../../../shared/models/blackscholes/chart.js';
import { allEntries, IMPLIED_SOURCE } from '../../../shared/models/blackscholes/optionBatch.js';
import { newBatch, valueBatch } from '../../../shared/models/blackscholes/parallelValuation.js';
import type { BlackScholesOptionResult } from '../../../shared/models/blackscholes/result.js';

const option = (i: number): BlackScholesOptionResult => ({
  option_type: 'call', symbol: null, spot: 100, strike: 80 + (i % 400) / 10, time_to_expiry: i % 2 ? 0.5 : 1, risk_free_rate: 0.01, dividend_yield: 0,
  volatility: 0.2, volatility_source: 'params', price: 10, delta: 0.5, gamma: 0.01, theta: -1, vega: 20, rho: 30, market_price: 10, implied_volatility: 0.2 + i / 1e5,
});

describe('the Black-Scholes chart of a large batch', () => {
  it('draws the smile of the first SMILE_QUOTES quotes and says so', () => {
    const options = Array.from({ length: SMILE_QUOTES + 500 }, (_, i) => option(i));
    expect(smilePanel(options)?.subtitle).toBe(`the first ${SMILE_QUOTES} of ${SMILE_QUOTES + 500} quotes with an implied volatility`);
    expect(smilePanel(options.slice(0, 10))?.subtitle).toBe('10 quotes with an implied volatility');
  });

  it('counts the options beyond the panels and their twins as before', () => {
    // Options 1..6 drawn; options 401..406 repeat their curves (twins), the other 788 are beyond:
    // seven entries in the footnote, four shown.
    const options = Array.from({ length: 800 }, (_, i) => ({ ...option(i), time_to_expiry: 1, implied_volatility: null }));
    const svg = blackscholesChartSvg(options);
    expect(svg).toContain(`option 401: same curve as option 1`);
    expect(svg).toContain('option 404: same curve as option 4; and 3 more.');
    expect(CHART_OPTIONS).toBe(6);
  });

  it('draws the same chart from a batch\'s columns (its quick scan) as from its entries read whole', async () => {
    // Twins of drawn options, options left unpriced (a volatility to imply from a quote below
    // its bound), more solved quotes than the smile draws, strikes repeating across the batch.
    const n = 8 * SMILE_QUOTES;
    const batch = newBatch(n, [], 1);
    for (let i = 0; i < n; i++) {
      batch.isCall[i] = i % 2;
      batch.spot[i] = 100;
      batch.strike[i] = 80 + (i % 37);
      batch.timeToExpiry[i] = i % 3 === 0 ? 1 : 0.25;
      batch.volatility[i] = 0.2 + (i % 5) / 100;
      batch.symbolIndex[i] = -1;
      if (i % 4 !== 0) continue;
      batch.hasMarketPrice[i] = 1;
      batch.marketPrice[i] = i % 40 === 0 ? 0 : 5 + (i % 7);
      if (i % 8 === 0) batch.source[i] = IMPLIED_SOURCE;
    }
    const { entries } = await valueBatch(batch, 1);
    expect(entries.scan).toBeDefined();
    const whole = allEntries(entries); // an array: no scan
    const drawn = blackscholesChartSvg(entries);
    expect(drawn).toBe(blackscholesChartSvg(whole));
    expect(drawn).toMatch(/; and \d+ more\./); // the twins and the unpriced beyond the four named
    expect(drawn).toContain('no volatility to price with');
    expect(smilePanel(entries)?.subtitle).toBe(smilePanel(whole)?.subtitle);
    expect(smilePanel(entries)?.subtitle).toMatch(/^the first 1000 of \d+ quotes/);
  });
});
