import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../shared/config.js';
import { createIngestModel, MAX_EXCHANGE_TICKERS, MAX_PER_SYMBOL_LISTED, type IngestParams } from '../../shared/ingest/job.js';
import { weekdaysBetween } from '../../shared/ingest/weekdays.js';
import { parseJob } from '../../shared/job/envelope.js';
import { JobError } from '../../shared/job/errors.js';
import type { Job, ModelContext, ModelOutput } from '../../shared/job/model.js';
import { createLogger } from '../../shared/log.js';
import { GcsObjectStore } from '../../shared/results/gcsObjectStore.js';
import { LocalObjectStore } from '../../shared/results/localObjectStore.js';
import type { ObjectStore } from '../../shared/results/objectStore.js';
import { BigQueryWarehouse } from '../../shared/warehouse/bigQueryWarehouse.js';
import { LocalWarehouse } from '../../shared/warehouse/localWarehouse.js';
import type { Warehouse } from '../../shared/warehouse/warehouse.js';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';
import { loopbackHasBar, startLoopbackVendor, type LoopbackVendor, type LoopbackVendorOptions } from '../support/loopbackVendor.js';

// The ingest job end to end against a loopback vendor that behaves like the real APIs
// (latency, 429 past a limit, Twelve Data's 5,000-point cap, EODHD's bulk endpoint).

const secrets = { get: async (name: string) => `key-for-${name}-3f9a` };
const model = createIngestModel({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, throttle: { firstPauseMs: 20, maxPauseMs: 500, maxThrottles: 30 } });
const tmp = (prefix: string) => mkdtempSync(path.join(tmpdir(), prefix));

let vendor: LoopbackVendor | undefined;
const open = async (options: LoopbackVendorOptions) => {
  await vendor?.close();
  vendor = await startLoopbackVendor(options);
  return vendor;
};
afterAll(() => vendor?.close());

interface Setup {
  readonly warehouse: Warehouse;
  readonly store: ObjectStore;
  readonly env?: Record<string, string>;
  readonly progress?: ModelContext['progress'];
}

async function ingest(symbols: string[], params: Record<string, unknown>, window: { start: string; end: string }, setup: Setup): Promise<{ output?: ModelOutput; error?: unknown; jobId: string }> {
  const context: ModelContext = {
    history: () => Promise.reject(new Error('ingest reads no history')),
    log: createLogger('ERROR', () => {}),
    config: configSchema.parse({ EODHD_BASE_URL: `${vendor!.url}/api`, TWELVE_DATA_BASE_URL: `${vendor!.url}/td`, ...setup.env }),
    warehouse: setup.warehouse,
    secrets,
    store: setup.store,
    progress: setup.progress,
  };
  const job: Job<IngestParams> = { job_id: `scale-${Math.random().toString(36).slice(2)}`, symbols, ...window, params: model.params.parse(params) };
  try {
    return { output: await model.run(job, context), jobId: job.job_id };
  } catch (error) {
    return { error, jobId: job.job_id };
  }
}

const localSetup = () => {
  const warehouse = new LocalWarehouse(tmp('ingest-wh-'), { raw: 'raw', curated: 'curated' });
  return { warehouse, store: new LocalObjectStore(tmp('ingest-bucket-')) };
};
const barsIn = (symbol: string, start: string, end: string) => weekdaysBetween(start, end).filter((d) => loopbackHasBar(symbol, d));

