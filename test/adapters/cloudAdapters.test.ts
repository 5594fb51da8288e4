import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../shared/job/errors.js';
import { GcsObjectStore } from '../../shared/results/gcsObjectStore.js';
import { BigQueryWarehouse } from '../../shared/warehouse/bigQueryWarehouse.js';
import { PRICES_VIEW, TABLES } from '../../shared/warehouse/schemas.js';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';

// The real Google clients, pointed at a local server standing in for the REST endpoints:
// the storage client honours STORAGE_EMULATOR_HOST, the BigQuery client takes apiEndpoint.
const fake = new FakeGoogleApis();
let base = '';
const previousEmulator = process.env.STORAGE_EMULATOR_HOST;

beforeAll(async () => {
  base = await fake.start();
  process.env.STORAGE_EMULATOR_HOST = base;
});
afterAll(async () => {
  await fake.close();
  if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST;
  else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
});

const since = () => {
  const start = fake.requests.length;
  return () => fake.requests.slice(start);
};

describe('GcsObjectStore against the Cloud Storage JSON API', () => {
  it('writes create-only objects with ifGenerationMatch=0, and the second writer loses', async () => {
    const store = new GcsObjectStore('artifacts', 'test-project');
    const requests = since();
    const generation = await store.createOnly('jobs/markowitz/j1/result.json', '{"n":1}', 'application/json');
    expect(generation).toBe(String(fake.objects.get('artifacts/jobs/markowitz/j1/result.json')?.generation));
    expect(await store.createOnly('jobs/markowitz/j1/result.json', '{"n":2}', 'application/json')).toBeNull();
    const uploads = requests().filter((r) => r.method === 'POST');
    expect(uploads).toHaveLength(2);
    for (const upload of uploads) {
      expect(upload.path).toBe('/upload/storage/v1/b/artifacts/o');
      expect(upload.query.get('name')).toBe('jobs/markowitz/j1/result.json');
      expect(upload.query.get('ifGenerationMatch')).toBe('0');
    }
    expect(fake.objects.get('artifacts/jobs/markowitz/j1/result.json')?.body.toString()).toBe('{"n":1}');
    expect(fake.objects.get('artifacts/jobs/markowitz/j1/result.json')?.contentType).toBe('application/json');
    expect(store.uri('jobs/markowitz/j1/result.json')).toBe('gs://artifacts/jobs/markowitz/j1/result.json');
  });

  it('reads an object with its generation, replaces and deletes only at that generation', async () => {
    const store = new GcsObjectStore('artifacts', 'test-project');
    await store.createOnly('jobs/x/claim.json', 'a', 'application/json');
    const read = await store.get('jobs/x/claim.json');
    expect(read?.body).toBe('a');
    expect(await store.replaceIf('jobs/x/claim.json', 'b', 'application/json', read!.generation)).toBe((await store.get('jobs/x/claim.json'))?.generation);
    expect(await store.replaceIf('jobs/x/claim.json', 'c', 'application/json', read!.generation)).toBeNull();
    const requests = since();
    await store.deleteIf('jobs/x/claim.json', read!.generation); // stale generation: kept
    expect(requests()[0]).toMatchObject({ method: 'DELETE', path: '/b/artifacts/o/jobs/x/claim.json' });
    expect(requests()[0].query.get('ifGenerationMatch')).toBe(read!.generation);
    expect((await store.get('jobs/x/claim.json'))?.body).toBe('b');
    await store.deleteIf('jobs/x/claim.json', (await store.get('jobs/x/claim.json'))!.generation);
    expect(await store.get('jobs/x/claim.json')).toBeNull();
  });

  it('plain puts carry no precondition; a server error is a TransientError', async () => {
    const store = new GcsObjectStore('artifacts', 'test-project');
    const requests = since();
    await store.put('jobs/x/status.json', '{}', 'application/json');
    expect(requests()[0].query.has('ifGenerationMatch')).toBe(false);
    fake.faults.push({ match: (r) => r.method === 'POST', status: 503, times: 10 });
    await expect(store.put('jobs/x/status.json', '{}', 'application/json')).rejects.toBeInstanceOf(TransientError);
    fake.faults.length = 0;
  }, 60_000);
});

