import { describe, expect, it } from 'vitest';
import { configSchema } from '../../shared/config.js';
import { JobError, TransientError } from '../../shared/job/errors.js';
import type { Job, ModelContext, ModelOutput } from '../../shared/job/model.js';
import type { LogFields, Logger } from '../../shared/log.js';
import { createIngestModel, ingestModel, type IngestParams } from '../../shared/ingest/job.js';
import type { SecretSource } from '../../shared/secrets/secretSource.js';
import { TABLES, type TableName } from '../../shared/warehouse/schemas.js';
import type { InsertRow, Row, StagedRows, Warehouse } from '../../shared/warehouse/warehouse.js';
import { LocalObjectStore } from '../../shared/results/localObjectStore.js';
import type { ObjectStore } from '../../shared/results/objectStore.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { vendorSamplesAvailable } from '../support/vendorSamples.js';
import { useReplayServer, vendorFixture } from './vendorReplayServer.js';

const EODHD_KEY = 'ingest-eodhd-key-7c3e9a';
const TD_KEY = 'ingest-td-key-0b81f4';

/** In memory, with upsertRows doing exactly what the contract asks: replace by key, else insert. */
class MemoryWarehouse implements Warehouse {
  readonly tables = new Map<TableName, Map<string, Row>>();
  upserts = 0;
  /** The table of every mergeStaged call, in order. */
  readonly merges: TableName[] = [];

  async mergeStaged(table: TableName, keyColumns: readonly string[], staged: StagedRows): Promise<{ inserted: number; updated: number }> {
    this.merges.push(table);
    const rows: Row[] = [];
    for await (const batch of staged.objects()) rows.push(...batch);
    const keys = new Set(rows.map((r) => JSON.stringify(keyColumns.map((k) => r[k]))));
    if (keys.size !== rows.length) throw new Error('staged rows must be unique by key (a MERGE would fail)');
    return this.upsertRows(table, keyColumns, rows);
  }

  async insertRows(table: TableName, rows: readonly InsertRow[]): Promise<void> {
    const t = this.table(table);
    for (const { insertId, row } of rows) if (!t.has(insertId)) t.set(insertId, { ...row });
  }

  async upsertRows(table: TableName, keyColumns: readonly string[], rows: readonly Row[]): Promise<{ inserted: number; updated: number }> {
    this.upserts++;
    const t = this.table(table);
    let inserted = 0;
    let updated = 0;
    for (const row of rows) {
      const key = JSON.stringify(keyColumns.map((k) => row[k]));
      if (t.has(key)) updated++;
      else inserted++;
      t.set(key, { ...row });
    }
    return { inserted, updated };
  }

  async queryBySymbols(table: TableName, symbols: readonly string[], start: string, end: string): Promise<Row[]> {
    return this.rows(table).filter((r) => symbols.includes(String(r.symbol)) && String(r.date) >= start && String(r.date) <= end);
  }

  rows(table: TableName): Row[] {
    return [...this.table(table).values()].sort((a, b) => `${a.symbol}|${a.date}`.localeCompare(`${b.symbol}|${b.date}`));
  }

  private table(name: TableName): Map<string, Row> {
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = new Map()));
    return t;
  }
}

/** Keeps every line as written, unredacted: the key must not reach the logger at all. */
function capturingLogger(lines: string[], base: LogFields = {}): Logger {
  const write = (severity: string) => (message: string, fields?: LogFields) => {
    lines.push(JSON.stringify({ severity, message, ...base, ...fields }, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v)));
  };
  return { debug: write('DEBUG'), info: write('INFO'), warn: write('WARNING'), error: write('ERROR'), child: (f) => capturingLogger(lines, { ...base, ...f }) };
}

const secrets: SecretSource = {
  async get(name) {
    if (name === 'EODHD_API_KEY') return EODHD_KEY;
    if (name === 'TWELVE_DATA_API_KEY') return TD_KEY;
    throw new JobError('internal', `The secret ${name} is not set.`);
  },
};

const replay = useReplayServer();

const model = createIngestModel({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, throttle: { firstPauseMs: 1, maxPauseMs: 5, maxThrottles: 3 } });

interface Run {
  readonly output?: ModelOutput;
  readonly error?: unknown;
  readonly logs: string[];
}

