import { blackScholes, type BlackScholesValuationBuffer } from './blackscholes.js';
import type { OptionEntries } from './optionBatch.js';
import type { BlackScholesOptionResult } from './result.js';
import { PALETTE, panelsSvg, plotSvg, type LineSeries, type PlotSpec, type PointMarker } from '../../numerics/svgPlot.js';

/** Panels in one chart: small multiples stop being readable beyond this. */
export const CHART_OPTIONS = 6;
const CURVE_POINTS = 81;
/** Quotes drawn in the smile at most (a batch's first ones). */
export const SMILE_QUOTES = 1000;

/**
 * Value (left axis) and delta (right axis, dashed) against spot for up to six distinct options
 * of a Black-Scholes result, each panel centred on its strike with a marker at the option's
 * spot and a rule at the strike; with market prices, first an implied-volatility smile
 * (implied volatility against strike, one line per expiry). A footnote says which options
 * are not drawn and why.
 * @param options the job's `result.options`, or a batch's entries built one at a time as they are read
 * @param pricedFromSymbol per option, whether its spot or volatility came from its symbol's
 *   prices (only those panels name the symbol: a given spot and volatility owe it nothing)
 * @returns an SVG document
 */
export function blackscholesChartSvg(options: OptionEntries, pricedFromSymbol: readonly boolean[] = []): string {
  const panels: PlotSpec[] = [];
  const smile = smilePanel(options);
  if (smile) panels.push(smile);
  const seen = new Map<string, number>();
  const drawnStrikes = new Set<number>();
  const leftOut: string[] = [];
  let beyond = 0;
  const scan = options.scan;
  for (let i = 0; i < options.length; i++) {
    // Past the panels, only an unpriced option or a twin of a drawn one is read whole.
    if (scan !== undefined && seen.size >= CHART_OPTIONS && scan.priced(i) && !drawnStrikes.has(scan.strike(i))) {
      beyond++;
      continue;
    }
    const o = options.at(i) as BlackScholesOptionResult;
    if (o.volatility === null || o.price === null) {
      leftOut.push(`option ${i + 1}: no volatility to price with (${o.implied_volatility_error ? 'its quote has no implied volatility' : 'none given or implied'})`);
      continue;
    }
    // Once every panel is taken, only a twin of a drawn option is told apart: an option whose
    // strike no drawn option has is not one, and needs no key (100,000 options: no 100,000 keys).
    if (seen.size >= CHART_OPTIONS && !drawnStrikes.has(o.strike)) {
      beyond++;
      continue;
    }
    const key = `${o.option_type}|${o.spot}|${o.strike}|${o.time_to_expiry}|${o.risk_free_rate}|${o.dividend_yield}|${o.volatility}`;
    const twin = seen.get(key);
    if (twin !== undefined) {
      leftOut.push(`option ${i + 1}: same curve as option ${twin + 1}`);
      continue;
    }
    if (seen.size >= CHART_OPTIONS) {
      beyond++;
      continue;
    }
    seen.set(key, i);
    drawnStrikes.add(o.strike);
    panels.push(optionPanel(o, o.volatility, pricedFromSymbol[i] === true));
  }
  if (beyond > 0) leftOut.push(`${beyond} more option${beyond === 1 ? '' : 's'}: only the first ${CHART_OPTIONS} distinct options are drawn`);
  const note = leftOut.length > 0 ? `Not drawn: ${leftOut.slice(0, 4).join('; ')}${leftOut.length > 4 ? `; and ${leftOut.length - 4} more` : ''}.` : undefined;
  if (panels.length === 0) {
    return plotSvg({ title: 'Black-Scholes', subtitle: 'No option could be priced (no volatility).', xLabel: 'Spot', yLabel: 'Value', note });
  }
  if (panels.length === 1) return plotSvg({ ...panels[0], note }, { width: 800, height: note ? 520 : 500 });
  const drawn = seen.size;
  const title = `Black-Scholes: value and delta against spot (${drawn} of ${options.length} options)${smile ? ', implied-volatility smile' : ''}`;
  return panelsSvg(title, panels, panels.length <= 2 ? panels.length : panels.length <= 4 ? 2 : 3, note);
}

/**
 * Implied volatility against strike, one line per expiry (and symbol, when there are
 * several): the smile or skew the market prices carry. Null unless some expiry has two quotes.
 */
export function smilePanel(options: OptionEntries): PlotSpec | null {
  // A smile of 100,000 quotes would be a 15 MB drawing nobody can read: the first SMILE_QUOTES.
  const quoted: (BlackScholesOptionResult & { implied_volatility: number })[] = [];
  let solvedCount = 0;
  const scan = options.scan;
  for (let i = 0; i < options.length; i++) {
    if (scan !== undefined && quoted.length >= SMILE_QUOTES) {
      if (scan.solved(i)) solvedCount++; // counted, not read
      continue;
    }
    const o = options.at(i) as BlackScholesOptionResult;
    if (typeof o.implied_volatility !== 'number') continue;
    solvedCount++;
    if (quoted.length < SMILE_QUOTES) quoted.push(o as BlackScholesOptionResult & { implied_volatility: number });
  }
  if (quoted.length < 2) return null;
  const manySymbols = new Set(quoted.map((o) => o.symbol)).size > 1;
  const groups = new Map<string, [number, number][]>();
  for (const o of quoted) {
    const key = `${manySymbols && o.symbol ? `${o.symbol} ` : ''}T=${formatNumber(o.time_to_expiry)}y`;
    const points = groups.get(key) ?? [];
    points.push([o.strike, o.implied_volatility]);
    groups.set(key, points);
  }
  // A smile needs two strikes at one expiry; single quotes at scattered expiries draw no curve.
  if (![...groups.values()].some((points) => points.length >= 2)) return null;
  const entries = [...groups.entries()].sort(([a], [b]) => EXPIRY_ORDER.compare(a, b));
  const lines: LineSeries[] = entries.map(([label, points], i) => ({
    label,
    points: [...points].sort((a, b) => a[0] - b[0]),
    color: PALETTE[i % PALETTE.length],
    width: 2,
  }));
  const markers: PointMarker[] = entries.flatMap(([label, points], i) =>
    points.map(([strike, iv]) => ({ label: `${label} K=${formatNumber(strike)}: ${formatNumber(iv * 100)}%`, x: strike, y: iv, color: PALETTE[i % PALETTE.length], shape: 'circle' as const })),
  );
  return {
    title: 'Implied volatility smile',
    subtitle: solvedCount > quoted.length ? `the first ${quoted.length} of ${solvedCount} quotes with an implied volatility` : `${quoted.length} quotes with an implied volatility`,
    xLabel: 'Strike',
    yLabel: 'Implied volatility',
    yFormat: 'percent',
    lines,
    markers,
  };
}

/** `localeCompare(b, 'en', { numeric: true })` without a collator made for every comparison (1,000 expiries: ~60 ms). */
const EXPIRY_ORDER = new Intl.Collator('en', { numeric: true });

function optionPanel(o: BlackScholesOptionResult, volatility: number, namesSymbol: boolean): PlotSpec {
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
  const name = `${namesSymbol && o.symbol ? o.symbol : ''} ${o.option_type} K=${formatNumber(o.strike)} T=${formatNumber(o.time_to_expiry)}y`.trim();
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
