import { describe, expect, it } from 'vitest';
import { EodhdClient } from '../../shared/ingest/eodhd.js';
import { SymbolNotFoundError, SymbolNotInPlanError, SymbolWithoutDataError } from '../../shared/ingest/priceVendor.js';
import { standardizeActions, standardizeBars, type StandardizeContext } from '../../shared/ingest/standardize.js';
import { TwelveDataClient } from '../../shared/ingest/twelveData.js';
import { VendorHttp } from '../../shared/ingest/vendorHttp.js';
import { JobError } from '../../shared/job/errors.js';
import { vendorSamplesAvailable } from '../support/vendorSamples.js';
import { useReplayServer, vendorFixture, vendorText } from './vendorReplayServer.js';

// Every shape here is a real recorded vendor response (../shared/data/vendor-samples/, sources
// in fixtures/vendors/README.md), served over HTTP as the vendor sent it.

const replay = useReplayServer();
const http = (vendor: string) => new VendorHttp({ vendor, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
const eodhd = () => new EodhdClient({ baseUrl: `${replay.current.url}/api`, apiKey: 'k-eodhd-rec-1', http: http('EODHD') });
const twelveData = () => new TwelveDataClient({ baseUrl: `${replay.current.url}/td`, apiKey: 'k-td-rec-1', http: http('Twelve Data') });
const caught = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
const html = { 'content-type': 'text/html; charset=UTF-8' };
const context = (symbol: string, start = '1900-01-01', end = '2100-12-31'): StandardizeContext => ({ symbol, source: 'eodhd', ingestedAt: '2026-12-01T00:00:00.000Z', start, end });

type EodRow = { date: string; open: number; close: number; adjusted_close: number; volume: number };

describe.skipIf(!vendorSamplesAvailable)('EODHD, recorded', () => {
  it('AAPL.US across the 7-for-1 split of 2014-06-09: raw closes as traded, adjusted_close continuous, every row kept', async () => {
    const recorded = vendorFixture('eodhd', 'recorded/eod-AAPL.US.2014-05-01_2014-07-31.json') as EodRow[];
    replay.current.route(() => ({ body: recorded }));
    const { rows, rejected, placeholders } = standardizeBars(await eodhd().dailyBars('AAPL.US', '2014-05-01', '2014-07-31'), context('AAPL'));
    expect(rejected).toEqual([]);
    expect(placeholders).toBe(0);
    expect(rows).toHaveLength(recorded.length);
    const before = rows.find((r) => r.date === '2014-06-06');
    const after = rows.find((r) => r.date === '2014-06-09');
    expect(before?.close).toBe(645.57);
    expect(after?.close).toBe(93.7);
    // The raw close drops 7x; the adjusted series does not.
    expect((before?.adj_close ?? 0) / (after?.adj_close ?? 1)).toBeGreaterThan(0.9);
    expect((before?.adj_close ?? 0) / (after?.adj_close ?? 1)).toBeLessThan(1.1);
  });

  it.each([
    ['eod-AAPL.US.from-2016-01-01.json', 'AAPL'],
    ['eod-BHP.AU.2025-07-01_2025-10-03.json', 'BHP.AU'],
    ['eod-CEZ.PR.json', 'CEZ.PR'],
    ['eod-AAPL.US.docs-example.json', 'AAPL'],
  ])('%s: every row parses exactly', async (file, symbol) => {
    const recorded = vendorFixture('eodhd', `recorded/${file}`) as EodRow[];
    replay.current.route(() => ({ body: recorded }));
    const { rows, rejected } = standardizeBars(await eodhd().dailyBars('X.US', '1900-01-01', '2100-12-31'), context(symbol));
    expect(rejected).toEqual([]);
    expect(rows.map((r) => [r.date, r.open, r.close, r.adj_close, r.volume])).toEqual(
      recorded.map((r) => [r.date, r.open, r.close, r.adjusted_close, r.volume]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  });

  it('integer prices (CEZ.PR, CZK) stay integers', async () => {
    replay.current.route(() => ({ body: vendorFixture('eodhd', 'recorded/eod-CEZ.PR.json') }));
    const { rows } = standardizeBars(await eodhd().dailyBars('CEZ.PR', '2026-09-01', '2026-09-01'), context('CEZ.PR', '2026-09-01', '2026-09-01'));
    expect(rows).toMatchObject([{ date: '2026-09-01', open: 1380, high: 1384, low: 1359, close: 1372, adj_close: 1372, volume: 65776 }]);
  });

  it('an all-zero placeholder bar (TFG.JSE 2018-05-31) is counted, neither stored nor reported as malformed', async () => {
    const recorded = vendorFixture('eodhd', 'recorded/eod-TFG.JSE.from-2018-02-04.json') as EodRow[];
    expect(recorded.find((r) => r.date === '2018-05-31')).toEqual({ date: '2018-05-31', open: 0, high: 0, low: 0, close: 0, adjusted_close: 0, volume: 0 });
    replay.current.route(() => ({ body: recorded }));
    const { rows, rejected, placeholders } = standardizeBars(await eodhd().dailyBars('TFG.JSE', '2018-02-04', '2018-07-17'), context('TFG.JSE'));
    expect(placeholders).toBe(1);
    expect(rejected).toEqual([]);
    expect(rows).toHaveLength(recorded.length - 1);
    expect(rows.map((r) => r.date)).not.toContain('2018-05-31');
  });

  it('"Ticker Not Found" as plain text with HTTP 404 (text/html) is an unknown symbol', async () => {
    replay.current.route(() => ({ status: 404, body: vendorText('eodhd', 'recorded/error-404-ticker-not-found.txt'), headers: html }));
    const error = await caught(eodhd().dailyBars('J055.JSE', '2018-02-04', '2018-07-17'));
    expect(error).toBeInstanceOf(SymbolNotFoundError);
    expect((error as Error).message).toBe('EODHD does not know the symbol J055.JSE (Ticker Not Found).');
  });

  it.each([
    ['recorded/error-401-unauthenticated.txt', 'text'],
    ['recorded/error-401-docs-example.json', 'json'],
  ])('a 401 (%s, %s) is a rejected key naming EODHD_API_KEY', async (file, kind) => {
    const body = kind === 'text' ? vendorText('eodhd', file) : vendorFixture('eodhd', file);
    replay.current.route(() => ({ status: 401, body, headers: kind === 'text' ? html : {} }));
    const error = await caught(eodhd().dailyBars('BHP.AU', '2025-07-01', '2025-10-03'));
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('internal');
    expect((error as JobError).message).toContain('EODHD_API_KEY');
    expect(replay.current.requests).toHaveLength(1);
  });

  it('dividends with null declarationDate, recordDate and period and integer values (CEZ.PR) all load', async () => {
    const recorded = vendorFixture('eodhd', 'recorded/div-CEZ.PR.json') as { date: string; value: number; unadjustedValue: number; declarationDate: null }[];
    expect(recorded.every((d) => d.declarationDate === null)).toBe(true);
    replay.current.route((req) => (req.path.startsWith('/api/div/') ? { body: recorded } : { body: [] }));
    const { rows, rejected } = standardizeActions(await eodhd().corporateActions('CEZ.PR', '2000-01-01', '2030-01-01'), context('CEZ.PR'));
    expect(rejected).toEqual([]);
    expect(rows.map((r) => [r.date, r.amount, r.unadjusted_amount])).toEqual(recorded.map((d) => [d.date, d.value, d.unadjustedValue]));
    expect(rows[0]).toMatchObject({ date: '2005-06-21', action: 'dividend', amount: 9, unadjusted_amount: 9, split_ratio: null });
  });

  it('keeps both dividend amounts: value (split-adjusted) and unadjustedValue (paid)', async () => {
    // AAPL's 2014-05-08 dividend, as the issue quotes EODHD: 0.47 adjusted for the 7-for-1 split (and the
    // 4-for-1 of 2020), 3.29 as paid. Recorded 2024-2026 AAPL dividends have no later split: both equal.
    const recorded = vendorFixture('eodhd', 'recorded/div-AAPL.US.json') as { date: string; value: number; unadjustedValue: number }[];
    const inline = { date: '2014-05-08', declarationDate: '2014-04-23', recordDate: '2014-05-12', paymentDate: '2014-05-15', period: 'Quarterly', value: 0.47, unadjustedValue: 3.29, currency: 'USD' };
    replay.current.route((req) => (req.path.startsWith('/api/div/') ? { body: [inline, ...recorded] } : { body: [] }));
    const { rows } = standardizeActions(await eodhd().corporateActions('AAPL.US', '2014-01-01', '2030-01-01'), context('AAPL'));
    expect(rows[0]).toMatchObject({ date: '2014-05-08', amount: 0.47, unadjusted_amount: 3.29 });
    expect(rows.slice(1).map((r) => [r.date, r.amount, r.unadjusted_amount])).toEqual(recorded.map((d) => [d.date, d.value, d.unadjustedValue]));
  });

  it('split ratios with escaped slashes, fractional and reverse (TLV.RO) are new/old', async () => {
    const text = vendorText('eodhd', 'recorded/splits-TLV.RO.json');
    expect(text).toContain('"1.000000\\/10.000000"');
    replay.current.route((req) => (req.path.startsWith('/api/splits/') ? { body: text, headers: { 'content-type': 'application/json' } } : { body: [] }));
    const { rows, rejected } = standardizeActions(await eodhd().corporateActions('TLV.RO', '2000-01-01', '2030-01-01'), context('TLV.RO'));
    expect(rejected).toEqual([]);
    const ratio = (date: string) => rows.find((r) => r.date === date)?.split_ratio;
    expect(ratio('2009-01-07')).toBe(0.1); // 1 new for 10 old: a reverse split
    expect(ratio('2011-05-18')).toBeCloseTo(1.2001, 12);
    expect(ratio('2008-05-14')).toBeCloseTo(1.68414, 12);
    expect(rows.every((r) => r.action === 'split' && r.amount === null && r.unadjusted_amount === null)).toBe(true);
    expect(rows).toHaveLength((JSON.parse(text) as unknown[]).length);
  });
});

describe.skipIf(!vendorSamplesAvailable)('Twelve Data, recorded', () => {
  type Ts = { values: Record<string, string>[] };
  const tdContext = (symbol: string): StandardizeContext => ({ ...context(symbol), source: 'twelvedata' });

  it('IBM: 30 bars newest first, strings with 5 decimals', async () => {
    const recorded = vendorFixture('twelvedata', 'recorded/time_series-IBM.json') as Ts;
    replay.current.route(() => ({ body: recorded }));
    const { rows, rejected } = standardizeBars(await twelveData().dailyBars('IBM', '2021-05-01', '2021-07-01'), tdContext('IBM'));
    expect(rejected).toEqual([]);
    expect(rows).toHaveLength(30);
    expect(rows.at(-1)).toMatchObject({ date: '2021-07-01', open: 146.96001, close: 146.84, volume: 2665427, adj_close: null });
  });

  it.each([
    ['time_series-AAPL.allfolio.json', true],
    ['time_series-AAPL.spel.json', true],
    ['time_series-EUR_USD.spel.json', false],
    ['time_series-BTC_USD.spel.json', false],
  ])('%s: every bar parses, numbers not padded, volume only where sent', async (file, hasVolume) => {
    const recorded = vendorFixture('twelvedata', `recorded/${file}`) as Ts;
    replay.current.route(() => ({ body: recorded }));
    const { rows, rejected } = standardizeBars(await twelveData().dailyBars('X', '2020-01-01', '2030-01-01'), tdContext('X'));
    expect(rejected).toEqual([]);
    const expected = recorded.values
      .map((v) => [v.datetime, Number(v.open), Number(v.high), Number(v.low), Number(v.close), hasVolume ? Number(v.volume) : null])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(rows.map((r) => [r.date, r.open, r.high, r.low, r.close, r.volume])).toEqual(expected);
  });

  it('crypto without volume and integers without decimals ("79500") load with volume null', async () => {
    replay.current.route(() => ({ body: vendorFixture('twelvedata', 'recorded/time_series-BTC_USD.spel.json') }));
    const { rows } = standardizeBars(await twelveData().dailyBars('BTC/USD', '2026-08-21', '2026-08-22'), tdContext('BTCUSD'));
    expect(rows[0]).toMatchObject({ date: '2026-08-21', high: 79500, volume: null });
    expect(rows[1]).toMatchObject({ low: 76500, volume: null });
  });

  it('a plan-gated symbol (HTTP 404 = code 404, "available starting with the Grow or Venture plan") is not an unknown symbol', async () => {
    const body = vendorFixture('twelvedata', 'recorded/error-404-plan-gated.json') as { message: string };
    replay.current.route(() => ({ status: 404, body }));
    const error = await caught(twelveData().dailyBars('XYZ', '2024-01-01', '2024-06-28'));
    expect(error).toBeInstanceOf(SymbolNotInPlanError);
    expect(error).not.toBeInstanceOf(SymbolNotFoundError);
    expect((error as SymbolNotInPlanError).vendorSaid).toBe(body.message);
    expect((error as Error).message).toContain('available starting with the Grow or Venture plan');
    expect(replay.current.requests).toHaveLength(1);
  });

  it('"Data not found" (HTTP 404) is no data for a known symbol, neither unknown nor plan-gated', async () => {
    replay.current.route(() => ({ status: 404, body: vendorFixture('twelvedata', 'recorded/error-404-data-not-found.json') }));
    const error = await caught(twelveData().dailyBars('SET100:SET', '2023-01-01', '2023-01-13'));
    expect(error).toBeInstanceOf(SymbolWithoutDataError);
    expect((error as SymbolWithoutDataError).vendorSaid).toBe('Data not found');
  });

  it('"**symbol** or **figi** parameter is missing or invalid" (HTTP 404) is an unknown symbol', async () => {
    replay.current.route(() => ({ status: 404, body: vendorFixture('twelvedata', 'recorded/error-404-symbol-or-figi.json') }));
    const error = await caught(twelveData().dailyBars('NOSUCH', '2024-01-01', '2024-06-28'));
    expect(error).toBeInstanceOf(SymbolNotFoundError);
  });

  it('the minute-credits 429 is retried, with the HTTP status 429 or 200', async () => {
    const body = vendorFixture('twelvedata', 'recorded/error-429-minute-credits.json');
    replay.current.route((_r, i) => (i === 0 ? { status: 429, body } : i === 1 ? { status: 200, body } : { body: vendorFixture('twelvedata', 'recorded/time_series-IBM.json') }));
    const bars = await twelveData().dailyBars('IBM', '2021-05-01', '2021-07-01');
    expect(bars).toHaveLength(30);
    expect(replay.current.requests).toHaveLength(3);
  });

  it('a 401 with the recorded wording is a rejected key; a 400 "No data is available" is no bars; another 400 is internal', async () => {
    replay.current.route(() => ({ status: 401, body: vendorFixture('twelvedata', 'recorded/error-401-apikey-2021.json') }));
    const rejectedKey = await caught(twelveData().dailyBars('IBM', '2021-05-01', '2021-07-01'));
    expect((rejectedKey as JobError).message).toContain('TWELVE_DATA_API_KEY');
    replay.current.route(() => ({ status: 400, body: vendorFixture('twelvedata', 'recorded/error-400-no-data.json') }));
    await expect(twelveData().dailyBars('IBM', '2021-07-03', '2021-07-04')).resolves.toEqual([]);
    replay.current.route(() => ({ status: 400, body: vendorFixture('twelvedata', 'recorded/error-400-invalid-interval.json') }));
    const other = await caught(twelveData().dailyBars('IBM', '2021-05-01', '2021-07-01'));
    expect(other).toBeInstanceOf(JobError);
    expect((other as JobError).code).toBe('internal');
    expect((other as JobError).message).toContain('Invalid **interval** provided');
  });
});