describe('Twelve Data paging', () => {
  it('a 20-year window past the 5,000-point cap is fetched in pages, newest first, until every bar of the window has landed', async () => {
    await open({ latencyMs: 1, maxPoints: 5000 });
    const setup = localSetup();
    const window = { start: '2004-01-01', end: '2023-12-31' };
    const { output, error } = await ingest(['AAPL'], { source: 'twelvedata' }, window, setup);
    expect(error).toBeUndefined();
    const expected = barsIn('AAPL', window.start, window.end);
    expect(expected.length).toBeGreaterThan(5000);
    const stored = (await setup.warehouse.readRows('eq_ohlcv')).map((r) => String(r.date)).sort();
    expect(stored).toEqual(expected);
    // Two pages: the second ends where the first's oldest bar is.
    const pages = vendor!.stats.log.filter((r) => r.path === '/td/time_series');
    expect(pages).toHaveLength(2);
    expect(pages[0]!.query).toMatchObject({ start_date: '2004-01-01', end_date: '2024-01-01', outputsize: '5000' });
    expect(pages[1]!.query.end_date).toBe(expected[expected.length - 5000]);
    expect(output?.result.per_symbol).toEqual({
      AAPL: { rows: expected.length, first_date: expected[0], last_date: expected.at(-1), weekdays_without_bar: weekdaysBetween(window.start, window.end).length - expected.length, placeholder_bars: 0 },
    });
  });
});

