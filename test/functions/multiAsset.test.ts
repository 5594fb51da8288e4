import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestModel } from '../../shared/ingest/job.js';
import { runJobEvent, type JobServices } from '../../shared/job/lifecycle.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { createLogger } from '../../shared/log.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import { createServices } from '../../shared/runtime.js';
import { LocalWarehouse } from '../../shared/warehouse/localWarehouse.js';
import { PRICES_VIEW } from '../../shared/warehouse/schemas.js';
import type { Row } from '../../shared/warehouse/warehouse.js';
import { startReplayServer, vendorFixture, type ReplayServer } from '../ingest/vendorReplayServer.js';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';
import { startFunction, type FunctionUnderTest } from '../support/functionServer.js';
import { pubsubData } from '../support/pubsubPost.js';

// Every asset class feeds every model: equities, a currency pair and a coin ingested from the
// recorded EODHD formats into eq_ohlcv, fx_ohlcv and crypto_ohlcv, then each model over the
// mixed portfolio, locally (the local prices view over the NDJSON tables) and through the
// cloud adapters (the BigQuery client querying the prices view on the REST stand-in).

const START = '2024-01-01';
const END = '2024-06-28';
const MIXED = ['AAPL', 'BTCUSD', 'EURUSD'];
const VENDOR_FILE: Record<string, string> = { AAPL: 'eod-AAPL.US.json', BTCUSD: 'eod-BTC-USD.CC.json', EURUSD: 'eod-EURUSD.FOREX.json' };

/** A symbol's recorded bars (date, adjusted close) in the window: the reference the models must have used. */
function recorded(symbol: string): Map<string, number> {
  const bars = vendorFixture('eodhd', VENDOR_FILE[symbol]) as { date: string; adjusted_close: number }[];
  return new Map(bars.filter((b) => b.date >= START && b.date <= END).map((b) => [b.date, b.adjusted_close]));
}

/** stdev(log returns, sample) * sqrt(periodsPerYear), straight from the prices (the contract's formula). */
function historicalVolatility(prices: readonly number[], periodsPerYear: number): number {
  const r = prices.slice(1).map((p, i) => Math.log(p / prices[i]));
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  return Math.sqrt((r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1)) * periodsPerYear);
}

const commonDates = () => {
  const series = MIXED.map(recorded);
  return [...series[0].keys()].filter((d) => series.every((s) => s.has(d))).sort();
};

const jobs = {
  markowitz: { job_id: 'mixed-mk', symbols: MIXED, start: START, end: END, params: { covariance: 'sample' } },
  montecarlo: { job_id: 'mixed-mc', symbols: MIXED, start: START, end: END, params: { simulations: 2000, time_steps: 20, seed: 7 } },
  cryptoOnly: { job_id: 'crypto-mc', symbols: ['BTCUSD'], start: START, end: END, params: { simulations: 1000, time_steps: 30, seed: 3, periods_per_year: 365 } },
  blackscholes: {
    job_id: 'mixed-bs',
    symbols: MIXED,
    start: START,
    end: END,
    params: { time_to_expiry: 0.25, options: MIXED.map((symbol) => ({ symbol, strike: recorded(symbol).get('2024-06-28')! })) },
  },
};

const open: FunctionUnderTest[] = [];
let vendor: ReplayServer;
let dataDir: string;
const local: Record<string, Record<string, unknown>> = {};

beforeAll(async () => {
  vendor = await startReplayServer();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'multi-asset-'));
});
afterAll(async () => {
  await Promise.all(open.map((f) => f.close()));
  await vendor.close();
});

async function runLocally(model: ModelDefinition<never>, job: { job_id: string }): Promise<Record<string, unknown>> {
  const fn = await startFunction(model, { LOCAL_DATA_DIR: dataDir, EODHD_BASE_URL: `${vendor.url}/api`, EODHD_API_KEY: 'multi-asset-key-0123456789' });
  open.push(fn);
  expect((await fn.publish(job)).status).toBeLessThan(300);
  return JSON.parse(await fs.readFile(path.join(dataDir, 'bucket', 'jobs', model.name, job.job_id, 'result.json'), 'utf8'));
}

