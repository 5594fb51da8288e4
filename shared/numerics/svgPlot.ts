/**
 * Static SVG plots built as strings: no DOM, no dependency, nothing to load at cold start.
 * Charting libraries that render SVG server-side (Vega, Plotly, ECharts SSR) weigh
 * megabytes; a job's chart needs axes, lines, bands and markers, which fit here.
 */

export interface LineSeries {
  label: string;
  points: ReadonlyArray<readonly [number, number]>;
  color?: string;
  dashed?: boolean;
  width?: number;
  axis?: 'left' | 'right';
  /** false: drawn but not listed in the legend (the 2nd to nth of a group already listed). */
  legend?: boolean;
}

export interface BandSeries {
  label: string;
  x: readonly number[];
  lower: readonly number[];
  upper: readonly number[];
  color?: string;
  opacity?: number;
}

/** Bars over intervals of x (a histogram; bins may differ in width). */
export interface BarSeries {
  label: string;
  bins: ReadonlyArray<{ readonly x0: number; readonly x1: number; readonly height: number }>;
  color?: string;
  /** false: not listed in the legend (a lone histogram explained by its titles). */
  legend?: boolean;
}

export interface PointMarker {
  label: string;
  x: number;
  y: number;
  color?: string;
  shape?: 'circle' | 'diamond' | 'square' | 'star';
  showLabel?: boolean;
  /** The first place tried for the label; it moves to a free side if that one is covered. */
  labelSide?: 'above-right' | 'below-left';
}

export interface VerticalRule {
  x: number;
  label?: string;
}

/** A horizontal line across the plot (a threshold), labelled at its right end. */
export interface HorizontalRule {
  y: number;
  label?: string;
  color?: string;
}

export type AxisFormat = 'number' | 'percent';

export interface PlotSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  yRightLabel?: string;
  lines?: LineSeries[];
  bands?: BandSeries[];
  bars?: BarSeries[];
  markers?: PointMarker[];
  rules?: VerticalRule[];
  hrules?: HorizontalRule[];
  xFormat?: AxisFormat;
  yFormat?: AxisFormat;
  yRightFormat?: AxisFormat;
  /** A line of small print under the legend (what was left out and why). */
  note?: string;
}

export interface Size {
  width: number;
  height: number;
}

/** A plot placed at (x, y) of a larger document. */
export interface PlacedPlot {
  spec: PlotSpec;
  x: number;
  y: number;
  size: Size;
}

/** A rectangle in document pixels: what a piece of text or a marker covers. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A colour-blind-safe palette (Okabe & Ito, 2008). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

const FONT = 'font-family="Helvetica, Arial, sans-serif"';
/** White outline drawn under label text, so a line crossing a label never hides it. */
const HALO = 'paint-order="stroke" stroke="#ffffff" stroke-width="3" stroke-linejoin="round"';

/** One plot as a complete SVG document. */
export function plotSvg(spec: PlotSpec, size: Size = { width: 800, height: 500 }): string {
  const body = plotGroup(spec, size);
  return document(size, body);
}

/** Gap between small multiples, so one panel's right-axis title is not read as the next one's. */
const PANEL_GAP = 40;

/** Several plots as small multiples in one SVG document. */
export function panelsSvg(title: string, panels: readonly PlotSpec[], columns: number, note?: string): string {
  const cols = Math.max(1, Math.min(columns, panels.length));
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const cell: Size = { width: 520, height: 380 };
  const placed = panels.map((spec, i) => ({
    spec,
    x: (i % cols) * (cell.width + PANEL_GAP),
    y: 40 + Math.floor(i / cols) * cell.height,
    size: cell,
  }));
  return composedSvg(title, placed, { width: cols * cell.width + (cols - 1) * PANEL_GAP, height: 40 + rows * cell.height + (note ? 24 : 0) }, note);
}

/** Plots placed freely on one document (a fan chart with histograms beside it), under one title. */
export function composedSvg(title: string, plots: readonly PlacedPlot[], size: Size, note?: string): string {
  const heading = `<text x="${size.width / 2}" y="26" text-anchor="middle" font-size="18" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`;
  const groups = plots.map((p) => `<g transform="translate(${p.x},${p.y})">${plotGroup(p.spec, p.size)}</g>`);
  const footer = note ? `<text x="12" y="${size.height - 8}" font-size="11" fill="#555" ${FONT}>${escapeXml(note)}</text>` : '';
  return document(size, heading + groups.join('') + footer);
}