describe('BigQueryWarehouse against the BigQuery REST API', () => {
  const warehouse = () => new BigQueryWarehouse({ projectId: 'test-project', datasets: { raw: 'raw_eu', curated: 'curated_eu' }, emulatorHost: base });

  it('streams rows into the right dataset and table with their insert ids', async () => {
    const requests = since();
    await warehouse().insertRows('job_runs', [{ insertId: 'montecarlo/j1', row: { job_id: 'j1', status: 'completed' } }]);
    await warehouse().insertRows('model_metrics', [
      { insertId: 'montecarlo/j1/var/', row: { job_id: 'j1', metric: 'var', value: 0.1 } },
      { insertId: 'montecarlo/j1/cvar/', row: { job_id: 'j1', metric: 'cvar', value: 0.2 } },
    ]);
    const paths = requests().map((r) => r.path);
    expect(paths).toEqual([
      '/bigquery/v2/projects/test-project/datasets/curated_eu/tables/job_runs/insertAll',
      '/bigquery/v2/projects/test-project/datasets/curated_eu/tables/model_metrics/insertAll',
    ]);
    expect(JSON.parse(requests()[1].body).rows.map((r: { insertId: string }) => r.insertId)).toEqual(['montecarlo/j1/var/', 'montecarlo/j1/cvar/']);
  });

  it('reads prices with a parameterized query over symbols and window', async () => {
    fake.queryFields = [
      { name: 'date', type: 'STRING' },
      { name: 'symbol', type: 'STRING' },
      { name: 'close', type: 'FLOAT' },
      { name: 'adj_close', type: 'FLOAT' },
    ];
    fake.queryRows = [{ date: '2024-01-02', symbol: 'AAPL', close: 185.5, adj_close: 184.9 }];
    const requests = since();
    const rows = await warehouse().queryBySymbols('eq_ohlcv', ['AAPL', 'MSFT'], '2024-01-01', '2024-12-31');
    expect(rows).toEqual([{ date: '2024-01-02', symbol: 'AAPL', close: 185.5, adj_close: 184.9 }]);
    const query = JSON.parse(requests()[0].body);
    expect(query.query).toContain('FROM `test-project.raw_eu.eq_ohlcv` WHERE symbol IN UNNEST(@symbols) AND date BETWEEN @start AND @end');
    const params = Object.fromEntries(query.queryParameters.map((p: { name: string }) => [p.name, p]));
    expect(params.symbols.parameterType).toEqual({ type: 'ARRAY', arrayType: { type: 'STRING' } });
    expect(params.symbols.parameterValue.arrayValues.map((v: { value: string }) => v.value)).toEqual(['AAPL', 'MSFT']);
    expect(params.start).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-01-01' } });
    expect(params.end).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-12-31' } });
  });

  it('reads prices of every asset class from the prices view with the same parameterized, date-pruned query', async () => {
    fake.queryFields = PRICES_VIEW.columns.map((c) => ({ name: c.name, type: c.type === 'FLOAT64' ? 'FLOAT' : c.type === 'DATE' ? 'STRING' : c.type }));
    fake.queryRows = [
      { asset_class: 'equity', date: '2024-01-02', symbol: 'AAPL', close: 185.5, adj_close: 184.9, source: 'eodhd' },
      { asset_class: 'crypto', date: '2024-01-06', symbol: 'BTCUSD', close: 43_900, adj_close: null, source: 'twelvedata' },
    ];
    const requests = since();
    const rows = await warehouse().queryBySymbols('prices', ['AAPL', 'BTCUSD', 'EURUSD'], '2024-01-01', '2024-06-28');
    expect(rows.map((r) => [r.asset_class, r.symbol, r.date, r.adj_close])).toEqual([
      ['equity', 'AAPL', '2024-01-02', 184.9],
      ['crypto', 'BTCUSD', '2024-01-06', null],
    ]);
    const query = JSON.parse(requests()[0].body);
    expect(query.query).toBe(
      `SELECT asset_class, CAST(date AS STRING) AS date, symbol, open, high, low, close, adj_close, volume, source, ingested_at ` +
        'FROM `test-project.raw_eu.prices` WHERE symbol IN UNNEST(@symbols) AND date BETWEEN @start AND @end ORDER BY symbol, date',
    );
    const params = Object.fromEntries(query.queryParameters.map((p: { name: string }) => [p.name, p]));
    expect(params.symbols.parameterValue.arrayValues.map((v: { value: string }) => v.value)).toEqual(['AAPL', 'BTCUSD', 'EURUSD']);
    expect(params.start).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-01-01' } });
    expect(params.end).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-06-28' } });
  });

  it('upserts with one MERGE on the key columns, rows passed as a typed parameter, counts from dmlStats', async () => {
    fake.dmlStats = { insertedRowCount: '1', updatedRowCount: '1' };
    const requests = since();
    const rows = [
      { date: '2024-01-02', symbol: 'AAPL', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.5, volume: 100, source: 'eodhd', ingested_at: '2024-06-03T00:00:00Z' },
      { date: '2024-01-03', symbol: 'AAPL', open: 1, high: 2, low: 0.5, close: 1.6, adj_close: null, volume: null, source: 'eodhd', ingested_at: '2024-06-03T00:00:00Z' },
    ];
    expect(await warehouse().upsertRows('eq_ohlcv', ['symbol', 'date'], rows)).toEqual({ inserted: 1, updated: 1 });
    const job = JSON.parse(requests().find((r) => r.path.endsWith('/jobs'))!.body);
    const sql: string = job.configuration.query.query;
    expect(sql).toMatch(/^MERGE `test-project\.raw_eu\.eq_ohlcv` AS t USING UNNEST\(@rows\) AS s ON t\.symbol = s\.symbol AND t\.date = s\.date/);
    expect(sql).toContain('WHEN NOT MATCHED THEN INSERT');
    const param = job.configuration.query.queryParameters[0];
    expect(param.name).toBe('rows');
    const structTypes = param.parameterType.arrayType.structTypes.map((t: { name: string; type: { type: string } }) => [t.name, t.type.type]);
    expect(structTypes).toEqual(TABLES.eq_ohlcv.columns.map((c) => [c.name, c.type]));
    expect(param.parameterValue.arrayValues).toHaveLength(2);
    const first = param.parameterValue.arrayValues[0].structValues;
    expect(first.date.value).toBe('2024-01-02');
    expect(first.symbol.value).toBe('AAPL');
    expect(Number(first.close.value)).toBe(1.5);
    expect(first.ingested_at.value).toMatch(/^2024-06-03[ T]00:00:00/);
    const second = param.parameterValue.arrayValues[1].structValues;
    expect(second.adj_close.value ?? null).toBeNull();
  });

  it('a warehouse outage is a TransientError', async () => {
    fake.faults.push({ match: (r) => r.path.endsWith('/insertAll'), status: 500, times: 4 });
    const impatient = new BigQueryWarehouse({ projectId: 'test-project', datasets: { raw: 'raw_eu', curated: 'curated_eu' }, emulatorHost: base, maxRetries: 0 });
    await expect(impatient.insertRows('job_runs', [{ insertId: 'a', row: { job_id: 'a' } }])).rejects.toBeInstanceOf(TransientError);
    fake.faults.length = 0;
  }, 60_000);
});
