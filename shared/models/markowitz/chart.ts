import type { MarkowitzResult } from './result.js';
import { PALETTE, plotSvg, type LineSeries, type PointMarker } from '../../numerics/svgPlot.js';

/** Above this many symbols, asset markers lose their labels (they would overprint). */
const labelledAssetLimit = 25;
const CURVE_POINTS = 80;

/** How the job was asked, for the subtitle. */
export interface MarkowitzChartContext {
  readonly covariance: 'ledoit_wolf' | 'sample';
  readonly longOnly: boolean;
}

/**
 * The efficient frontier (annualized volatility across, expected return up) with every
 * symbol, the GMV and max-Sharpe portfolios marked, and the capital market line from the
 * risk-free rate through the tangency portfolio when one exists. Labels are placed where no
 * marker, other label or line covers them.
 * @param result a completed Markowitz job's result.
 * @param context the covariance method and long-only flag, for the subtitle.
 * @returns an SVG document.
 */
export function markowitzChart(result: MarkowitzResult, context: MarkowitzChartContext): string {
  const tangency = result.max_sharpe;
  const assets: PointMarker[] = result.symbols.map((s) => ({
    label: s,
    x: result.volatilities[s],
    y: result.expected_returns[s],
    color: PALETTE[5],
    shape: 'circle',
    showLabel: result.symbols.length <= labelledAssetLimit,
  }));
  const widest = Math.max(tangency?.volatility ?? 0, ...result.frontier.map((f) => f.volatility), ...assets.map((a) => a.x));
  const curve = context.longOnly ? null : frontierHyperbola(result, widest * 1.08);
  const lines: LineSeries[] = curve
    ? [
        { label: 'Efficient frontier', points: curve.efficient, color: PALETTE[0], width: 2.5 },
        { label: 'Inefficient branch', points: curve.inefficient, color: PALETTE[0], width: 1.2, dashed: true },
      ]
    : [{ label: 'Efficient frontier', points: result.frontier.map((f) => [f.volatility, f.expected_return] as const), color: PALETTE[0], width: 2.5 }];
  const markers: PointMarker[] = [
    ...assets,
    { label: 'GMV', x: result.gmv.volatility, y: result.gmv.expected_return, color: PALETTE[2], shape: 'diamond', showLabel: true, labelSide: 'below-left' },
  ];
  if (tangency) {
    markers.push({ label: 'Max Sharpe', x: tangency.volatility, y: tangency.expected_return, color: PALETTE[3], shape: 'star', showLabel: true, labelSide: 'below-left' });
    // Drawn across the volatilities the frontier and the assets span, through the tangency
    // point and past it: starting it at zero volatility (the risk-free rate, which the
    // subtitle gives) would squeeze the frontier into a corner of the chart.
    const narrowest = Math.min(result.gmv.volatility, ...assets.map((a) => a.x));
    const begin = narrowest * 0.9;
    const end = widest * 1.08;
    lines.push({
      label: 'Capital market line',
      points: [
        [begin, result.risk_free_rate + tangency.sharpe * begin],
        [end, result.risk_free_rate + tangency.sharpe * end],
      ],
      color: PALETTE[1],
      dashed: true,
    });
  }
  const subtitle = [
    `${result.symbols.length} symbols`,
    `risk-free ${(100 * result.risk_free_rate).toFixed(2)}%`,
    context.covariance === 'ledoit_wolf' ? `Ledoit-Wolf covariance (shrinkage ${result.shrinkage.toFixed(3)})` : 'sample covariance',
    context.longOnly ? 'long only' : 'shorts allowed',
    tangency ? `max Sharpe ${tangency.sharpe.toFixed(2)}` : 'no tangency portfolio',
  ].join(' · ');
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

/**
 * With shorts allowed the frontier is a hyperbola, sigma^2(r) = sigma_g^2 + (r - r_g)^2 / a,
 * through the GMV (r_g, sigma_g); a follows from any other frontier point. Drawing it from
 * that formula rather than from `result.frontier` (which stops at the highest asset return)
 * lets the curve run past the tangency portfolio out to the chart's widest volatility, so
 * that its shape shows even when the assets' returns are close together.
 * @returns the efficient (upper) and inefficient (lower) branches, or null if the frontier is a point
 */
export function frontierHyperbola(
  result: MarkowitzResult,
  widest: number,
): { efficient: [number, number][]; inefficient: [number, number][] } | null {
  const g = result.gmv;
  const far = result.frontier.reduce((best, f) => (Math.abs(f.expected_return - g.expected_return) > Math.abs(best.expected_return - g.expected_return) ? f : best), result.frontier[0]!);
  const dr = far.expected_return - g.expected_return;
  const dv = far.volatility ** 2 - g.volatility ** 2;
  if (!(Math.abs(dr) > 1e-12) || !(dv > 0)) return null;
  const a = (dr * dr) / dv;
  const top = Math.max(widest, g.volatility * 1.5);
  const span = Math.sqrt(a * (top ** 2 - g.volatility ** 2));
  const efficient: [number, number][] = [];
  const inefficient: [number, number][] = [];
  for (let k = 0; k <= CURVE_POINTS; k++) {
    const d = (span * k) / CURVE_POINTS;
    const vol = Math.sqrt(g.volatility ** 2 + (d * d) / a);
    efficient.push([vol, g.expected_return + d]);
    // The lower branch only to half the span: it shows the shape without stretching the axis.
    if (k <= CURVE_POINTS / 2) inefficient.push([vol, g.expected_return - d]);
  }
  return { efficient, inefficient };
}