function document(size: Size, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}" viewBox="0 0 ${size.width} ${size.height}">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>${body}</svg>\n`
  );
}

interface Scale {
  (v: number): number;
  ticks: number[];
}

interface LegendItem {
  label: string;
  color: string;
  kind: 'line' | 'band' | 'dashed' | 'bar';
  opacity: number;
}

const LEGEND_FONT = 11;
const LEGEND_ROW = 16;
const LEGEND_SWATCH = 25;
const LEGEND_GAP = 16;

/** Where each legend entry goes: rows of entries whose text boxes never overlap. */
export function legendLayout(labels: readonly string[], left: number, right: number): { x: number; row: number; width: number }[] {
  const out: { x: number; row: number; width: number }[] = [];
  let x = left;
  let row = 0;
  for (const label of labels) {
    const width = LEGEND_SWATCH + textWidth(label, LEGEND_FONT);
    if (x > left && x + width > right) {
      x = left;
      row++;
    }
    out.push({ x, row, width });
    x += width + LEGEND_GAP;
  }
  return out;
}

function plotGroup(spec: PlotSpec, size: Size): string {
  const hasRight = (spec.lines ?? []).some((l) => l.axis === 'right');

  const left = (spec.lines ?? []).filter((l) => l.axis !== 'right');
  const right = (spec.lines ?? []).filter((l) => l.axis === 'right');
  const xs: number[] = [];
  const ysLeft: number[] = [];
  const ysRight: number[] = [];
  for (const l of left) for (const [x, y] of l.points) (xs.push(x), ysLeft.push(y));
  for (const l of right) for (const [x, y] of l.points) (xs.push(x), ysRight.push(y));
  for (const b of spec.bands ?? []) {
    xs.push(...b.x);
    ysLeft.push(...b.lower, ...b.upper);
  }
  for (const b of spec.bars ?? []) for (const bin of b.bins) (xs.push(bin.x0, bin.x1), ysLeft.push(0, bin.height));
  for (const m of spec.markers ?? []) (xs.push(m.x), ysLeft.push(m.y));
  for (const r0 of spec.rules ?? []) xs.push(r0.x);
  for (const h0 of spec.hrules ?? []) ysLeft.push(h0.y);

  const fx = formatter(spec.xFormat);
  const fy = formatter(spec.yFormat);
  const fyr = formatter(spec.yRightFormat);

  // The legend decides the bottom margin, and tick label widths the side margins: axis
  // titles sit just outside their own tick labels, never in a neighbour panel's space.
  const legend: LegendItem[] = [];
  (spec.bands ?? []).forEach((b, i) => legend.push({ label: b.label, color: b.color ?? PALETTE[i % PALETTE.length], kind: 'band', opacity: b.opacity ?? 0.25 }));
  (spec.bars ?? []).forEach((b, i) => b.legend !== false && legend.push({ label: b.label, color: b.color ?? PALETTE[i % PALETTE.length], kind: 'bar', opacity: 0.6 }));
  (spec.lines ?? []).forEach((l, i) => {
    if (l.legend === false) return;
    legend.push({ label: l.label + (l.axis === 'right' ? ' (right axis)' : ''), color: l.color ?? PALETTE[i % PALETTE.length], kind: l.dashed ? 'dashed' : 'line', opacity: 1 });
  });
  const yProbe = linearScale(ysLeft, [1, 0]);
  const yrProbe = hasRight ? linearScale(ysRight, [1, 0]) : undefined;
  const leftTicks = Math.max(0, ...yProbe.ticks.map((t) => textWidth(fy(t), 11)));
  const rightTicks = yrProbe ? Math.max(0, ...yrProbe.ticks.map((t) => textWidth(fyr(t), 11))) : 0;
  const margin = { top: spec.subtitle ? 58 : 42, right: hasRight ? rightTicks + 34 : 24, bottom: 0, left: leftTicks + 34 };
  const legendSpots = legendLayout(legend.map((l) => l.label), margin.left, size.width - 10);
  const legendRows = legend.length ? legendSpots[legendSpots.length - 1].row + 1 : 0;
  margin.bottom = 50 + legendRows * LEGEND_ROW + (spec.note ? 16 : 0);
  const w = size.width - margin.left - margin.right;
  const h = size.height - margin.top - margin.bottom;

  const x = linearScale(xs, [0, w]);
  const y = linearScale(ysLeft, [h, 0]);
  const yr = hasRight ? linearScale(ysRight, [h, 0]) : undefined;

  const parts: string[] = [];
  parts.push(`<text x="${size.width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${escapeXml(spec.title)}</text>`);
  if (spec.subtitle) {
    parts.push(`<text x="${size.width / 2}" y="40" text-anchor="middle" font-size="12" fill="#555" ${FONT}>${escapeXml(spec.subtitle)}</text>`);
  }
  parts.push(`<g transform="translate(${margin.left},${margin.top})">`);
  // Grid and axes.
  for (const t of y.ticks) {
    parts.push(`<line x1="0" x2="${w}" y1="${r(y(t))}" y2="${r(y(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="-8" y="${r(y(t)) + 4}" text-anchor="end" font-size="11" fill="#333" ${FONT}>${fy(t)}</text>`);
  }
  for (const t of x.ticks) {
    parts.push(`<line x1="${r(x(t))}" x2="${r(x(t))}" y1="0" y2="${h}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${r(x(t))}" y="${h + 18}" text-anchor="middle" font-size="11" fill="#333" ${FONT}>${fx(t)}</text>`);
  }
  if (yr) {
    for (const t of yr.ticks) {
      parts.push(`<text x="${w + 8}" y="${r(yr(t)) + 4}" text-anchor="start" font-size="11" fill="#333" ${FONT}>${fyr(t)}</text>`);
    }
  }
  parts.push(`<rect x="0" y="0" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${w / 2}" y="${h + 36}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(${-(leftTicks + 18)},${h / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.yLabel)}</text>`);
  if (yr && spec.yRightLabel) {
    parts.push(`<text transform="translate(${w + rightTicks + 18},${h / 2}) rotate(90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.yRightLabel)}</text>`);
  }

  (spec.bands ?? []).forEach((b, i) => {
    const color = b.color ?? PALETTE[i % PALETTE.length];
    const upper = b.x.map((xv, k) => `${r(x(xv))},${r(y(b.upper[k]))}`);
    const lower = b.x.map((xv, k) => `${r(x(xv))},${r(y(b.lower[k]))}`).reverse();
    parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="${b.opacity ?? 0.25}" stroke="none"/>`);
  });
  (spec.bars ?? []).forEach((b, i) => {
    const color = b.color ?? PALETTE[i % PALETTE.length];
    for (const bin of b.bins) {
      const x0 = r(x(bin.x0));
      const x1 = r(x(bin.x1));
      const top = r(y(bin.height));
      parts.push(`<rect x="${x0}" y="${top}" width="${r(Math.max(0, x1 - x0))}" height="${r(Math.max(0, y(0) - top))}" fill="${color}" fill-opacity="0.6" stroke="#ffffff" stroke-width="1"/>`);
    }
  });
  // Rule labels at the top, stepped down when two rules stand close together.
  let lastRuleX = -Infinity;
  let ruleRow = 0;
  for (const r0 of [...(spec.rules ?? [])].sort((a, b) => a.x - b.x)) {
    const px = r(x(r0.x));
    parts.push(`<line x1="${px}" x2="${px}" y1="0" y2="${h}" stroke="#999" stroke-dasharray="4 3"/>`);
    if (!r0.label) continue;
    ruleRow = px - lastRuleX < 70 ? ruleRow + 1 : 0;
    lastRuleX = px;
    parts.push(`<text x="${px + 4}" y="${12 + 12 * ruleRow}" font-size="10" fill="#555" ${HALO} ${FONT}>${escapeXml(r0.label)}</text>`);
  }
  for (const h0 of spec.hrules ?? []) {
    const py = r(y(h0.y));
    const color = h0.color ?? '#B22222';
    parts.push(`<line x1="0" x2="${w}" y1="${py}" y2="${py}" stroke="${color}" stroke-width="1.5" stroke-dasharray="2 3"/>`);
    if (h0.label) parts.push(`<text x="${w - 4}" y="${py - 4}" text-anchor="end" font-size="10.5" font-weight="bold" fill="${color}" ${HALO} ${FONT}>${escapeXml(h0.label)}</text>`);
  }
  const obstacles: Box[] = [];
  const segments: [number, number, number, number][] = [];
  (spec.lines ?? []).forEach((l, i) => {
    const color = l.color ?? PALETTE[i % PALETTE.length];
    const ys = l.axis === 'right' && yr ? yr : y;
    const pts = l.points.map(([px, py]) => [r(x(px)), r(ys(py))] as const);
    for (let k = 1; k < pts.length; k++) segments.push([pts[k - 1][0], pts[k - 1][1], pts[k][0], pts[k][1]]);
    const d = pts.map(([px, py], k) => `${k === 0 ? 'M' : 'L'}${px},${py}`).join('');
    const dash = l.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${l.width ?? 2}"${dash}/>`);
  });
  const markers = (spec.markers ?? []).map((m, i) => ({ m, px: r(x(m.x)), py: r(y(m.y)), color: m.color ?? PALETTE[(i + 3) % PALETTE.length] }));
  for (const { px, py } of markers) obstacles.push({ x0: px - 8, y0: py - 8, x1: px + 8, y1: py + 8 });
  for (const { m, px, py, color } of markers) parts.push(markerShape(m.shape ?? 'circle', px, py, color, m.label));
  for (const { m, px, py } of markers) {
    if (!m.showLabel) continue;
    const placed = placeLabel(m.label, px, py, m.labelSide ?? 'above-right', { x0: 0, y0: 0, x1: w, y1: h }, obstacles, segments);
    obstacles.push(placed.box);
    parts.push(
      `<text class="marker-label" x="${r(placed.x)}" y="${r(placed.y)}" text-anchor="${placed.anchor}" font-size="${LABEL_FONT}" font-weight="bold" fill="#222" ${HALO} ${FONT}>${escapeXml(m.label)}</text>`,
    );
  }
  parts.push('</g>');

  // Legend under the plot, in rows.
  const legendTop = margin.top + h + 54;
  legend.forEach((item, i) => {
    const spot = legendSpots[i];
    const lx = spot.x;
    const ly = legendTop + spot.row * LEGEND_ROW;
    if (item.kind === 'band' || item.kind === 'bar') {
      parts.push(`<rect x="${lx}" y="${ly - 9}" width="20" height="10" fill="${item.color}" fill-opacity="${item.opacity}" stroke="${item.color}" stroke-opacity="0.5"/>`);
    } else {
      parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${ly - 4}" stroke="${item.color}" stroke-width="2"${item.kind === 'dashed' ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    parts.push(`<text class="legend-label" x="${lx + LEGEND_SWATCH}" y="${ly}" font-size="${LEGEND_FONT}" fill="#333" ${FONT}>${escapeXml(item.label)}</text>`);
  });
  if (spec.note) {
    parts.push(`<text x="${margin.left}" y="${legendTop + legendRows * LEGEND_ROW + 4}" font-size="10.5" fill="#555" ${FONT}>${escapeXml(spec.note)}</text>`);
  }
  return parts.join('');
}