/** A fresh local bucket (the staged rows and checkpoints of a job live there). */
const freshStore = (): ObjectStore => new LocalObjectStore(mkdtempSync(path.join(tmpdir(), 'ingest-job-')));

async function run(
  symbols: string[],
  params: Record<string, unknown>,
  warehouse: MemoryWarehouse,
  window = { start: '2024-01-01', end: '2024-06-30' },
  store: ObjectStore = freshStore(),
  progress?: (fraction: number, detail?: Record<string, unknown>) => void,
): Promise<Run> {
  const logs: string[] = [];
  const context: ModelContext = {
    history: () => Promise.reject(new Error('ingest reads no history')),
    log: capturingLogger(logs),
    config: configSchema.parse({ EODHD_BASE_URL: `${replay.current.url}/api`, TWELVE_DATA_BASE_URL: `${replay.current.url}/td` }),
    warehouse,
    secrets,
    store,
    progress,
  };
  const job: Job<IngestParams> = { job_id: 'ingest-test', symbols, ...window, params: model.params.parse(params) };
  try {
    return { output: await model.run(job, context), logs };
  } catch (error) {
    return { error, logs };
  }
}

const withoutIngestedAt = (rows: Row[]) => rows.map(({ ingested_at: _, ...rest }) => rest);
type EodRow = { date: string; close: number; adjusted_close: number };

