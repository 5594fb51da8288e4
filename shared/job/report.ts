import type { ResultDocument } from './documents.js';
import type { Metric } from './model.js';

/** Input arrays longer than this are shown by their first entries and their length. */
const SHOWN_ARRAY = 12;
/** Key numbers listed in the report (a 100,000-option job's metrics stop at 201 anyway). */
const SHOWN_METRICS = 200;

/**
 * A job's report, `report.html` beside `result.json`: the chart, the key numbers (the
 * job's `model_metrics` rows) and the inputs the model used, for a person opening the job
 * folder in a browser, from the bucket or the local folder. One self-contained page: the
 * chart inline, styles inline, no script and nothing fetched from anywhere.
 * @param document the job's result document (completed or failed)
 * @param chart the chart's SVG document, if the job has one
 * @param metrics the job's metric rows
 * @returns an HTML document
 */
export function jobReportHtml(document: ResultDocument, chart: string | undefined, metrics: readonly Metric[]): string {
  const title = `${document.model} ${document.job_id ?? '(no job_id)'}: ${document.status}`;
  const sections: string[] = [];
  sections.push(
    `<h1>${esc(document.model)} <code>${esc(document.job_id ?? '(no job_id)')}</code> <span class="${document.status}">${esc(document.status)}</span></h1>`,
    `<p class="when">started ${esc(document.started_at)} · finished ${esc(document.finished_at)} · ${document.duration_ms.toFixed(0)} ms · <a href="result.json">result.json</a>${chart ? ' · <a href="chart.svg">chart.svg</a>' : ''}</p>`,
  );
  if (document.status === 'failed') {
    sections.push(`<section class="error"><h2>Error: ${esc(document.error.code)}</h2><p>${esc(document.error.message)}</p></section>`);
  } else {
    const warnings = (document.result as { warnings?: unknown }).warnings;
    if (Array.isArray(warnings) && warnings.length > 0) {
      sections.push(`<section class="warning"><h2>Warnings</h2><ul>${warnings.map((w) => `<li>${esc(String(w))}</li>`).join('')}</ul></section>`);
    }
    if (chart) sections.push(`<figure>${stripXmlProlog(chart)}</figure>`);
    if (metrics.length > 0) {
      const rows = metrics.slice(0, SHOWN_METRICS).map((m) => `<tr><td>${esc(m.metric)}</td><td>${esc(m.symbol ?? '')}</td><td class="num">${esc(formatNumber(m.value))}</td></tr>`);
      const more = metrics.length > SHOWN_METRICS ? `<p>${metrics.length - SHOWN_METRICS} more in metrics.json.</p>` : '';
      sections.push(`<section><h2>Key numbers</h2><table><thead><tr><th>metric</th><th>symbol</th><th>value</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}</section>`);
    }
    const inputs = flatten(document.inputs);
    sections.push(
      `<section><h2>Inputs</h2><table><tbody>${inputs.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="value">${esc(v)}</td></tr>`).join('')}</tbody></table></section>`,
    );
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1680px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
.completed { color: #1b7f3a; } .failed { color: #b22222; }
.when { color: #555; font-size: 13px; }
figure { margin: 0; overflow-x: auto; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border-bottom: 1px solid #e3e3e3; padding: 4px 10px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.value { font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-word; max-width: 900px; }
.error, .warning { border-left: 4px solid #b22222; padding: 4px 14px; background: #fff5f5; }
.warning { border-color: #d98c00; background: #fffaf0; }
</style>
</head>
<body>
${sections.join('\n')}
</body>
</html>
`;
}

/** Nested inputs as dotted keys and short readable values. */
function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value === null || typeof value !== 'object') return [[prefix || '(value)', formatValue(value)]];
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const shown = value.slice(0, SHOWN_ARRAY).map(formatValue).join(', ');
      return [[prefix, value.length > SHOWN_ARRAY ? `[${shown}, … ${value.length} in all]` : `[${shown}]`]];
    }
    if (value.length > SHOWN_ARRAY) return [[prefix, `${value.length} entries (see result.json)`]];
    return value.flatMap((v, i) => flatten(v, `${prefix}[${i}]`));
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return [[prefix, '{}']];
  return entries.flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

function formatValue(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-4 || a >= 1e9) ? v.toExponential(6) : String(Number(v.toPrecision(7)));
}

function stripXmlProlog(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
