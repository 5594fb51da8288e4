import type { MarkowitzResult } from './result.js';
import { PALETTE, plotSvg, type LineSeries, type PointMarker } from '../../numerics/svgPlot.js';

/** Above this many symbols, asset markers lose their labels (they would overprint). */
const labelledAssetLimit = 25;

/**
 * The efficient frontier (annualized volatility across, expected return up) with every
 * symbol, the GMV and max-Sharpe portfolios marked, and the capital market line from the
 * risk-free rate through the tangency portfolio when one exists.
 * @param result a completed Markowitz job's result.
 * @returns an SVG document.
 */
export function markowitzChart(result: MarkowitzResult): string {
  const frontier: LineSeries = {
    label: 'Efficient frontier',
    points: result.frontier.map((f) => [f.volatility, f.expected_return] as const),
    color: PALETTE[0],
    width: 2.5,
  };
  const lines: LineSeries[] = [frontier];
  const assets: PointMarker[] = result.symbols.map((s) => ({
    label: s,
    x: result.volatilities[s],
    y: result.expected_returns[s],
    color: PALETTE[5],
    shape: 'circle',
    showLabel: result.symbols.length <= labelledAssetLimit,
  }));
  const markers: PointMarker[] = [
    ...assets,
    { label: 'GMV', x: result.gmv.volatility, y: result.gmv.expected_return, color: PALETTE[2], shape: 'diamond', showLabel: true, labelSide: 'below-left' },
  ];
  const tangency = result.max_sharpe;
  if (tangency) {
    markers.push({ label: 'Max Sharpe', x: tangency.volatility, y: tangency.expected_return, color: PALETTE[3], shape: 'star', showLabel: true, labelSide: 'below-left' });
    // The line is drawn out to the widest volatility on the chart so that it visibly
    // touches the frontier at the tangency point and runs past it.
    const widest = Math.max(tangency.volatility, ...result.frontier.map((f) => f.volatility), ...assets.map((a) => a.x));
    lines.push({
      label: 'Capital market line',
      points: [
        [0, result.risk_free_rate],
        [widest, result.risk_free_rate + tangency.sharpe * widest],
      ],
      color: PALETTE[1],
      dashed: true,
    });
  }
  const subtitle =
    `${result.symbols.length} symbols; shrinkage ${result.shrinkage.toFixed(3)}` +
    (tangency ? `; max Sharpe ${tangency.sharpe.toFixed(2)}` : '; no tangency portfolio');
  return plotSvg({
    title: 'Efficient frontier',
    subtitle,
    xLabel: 'Volatility (annualized)',
    yLabel: 'Expected return (annualized)',
    lines,
    markers,
    xFormat: 'percent',
    yFormat: 'percent',
  });
}