describe('ingest with EODHD', () => {
  it('loads every symbol into eq_ohlcv under its stored name, with dividends and splits', async () => {
    const warehouse = new MemoryWarehouse();
    const { output, error } = await run(['AAPL.US', 'MSFT.US', 'NVDA'], {}, warehouse);
    expect(error).toBeUndefined();
    const days = (vendorFixture('eodhd', 'eod-AAPL.US.json') as EodRow[]).length;
    expect(output?.result).toMatchObject({
      table: 'eq_ohlcv',
      rows_loaded: 3 * days,
      rows_inserted: 3 * days,
      rows_updated: 0,
      rejected_rows: [],
      corporate_actions: 7,
      per_symbol: {
        // 130 weekdays from 2024-01-01 to 2024-06-30, 124 NYSE sessions: the 6 holidays count as without a bar.
        AAPL: { rows: days, first_date: '2024-01-02', last_date: '2024-06-28', weekdays_without_bar: 6, placeholder_bars: 0 },
        MSFT: { rows: days, first_date: '2024-01-02', last_date: '2024-06-28' },
        NVDA: { rows: days, first_date: '2024-01-02', last_date: '2024-06-28' },
      },
    });
    expect(output?.chart).toBeUndefined();
    expect(output?.inputs).toMatchObject({ source: 'eodhd', asset_class: 'equity', corporate_actions: true, window: { start: '2024-01-01', end: '2024-06-30' } });
    expect(output?.metrics).toContainEqual({ metric: 'per_symbol.NVDA.rows', value: days, symbol: 'NVDA' });

    const rows = warehouse.rows('eq_ohlcv');
    expect(new Set(rows.map((r) => r.symbol))).toEqual(new Set(['AAPL', 'MSFT', 'NVDA']));
    const columns = TABLES.eq_ohlcv.columns.map((c) => c.name).sort();
    for (const r of rows) expect(Object.keys(r).sort()).toEqual(columns);
    const recorded = (vendorFixture('eodhd', 'eod-NVDA.US.json') as EodRow[]).find((r) => r.date === '2024-06-07');
    expect(rows.find((r) => r.symbol === 'NVDA' && r.date === '2024-06-07')).toMatchObject({ close: recorded?.close, adj_close: recorded?.adjusted_close, source: 'eodhd' });

    const actions = warehouse.rows('corporate_actions').map((r) => [r.symbol, r.date, r.action, r.amount, r.unadjusted_amount, r.split_ratio]);
    expect(actions).toEqual([
      ['AAPL', '2024-02-09', 'dividend', 0.24, 0.24, null],
      ['AAPL', '2024-05-10', 'dividend', 0.25, 0.25, null],
      ['MSFT', '2024-02-14', 'dividend', 0.75, 0.75, null],
      ['MSFT', '2024-05-15', 'dividend', 0.75, 0.75, null],
      // Before NVDA's 10-for-1 split: 0.04 paid, 0.004 on the split-adjusted scale.
      ['NVDA', '2024-03-05', 'dividend', 0.004, 0.04, null],
      ['NVDA', '2024-06-10', 'split', null, null, 10],
      ['NVDA', '2024-06-11', 'dividend', 0.01, 0.01, null],
    ]);
    // Each symbol: /eod, /div, /splits (symbols concurrently), all with the key as api_token.
    expect(replay.current.requests.map((r) => r.path).sort()).toEqual(
      ['AAPL.US', 'MSFT.US', 'NVDA.US'].flatMap((s) => [`/api/eod/${s}`, `/api/div/${s}`, `/api/splits/${s}`]).sort(),
    );
    // One load per table per job.
    expect(warehouse.merges).toEqual(['eq_ohlcv', 'corporate_actions']);
    for (const r of replay.current.requests) expect(r.query.api_token).toBe(EODHD_KEY);
  });

  it('leaves the same rows when the same window is ingested twice', async () => {
    const warehouse = new MemoryWarehouse();
    const first = await run(['AAPL.US', 'NVDA.US'], {}, warehouse);
    const afterFirst = { bars: withoutIngestedAt(warehouse.rows('eq_ohlcv')), actions: withoutIngestedAt(warehouse.rows('corporate_actions')) };
    const second = await run(['AAPL.US', 'NVDA.US'], {}, warehouse);
    expect(withoutIngestedAt(warehouse.rows('eq_ohlcv'))).toEqual(afterFirst.bars);
    expect(withoutIngestedAt(warehouse.rows('corporate_actions'))).toEqual(afterFirst.actions);
    const loaded = first.output?.result.rows_loaded;
    expect(second.output?.result).toMatchObject({ rows_loaded: loaded, rows_inserted: 0, rows_updated: loaded });
  });

  it('keeps only the job window and asks the vendor for exactly it', async () => {
    const warehouse = new MemoryWarehouse();
    const { output } = await run(['MSFT.US'], { corporate_actions: false }, warehouse, { start: '2024-03-01', end: '2024-03-31' });
    expect(replay.current.requests).toEqual([
      { method: 'GET', path: '/api/eod/MSFT.US', query: { api_token: EODHD_KEY, fmt: 'json', from: '2024-03-01', to: '2024-03-31', period: 'd' } },
    ]);
    const dates = warehouse.rows('eq_ohlcv').map((r) => String(r.date));
    // The replayed response is the whole half year; March 2024 had 20 NYSE sessions (Good Friday the 29th closed).
    expect(dates).toHaveLength(20);
    expect(dates.every((d) => d >= '2024-03-01' && d <= '2024-03-31')).toBe(true);
    expect(output?.result).toMatchObject({ corporate_actions: 0, per_symbol: { MSFT: { rows: 20, first_date: '2024-03-01', last_date: '2024-03-28' } } });
  });

  it('reports malformed rows in the result and does not store them', async () => {
    replay.current.route((req) => (req.path === '/api/eod/AAPL.US' ? { body: vendorFixture('eodhd', 'eod-AAPL.US-defects.json') } : undefined));
    const warehouse = new MemoryWarehouse();
    const { output } = await run(['AAPL.US'], { corporate_actions: false }, warehouse);
    const rejected = output?.result.rejected_rows as { symbol: string; date: string; reason: string }[];
    expect(rejected.map((r) => [r.symbol, r.date])).toEqual([
      ['AAPL', '2024-01-05'],
      ['AAPL', '2024-01-09'],
      ['AAPL', '2024-01-11'],
      ['AAPL', '2024-02-30'],
      ['AAPL', '2024-01-23'],
    ]);
    const stored = warehouse.rows('eq_ohlcv').map((r) => r.date);
    expect(stored).toHaveLength(17);
    for (const date of ['2024-01-05', '2024-01-09', '2024-01-11', '2024-02-30']) expect(stored).not.toContain(date);
    expect(output?.result.rows_loaded).toBe(17);
  });

  it('loads the known symbols and then fails with unknown_symbol naming the unknown one', async () => {
    const warehouse = new MemoryWarehouse();
    const { error } = await run(['AAPL.US', 'NOSUCH.US', 'MSFT.US'], {}, warehouse);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('unknown_symbol');
    expect((error as JobError).message).toContain('NOSUCH.US');
    expect((error as JobError).message).toContain('2 other symbols were loaded');
    expect(new Set(warehouse.rows('eq_ohlcv').map((r) => r.symbol))).toEqual(new Set(['AAPL', 'MSFT']));
    expect(warehouse.rows('corporate_actions').length).toBe(4);
  });

  it('retries a 429 within the job and completes', async () => {
    replay.current.route((req, i) => (i === 0 ? { status: 429, body: { message: 'Too Many Requests' } } : undefined));
    const { output, logs } = await run(['AAPL.US'], { corporate_actions: false }, new MemoryWarehouse());
    expect(output?.result.rows_loaded).toBe((vendorFixture('eodhd', 'eod-AAPL.US.json') as unknown[]).length);
    expect(replay.current.requests).toHaveLength(2);
    expect(logs.some((l) => l.includes('retrying') && l.includes('HTTP 429'))).toBe(true);
  });

  it('after 5xx on every attempt, throws TransientError with what it fetched checkpointed; the redelivery fetches only the rest', async () => {
    replay.current.route((req) => (req.path.startsWith('/api/eod/MSFT') ? { status: 503, body: 'Service Unavailable' } : undefined));
    const warehouse = new MemoryWarehouse();
    const store = freshStore();
    const symbols = ['AAPL.US', 'MSFT.US', 'NVDA.US'];
    const first = await run(symbols, { corporate_actions: false }, warehouse, undefined, store);
    expect(first.error).toBeInstanceOf(TransientError);
    expect((first.error as Error).message).toContain('daily bars of MSFT.US still failing after 3 attempts');
    expect(replay.current.requests.filter((r) => r.path.includes('MSFT'))).toHaveLength(3);
    // Nothing merged yet: one MERGE per table per job, when the job completes.
    expect(warehouse.merges).toEqual([]);
    const fetchedFirst = new Set(replay.current.requests.filter((r) => !r.path.includes('MSFT')).map((r) => r.path));

    replay.current.requests.length = 0;
    replay.current.route(undefined);
    const second = await run(symbols, { corporate_actions: false }, warehouse, undefined, store);
    expect(second.error).toBeUndefined();
    // Symbols checkpointed by the first run are not asked for again.
    for (const r of replay.current.requests) expect(fetchedFirst.has(r.path)).toBe(false);
    expect(replay.current.requests.map((r) => r.path)).toContain('/api/eod/MSFT.US');
    expect(second.output?.result).toMatchObject({ resumed_from_checkpoint: fetchedFirst.size, rows_loaded: 3 * 124 });
    expect(warehouse.merges).toEqual(['eq_ohlcv']);
    expect(new Set(warehouse.rows('eq_ohlcv').map((r) => r.symbol))).toEqual(new Set(['AAPL', 'MSFT', 'NVDA']));
  });

  it('fails with a JobError naming EODHD_API_KEY when the key is rejected', async () => {
    replay.current.route(() => ({ status: 401, body: { message: 'Unauthenticated' } }));
    const { error } = await run(['AAPL.US'], {}, new MemoryWarehouse());
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('internal');
    expect((error as JobError).message).toMatch(/EODHD .*EODHD_API_KEY/);
  });
});

