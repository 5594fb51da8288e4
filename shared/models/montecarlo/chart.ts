import type { MonteCarloResult } from './gbmModel.js';
import { plotSvg, type LineSeries } from '../../numerics/svgPlot.js';

/**
 * Fan chart of the simulated portfolio value: the 5-95% and 25-75% percentile bands, the
 * median, and a few sample paths (the first paths of block 0, so the same seed draws the
 * same chart).
 * @param result a Monte Carlo result
 * @param title the chart title (e.g. the job id and symbols)
 * @returns an SVG document
 */
export function montecarloChartSvg(result: MonteCarloResult, title: string): string {
  const x = result.bands.map((b) => b.t);
  const samples: LineSeries[] = result.sample_paths.map((path, i) => ({
    label: i === 0 ? 'sample paths' : `sample path ${i + 1}`,
    points: path.map((v, j) => [x[j], v] as const),
    color: '#888888',
    width: 1,
    dashed: true,
  }));
  const levels = Object.keys(result.portfolio.var);
  const subtitle = levels.length > 0
    ? levels.map((c) => `VaR ${c}: ${(100 * result.portfolio.var[c]).toFixed(1)}%`).join(', ')
    : undefined;
  return plotSvg({
    title,
    subtitle,
    xLabel: 'years',
    yLabel: 'portfolio value (start = 1)',
    bands: [
      { label: '5-95%', x, lower: result.bands.map((b) => b.p5), upper: result.bands.map((b) => b.p95), color: '#4c78a8', opacity: 0.2 },
      { label: '25-75%', x, lower: result.bands.map((b) => b.p25), upper: result.bands.map((b) => b.p75), color: '#4c78a8', opacity: 0.4 },
    ],
    lines: [
      ...samples,
      { label: 'median', points: result.bands.map((b) => [b.t, b.p50] as const), color: '#1f3b73', width: 2 },
    ],
  });
}
