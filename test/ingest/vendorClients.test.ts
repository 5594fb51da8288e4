import { describe, expect, it } from 'vitest';
import { JobError, TransientError } from '../../shared/job/errors.js';
import { EodhdClient } from '../../shared/ingest/eodhd.js';
import { SymbolNotFoundError } from '../../shared/ingest/priceVendor.js';
import { TwelveDataClient } from '../../shared/ingest/twelveData.js';
import { VendorHttp } from '../../shared/ingest/vendorHttp.js';
import { vendorSamplesAvailable } from '../support/vendorSamples.js';
import { useReplayServer, vendorFixture } from './vendorReplayServer.js';

const EODHD_KEY = 'eodhd-client-key-91f2';
const TD_KEY = 'td-client-key-44aa10';

const replay = useReplayServer();

const http = (vendor: string) => new VendorHttp({ vendor, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
const eodhd = () => new EodhdClient({ baseUrl: `${replay.current.url}/api/`, apiKey: EODHD_KEY, http: http('EODHD') });
const twelveData = () => new TwelveDataClient({ baseUrl: `${replay.current.url}/td`, apiKey: TD_KEY, http: http('Twelve Data') });

const caught = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('EodhdClient', () => {
  it('asks GET /eod/{SYMBOL} with api_token, fmt=json, from, to and period=d, and renames adjusted_close', async () => {
    const bars = await eodhd().dailyBars('AAPL.US', '2024-01-01', '2024-06-30');
    expect(replay.current.requests).toEqual([
      { method: 'GET', path: '/api/eod/AAPL.US', query: { api_token: EODHD_KEY, fmt: 'json', from: '2024-01-01', to: '2024-06-30', period: 'd' } },
    ]);
    const recorded = vendorFixture('eodhd', 'eod-AAPL.US.json') as Record<string, unknown>[];
    expect(bars).toHaveLength(recorded.length);
    const r = recorded[0];
    expect(bars[0]).toEqual({ date: r.date, open: r.open, high: r.high, low: r.low, close: r.close, adj_close: r.adjusted_close, volume: r.volume });
  });

  it('reads dividends from /div (value split-adjusted, unadjustedValue as paid) and splits from /splits (split text)', async () => {
    const actions = await eodhd().corporateActions('NVDA.US', '2024-01-01', '2024-06-30');
    expect(replay.current.requests.map((q) => [q.path, q.query])).toEqual([
      ['/api/div/NVDA.US', { api_token: EODHD_KEY, fmt: 'json', from: '2024-01-01', to: '2024-06-30' }],
      ['/api/splits/NVDA.US', { api_token: EODHD_KEY, fmt: 'json', from: '2024-01-01', to: '2024-06-30' }],
    ]);
    expect(actions).toEqual([
      { date: '2024-03-05', action: 'dividend', value: 0.004, unadjustedValue: 0.04 },
      { date: '2024-06-11', action: 'dividend', value: 0.01, unadjustedValue: 0.01 },
      { date: '2024-06-10', action: 'split', value: '10.000000/1.000000' },
    ]);
  });

  it('turns a 404 into SymbolNotFoundError for that symbol', async () => {
    const error = await caught(eodhd().dailyBars('NOSUCH.US', '2024-01-01', '2024-06-30'));
    expect(error).toBeInstanceOf(SymbolNotFoundError);
    expect((error as SymbolNotFoundError).vendorSymbol).toBe('NOSUCH.US');
    expect(replay.current.requests).toHaveLength(1);
  });

  it.each([401, 403])('turns HTTP %i into JobError internal naming EODHD_API_KEY, never its value', async (status) => {
    replay.current.route(() => ({ status, body: { message: `Unauthenticated token ${EODHD_KEY}` } }));
    const error = await caught(eodhd().dailyBars('AAPL.US', '2024-01-01', '2024-06-30'));
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('internal');
    expect((error as JobError).message).toContain('EODHD_API_KEY');
    expect((error as JobError).message).not.toContain(EODHD_KEY);
    expect(replay.current.requests).toHaveLength(1);
  });

  it('hands a spent daily quota (402) straight back as TransientError, without retrying in the job', async () => {
    replay.current.route(() => ({ status: 402, body: 'Payment Required' }));
    await expect(eodhd().dailyBars('AAPL.US', '2024-01-01', '2024-06-30')).rejects.toBeInstanceOf(TransientError);
    expect(replay.current.requests).toHaveLength(1);
  });

  it('retries a 200 that is not the documented array', async () => {
    replay.current.route((_req, i) => (i === 0 ? { body: '<html>maintenance</html>' } : undefined));
    const bars = await eodhd().dailyBars('MSFT.US', '2024-01-01', '2024-06-30');
    expect(bars.length).toBeGreaterThan(100);
    expect(replay.current.requests).toHaveLength(2);
  });
});

describe('TwelveDataClient', () => {
  it('asks GET /time_series with symbol, interval=1day, start_date, end_date + 1 day, outputsize=5000, format=JSON and apikey', async () => {
    await twelveData().dailyBars('EUR/USD', '2024-01-01', '2024-06-28');
    expect(replay.current.requests).toEqual([
      {
        method: 'GET',
        path: '/td/time_series',
        query: { symbol: 'EUR/USD', interval: '1day', start_date: '2024-01-01', end_date: '2024-06-29', outputsize: '5000', format: 'JSON', apikey: TD_KEY },
      },
    ]);
  });

  it('maps datetime to date, keeps the strings for standardization, and has no adjusted close', async () => {
    const bars = await twelveData().dailyBars('AAPL', '2024-01-01', '2024-06-28');
    const v = (vendorFixture('twelvedata', 'time_series-AAPL.json') as { values: Record<string, string>[] }).values[0];
    expect(bars[0]).toEqual({ date: v.datetime, open: v.open, high: v.high, low: v.low, close: v.close, adj_close: null, volume: v.volume });
  });

  it.skipIf(!vendorSamplesAvailable)('retries an error payload with code 429 sent as HTTP 200, then returns the bars', async () => {
    replay.current.route((_req, i) => (i === 0 ? { status: 200, body: vendorFixture('twelvedata', 'recorded/error-429-minute-credits.json') } : undefined));
    const bars = await twelveData().dailyBars('MSFT', '2024-01-01', '2024-06-28');
    expect(bars.length).toBeGreaterThan(100);
    expect(replay.current.requests).toHaveLength(2);
  });

  it('turns the recorded 404 "**symbol** or **figi** ... invalid" into SymbolNotFoundError', async () => {
    const error = await caught(twelveData().dailyBars('NOSUCH', '2024-01-01', '2024-06-28'));
    expect(error).toBeInstanceOf(SymbolNotFoundError);
    expect((error as Error).message).toContain('NOSUCH');
  });

  it.skipIf(!vendorSamplesAvailable)('reads "No data is available on the specified dates" as no bars, not as an unknown symbol', async () => {
    replay.current.route(() => ({ body: vendorFixture('twelvedata', 'recorded/error-400-no-data.json') }));
    await expect(twelveData().dailyBars('AAPL', '2024-01-01', '2024-01-01')).resolves.toEqual([]);
  });

  it.skipIf(!vendorSamplesAvailable)('turns code 401 into JobError internal naming TWELVE_DATA_API_KEY, never its value', async () => {
    replay.current.route(() => ({ status: 200, body: vendorFixture('twelvedata', 'recorded/error-401-apikey-2021.json') }));
    const error = await caught(twelveData().dailyBars('AAPL', '2024-01-01', '2024-06-28'));
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).message).toContain('TWELVE_DATA_API_KEY');
    expect((error as JobError).message).not.toContain(TD_KEY);
  });
});
