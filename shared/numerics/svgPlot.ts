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
}

export interface BandSeries {
  label: string;
  x: readonly number[];
  lower: readonly number[];
  upper: readonly number[];
  color?: string;
  opacity?: number;
}

export interface PointMarker {
  label: string;
  x: number;
  y: number;
  color?: string;
  shape?: 'circle' | 'diamond' | 'square' | 'star';
  showLabel?: boolean;
  /** Where the label goes: up and right of the point (default), or down and left, to keep neighbours apart. */
  labelSide?: 'above-right' | 'below-left';
}

export interface VerticalRule {
  x: number;
  label?: string;
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
  markers?: PointMarker[];
  rules?: VerticalRule[];
  xFormat?: AxisFormat;
  yFormat?: AxisFormat;
  yRightFormat?: AxisFormat;
}

export interface Size {
  width: number;
  height: number;
}

/** A colour-blind-safe palette (Okabe & Ito, 2008). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** One plot as a complete SVG document. */
export function plotSvg(spec: PlotSpec, size: Size = { width: 800, height: 500 }): string {
  const body = plotGroup(spec, size);
  return document(size, body);
}

/** Several plots as small multiples in one SVG document. */
export function panelsSvg(title: string, panels: readonly PlotSpec[], columns: number): string {
  const cols = Math.max(1, Math.min(columns, panels.length));
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const cell: Size = { width: 520, height: 360 };
  const header = 40;
  const size: Size = { width: cols * cell.width, height: header + rows * cell.height };
  const groups = panels.map((p, i) => {
    const x = (i % cols) * cell.width;
    const y = header + Math.floor(i / cols) * cell.height;
    return `<g transform="translate(${x},${y})">${plotGroup(p, cell)}</g>`;
  });
  const heading = `<text x="${size.width / 2}" y="26" text-anchor="middle" font-size="18" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`;
  return document(size, heading + groups.join(''));
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

function plotGroup(spec: PlotSpec, size: Size): string {
  const hasRight = (spec.lines ?? []).some((l) => l.axis === 'right');
  const margin = { top: spec.subtitle ? 58 : 42, right: hasRight ? 70 : 24, bottom: 80, left: 72 };
  const w = size.width - margin.left - margin.right;
  const h = size.height - margin.top - margin.bottom;

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
  for (const m of spec.markers ?? []) (xs.push(m.x), ysLeft.push(m.y));
  for (const r of spec.rules ?? []) xs.push(r.x);

  const x = linearScale(xs, [0, w]);
  const y = linearScale(ysLeft, [h, 0]);
  const yr = hasRight ? linearScale(ysRight, [h, 0]) : undefined;
  const fx = formatter(spec.xFormat);
  const fy = formatter(spec.yFormat);
  const fyr = formatter(spec.yRightFormat);

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
  parts.push(`<text x="${w / 2}" y="${h + 38}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(${-56},${h / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.yLabel)}</text>`);
  if (yr && spec.yRightLabel) {
    parts.push(`<text transform="translate(${w + 58},${h / 2}) rotate(90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.yRightLabel)}</text>`);
  }

  const legend: { label: string; color: string; kind: 'line' | 'band' | 'dashed' | 'marker' }[] = [];
  (spec.bands ?? []).forEach((b, i) => {
    const color = b.color ?? PALETTE[i % PALETTE.length];
    const upper = b.x.map((xv, k) => `${r(x(xv))},${r(y(b.upper[k]))}`);
    const lower = b.x.map((xv, k) => `${r(x(xv))},${r(y(b.lower[k]))}`).reverse();
    parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="${b.opacity ?? 0.25}" stroke="none"/>`);
    legend.push({ label: b.label, color, kind: 'band' });
  });
  for (const r0 of spec.rules ?? []) {
    parts.push(`<line x1="${r(x(r0.x))}" x2="${r(x(r0.x))}" y1="0" y2="${h}" stroke="#999" stroke-dasharray="4 3"/>`);
    if (r0.label) parts.push(`<text x="${r(x(r0.x)) + 4}" y="12" font-size="10" fill="#666" ${FONT}>${escapeXml(r0.label)}</text>`);
  }
  (spec.lines ?? []).forEach((l, i) => {
    const color = l.color ?? PALETTE[i % PALETTE.length];
    const ys = l.axis === 'right' && yr ? yr : y;
    const d = l.points.map(([px, py], k) => `${k === 0 ? 'M' : 'L'}${r(x(px))},${r(ys(py))}`).join('');
    const dash = l.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${l.width ?? 2}"${dash}/>`);
    legend.push({ label: l.label + (l.axis === 'right' ? ' (right axis)' : ''), color, kind: l.dashed ? 'dashed' : 'line' });
  });
  (spec.markers ?? []).forEach((m, i) => {
    const color = m.color ?? PALETTE[(i + 3) % PALETTE.length];
    parts.push(markerShape(m.shape ?? 'circle', r(x(m.x)), r(y(m.y)), color, m.label));
    if (m.showLabel) {
      const below = m.labelSide === 'below-left';
      const anchor = below ? ' text-anchor="end"' : '';
      parts.push(`<text x="${r(x(m.x)) + (below ? -8 : 8)}" y="${r(y(m.y)) + (below ? 16 : -6)}"${anchor} font-size="11" font-weight="bold" fill="#222" ${FONT}>${escapeXml(m.label)}</text>`);
    }
  });
  parts.push('</g>');

  // Legend under the plot, in rows.
  let lx = margin.left;
  let ly = margin.top + h + 56;
  for (const item of legend.slice(0, 12)) {
    const width = 30 + item.label.length * 6.5;
    if (lx + width > size.width - 10) {
      lx = margin.left;
      ly += 16;
    }
    if (item.kind === 'band') parts.push(`<rect x="${lx}" y="${ly - 9}" width="20" height="10" fill="${item.color}" fill-opacity="0.35"/>`);
    else parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${ly - 4}" stroke="${item.color}" stroke-width="2"${item.kind === 'dashed' ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${lx + 25}" y="${ly}" font-size="11" fill="#333" ${FONT}>${escapeXml(item.label)}</text>`);
    lx += width;
  }
  return parts.join('');
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