describe('ingest with Twelve Data', () => {
  it('loads FX pairs into fx_ohlcv as EURUSD with no adjusted close or volume', async () => {
    const warehouse = new MemoryWarehouse();
    const { output, error } = await run(['EUR/USD'], { source: 'twelvedata', asset_class: 'fx' }, warehouse);
    expect(error).toBeUndefined();
    expect(replay.current.requests).toHaveLength(1);
    expect(replay.current.requests[0].query).toMatchObject({ symbol: 'EUR/USD', interval: '1day', apikey: TD_KEY, start_date: '2024-01-01', end_date: '2024-07-01' });
    const rows = warehouse.rows('fx_ohlcv');
    const values = (vendorFixture('twelvedata', 'time_series-EUR_USD.json') as { values: { datetime: string; close: string }[] }).values;
    expect(rows).toHaveLength(values.length);
    expect(rows.every((r) => r.symbol === 'EURUSD' && r.adj_close === null && r.volume === null && r.source === 'twelvedata')).toBe(true);
    expect(rows.at(-1)).toMatchObject({ date: values[0].datetime, close: Number(values[0].close) });
    expect(output?.result).toMatchObject({ table: 'fx_ohlcv', corporate_actions: 0 });
    expect(warehouse.rows('eq_ohlcv')).toEqual([]);
  });

  it('loads crypto into crypto_ohlcv as BTCUSD from a BTC-USD.CC job symbol', async () => {
    const warehouse = new MemoryWarehouse();
    const { output } = await run(['BTC-USD.CC'], { source: 'twelvedata', asset_class: 'crypto' }, warehouse);
    expect(replay.current.requests[0].query.symbol).toBe('BTC/USD');
    expect(output?.result).toMatchObject({ table: 'crypto_ohlcv', per_symbol: { BTCUSD: { first_date: '2024-01-02', last_date: '2024-06-28' } } });
    expect(warehouse.rows('crypto_ohlcv').length).toBe(179);
  });

  it.skipIf(!vendorSamplesAvailable)('retries a 429 error payload sent with HTTP 200, and fails unknown_symbol after loading the rest', async () => {
    replay.current.route((req, i) => (i === 0 ? { body: vendorFixture('twelvedata', 'recorded/error-429-minute-credits.json') } : undefined));
    const warehouse = new MemoryWarehouse();
    const { error } = await run(['AAPL', 'NOSUCH', 'MSFT'], { source: 'twelvedata' }, warehouse);
    expect((error as JobError).code).toBe('unknown_symbol');
    expect((error as JobError).message).toMatch(/Twelve Data does not know the symbol NOSUCH;/);
    expect(new Set(warehouse.rows('eq_ohlcv').map((r) => r.symbol))).toEqual(new Set(['AAPL', 'MSFT']));
  });
});

