import { describe, expect, it } from 'vitest';
import type { CandidateAction, CandidateBar } from '../../shared/ingest/ohlcvRow.js';
import { standardizeActions, standardizeBars } from '../../shared/ingest/standardize.js';
import { TABLES } from '../../shared/warehouse/schemas.js';
import { vendorFixture } from './vendorReplayServer.js';

const context = { symbol: 'AAPL', source: 'eodhd' as const, ingestedAt: '2024-07-01T06:00:00.000Z', start: '2024-01-01', end: '2024-12-31' };

type EodRow = { date: string; open: number; high: number; low: number; close: number; adjusted_close: number; volume: number };
const asCandidates = (rows: EodRow[]): CandidateBar[] =>
  rows.map((r) => ({ date: r.date, open: r.open, high: r.high, low: r.low, close: r.close, adj_close: r.adjusted_close, volume: r.volume }));

describe('standardizeBars', () => {
  it('turns an EODHD response into rows with exactly the eq_ohlcv columns, values unchanged', () => {
    const eod = vendorFixture('eodhd', 'eod-AAPL.US.json') as EodRow[];
    const { rows, rejected } = standardizeBars(asCandidates(eod), context);
    expect(rejected).toEqual([]);
    expect(rows).toHaveLength(eod.length);
    expect(Object.keys(rows[0]).sort()).toEqual(TABLES.eq_ohlcv.columns.map((c) => c.name).sort());
    expect(rows[0]).toEqual({
      date: eod[0].date,
      symbol: 'AAPL',
      open: eod[0].open,
      high: eod[0].high,
      low: eod[0].low,
      close: eod[0].close,
      adj_close: eod[0].adjusted_close,
      volume: eod[0].volume,
      source: 'eodhd',
      ingested_at: '2024-07-01T06:00:00.000Z',
    });
  });

  it('reports each malformed bar with its date and reason and does not store it', () => {
    const defects = vendorFixture('eodhd', 'eod-AAPL.US-defects.json') as EodRow[];
    const { rows, rejected } = standardizeBars(asCandidates(defects), context);
    // 22 bars sent: 20 days, an impossible 2024-02-30, and 2024-01-23 a second time with another close.
    expect(rejected).toEqual([
      { symbol: 'AAPL', date: '2024-01-05', reason: 'close: missing' },
      { symbol: 'AAPL', date: '2024-01-09', reason: 'low: must be a positive price' },
      { symbol: 'AAPL', date: '2024-01-11', reason: 'high: high is below low' },
      { symbol: 'AAPL', date: '2024-02-30', reason: 'date: not a calendar date' },
      { symbol: 'AAPL', date: '2024-01-23', reason: 'a second, different bar for this date (the first was kept)' },
    ]);
    const dates = rows.map((r) => r.date);
    expect(rows).toHaveLength(17);
    expect(dates).not.toContain('2024-01-05');
    expect(dates).not.toContain('2024-01-09');
    expect(dates).not.toContain('2024-01-11');
    expect(new Set(dates).size).toBe(dates.length);
    expect(rows.find((r) => r.date === '2024-01-23')?.close).toBe(198.02);
  });

  it('reads Twelve Data strings as numbers, sorts newest-first responses oldest first, and keeps a missing volume as null', () => {
    const ts = vendorFixture('twelvedata', 'time_series-EUR_USD.json') as { values: Record<string, string>[] };
    const candidates: CandidateBar[] = ts.values.map((v) => ({ date: v.datetime, open: v.open, high: v.high, low: v.low, close: v.close, adj_close: null, volume: v.volume }));
    const { rows, rejected } = standardizeBars(candidates, { ...context, symbol: 'EURUSD', source: 'twelvedata' });
    expect(rejected).toEqual([]);
    expect(rows[0].date < rows[rows.length - 1].date).toBe(true);
    const last = ts.values[0];
    expect(rows.at(-1)).toMatchObject({ date: last.datetime, close: Number(last.close), adj_close: null, volume: null, source: 'twelvedata' });
    expect(typeof rows[0].open).toBe('number');
  });

  it('drops bars outside the window without reporting them', () => {
    const eod = vendorFixture('eodhd', 'eod-MSFT.US.json') as EodRow[];
    const { rows, rejected } = standardizeBars(asCandidates(eod), { ...context, start: '2024-03-01', end: '2024-03-31' });
    expect(rejected).toEqual([]);
    expect(rows.map((r) => r.date)).toEqual(eod.filter((r) => r.date >= '2024-03-01' && r.date <= '2024-03-31').map((r) => r.date));
  });

  it('collapses an identical repeat of a bar silently', () => {
    const bar = { date: '2024-01-02', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.4, volume: 10 };
    const { rows, rejected } = standardizeBars([bar, { ...bar }], context);
    expect(rows).toHaveLength(1);
    expect(rejected).toEqual([]);
  });

  it.each([
    [{ close: 0 }, 'close: must be a positive price'],
    [{ close: 'abc' }, 'close: not a number'],
    [{ volume: -1 }, 'volume: must not be negative'],
    [{ date: '02/01/2024' }, 'date: not a YYYY-MM-DD date'],
    [{ date: undefined }, 'date: missing'],
  ])('rejects %o with "%s"', (change, reason) => {
    const bar = { date: '2024-01-02', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: null, volume: 10, ...change };
    const { rows, rejected } = standardizeBars([bar], context);
    expect(rows).toEqual([]);
    expect(rejected[0].reason).toBe(reason);
  });
});

