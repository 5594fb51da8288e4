import { promises as fs } from 'node:fs';
import type { PriceHistory } from './history.js';
import { historiesFromRows, type PriceRow, type PriceSource } from './priceSource.js';

const REQUIRED_COLUMNS = ['date', 'symbol', 'close', 'adj_close'] as const;

/**
 * Prices from a CSV with header `date,symbol,open,high,low,close,adj_close,volume`
 * (FIXTURE_PRICES), plus any rows that a local `ingest` loaded: those come from
 * `extraRows` and win over the CSV for the same symbol and date.
 */
export class FixturePriceSource implements PriceSource {
  private parsed?: Promise<PriceRow[]>;

  constructor(
    private readonly csvPath: string,
    private readonly extraRows: (symbols: readonly string[], start: string, end: string) => Promise<PriceRow[]> = async () => [],
  ) {}

  async histories(symbols: readonly string[], start: string, end: string): Promise<PriceHistory[]> {
    this.parsed ??= fs.readFile(this.csvPath, 'utf8').then((text) => parsePriceCsv(text, this.csvPath));
    const [csvRows, ingested] = await Promise.all([this.parsed, this.extraRows(symbols, start, end)]);
    return historiesFromRows([...csvRows, ...ingested], symbols, start, end, `the fixture prices (${this.csvPath})`);
  }
}

/** Parses the fixture CSV; empty cells are nulls. Throws naming the line of a malformed row. */
export function parsePriceCsv(text: string, name: string): PriceRow[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0].split(',').map((h) => h.trim());
  const index = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof REQUIRED_COLUMNS)[number], number>;
  for (const column of REQUIRED_COLUMNS) {
    if (index[column] < 0) throw new Error(`${name}: the header has no "${column}" column (expected date,symbol,open,high,low,close,adj_close,volume).`);
  }
  const rows: PriceRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const cells = line.split(',');
    const date = cells[index.date];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`${name}: line ${i + 1} has no ISO date.`);
    rows.push({ date, symbol: cells[index.symbol], close: numberOrNull(cells[index.close]), adj_close: numberOrNull(cells[index.adj_close]) });
  }
  return rows;
}

function numberOrNull(cell: string | undefined): number | null {
  if (cell === undefined || cell.trim() === '') return null;
  const value = Number(cell);
  return Number.isFinite(value) ? value : null;
}
