/**
 * Stand-in for the bundled CLI while dist/cli/job.js does not exist: reads a price CSV
 * (`date,symbol,open,high,low,close,adj_close,volume`) and a job, runs the Markowitz model
 * with the same context shape the runner gives it, and writes the result document to stdout.
 * Usage: npx tsx bench/markowitz_entry.ts <prices.csv> <job.json>
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../shared/config.js';
import { JobError } from '../shared/job/errors.js';
import type { ModelContext } from '../shared/job/model.js';
import { createLogger } from '../shared/log.js';
import { markowitzModel } from '../shared/models/markowitz/job.js';
import type { PriceHistory } from '../shared/prices/history.js';

const [csvPath, jobPath] = process.argv.slice(2);
if (!csvPath || !jobPath) {
  process.stderr.write('usage: markowitz_entry <prices.csv> <job.json>\n');
  process.exit(2);
}
const started = performance.now();
const job = JSON.parse(readFileSync(jobPath, 'utf8')) as { job_id: string; symbols: string[]; start: string; end: string; params: unknown };
const wanted = new Set(job.symbols);
const bySymbol = new Map<string, { dates: string[]; prices: number[] }>();
const text = readFileSync(csvPath, 'utf8');
let lineStart = text.indexOf('\n') + 1;
while (lineStart < text.length) {
  let lineEnd = text.indexOf('\n', lineStart);
  if (lineEnd < 0) lineEnd = text.length;
  const f = text.slice(lineStart, lineEnd).split(',');
  lineStart = lineEnd + 1;
  if (f.length < 7) continue;
  const [date, symbol] = f;
  if (!wanted.has(symbol) || date < job.start || date > job.end) continue;
  const adj = f[6] === '' ? Number(f[5]) : Number(f[6]);
  let h = bySymbol.get(symbol);
  if (!h) bySymbol.set(symbol, (h = { dates: [], prices: [] }));
  h.dates.push(date);
  h.prices.push(adj);
}
const noop = () => {};
const context: ModelContext = {
  async history(symbols) {
    return symbols.map((s): PriceHistory => {
      const h = bySymbol.get(s);
      if (!h) throw new JobError('unknown_symbol', `${s} has no prices between ${job.start} and ${job.end}.`);
      return { symbol: s, dates: h.dates, prices: h.prices };
    });
  },
  log: createLogger('ERROR', noop),
  config: loadConfig({}),
  warehouse: {
    insertRows: () => Promise.reject(new Error('no warehouse in the bench')),
    upsertRows: () => Promise.reject(new Error('no warehouse in the bench')),
    mergeStaged: () => Promise.reject(new Error('no warehouse in the bench')),
    queryBySymbols: () => Promise.reject(new Error('no warehouse in the bench')),
  },
  secrets: { get: () => Promise.reject(new Error('no secrets in the bench')) },
};
const params = markowitzModel.params.parse(job.params);
const output = await markowitzModel.run({ ...job, params }, context);
const document = {
  job_id: job.job_id,
  model: 'markowitz',
  status: 'completed',
  duration_ms: performance.now() - started,
  inputs: output.inputs,
  result: output.result,
};
process.stdout.write(JSON.stringify(document) + '\n');
process.stderr.write(`chart ${output.chart?.length ?? 0} bytes, ${output.metrics.length} metrics\n`);
