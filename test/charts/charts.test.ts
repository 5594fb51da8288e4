import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSvgRenderer, svgToPng } from '../../scripts/svgToPng.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import type { BlackScholesOptionResult } from '../../shared/models/blackscholes/result.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import type { MarkowitzResult } from '../../shared/models/markowitz/result.js';
import { terminalHistogramSpec } from '../../shared/models/montecarlo/chart.js';
import type { MonteCarloResult } from '../../shared/models/montecarlo/gbmModel.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import { stopWorkers } from '../../shared/models/montecarlo/parallelRunner.js';
import { boxesOverlap, PALETTE, segmentMeetsBox, type Box } from '../../shared/numerics/svgPlot.js';
import { runFixtureJob } from '../support/fixtureJob.js';
import { markerCentres, pathSegments, pngSize, textsOfClass } from '../support/svgReading.js';

type Output = Awaited<ReturnType<typeof runFixtureJob>>;
const charts: Record<string, Output> = {};

beforeAll(async () => {
  charts.montecarlo = await runFixtureJob(montecarloModel, 'fixtures/jobs/montecarlo.json');
  charts.montecarloSingle = await runFixtureJob(montecarloModel, 'fixtures/charts/montecarlo-single.json');
  charts.markowitz = await runFixtureJob(markowitzModel, 'fixtures/jobs/markowitz.json');
  charts.markowitzLongOnly = await runFixtureJob(markowitzModel, 'fixtures/charts/markowitz-long-only.json');
  charts.blackscholes = await runFixtureJob(blackscholesModel, 'fixtures/jobs/blackscholes.json');
  charts.blackscholesSmile = await runFixtureJob(blackscholesModel, 'fixtures/charts/blackscholes-smile.json');
}, 60_000);
afterAll(() => stopWorkers());

const svgOf = (name: string) => charts[name]!.chart!;

/** Legend entries of a plot (each panel of a chart on its own) must not share any width. */
function expectLegendsApart(svg: string) {
  const panels = svg.split(/<g transform="translate\([\d.]+,[\d.]+\)"><text/);
  expect(textsOfClass(svg, 'legend-label').length).toBeGreaterThan(0);
  for (const panel of panels) expectPanelLegendsApart(panel);
}

function expectPanelLegendsApart(svg: string) {
  const items = textsOfClass(svg, 'legend-label');
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      // Swatches sit 25 px left of their text: include them in the box.
      const a: Box = { ...items[i]!.box, x0: items[i]!.box.x0 - 25 };
      const b: Box = { ...items[j]!.box, x0: items[j]!.box.x0 - 25 };
      expect(boxesOverlap(a, b), `legend "${items[i]!.text}" overlaps "${items[j]!.text}"`).toBe(false);
    }
  }
}

describe('Monte Carlo chart', () => {
  it('lists the sample paths once, and the two bands with swatches of different colours', () => {
    const svg = svgOf('montecarlo');
    const legend = textsOfClass(svg, 'legend-label').map((t) => t.text);
    expect(legend.filter((l) => l.includes('sample path'))).toEqual(['sample paths (5)']);
    const swatches = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="20" height="10" fill="([^"]+)" fill-opacity="([\d.]+)"/g)].map((m) => `${m[1]}/${m[2]}`);
    expect(swatches).toHaveLength(2);
    expect(new Set(swatches).size).toBe(2);
    expectLegendsApart(svg);
    expectLegendsApart(svgOf('montecarloSingle'));
  });

  it('gives paths, steps and seed, VaR with CVaR beside it, and draws each VaR where it leaves the portfolio', () => {
    const out = charts.montecarlo!;
    const result = out.result as unknown as MonteCarloResult;
    const svg = out.chart!;
    expect(svg).toContain('50,000 paths × 252 steps, seed 42');
    for (const [level, label] of [['0.95', '95%'], ['0.99', '99%']] as const) {
      const v = result.portfolio.var[level]!;
      const c = result.portfolio.cvar[level]!;
      expect(svg).toContain(`VaR ${label} ${(100 * v).toFixed(1)}% (CVaR ${(100 * c).toFixed(1)}%)`);
      expect(svg).toContain(`VaR ${label}: value ${(1 - v).toFixed(3)}`);
    }
  });

  it('draws a terminal-price histogram per symbol beside the fan', () => {
    const svg = svgOf('montecarlo');
    for (const s of ['AAPL', 'MSFT', 'GOOGL']) expect(svg).toContain(`${s}: terminal price`);
    expect(svgOf('montecarloSingle')).toContain('asset: terminal price');
  });

  it('histogram bars have areas equal to the share of paths between percentiles (98% in all)', () => {
    const s = (charts.montecarlo!.result as unknown as MonteCarloResult).symbols.AAPL!;
    const spec = terminalHistogramSpec('AAPL', s);
    const bins = spec.bars![0]!.bins;
    // height is % of paths per 1% of S0, so area in (price units) is height * width * 1% of S0 / 100%.
    const areas = bins.map((b) => (b.height * (b.x1 - b.x0)) / s.initial_price);
    expect(areas.map((a) => Number(a.toFixed(12)))).toEqual([0.04, 0.2, 0.25, 0.25, 0.2, 0.04]);
    expect(bins[0]!.x0).toBe(s.terminal_price.percentiles.p1);
    expect(bins[5]!.x1).toBe(s.terminal_price.percentiles.p99);
  });
});

