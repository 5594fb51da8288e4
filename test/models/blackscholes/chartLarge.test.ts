import { describe, expect, it } from 'vitest';
import { blackscholesChartSvg, CHART_OPTIONS, SMILE_QUOTES, smilePanel } from '../../../shared/models/blackscholes/chart.js';
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
});
