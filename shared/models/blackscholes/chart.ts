import { blackScholes, type BlackScholesValuationBuffer } from './blackscholes.js';
import type { BlackScholesOptionResult } from './result.js';
import { PALETTE, panelsSvg, plotSvg, type PlotSpec } from '../../numerics/svgPlot.js';

/** Panels in one chart: small multiples stop being readable beyond this. */
export const CHART_OPTIONS = 6;
const CURVE_POINTS = 81;

/**
 * Value (left axis) and delta (right axis, dashed) against spot for up to six distinct options
 * of a Black-Scholes result, each panel centred on its strike with a marker at the option's
 * spot and a rule at the strike. Options without a volatility (no implied one) are skipped.
 * @param options the job's `result.options`
 * @returns an SVG document
 */
export function blackscholesChartSvg(options: readonly BlackScholesOptionResult[]): string {
  const panels: PlotSpec[] = [];
  const seen = new Set<string>();
  for (const o of options) {
    if (panels.length >= CHART_OPTIONS) break;
    if (o.volatility === null || o.price === null) continue;
    const key = `${o.option_type}|${o.spot}|${o.strike}|${o.time_to_expiry}|${o.risk_free_rate}|${o.dividend_yield}|${o.volatility}`;
    if (seen.has(key)) continue;
    seen.add(key);
    panels.push(optionPanel(o, o.volatility));
  }
  if (panels.length === 0) {
    return plotSvg({ title: 'Black-Scholes', subtitle: 'No option could be priced (no volatility).', xLabel: 'Spot', yLabel: 'Value' });
  }
  if (panels.length === 1) return plotSvg(panels[0]);
  const title = `Black-Scholes: value and delta against spot (${panels.length} of ${options.length} options)`;
  return panelsSvg(title, panels, panels.length <= 2 ? panels.length : panels.length <= 4 ? 2 : 3);
}

function optionPanel(o: BlackScholesOptionResult, volatility: number): PlotSpec {
  // Cover the strike +- 3 standard deviations of the terminal price (at least +-20%) and the spot.
  const spread = Math.max(0.2, Math.min(3 * volatility * Math.sqrt(o.time_to_expiry), 0.9));
  const lo = Math.min(o.strike * (1 - spread), o.spot * 0.9);
  const hi = Math.max(o.strike * (1 + spread), o.spot * 1.1);
  const value: [number, number][] = [];
  const delta: [number, number][] = [];
  const buffer: BlackScholesValuationBuffer = { price: 0, delta: 0, gamma: 0, theta: 0, vega: 0, rho: 0 };
  const inputs = {
    optionType: o.option_type,
    spot: 0,
    strike: o.strike,
    timeToExpiry: o.time_to_expiry,
    riskFreeRate: o.risk_free_rate,
    dividendYield: o.dividend_yield,
    volatility,
  };
  for (let k = 0; k < CURVE_POINTS; k++) {
    const spot = lo + ((hi - lo) * k) / (CURVE_POINTS - 1);
    inputs.spot = spot;
    blackScholes(inputs, buffer);
    value.push([spot, buffer.price]);
    delta.push([spot, buffer.delta]);
  }
  const name = `${o.symbol ?? ''} ${o.option_type} K=${formatNumber(o.strike)} T=${formatNumber(o.time_to_expiry)}y`.trim();
  return {
    title: name,
    subtitle: `vol ${formatNumber(volatility * 100)}% (${o.volatility_source}), r ${formatNumber(o.risk_free_rate * 100)}%, q ${formatNumber(o.dividend_yield * 100)}%`,
    xLabel: 'Spot',
    yLabel: 'Value',
    yRightLabel: 'Delta',
    lines: [
      { label: 'Value', points: value, color: PALETTE[0], width: 2.5 },
      { label: 'Delta', points: delta, color: PALETTE[1], dashed: true, axis: 'right' },
    ],
    markers: [{ label: `spot ${formatNumber(o.spot)}: ${formatNumber(o.price ?? 0)}`, x: o.spot, y: o.price ?? 0, color: PALETTE[3], shape: 'diamond', showLabel: true }],
    rules: [{ x: o.strike, label: 'strike' }],
  };
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
}