const LABEL_FONT = 11;

/**
 * Puts a marker's label on the first of eight sides of it where the label's box meets no
 * other marker, no label already placed and no line, inside the plot; if every side is
 * covered, on the side that meets the fewest (a line under a label is then masked by the
 * label's white halo).
 * @returns the text anchor point, alignment and the box the label covers
 */
export function placeLabel(
  label: string,
  px: number,
  py: number,
  preferred: 'above-right' | 'below-left',
  plot: Box,
  obstacles: readonly Box[],
  segments: ReadonlyArray<readonly [number, number, number, number]>,
): { x: number; y: number; anchor: 'start' | 'middle' | 'end'; box: Box } {
  const width = textWidth(label, LABEL_FONT, true);
  const height = LABEL_FONT + 2;
  const gap = 9;
  // [dx, dy] of the box's anchor side relative to the marker, in preference order.
  const sides: ['start' | 'middle' | 'end', number, number][] = [
    ['start', gap, -gap + 2], // above right
    ['end', -gap, height + gap - 2], // below left
    ['start', gap + 2, 4], // right
    ['end', -gap - 2, 4], // left
    ['middle', 0, -gap - 2], // above
    ['middle', 0, height + gap], // below
    ['end', -gap, -gap + 2], // above left
    ['start', gap, height + gap - 2], // below right
  ];
  if (preferred === 'below-left') [sides[0], sides[1]] = [sides[1], sides[0]];
  let best: { x: number; y: number; anchor: 'start' | 'middle' | 'end'; box: Box } | undefined;
  let bestScore = Infinity;
  for (const [anchor, dx, dy] of sides) {
    const tx = px + dx;
    const ty = py + dy;
    const x0 = anchor === 'start' ? tx : anchor === 'end' ? tx - width : tx - width / 2;
    const box: Box = { x0, y0: ty - LABEL_FONT, x1: x0 + width, y1: ty + 2 };
    let score = 0;
    if (box.x0 < plot.x0 || box.x1 > plot.x1 || box.y0 < plot.y0 || box.y1 > plot.y1) score += 100;
    for (const o of obstacles) if (boxesOverlap(box, o)) score += 10;
    for (const s of segments) if (segmentMeetsBox(s, box)) score += 1;
    if (score < bestScore) {
      bestScore = score;
      best = { x: tx, y: ty, anchor, box };
      if (score === 0) break;
    }
  }
  return best!;
}