describe('ingest with Twelve Data: what the vendor said about a symbol', () => {
  it.skipIf(!vendorSamplesAvailable)('a plan-gated symbol fails the job internal (the account, not the job), quoting the vendor, after loading the others', async () => {
    const gated = vendorFixture('twelvedata', 'recorded/error-404-plan-gated.json') as { message: string };
    replay.current.route((req) => (req.query.symbol === 'MSFT' ? { status: 404, body: gated } : undefined));
    const warehouse = new MemoryWarehouse();
    const { error } = await run(['AAPL', 'MSFT'], { source: 'twelvedata' }, warehouse);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('internal');
    expect((error as JobError).message).toContain('does not serve MSFT on this account\'s plan');
    expect((error as JobError).message).toContain(gated.message);
    expect((error as JobError).message).toContain('TWELVE_DATA_API_KEY');
    expect((error as JobError).message).not.toContain('does not know');
    expect(new Set(warehouse.rows('eq_ohlcv').map((r) => r.symbol))).toEqual(new Set(['AAPL']));
  });

  it.skipIf(!vendorSamplesAvailable)('"Data not found" completes the job with no rows for that symbol and the vendor\'s words in its entry', async () => {
    replay.current.route((req) => (req.query.symbol === 'MSFT' ? { status: 404, body: vendorFixture('twelvedata', 'recorded/error-404-data-not-found.json') } : undefined));
    const { output, error } = await run(['AAPL', 'MSFT'], { source: 'twelvedata' }, new MemoryWarehouse());
    expect(error).toBeUndefined();
    expect((output?.result.per_symbol as Record<string, unknown>).MSFT).toMatchObject({ rows: 0, first_date: null, vendor_said: 'Data not found' });
  });
});