describe('Markowitz chart', () => {
  for (const name of ['markowitz', 'markowitzLongOnly']) {
    it(`${name}: no label is covered by a marker, another label or a line`, () => {
      const svg = svgOf(name);
      const labels = textsOfClass(svg, 'marker-label');
      expect(labels.map((l) => l.text).sort()).toEqual(['AAPL', 'GMV', 'GOOGL', 'MSFT', 'Max Sharpe']);
      const markers = markerCentres(svg);
      const segments = pathSegments(svg);
      expect(segments.length).toBeGreaterThan(10);
      for (const label of labels) {
        for (const m of markers) {
          expect(boxesOverlap(label.box, { x0: m.x - 7, y0: m.y - 7, x1: m.x + 7, y1: m.y + 7 }), `label ${label.text} covers marker ${m.label}`).toBe(false);
        }
        for (const other of labels) if (other !== label) expect(boxesOverlap(label.box, other.box), `${label.text} / ${other.text}`).toBe(false);
        for (const s of segments) expect(segmentMeetsBox(s, label.box), `a line crosses label ${label.text}`).toBe(false);
      }
      expectLegendsApart(svg);
    });
  }

  it('draws the frontier out past the tangency portfolio and names rf, covariance and long-only', () => {
    const result = charts.markowitz!.result as unknown as MarkowitzResult;
    const svg = svgOf('markowitz');
    expect(svg).toContain('risk-free 3.00% · Ledoit-Wolf covariance (shrinkage');
    expect(svg).toContain('shorts allowed');
    expect(svgOf('markowitzLongOnly')).toContain('risk-free 2.00% · sample covariance · long only');
    // The efficient branch (solid, PALETTE[0]) reaches above the tangency portfolio's return on screen (smaller y).
    const frontier = pathSegments(svg, PALETTE[0]);
    const star = markerCentres(svg).find((m) => m.label === 'Max Sharpe')!;
    expect(Math.min(...frontier.flatMap((s) => [s[1], s[3]]))).toBeLessThan(star.y - 20);
    expect(Math.max(...frontier.flatMap((s) => [s[0], s[2]]))).toBeGreaterThan(star.x + 20);
    expect(result.max_sharpe).not.toBeNull();
  });
});

describe('Black-Scholes chart', () => {
  it('names the symbol only on options priced from its prices', () => {
    const svg = svgOf('blackscholes');
    const titles = [...svg.matchAll(/font-size="15" font-weight="bold"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(titles).toContain('AAPL call K=210 T=0.5y');
    expect(titles).toContain('MSFT call K=520 T=0.25y');
    // spot 100 and volatility 0.2 given: AAPL had nothing to do with it.
    expect(titles).toContain('call K=95 T=2y');
  });

  it('keeps a panel’s right-axis title clear of the next panel’s left-axis title', () => {
    const svg = svgOf('blackscholes');
    const groups = [...svg.matchAll(/<g transform="translate\(([\d.]+),([\d.]+)\)"><text/g)].map((m) => Number(m[1]));
    const titles = [...svg.matchAll(/<g transform="translate\(([\d.]+),[\d.]+\)"><text[\s\S]*?<g transform="translate\(([\d.]+),[\d.]+\)">[\s\S]*?translate\((-?[\d.]+),[\d.]+\) rotate\(-90\)[\s\S]*?translate\(([\d.]+),[\d.]+\) rotate\(90\)/g)];
    expect(groups.length).toBe(6);
    expect(titles.length).toBeGreaterThan(0);
    for (const m of titles) {
      const panelX = Number(m[1]);
      const rightTitle = panelX + Number(m[2]) + Number(m[4]);
      const nextPanel = groups.find((g) => g > panelX);
      if (nextPanel === undefined) continue;
      // The next panel's left title sits at least 12 px inside it (its own margin): 40 px of air.
      expect(nextPanel - rightTitle).toBeGreaterThanOrEqual(40);
    }
  });

  it('says which options are left out and why', () => {
    const options = charts.blackscholesSmile!.result.options as BlackScholesOptionResult[];
    expect(options[14]!.implied_volatility).toBeNull();
    const svg = svgOf('blackscholesSmile');
    expect(svg).toContain('Not drawn: option 15: no volatility to price with (its quote has no implied volatility); 8 more options: only the first 6 distinct options are drawn.');
    expect(svgOf('blackscholes')).not.toContain('Not drawn');
  });

  it('draws an implied-volatility smile per expiry when market prices are given', () => {
    const svg = svgOf('blackscholesSmile');
    expect(svg).toContain('Implied volatility smile');
    const legend = textsOfClass(svg, 'legend-label').map((t) => t.text);
    expect(legend).toEqual(expect.arrayContaining(['T=0.25y', 'T=1y']));
    const options = charts.blackscholesSmile!.result.options as BlackScholesOptionResult[];
    const quoted = options.filter((o) => typeof o.implied_volatility === 'number');
    expect(markerCentres(svg).filter((m) => /^T=/.test(m.label))).toHaveLength(quoted.length);
    expectLegendsApart(svg);
  });
});

describe('charts render as images', () => {
  const missing = !hasSvgRenderer();
  if (missing && process.env.CI === 'true') it('needs rsvg-convert under CI', () => expect.fail('rsvg-convert is missing: .ci/run installs librsvg2-bin'));
  it.skipIf(missing)('every chart renders to a PNG of its stated size (skipped without rsvg-convert: apt-get install librsvg2-bin)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'charts-'));
    try {
      for (const [name, out] of Object.entries(charts)) {
        const svg = path.join(dir, `${name}.svg`);
        const png = path.join(dir, `${name}.png`);
        writeFileSync(svg, out.chart!);
        svgToPng(svg, png);
        const [, width, height] = /<svg[^>]* width="(\d+)" height="(\d+)"/.exec(out.chart!)!;
        expect(pngSize(readFileSync(png)), name).toEqual({ width: Number(width), height: Number(height) });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