/** Whether two boxes share any area. */
export function boxesOverlap(a: Box, b: Box): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/** Whether a line segment passes through a box (Liang-Barsky clipping). */
export function segmentMeetsBox([x0, y0, x1, y1]: readonly [number, number, number, number], box: Box): boolean {
  const dx = x1 - x0;
  const dy = y1 - y0;
  let t0 = 0;
  let t1 = 1;
  const edges: [number, number][] = [
    [-dx, x0 - box.x0],
    [dx, box.x1 - x0],
    [-dy, y0 - box.y0],
    [dy, box.y1 - y0],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return false;
      continue;
    }
    const t = q / p;
    if (p < 0) {
      if (t > t1) return false;
      if (t > t0) t0 = t;
    } else {
      if (t < t0) return false;
      if (t < t1) t1 = t;
    }
  }
  return true;
}

/**
 * The width of text in Helvetica/Arial at a font size, from the fonts' advance widths
 * grouped by character class: within a few percent for the labels we draw, and on the wide
 * side, so that boxes computed from it do not overlap on screen either.
 */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) {
    if ('il.,:;|!\'Ijft()[] '.includes(c)) em += 0.3;
    else if ('mwMW%@'.includes(c)) em += 0.86;
    else if (c >= 'A' && c <= 'Z') em += 0.68;
    else if (c >= '0' && c <= '9') em += 0.56;
    else em += 0.56;
  }
  return em * fontSize * (bold ? 1.08 : 1);
}