describe('ingest a whole exchange day (EODHD bulk endpoint, recorded)', () => {
  it.skipIf(!vendorSamplesAvailable)('loads every row of the recorded AU day under its stored name (code.AU), one request for the day', async () => {
    const recorded = vendorFixture('eodhd', 'recorded/eod-bulk-last-day-AU.2024-09-30.excerpt.json') as { code: string; close: number; adjusted_close: number }[];
    replay.current.route((req) => (req.path === '/api/eod-bulk-last-day/AU' && req.query.date === '2024-09-30' ? { body: recorded } : { body: [] }));
    const warehouse = new MemoryWarehouse();
    const { output, error } = await run([], { exchange: 'AU' }, warehouse, { start: '2024-09-30', end: '2024-09-30' });
    expect(error).toBeUndefined();
    expect(replay.current.requests.map((r) => [r.path, r.query.date, r.query.fmt])).toEqual([['/api/eod-bulk-last-day/AU', '2024-09-30', 'json']]);
    const rows = warehouse.rows('eq_ohlcv');
    expect(rows).toHaveLength(recorded.length);
    const bhp = recorded.find((r) => r.code === 'BHP');
    expect(rows.find((r) => r.symbol === 'BHP.AU')).toMatchObject({ date: '2024-09-30', close: bhp?.close, adj_close: bhp?.adjusted_close, source: 'eodhd' });
    expect(output?.result).toMatchObject({ rows_loaded: recorded.length, rejected_rows: [], per_symbol: { 'CSL.AU': { rows: 1, weekdays_without_bar: 0 } } });
    expect(warehouse.merges).toEqual(['eq_ohlcv']);
  });
});

describe('ingest params', () => {
  it('default to eodhd equities with corporate actions', () => {
    expect(ingestModel.params.parse({})).toEqual({ source: 'eodhd', asset_class: 'equity' });
    // Optional only with params.exchange: run() checks the two together.
    expect(ingestModel.symbolsOptional).toBe(true);
    expect(ingestModel.name).toBe('ingest');
  });

  it.each([
    [{ sourse: 'eodhd' }, 'sourse'],
    [{ source: 'yahoo' }, 'source'],
    [{ asset_class: 'bonds' }, 'asset_class'],
    [{ source: 'twelvedata', corporate_actions: true }, 'corporate_actions'],
    [{ asset_class: 'fx', corporate_actions: true }, 'corporate_actions'],
  ])('reject %o, naming %s', (params, field) => {
    const parsed = ingestModel.params.safeParse(params);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain(field);
  });

  it('reject a symbol that cannot be one, before any request', async () => {
    const { error } = await run(['AAPL', 'EURO/USD'], { asset_class: 'fx' }, new MemoryWarehouse());
    expect((error as JobError).code).toBe('invalid_job');
    expect(replay.current.requests).toEqual([]);
  });
});

describe('API keys', () => {
  it('never appear in logs, errors or results, whatever happens', async () => {
    const everything: string[] = [];
    const keep = (r: Run) => {
      everything.push(...r.logs, JSON.stringify(r.output ?? null));
      if (r.error instanceof Error) everything.push(r.error.message, String(r.error.stack), JSON.stringify(r.error));
    };
    // Vendors that echo the request (and so the key) back in their error bodies.
    const echo = (status: number) => (req: { path: string; query: Record<string, string> }) => ({ status, body: { message: `bad request ${req.path}?${new URLSearchParams(req.query)}` } });
    keep(await run(['AAPL.US', 'NOSUCH.US'], {}, new MemoryWarehouse()));
    replay.current.route(echo(503));
    keep(await run(['AAPL.US'], {}, new MemoryWarehouse()));
    replay.current.route(echo(401));
    keep(await run(['AAPL.US'], {}, new MemoryWarehouse()));
    replay.current.route(echo(400));
    keep(await run(['AAPL.US'], {}, new MemoryWarehouse()));
    replay.current.route(echo(429));
    keep(await run(['AAPL'], { source: 'twelvedata' }, new MemoryWarehouse()));
    replay.current.route(echo(400));
    keep(await run(['AAPL'], { source: 'twelvedata' }, new MemoryWarehouse()));
    replay.current.route(undefined);
    keep(await run(['AAPL', 'NOSUCH'], { source: 'twelvedata' }, new MemoryWarehouse()));

    expect(everything.length).toBeGreaterThan(10);
    // The runs did reach the vendors with the keys, so their absence below is meaningful.
    expect(replay.current.requests.some((r) => r.query.api_token === EODHD_KEY)).toBe(true);
    expect(replay.current.requests.some((r) => r.query.apikey === TD_KEY)).toBe(true);
    for (const text of everything) {
      expect(text).not.toContain(EODHD_KEY);
      expect(text).not.toContain(TD_KEY);
    }
  });
});
