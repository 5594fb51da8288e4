import type { MonteCarloResult, SymbolResult } from './gbmModel.js';
import { composedSvg, PALETTE, type LineSeries, type PlacedPlot, type PlotSpec } from '../../numerics/svgPlot.js';

/** What the chart says about the run besides the result: who ran it, how many paths, which seed. */
export interface MonteCarloChartContext {
  readonly title: string;
  readonly simulations: number;
  readonly timeSteps: number;
  readonly seed: number;
}

const FAN = { width: 780, height: 540 };
const HISTOGRAM = { width: 380, height: 270 };

/**
 * Fan chart of the simulated portfolio value (the 5-95% and 25-75% percentile bands, the
 * median, a few sample paths: the first paths of block 0, so the same seed draws the same
 * chart; VaR drawn as the portfolio value it stands for), and beside it each symbol's
 * terminal price distribution as a histogram.
 * @param result a Monte Carlo result
 * @param context the title, paths, steps and seed for the subtitle
 * @returns an SVG document
 */
export function montecarloChartSvg(result: MonteCarloResult, context: MonteCarloChartContext): string {
  const symbols = Object.entries(result.symbols);
  const columns = symbols.length <= 2 ? 1 : 2;
  const rows = Math.ceil(symbols.length / columns);
  const height = Math.max(FAN.height, rows * HISTOGRAM.height) + 40;
  const plots: PlacedPlot[] = [{ spec: fanSpec(result, context), x: 0, y: 40, size: { width: FAN.width, height: height - 40 } }];
  symbols.forEach(([symbol, s], i) => {
    plots.push({
      spec: terminalHistogramSpec(symbol, s),
      x: FAN.width + (i % columns) * HISTOGRAM.width,
      y: 40 + Math.floor(i / columns) * HISTOGRAM.height,
      size: HISTOGRAM,
    });
  });
  return composedSvg(context.title, plots, { width: FAN.width + columns * HISTOGRAM.width, height });
}

function fanSpec(result: MonteCarloResult, context: MonteCarloChartContext): PlotSpec {
  const x = result.bands.map((b) => b.t);
  const samples: LineSeries[] = result.sample_paths.map((path, i) => ({
    label: `sample paths (${result.sample_paths.length})`,
    points: path.map((v, j) => [x[j], v] as const),
    color: '#777777',
    width: 1,
    dashed: true,
    legend: i === 0,
  }));
  const levels = Object.keys(result.portfolio.var);
  const risk = levels.map((c) => `VaR ${percentLabel(c)} ${pct(result.portfolio.var[c])} (CVaR ${pct(result.portfolio.cvar[c])})`);
  return {
    title: 'Portfolio value',
    subtitle: [`${context.simulations.toLocaleString('en-US')} paths × ${context.timeSteps} steps, seed ${context.seed}`, ...risk].join(' · '),
    xLabel: 'years',
    yLabel: 'portfolio value (start = 1)',
    bands: [
      { label: '5-95% of paths', x, lower: result.bands.map((b) => b.p5), upper: result.bands.map((b) => b.p95), color: '#9ecae1', opacity: 0.55 },
      { label: '25-75% of paths', x, lower: result.bands.map((b) => b.p25), upper: result.bands.map((b) => b.p75), color: '#3182bd', opacity: 0.55 },
    ],
    lines: [...samples, { label: 'median', points: result.bands.map((b) => [b.t, b.p50] as const), color: '#08306b', width: 2.5 }],
    // VaR_c is a loss at the horizon: the portfolio value 1 - VaR_c is where that loss leaves it.
    hrules: levels.map((c) => ({ y: 1 - result.portfolio.var[c], label: `VaR ${percentLabel(c)}: value ${(1 - result.portfolio.var[c]).toFixed(3)}`, color: '#B22222' })),
  };
}

/**
 * A symbol's terminal price distribution as a histogram over its simulated percentiles:
 * each bar spans two neighbouring percentiles (p1-p5, p5-p25, ... p95-p99) and its area is
 * the share of paths between them, so the bars are exact for any number of paths without
 * storing them; the 1% tails beyond p1 and p99 are left out (their extremes are in the result).
 */
export function terminalHistogramSpec(symbol: string, s: SymbolResult): PlotSpec {
  const p = s.terminal_price.percentiles;
  const edges: [number, number][] = [[p.p1, 1], [p.p5, 5], [p.p25, 25], [p.p50, 50], [p.p75, 75], [p.p95, 95], [p.p99, 99]];
  const bins = [];
  for (let i = 1; i < edges.length; i++) {
    const [x0, q0] = edges[i - 1];
    const [x1, q1] = edges[i];
    const share = (q1 - q0) / 100;
    // Percent of paths per 1% of the initial price: comparable across symbols of any price level.
    bins.push({ x0, x1, height: x1 > x0 ? (100 * share) / ((100 * (x1 - x0)) / s.initial_price) : 0 });
  }
  return {
    title: `${symbol}: terminal price`,
    subtitle: `P(loss) ${pct(s.probability_of_loss)} · mean ${fmt(s.terminal_price.mean)} · p1-p99 shown`,
    xLabel: 'price at horizon',
    yLabel: '% of paths per 1% of S0',
    bars: [{ label: 'share of paths between neighbouring percentiles', bins, color: PALETTE[0], legend: false }],
    rules: [
      { x: s.initial_price, label: `S0 ${fmt(s.initial_price)}` },
      { x: s.terminal_price.mean, label: 'mean' },
    ],
  };
}

function percentLabel(level: string): string {
  return `${Number((Number(level) * 100).toPrecision(6))}%`;
}

function pct(v: number): string {
  return `${(100 * v).toFixed(1)}%`;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(4)).toString();
}