function markerShape(shape: NonNullable<PointMarker['shape']>, cx: number, cy: number, color: string, label: string): string {
  const title = `<title>${escapeXml(label)}</title>`;
  switch (shape) {
    case 'square':
      return `<rect x="${cx - 5}" y="${cy - 5}" width="10" height="10" fill="${color}" stroke="#fff">${title}</rect>`;
    case 'diamond':
      return `<polygon points="${cx},${cy - 7} ${cx + 7},${cy} ${cx},${cy + 7} ${cx - 7},${cy}" fill="${color}" stroke="#fff">${title}</polygon>`;
    case 'star': {
      const pts: string[] = [];
      for (let k = 0; k < 10; k++) {
        const rad = k % 2 === 0 ? 9 : 4;
        const a = (Math.PI / 5) * k - Math.PI / 2;
        pts.push(`${r(cx + rad * Math.cos(a))},${r(cy + rad * Math.sin(a))}`);
      }
      return `<polygon points="${pts.join(' ')}" fill="${color}" stroke="#fff">${title}</polygon>`;
    }
    default:
      return `<circle cx="${cx}" cy="${cy}" r="5" fill="${color}" stroke="#fff">${title}</circle>`;
  }
}

/** A linear map from the data's extent (padded, with "nice" ticks) onto a pixel range. */
function linearScale(values: readonly number[], range: readonly [number, number]): Scale {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length ? Math.min(...finiteChunks(finite, Math.min)) : 0;
  let hi = finite.length ? Math.max(...finiteChunks(finite, Math.max)) : 1;
  if (hi === lo) {
    const pad = Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / 6);
  const niceLo = Math.floor(lo / step) * step;
  const niceHi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = niceLo; t <= niceHi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  const scale = ((v: number) => range[0] + ((v - niceLo) / (niceHi - niceLo)) * (range[1] - range[0])) as Scale;
  scale.ticks = ticks;
  return scale;
}

// Math.min(...array) overflows the call stack past ~100k arguments: reduce in chunks.
function finiteChunks(values: readonly number[], pick: (...v: number[]) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i += 10000) out.push(pick(...values.slice(i, i + 10000)));
  return out;
}

function niceStep(raw: number): number {
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * power;
}

function formatter(format: AxisFormat | undefined): (v: number) => string {
  if (format === 'percent') return (v) => `${trim((v * 100).toPrecision(4))}%`;
  return (v) => {
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1);
    return trim(v.toPrecision(4));
  };
}

function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

function r(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
