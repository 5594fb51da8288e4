import { textWidth, type Box } from '../../shared/numerics/svgPlot.js';

/** A text element of a chart, with the box its glyphs cover (from the same width table the plots use). */
export interface ChartText {
  readonly text: string;
  readonly x: number;
  readonly y: number;
  readonly box: Box;
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** Every `<text class="...">` of a class, in document order. */
export function textsOfClass(svg: string, cls: string): ChartText[] {
  const out: ChartText[] = [];
  const re = new RegExp(`<text class="${cls}" x="([-\\d.]+)" y="([-\\d.]+)"(?: text-anchor="(\\w+)")? font-size="([\\d.]+)"([^>]*)>([^<]*)</text>`, 'g');
  for (const m of svg.matchAll(re)) {
    const [, xs, ys, anchor = 'start', size, rest, raw] = m;
    const text = unescape(raw!);
    const x = Number(xs);
    const y = Number(ys);
    const fontSize = Number(size);
    const width = textWidth(text, fontSize, rest!.includes('font-weight="bold"'));
    const x0 = anchor === 'start' ? x : anchor === 'end' ? x - width : x - width / 2;
    out.push({ text, x, y, box: { x0, y0: y - fontSize, x1: x0 + width, y1: y + 2 } });
  }
  return out;
}

/** Centres of the point markers (circles, diamonds, stars, squares carry a `<title>`). */
export function markerCentres(svg: string): { label: string; x: number; y: number }[] {
  const out: { label: string; x: number; y: number }[] = [];
  for (const m of svg.matchAll(/<circle cx="([-\d.]+)" cy="([-\d.]+)"[^>]*><title>([^<]*)<\/title>/g)) out.push({ label: unescape(m[3]!), x: Number(m[1]), y: Number(m[2]) });
  for (const m of svg.matchAll(/<polygon points="([^"]+)"[^>]*><title>([^<]*)<\/title>/g)) {
    const pts = m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    out.push({ label: unescape(m[2]!), x: pts.reduce((s, p) => s + p[0], 0) / pts.length, y: pts.reduce((s, p) => s + p[1], 0) / pts.length });
  }
  return out;
}

/** The straight segments of every `<path d="M..L..">` drawn with a stroke colour. */
export function pathSegments(svg: string, stroke?: string): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (const m of svg.matchAll(/<path d="([^"]+)" fill="none" stroke="([^"]+)"/g)) {
    if (stroke && m[2] !== stroke) continue;
    const pts = [...m[1]!.matchAll(/[ML]([-\d.]+),([-\d.]+)/g)].map((p) => [Number(p[1]), Number(p[2])] as const);
    for (let k = 1; k < pts.length; k++) out.push([pts[k - 1]![0], pts[k - 1]![1], pts[k]![0], pts[k]![1]]);
  }
  return out;
}

/** Width and height of a PNG, from its IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
