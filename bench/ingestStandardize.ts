// Throughput of vendor-row validation (zod) in ingestion, against a hand-written check of
// the same rules, to show what the schema costs per row. Run: npx tsx bench/ingestStandardize.ts
import { readFileSync } from 'node:fs';
import type { CandidateBar } from '../shared/ingest/ohlcvRow.js';
import { standardizeBars } from '../shared/ingest/standardize.js';

type EodRow = { date: string; open: number; high: number; low: number; close: number; adjusted_close: number; volume: number };
const recorded = JSON.parse(readFileSync(new URL('../fixtures/vendors/eodhd/eod-AAPL.US.json', import.meta.url), 'utf8')) as EodRow[];
const tdRecorded = JSON.parse(readFileSync(new URL('../fixtures/vendors/twelvedata/time_series-AAPL.json', import.meta.url), 'utf8')) as {
  values: Record<string, string>[];
};

// 80 copies of the recorded half year: about 10,000 bars, two Twelve Data calls' worth.
const copies = 80;
const shift = (date: string, years: number) => `${Number(date.slice(0, 4)) - years}${date.slice(4)}`;
const eodBars: CandidateBar[] = [];
const tdBars: CandidateBar[] = [];
for (let k = 0; k < copies; k++) {
  // Whole leap cycles back, so that 2024-02-29 stays a calendar date and every copy is valid.
  const years = 4 * k;
  for (const r of recorded) eodBars.push({ date: shift(r.date, years), open: r.open, high: r.high, low: r.low, close: r.close, adj_close: r.adjusted_close, volume: r.volume });
  for (const v of tdRecorded.values) tdBars.push({ date: shift(v.datetime, years), open: v.open, high: v.high, low: v.low, close: v.close, adj_close: null, volume: v.volume });
}
const context = { symbol: 'AAPL', source: 'eodhd' as const, ingestedAt: new Date().toISOString(), start: '1900-01-01', end: '2100-01-01' };

function handWritten(bars: readonly CandidateBar[]): number {
  let ok = 0;
  for (const b of bars) {
    const n = (v: unknown) => (typeof v === 'string' ? Number(v) : (v as number));
    const close = n(b.close);
    const high = n(b.high);
    const low = n(b.low);
    if (typeof b.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(b.date) && close > 0 && high >= low) ok++;
  }
  return ok;
}

function time(label: string, repeat: number, f: () => unknown): number {
  f(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < repeat; i++) f();
  const ms = (performance.now() - t0) / repeat;
  console.log(`${label.padEnd(44)} ${ms.toFixed(2).padStart(8)} ms`);
  return ms;
}

const rows = eodBars.length;
console.log(`standardizing ${rows} daily bars (EODHD numbers) and ${tdBars.length} (Twelve Data strings)`);
const zodEod = time('standardizeBars, EODHD', 5, () => standardizeBars(eodBars, context));
const zodTd = time('standardizeBars, Twelve Data', 5, () => standardizeBars(tdBars, { ...context, source: 'twelvedata' }));
const plain = time('hand-written checks only (lower bound)', 5, () => handWritten(eodBars));
const rowsPerSecond = Math.round(rows / (zodEod / 1000));
console.log(`=> ${rowsPerSecond.toLocaleString('en-US')} rows/s; the zod schema costs ${(zodEod / plain).toFixed(1)}x the bare checks`);
console.log(
  `BENCH_JSON ${JSON.stringify({ rows, standardize_eodhd_ms: zodEod, standardize_twelvedata_ms: zodTd, handwritten_ms: plain, rows_per_second: rowsPerSecond, zod_over_handwritten: zodEod / plain })}`,
);