describe('every asset class feeds every model, locally', () => {
  it('ingests an equity, a currency pair and a coin from the recorded EODHD formats into their own tables', async () => {
    const classes = [
      ['AAPL.US', 'equity', 'eq_ohlcv', 'AAPL'],
      ['EURUSD.FOREX', 'fx', 'fx_ohlcv', 'EURUSD'],
      ['BTC-USD.CC', 'crypto', 'crypto_ohlcv', 'BTCUSD'],
    ] as const;
    for (const [vendorSymbol, assetClass, table, symbol] of classes) {
      const job = { job_id: `ingest-${assetClass}`, symbols: [vendorSymbol], start: START, end: END, params: { source: 'eodhd', asset_class: assetClass } };
      const document = await runLocally(ingestModel as ModelDefinition<never>, job);
      expect(document.status, JSON.stringify(document)).toBe('completed');
      const rows = (await fs.readFile(path.join(dataDir, 'bigquery', 'raw', `${table}.ndjson`), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
      expect(new Set(rows.map((r) => r.symbol))).toEqual(new Set([symbol]));
      expect(rows.map((r) => r.date).sort()).toEqual([...recorded(symbol).keys()].sort());
    }
  });

  it('markowitz over a stock, a coin and a currency aligns on the dates all three trade', async () => {
    const document = await runLocally(markowitzModel as ModelDefinition<never>, jobs.markowitz);
    expect(document.status, JSON.stringify(document)).toBe('completed');
    local.markowitz = document;
    const common = commonDates();
    // The equity calendar (NYSE sessions) is the binding one: weekends and 2024 holidays drop out.
    expect(common).toHaveLength(recorded('AAPL').size);
    expect(document.inputs).toMatchObject({
      symbols: MIXED,
      asset_classes: { AAPL: 'equity', BTCUSD: 'crypto', EURUSD: 'fx' },
      common_dates: common.length,
      observations: common.length - 1,
      dropped_dates: recorded('BTCUSD').size - common.length,
      window: { start: common[0], end: common[common.length - 1] },
    });
    expect(Object.keys((document.result as { gmv: { weights: object } }).gmv.weights)).toEqual(MIXED);
  });

  it('montecarlo over the mix calibrates on the common dates with 252 periods a year by default', async () => {
    const document = await runLocally(montecarloModel as ModelDefinition<never>, jobs.montecarlo);
    expect(document.status, JSON.stringify(document)).toBe('completed');
    local.montecarlo = document;
    const common = commonDates();
    const inputs = document.inputs as { volatility: Record<string, number>; initial_price: Record<string, number> } & Record<string, unknown>;
    expect(inputs).toMatchObject({ periods_per_year: 252, observations: common.length - 1, horizon_years: 20 / 252, asset_classes: { AAPL: 'equity', BTCUSD: 'crypto', EURUSD: 'fx' } });
    for (const symbol of MIXED) {
      const prices = common.map((d) => recorded(symbol).get(d)!);
      expect(inputs.volatility[symbol]).toBeCloseTo(historicalVolatility(prices, 252), 12);
      expect(inputs.initial_price[symbol]).toBe(prices[prices.length - 1]);
    }
  });

  it('montecarlo over the coin alone uses every calendar day and the periods_per_year it was given', async () => {
    const document = await runLocally(montecarloModel as ModelDefinition<never>, jobs.cryptoOnly);
    expect(document.status, JSON.stringify(document)).toBe('completed');
    local.cryptoOnly = document;
    const btc = recorded('BTCUSD');
    expect(btc.size).toBe(179); // every day of 2024-01-02..2024-06-28, weekends included
    const inputs = document.inputs as { volatility: Record<string, number> } & Record<string, unknown>;
    expect(inputs).toMatchObject({ periods_per_year: 365, observations: 178, horizon_years: 30 / 365, window: { start: '2024-01-02', end: '2024-06-28' } });
    expect(inputs.volatility.BTCUSD).toBeCloseTo(historicalVolatility([...btc.keys()].sort().map((d) => btc.get(d)!), 365), 12);
  });

  it('blackscholes takes each symbol its own last price and historical volatility, whatever its class', async () => {
    const document = await runLocally(blackscholesModel as ModelDefinition<never>, jobs.blackscholes);
    expect(document.status, JSON.stringify(document)).toBe('completed');
    local.blackscholes = document;
    const options = (document.result as { options: { symbol: string; spot: number; volatility: number; volatility_source: string }[] }).options;
    const inputs = document.inputs as { periods_per_year: number; symbols: Record<string, { asset_class: string; observations: number }> };
    expect(inputs.periods_per_year).toBe(252);
    MIXED.forEach((symbol, i) => {
      const series = recorded(symbol);
      const prices = [...series.keys()].sort().map((d) => series.get(d)!);
      // Each symbol on its own calendar (no alignment for an option): the coin's weekends count.
      expect(options[i]).toMatchObject({ symbol, spot: prices[prices.length - 1], volatility_source: 'historical' });
      expect(options[i].volatility).toBeCloseTo(historicalVolatility(prices, 252), 12);
      expect(inputs.symbols[symbol].observations).toBe(prices.length - 1);
    });
    expect(Object.fromEntries(MIXED.map((s) => [s, inputs.symbols[s].asset_class]))).toEqual({ AAPL: 'equity', BTCUSD: 'crypto', EURUSD: 'fx' });
  });

  it('the same from the recorded Twelve Data formats (no adjusted close: prices are closes)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'multi-asset-td-'));
    const env = { LOCAL_DATA_DIR: dir, TWELVE_DATA_BASE_URL: `${vendor.url}/td`, TWELVE_DATA_API_KEY: 'multi-asset-td-key-0123456789' };
    const ingest = await startFunction(ingestModel as ModelDefinition<never>, env);
    const markowitz = await startFunction(markowitzModel as ModelDefinition<never>, env);
    open.push(ingest, markowitz);
    const read = async (model: string, id: string) => JSON.parse(await fs.readFile(path.join(dir, 'bucket', 'jobs', model, id, 'result.json'), 'utf8'));
    for (const [symbol, assetClass] of [['AAPL', 'equity'], ['EUR/USD', 'fx'], ['BTC/USD', 'crypto']] as const) {
      const id = `td-${assetClass}`;
      await ingest.publish({ job_id: id, symbols: [symbol], start: START, end: END, params: { source: 'twelvedata', asset_class: assetClass } });
      expect((await read('ingest', id)).status).toBe('completed');
    }
    await markowitz.publish({ ...jobs.markowitz, job_id: 'td-mixed-mk' });
    const document = await read('markowitz', 'td-mixed-mk');
    expect(document.status, JSON.stringify(document)).toBe('completed');
    const tdDates = (name: string) => new Set((vendorFixture('twelvedata', `time_series-${name}.json`) as { values: { datetime: string }[] }).values.map((v) => v.datetime));
    const [aapl, eur, btc] = ['AAPL', 'EUR_USD', 'BTC_USD'].map(tdDates);
    const common = [...aapl].filter((d) => eur.has(d) && btc.has(d));
    expect(document.inputs).toMatchObject({ asset_classes: { AAPL: 'equity', BTCUSD: 'crypto', EURUSD: 'fx' }, common_dates: common.length, dropped_dates: btc.size - common.length });
  });

  it('a symbol stored in two asset classes fails invalid_job naming it and both tables, never a silent pick', async () => {
    const warehouse = new LocalWarehouse(path.join(dataDir, 'bigquery'), { raw: 'raw', curated: 'curated' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'multi-asset-dup-'));
    await fs.cp(path.join(dataDir, 'bigquery'), path.join(dir, 'bigquery'), { recursive: true });
    const copy = new LocalWarehouse(path.join(dir, 'bigquery'), { raw: 'raw', curated: 'curated' });
    const [aapl] = await warehouse.queryBySymbols('eq_ohlcv', ['AAPL'], '2024-03-01', '2024-03-01');
    await copy.upsertRows('crypto_ohlcv', ['symbol', 'date'], [{ ...aapl }]);
    const fn = await startFunction(markowitzModel as ModelDefinition<never>, { LOCAL_DATA_DIR: dir });
    open.push(fn);
    await fn.publish({ ...jobs.markowitz, job_id: 'mixed-dup' });
    const document = JSON.parse(await fs.readFile(path.join(dir, 'bucket', 'jobs', 'markowitz', 'mixed-dup', 'result.json'), 'utf8'));
    expect(document).toMatchObject({ status: 'failed', error: { code: 'invalid_job' } });
    expect(document.error.message).toBe(`Symbol "AAPL" has prices in eq_ohlcv and crypto_ohlcv between ${START} and ${END}: one symbol must name one asset; delete the wrong table's rows or rename one of them.`);
  });
});

describe('every asset class feeds every model, through the cloud adapters', () => {
  const fake = new FakeGoogleApis();
  let services: JobServices;
  const previousEmulator = process.env.STORAGE_EMULATOR_HOST;

  beforeAll(async () => {
    const base = await fake.start();
    process.env.STORAGE_EMULATOR_HOST = base;
    services = await createServices({ GCS_BUCKET: 'quant-artifacts', GCP_PROJECT: 'quant-project', BIGQUERY_EMULATOR_HOST: base, BQ_DATASET_RAW: 'raw_eu', JOB_EVENTS: 'none' }, createLogger('ERROR'));
    // What BigQuery's prices view answers: the rows just ingested, with their asset class.
    const ingested = new LocalWarehouse(path.join(dataDir, 'bigquery'), { raw: 'raw', curated: 'curated' });
    fake.queryFields = PRICES_VIEW.columns.map((c) => ({ name: c.name, type: c.type === 'FLOAT64' ? 'FLOAT' : c.type === 'DATE' ? 'STRING' : c.type }));
    // TIMESTAMPs travel as epoch microseconds in BigQuery's REST answers.
    fake.queryRows = (await ingested.queryBySymbols('prices', MIXED, START, END)).map((r) => ({ ...r, ingested_at: String(Date.parse(String(r.ingested_at)) * 1000) }));
  });
  afterAll(async () => {
    await fake.close();
    if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST;
    else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
  });

  it.each([
    ['markowitz', markowitzModel, jobs.markowitz, MIXED],
    ['montecarlo', montecarloModel, jobs.montecarlo, MIXED],
    ['cryptoOnly', montecarloModel, jobs.cryptoOnly, ['BTCUSD']],
    ['blackscholes', blackscholesModel, jobs.blackscholes, MIXED],
  ] as const)('%s reads the prices view with one parameterized query and gives the local numbers', async (key, model, job, symbols) => {
    const before = fake.requests.length;
    const document = await runJobEvent(model as ModelDefinition<never>, { id: `m-${job.job_id}`, data: pubsubData(job, `m-${job.job_id}`) }, services);
    expect(document.status, JSON.stringify(document)).toBe('completed');
    const queries = fake.requests.slice(before).filter((r) => /\/projects\/quant-project\/(queries|jobs)$/.test(r.path)).map((r) => JSON.parse(r.body) as Record<string, unknown>);
    type QueryRequest = { query: string; queryParameters: { name: string; parameterValue: { value?: string; arrayValues?: { value: string }[] } }[] };
    // jobs.query (POST .../queries) carries the request itself; jobs.insert (POST .../jobs) under configuration.query.
    const reads = queries
      .map((q) => (typeof q.query === 'string' ? q : (q.configuration as { query: unknown }).query) as QueryRequest)
      .filter((q) => q.query.startsWith('SELECT'));
    expect(reads).toHaveLength(1);
    expect(reads[0].query).toBe(
      'SELECT asset_class, CAST(date AS STRING) AS date, symbol, open, high, low, close, adj_close, volume, source, ingested_at ' +
        'FROM `quant-project.raw_eu.prices` WHERE symbol IN UNNEST(@symbols) AND date BETWEEN @start AND @end ORDER BY symbol, date',
    );
    const params = Object.fromEntries(reads[0].queryParameters.map((p) => [p.name, p.parameterValue]));
    expect(params.symbols.arrayValues?.map((v) => v.value)).toEqual(symbols);
    expect([params.start.value, params.end.value]).toEqual([START, END]);
    // Same rows, same numbers as locally (thread counts aside, which never change the numbers).
    if (document.status !== 'completed') throw new Error('unreachable: checked above');
    const { threads: _t, ...cloudInputs } = document.inputs as Record<string, unknown>;
    const { threads: _l, ...localInputs } = local[key].inputs as Record<string, unknown>;
    expect(cloudInputs).toEqual(localInputs);
    expect(document.result).toEqual(local[key].result);
  });
});