describe('concurrency under a rate limit', () => {
  it('fetches symbols concurrently, within INGEST_CONCURRENCY', async () => {
    await open({ latencyMs: 40 });
    const symbols = Array.from({ length: 16 }, (_, i) => `S${i}.US`);
    const { error } = await ingest(symbols, { corporate_actions: false }, { start: '2024-01-01', end: '2024-01-31' }, { ...localSetup(), env: { INGEST_CONCURRENCY: '6' } });
    expect(error).toBeUndefined();
    expect(vendor!.stats.maxInFlight).toBeGreaterThanOrEqual(4);
    expect(vendor!.stats.maxInFlight).toBeLessThanOrEqual(6);
  });

  it('a 429 past the vendor limit slows the client down; no symbol fails', async () => {
    // The vendor allows 8 requests a second; the client is configured far above that.
    await open({ latencyMs: 5, perMinute: 8, windowMs: 1000 });
    const setup = localSetup();
    const symbols = Array.from({ length: 24 }, (_, i) => `R${i}.US`);
    const window = { start: '2024-03-01', end: '2024-03-31' };
    const { output, error } = await ingest(symbols, { corporate_actions: false }, window, { ...setup, env: { EODHD_REQUESTS_PER_MINUTE: '5000' } });
    expect(error).toBeUndefined();
    expect(vendor!.stats.throttled).toBeGreaterThan(0);
    expect(output?.result.rate_limited_responses).toBe(vendor!.stats.throttled);
    expect(Object.keys(output?.result.per_symbol as object)).toHaveLength(24);
    const expected = symbols.reduce((n, s) => n + barsIn(s.replace('.US', ''), window.start, window.end).length, 0);
    expect(output?.result.rows_loaded).toBe(expected);
    // The budget shrank below what was configured.
    expect(output?.inputs.requests_per_minute).toBeLessThan(5000);
  });

  it('with Retry-After, waits what the vendor asks', async () => {
    await open({ latencyMs: 1, perMinute: 2, windowMs: 300, retryAfterSeconds: 0.3 });
    const started = Date.now();
    const { error } = await ingest(['A.US', 'B.US', 'C.US', 'D.US'], { corporate_actions: false }, { start: '2024-03-01', end: '2024-03-08' }, localSetup());
    expect(error).toBeUndefined();
    expect(vendor!.stats.throttled).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});

describe('params.exchange: a whole exchange day in one request', () => {
  it('asks the bulk endpoint once per weekday and loads every symbol of the exchange, with its data quality', async () => {
    await open({ latencyMs: 1, exchangeSymbols: 30 });
    const setup = localSetup();
    const window = { start: '2024-03-04', end: '2024-03-10' }; // Monday to Sunday
    const { output, error } = await ingest([], { exchange: 'us' }, window, setup);
    expect(error).toBeUndefined();
    const requests = vendor!.stats.log;
    expect(requests.map((r) => [r.path, r.query.date]).sort()).toEqual(['2024-03-04', '2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08'].map((d) => ['/api/eod-bulk-last-day/US', d]));
    const codes = Array.from({ length: 30 }, (_, i) => `T${String(i).padStart(4, '0')}`);
    const expected = codes.reduce((n, c) => n + barsIn(c, window.start, window.end).length, 0);
    expect(output?.result.rows_loaded).toBe(expected);
    expect((await setup.warehouse.readRows('eq_ohlcv')).length).toBe(expected);
    const perSymbol = output?.result.per_symbol as Record<string, { rows: number; weekdays_without_bar: number }>;
    expect(Object.keys(perSymbol).sort()).toEqual(codes.filter((c) => barsIn(c, window.start, window.end).length > 0));
    for (const c of Object.keys(perSymbol)) expect(perSymbol[c]).toMatchObject({ rows: barsIn(c, window.start, window.end).length, weekdays_without_bar: 5 - barsIn(c, window.start, window.end).length });
    expect(output?.inputs).toMatchObject({ exchange: 'US', corporate_actions: false });
  });

  it('with symbols, keeps only those of the exchange day', async () => {
    await open({ latencyMs: 1, exchangeSymbols: 30 });
    const setup = localSetup();
    const { output } = await ingest(['T0001.US', 'T0002'], { exchange: 'US' }, { start: '2024-03-04', end: '2024-03-05' }, setup);
    expect(new Set((await setup.warehouse.readRows('eq_ohlcv')).map((r) => r.symbol))).toEqual(new Set(['T0001', 'T0002']));
    expect(vendor!.stats.requests).toBe(2);
    expect(Object.keys(output?.result.per_symbol as object).sort()).toEqual(['T0001', 'T0002']);
  });

  it(`an exchange of more than ${MAX_PER_SYMBOL_LISTED.toLocaleString('en')} symbols: per_symbol lists those with fewer bars than the exchange's trading days, per_symbol.ndjson every symbol; metrics stay per listed symbol`, async () => {
    const tickers = MAX_PER_SYMBOL_LISTED + 500;
    await open({ latencyMs: 1, exchangeSymbols: tickers });
    const setup = localSetup();
    const window = { start: '2024-03-04', end: '2024-03-08' };
    const { output, error, jobId } = await ingest([], { exchange: 'US' }, window, setup);
    expect(error).toBeUndefined();
    const codes = Array.from({ length: tickers }, (_, i) => `T${String(i).padStart(4, '0')}`).filter((c) => barsIn(c, window.start, window.end).length > 0);
    // Every day of the window has bars of some symbol: all 5 are trading days.
    const gappy = codes.filter((c) => barsIn(c, window.start, window.end).length < 5);
    expect(gappy.length).toBeGreaterThan(20);
    const result = output!.result as Record<string, unknown>;
    expect(result).toMatchObject({ symbols_loaded: codes.length, per_symbol_complete: false, symbols_with_issues: gappy.length });
    const perSymbol = result.per_symbol as Record<string, { rows: number; weekdays_without_bar: number }>;
    expect(Object.keys(perSymbol)).toEqual(gappy);
    for (const c of gappy) expect(perSymbol[c]).toMatchObject({ rows: barsIn(c, window.start, window.end).length, weekdays_without_bar: 5 - barsIn(c, window.start, window.end).length });
    const name = `jobs/ingest/${jobId}/per_symbol.ndjson`;
    expect(result.per_symbol_object).toBe(setup.store.uri(name));
    const lines = (await setup.store.get(name))!.body.trim().split('\n').map((l) => JSON.parse(l) as { symbol: string; rows: number; weekdays_without_bar: number });
    expect(lines.map((l) => l.symbol)).toEqual(codes);
    for (const l of lines) expect(l).toMatchObject({ rows: barsIn(l.symbol, window.start, window.end).length, weekdays_without_bar: 5 - barsIn(l.symbol, window.start, window.end).length, placeholder_bars: 0 });
    expect(output!.metrics.filter((m) => m.metric.startsWith('per_symbol.')).map((m) => m.symbol)).toEqual(gappy);
    expect(output!.metrics.find((m) => m.metric === 'symbols_loaded')?.value).toBe(codes.length);
  });

  it(`an exchange day of more than ${MAX_EXCHANGE_TICKERS.toLocaleString('en')} tickers (MAX_EXCHANGE_TICKERS) is invalid_job naming the limit, and nothing is loaded`, async () => {
    // About 1 ticker in 97 has no bar on a given day: ~50,500 rows on the 5th. The 4th, a small
    // day, is fetched and staged first; it is not loaded either.
    await open({ latencyMs: 1, exchangeSymbols: MAX_EXCHANGE_TICKERS + 1000, exchangeSymbolsOn: (date) => (date === '2024-03-04' ? 100 : MAX_EXCHANGE_TICKERS + 1000) });
    const setup = localSetup();
    const { error, jobId } = await ingest([], { exchange: 'US' }, { start: '2024-03-04', end: '2024-03-05' }, setup);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('invalid_job');
    expect((error as JobError).message).toMatch(/^params\.exchange: EODHD lists 50,[1-9]\d\d tickers for US on 2024-03-05, more than the 50,000 a day .*\(MAX_EXCHANGE_TICKERS\); load this exchange by symbols instead/);
    expect(await setup.store.get(`staging/ingest/${jobId}/done/day-2024-03-04.json`)).not.toBeNull();
    expect(await setup.warehouse.readRows('eq_ohlcv')).toEqual([]);
  });

  it('no symbols without exchange is invalid_job; exchange is EODHD only and without corporate actions', async () => {
    await open({ latencyMs: 1 });
    const parsed = parseJob({ job_id: 'no-symbols', params: { source: 'eodhd' } }, model, '2024-06-01');
    const { error } = await ingest([...parsed.symbols], parsed.params, { start: parsed.start, end: parsed.end }, localSetup());
    expect((error as JobError).code).toBe('invalid_job');
    expect((error as JobError).message).toContain('unless params.exchange');
    expect(() => parseJob({ job_id: 'td-ex', params: { source: 'twelvedata', exchange: 'US' } }, model, '2024-06-01')).toThrow(/params.exchange: a whole exchange is loaded from EODHD only/);
    expect(() => parseJob({ job_id: 'ex-ca', params: { exchange: 'US', corporate_actions: true } }, model, '2024-06-01')).toThrow(/params.corporate_actions/);
    expect(() => parseJob({ job_id: 'ex-bad', params: { exchange: 'U S' } }, model, '2024-06-01')).toThrow(/params.exchange/);
    expect(vendor!.stats.requests).toBe(0);
  });
});

describe('progress', () => {
  it('reports progress by symbol, ending at 1', async () => {
    await open({ latencyMs: 1 });
    const reports: { fraction: number; detail?: Record<string, unknown> }[] = [];
    const symbols = Array.from({ length: 20 }, (_, i) => `P${i}.US`);
    await ingest(symbols, { corporate_actions: false }, { start: '2024-03-01', end: '2024-03-08' }, { ...localSetup(), progress: (fraction, detail) => reports.push({ fraction, detail }) });
    expect(reports).toHaveLength(20);
    expect(reports.at(-1)).toEqual({ fraction: 1, detail: { symbols_done: 20, symbols_total: 20 } });
    expect(reports.map((r) => r.fraction)).toEqual([...reports.map((r) => r.fraction)].sort((a, b) => a - b));
  });
});

describe('one load per table per job', () => {
  it('locally, each table file is rewritten once per job', async () => {
    await open({ latencyMs: 1 });
    const setup = localSetup();
    const symbols = Array.from({ length: 10 }, (_, i) => `L${i}.US`);
    const { error } = await ingest(symbols, {}, { start: '2023-01-01', end: '2023-12-31' }, setup);
    expect(error).toBeUndefined();
    expect(setup.warehouse.rewrites).toBe(2); // eq_ohlcv and corporate_actions
  });

  describe('in BigQuery (the REST stand-in)', () => {
    const fake = new FakeGoogleApis();
    const previousEmulator = process.env.STORAGE_EMULATOR_HOST;
    let base = '';
    beforeAll(async () => {
      base = await fake.start();
      process.env.STORAGE_EMULATOR_HOST = base;
    });
    afterAll(async () => {
      await fake.close();
      if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
    });

    it('a load job that fails ends the run naming the staging table; no MERGE runs, the checkpoints stay for the redelivery', async () => {
      await open({ latencyMs: 0 });
      const warehouse = new BigQueryWarehouse({ projectId: 'test-project', datasets: { raw: 'raw', curated: 'curated' }, location: fake.location, emulatorHost: base, maxRetries: 0 });
      const store = new GcsObjectStore('artifacts');
      const statementsBefore = fake.statements.length;
      fake.faults.push({ match: (r) => r.method === 'POST' && r.body.includes('"load"'), status: 400, times: 1 });
      const { error } = await ingest(['F1.US', 'F2.US'], { corporate_actions: false }, { start: '2024-01-01', end: '2024-03-31' }, { warehouse, store });
      fake.faults.length = 0;
      // Whether a 400 is retried is cloudErrors' classification; either way the message names the stage.
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/Loading gs:\/\/artifacts\/staging\/ingest\/scale-\w+\/eq_ohlcv\/\* into test-project\.raw\._stage_eq_ohlcv_[0-9a-f]{16} failed/);
      expect(fake.statements.slice(statementsBefore)).toEqual([]);
      expect([...fake.objects.keys()].filter((k) => /staging\/ingest\/scale-\w+\/done\/F[12]\.US|done\/F[12]\.json/.test(k))).toHaveLength(2);
    });

    it('a 500,000-row job stages its rows in the bucket and issues one load and one MERGE per table', async () => {
      await open({ latencyMs: 0 });
      const warehouse = new BigQueryWarehouse({ projectId: 'test-project', datasets: { raw: 'raw', curated: 'curated' }, location: fake.location, emulatorHost: base, maxRetries: 0 });
      const store = new GcsObjectStore('artifacts');
      const symbols = Array.from({ length: 100 }, (_, i) => `B${String(i).padStart(3, '0')}.US`);
      const window = { start: '2004-01-01', end: '2023-12-31' };
      const { output, error } = await ingest(symbols, {}, window, { warehouse, store, env: { INGEST_CONCURRENCY: '16' } });
      expect(error).toBeUndefined();
      const expected = symbols.reduce((n, s) => n + barsIn(s.replace('.US', ''), window.start, window.end).length, 0);
      expect(expected).toBeGreaterThan(500_000);
      expect(output?.result).toMatchObject({ rows_loaded: expected, rows_inserted: expected });

      const merges = fake.statements.filter((sql) => sql.startsWith('MERGE'));
      expect(merges).toHaveLength(2);
      expect(merges.map((sql) => /^MERGE `test-project\.raw\.(\w+)`/.exec(sql)?.[1]).sort()).toEqual(['corporate_actions', 'eq_ohlcv']);
      for (const sql of merges) {
        expect(sql).toMatch(/USING `test-project\.raw\._stage_\w+` AS s/);
        expect(sql).toContain("t.date BETWEEN DATE '2004-01-01' AND DATE '2023-12-31'");
      }
      expect(fake.loadJobs).toHaveLength(2);
      const byTable = Object.fromEntries(fake.loadJobs.map((j) => [j.destination.includes('eq_ohlcv') ? 'eq_ohlcv' : 'corporate_actions', j]));
      expect(byTable.eq_ohlcv?.rows).toBe(expected);
      expect(byTable.corporate_actions?.rows).toBe(output?.result.corporate_actions);
      expect(byTable.eq_ohlcv?.sourceUris).toHaveLength(1);
      expect(byTable.eq_ohlcv?.sourceUris[0]).toMatch(/^gs:\/\/artifacts\/staging\/ingest\/scale-\w+\/eq_ohlcv\/\*$/);
      // The staging tables are dropped after their MERGE; no row went through a query parameter.
      expect(fake.deletedTables.sort()).toEqual(fake.loadJobs.map((j) => j.destination).sort());
      expect(fake.statements.some((sql) => sql.includes('UNNEST(@rows)'))).toBe(false);
    }, 120_000);
  });
});