describe('standardizeBars: the fast path for JSON numbers', () => {
  it('gives exactly what the schema gives, valid and malformed bars alike (the same bars as strings take the schema)', () => {
    const bars: CandidateBar[] = [
      ...asCandidates(vendorFixture('eodhd', 'eod-AAPL.US.json') as EodRow[]),
      ...asCandidates(vendorFixture('eodhd', 'eod-AAPL.US-defects.json') as EodRow[]).map((b) => ({ ...b, date: String(b.date).replace('2024-01', '2024-07') })),
      { date: '2024-02-29', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: null, volume: 0 },
      { date: '2023-02-29', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.4, volume: 1 },
      { date: '2024-04-31', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.4, volume: 1 },
      { date: '2024-08-01', open: 1, high: 2, low: 0.5, close: 0, adj_close: 1.4, volume: 1 },
      { date: '2024-08-02', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.4, volume: -1 },
      { date: '2024-08-05', open: Number.NaN, high: 2, low: 0.5, close: 1.5, adj_close: 1.4, volume: 1 },
      { date: '2024-08-06', open: 1, high: 0.5, low: 2, close: 1.5, adj_close: 1.4, volume: 1 },
      { date: '2024-08-07', open: undefined, high: undefined, low: undefined, close: 7, adj_close: undefined, volume: undefined },
    ];
    const asText = (v: unknown) => (typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : String(v)) : v);
    const viaSchema = bars.map((b) => ({ date: b.date, open: asText(b.open), high: asText(b.high), low: asText(b.low), close: asText(b.close), adj_close: asText(b.adj_close), volume: asText(b.volume) }));
    const fast = standardizeBars(bars, context);
    const schema = standardizeBars(viaSchema, context);
    expect(fast.rows).toEqual(schema.rows);
    expect(fast.rejected.map((r) => [r.date, r.reason])).toEqual(schema.rejected.map((r) => [r.date, r.reason]));
    expect(fast.rows.length).toBeGreaterThan(100);
    expect(fast.rejected.length).toBeGreaterThanOrEqual(9);
  });
});

describe('standardizeActions', () => {
  it('stores a dividend amount and a split as new shares per old share', () => {
    const actions: CandidateAction[] = [
      { date: '2024-06-10', action: 'split', value: '10.000000/1.000000' },
      { date: '2020-08-31', action: 'split', value: '4.000000/1.000000' },
      { date: '2024-02-09', action: 'dividend', value: 0.24 },
      { date: '2024-03-01', action: 'split', value: '1.000000/8.000000' },
    ];
    const { rows, rejected } = standardizeActions(actions, { ...context, start: '2020-01-01' });
    expect(rejected).toEqual([]);
    expect(Object.keys(rows[0]).sort()).toEqual(TABLES.corporate_actions.columns.map((c) => c.name).sort());
    expect(rows.map((r) => [r.date, r.action, r.amount, r.split_ratio])).toEqual([
      ['2020-08-31', 'split', null, 4],
      ['2024-02-09', 'dividend', 0.24, null],
      ['2024-03-01', 'split', null, 0.125],
      ['2024-06-10', 'split', null, 10],
    ]);
  });

  it('reports a malformed action and keeps the rest', () => {
    const { rows, rejected } = standardizeActions(
      [
        { date: '2024-02-09', action: 'dividend', value: -0.24 },
        { date: '2024-06-10', action: 'split', value: '10/0' },
        { date: '2024-05-10', action: 'dividend', value: 0.25 },
      ],
      context,
    );
    expect(rows).toHaveLength(1);
    expect(rejected.map((r) => [r.date, r.reason])).toEqual([
      ['2024-02-09', 'dividend amount: must be a positive price'],
      ['2024-06-10', 'split ratio: has a zero side'],
    ]);
  });
});
