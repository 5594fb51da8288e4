import http from 'node:http';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JobError, TransientError } from '../../shared/job/errors.js';
import { CachedToken, cloudAccessToken } from '../../shared/cloudAccessToken.js';
import { GcsObjectStore, STORAGE_RETRY } from '../../shared/results/gcsObjectStore.js';
import { BigQueryWarehouse } from '../../shared/warehouse/bigQueryWarehouse.js';
import { PRICES_VIEW, TABLES } from '../../shared/warehouse/schemas.js';
import { INSERT_BATCH_BYTES, insertBatches } from '../../shared/warehouse/insertBatches.js';
import { INSERT_ALL_RETRY, bigQueryApiRoot } from '../../shared/warehouse/insertAllClient.js';
import type { BigQuery } from '@google-cloud/bigquery';
import { FakeGoogleApis, INSERT_ALL_MAX_BYTES, INSERT_ALL_MAX_ROWS } from '../support/fakeGoogleApis.js';

// The cloud adapters, pointed at a local server standing in for the REST endpoints: the
// object store (Cloud Storage's JSON API over fetch) honours STORAGE_EMULATOR_HOST as the
// storage client does, the BigQuery client takes apiEndpoint.
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
beforeEach(() => {
  fake.faults.length = 0;
  fake.lostReplies.length = 0;
  // Retries below wait about 1 s; the per-object limit is shortened (it has its own test).
  fake.objectUpdateIntervalMs = 100;
});

const since = () => {
  const start = fake.requests.length;
  return () => fake.requests.slice(start);
};

/** The production retry strategy (as many retries, the same backoff), its delays 10 times shorter. */
const QUICK_RETRY = { ...STORAGE_RETRY, unitMs: 100, jitterMs: 100, maxDelayMs: 1600 };
const quickStore = () => new GcsObjectStore('artifacts', { retry: QUICK_RETRY });
const uploadsOf = (requests: ReturnType<ReturnType<typeof since>>, name: string) => requests.filter((r) => r.method === 'POST' && r.query.get('name') === name);

describe('GcsObjectStore against the Cloud Storage JSON API', () => {
  it('writes create-only objects with ifGenerationMatch=0, and the second writer loses', async () => {
    const store = quickStore();
    const requests = since();
    const generation = await store.createOnly('jobs/markowitz/j1/result.json', '{"n":1}', 'application/json');
    expect(generation).toBe(String(fake.objects.get('artifacts/jobs/markowitz/j1/result.json')?.generation));
    await new Promise((r) => setTimeout(r, 120)); // past the per-object limit
    expect(await store.createOnly('jobs/markowitz/j1/result.json', '{"n":2}', 'application/json')).toBeNull();
    const uploads = uploadsOf(requests(), 'jobs/markowitz/j1/result.json');
    expect(uploads).toHaveLength(2);
    for (const upload of uploads) {
      expect(upload.path).toBe('/upload/storage/v1/b/artifacts/o');
      expect(upload.query.get('ifGenerationMatch')).toBe('0');
    }
    expect(fake.objects.get('artifacts/jobs/markowitz/j1/result.json')?.body.toString()).toBe('{"n":1}');
    expect(fake.objects.get('artifacts/jobs/markowitz/j1/result.json')?.contentType).toBe('application/json');
    expect(store.uri('jobs/markowitz/j1/result.json')).toBe('gs://artifacts/jobs/markowitz/j1/result.json');
  });

  it('a create whose reply was lost is retried, answered 412, and recognised as our own write by its write id', async () => {
    const store = quickStore();
    fake.objectUpdateIntervalMs = 0;
    fake.lostReplies.push({ match: (r) => r.query.get('name') === 'jobs/x/lost/result.json', times: 1 });
    const requests = since();
    const generation = await store.createOnly('jobs/x/lost/result.json', '{"mine":true}', 'application/json');
    expect(uploadsOf(requests(), 'jobs/x/lost/result.json')).toHaveLength(2); // stored + 503, then 412
    expect(generation).toBe(String(fake.objects.get('artifacts/jobs/x/lost/result.json')?.generation));
    // Another writer's object is still another writer's: null.
    expect(await store.createOnly('jobs/x/lost/result.json', '{"mine":false}', 'application/json')).toBeNull();
  });

  it('a conditional replace whose reply was lost is recognised the same way', async () => {
    const store = quickStore();
    fake.objectUpdateIntervalMs = 0;
    const first = (await store.createOnly('jobs/x/lost/claim.json', 'a', 'application/json'))!;
    fake.lostReplies.push({ match: (r) => r.method === 'POST' && r.query.get('name') === 'jobs/x/lost/claim.json', times: 1 });
    const replaced = await store.replaceIf('jobs/x/lost/claim.json', 'b', 'application/json', first);
    expect(replaced).toBe(String(fake.objects.get('artifacts/jobs/x/lost/claim.json')?.generation));
    expect(fake.objects.get('artifacts/jobs/x/lost/claim.json')?.body.toString()).toBe('b');
  });

  it('reads an object with its generation, replaces and deletes only at that generation', async () => {
    const store = quickStore();
    fake.objectUpdateIntervalMs = 0;
    await store.createOnly('jobs/x/claim.json', 'a', 'application/json');
    const read = await store.get('jobs/x/claim.json');
    expect(read?.body).toBe('a');
    expect(await store.replaceIf('jobs/x/claim.json', 'b', 'application/json', read!.generation)).toBe((await store.get('jobs/x/claim.json'))?.generation);
    expect(await store.replaceIf('jobs/x/claim.json', 'c', 'application/json', read!.generation)).toBeNull();
    const requests = since();
    await store.deleteIf('jobs/x/claim.json', read!.generation); // stale generation: kept
    expect(requests()[0]).toMatchObject({ method: 'DELETE', path: '/b/artifacts/o/jobs/x/claim.json' });
    expect(requests()[0]!.query.get('ifGenerationMatch')).toBe(read!.generation);
    expect((await store.get('jobs/x/claim.json'))?.body).toBe('b');
    await store.deleteIf('jobs/x/claim.json', (await store.get('jobs/x/claim.json'))!.generation);
    expect(await store.get('jobs/x/claim.json')).toBeNull();
  });

  it('lists the names under a prefix with objects.list, and nothing beside it', async () => {
    const store = quickStore();
    fake.objectUpdateIntervalMs = 0;
    for (const name of ['jobs/m/list/shards/f/0.json', 'jobs/m/list/shards/f/1.json', 'jobs/m/list/shards/g/0.json', 'jobs/m/lister/x.json']) await store.createOnly(name, '{}', 'application/json');
    const requests = since();
    expect((await store.names('jobs/m/list/shards/f/')).sort()).toEqual(['jobs/m/list/shards/f/0.json', 'jobs/m/list/shards/f/1.json']);
    expect(requests()[0]).toMatchObject({ method: 'GET', path: '/b/artifacts/o' });
    expect(requests()[0]!.query.get('prefix')).toBe('jobs/m/list/shards/f/');
    expect(await store.names('jobs/m/none/')).toEqual([]);
  });

  it('retries still happen after many plain puts, for writes and reads alike', async () => {
    const store = quickStore();
    fake.objectUpdateIntervalMs = 0;
    for (let i = 0; i < 25; i++) await store.put(`jobs/x/many/${i}.json`, '{}', 'application/json');
    const requests = since();
    fake.faults.push({ match: (r) => r.method === 'POST', status: 503, times: 1 });
    await store.put('jobs/x/many/after.json', '{"ok":1}', 'application/json');
    fake.faults.push({ match: (r) => r.method === 'GET', status: 503, times: 1 });
    expect((await store.get('jobs/x/many/after.json'))?.body).toBe('{"ok":1}');
    fake.faults.push({ match: (r) => r.method === 'POST', status: 429, times: 1 });
    expect(await store.createOnly('jobs/x/many/created.json', '{}', 'application/json')).not.toBeNull();
    expect(requests().filter((r) => r.method === 'POST')).toHaveLength(4); // each faulted request was sent again
  });

  it('names with slashes and characters URLs reserve are one encoded path segment, and round-trip', async () => {
    const store = quickStore();
    fake.objectUpdateIntervalMs = 0;
    const name = 'jobs/x/odd names/a#b?c=d&e%20f+é.json';
    const requests = since();
    const generation = await store.createOnly(name, '{"odd":true}', 'application/json');
    expect(fake.objects.get(`artifacts/${name}`)?.body.toString()).toBe('{"odd":true}');
    expect(await store.get(name)).toEqual({ body: '{"odd":true}', generation });
    expect(await store.exists(name)).toBe(true);
    const read = requests().find((r) => r.method === 'GET')!;
    expect(read.rawPath).toBe(`/b/artifacts/o/${encodeURIComponent(name)}`);
    expect(read.rawPath).toContain('jobs%2Fx%2Fodd%20names%2Fa%23b%3Fc%3Dd%26e%2520f%2B%C3%A9.json');
    expect(await store.names('jobs/x/odd names/')).toEqual([name]);
    await store.deleteIf(name, generation!);
    expect(fake.objects.has(`artifacts/${name}`)).toBe(false);
  });

  it('reads an object and its generation in one request (alt=media, x-goog-generation); a missing one is null, and does not exist', async () => {
    const store = quickStore();
    fake.objectUpdateIntervalMs = 0;
    const generation = await store.createOnly('jobs/x/read/result.json', 'ünïcode ✓\n', 'application/json');
    const requests = since();
    expect(await store.get('jobs/x/read/result.json')).toEqual({ body: 'ünïcode ✓\n', generation });
    expect(requests()).toHaveLength(1);
    expect(requests()[0]!.query.get('alt')).toBe('media');
    expect(await store.get('jobs/x/read/none.json')).toBeNull();
    expect(await store.exists('jobs/x/read/none.json')).toBe(false);
    expect(await store.exists('jobs/x/read/result.json')).toBe(true);
  });

  it('every upload names its bytes\' MD5, so Cloud Storage refuses bytes corrupted on the way', async () => {
    const store = quickStore();
    const requests = since();
    await store.put('jobs/x/md5.json', '{"a":1}', 'application/json');
    const upload = requests()[0]!;
    expect(upload.query.get('uploadType')).toBe('multipart');
    expect(upload.body).toContain(`"md5Hash":"${createHash('md5').update('{"a":1}').digest('base64')}"`);
  });

  it('lists every page of a long listing (pageToken), asking only for the names', async () => {
    const store = quickStore();
    fake.objectUpdateIntervalMs = 0;
    fake.listPageSize = 3;
    try {
      const names = Array.from({ length: 8 }, (_, i) => `jobs/m/paged/shards/${i}.json`);
      for (const name of names) await store.put(name, '{}', 'application/json');
      const requests = since();
      expect((await store.names('jobs/m/paged/shards/')).sort()).toEqual(names);
      const lists = requests();
      expect(lists).toHaveLength(3);
      expect(lists.map((r) => r.query.get('pageToken'))).toEqual([null, '3', '6']);
      for (const r of lists) expect(r.query.get('fields')).toBe('items(name),nextPageToken');
    } finally {
      fake.listPageSize = 1000;
    }
  });

  it('a connection that fails (nothing listening) is retried, then a TransientError; a stalled answer times out the same way', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = new GcsObjectStore('artifacts', { emulatorHost: `http://127.0.0.1:${port}`, retry: { ...QUICK_RETRY, maxRetries: 1 } });
    await expect(refused.get('jobs/x/any.json')).rejects.toBeInstanceOf(TransientError);
    let asked = 0;
    const stalled = http.createServer(() => void asked++); // never answers
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const store = new GcsObjectStore('artifacts', { emulatorHost: `http://127.0.0.1:${(stalled.address() as { port: number }).port}`, retry: { ...QUICK_RETRY, maxRetries: 1 }, requestTimeoutMs: 200 });
      const error = await store.put('jobs/x/slow.json', '{}', 'application/json').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect((error as Error).message).toContain('timed out after 200 ms');
      expect(asked).toBe(2);
    } finally {
      stalled.closeAllConnections();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  it('sends the access token; a 401 fetches a fresh one and is sent again once, a second 401 is permanent', async () => {
    let issued = 0;
    const token = new CachedToken(async () => ({ accessToken: `token-${++issued}`, expiresInS: 3600 }));
    const store = new GcsObjectStore('artifacts', { retry: QUICK_RETRY, token });
    const requests = since();
    await store.put('jobs/x/auth/a.json', '{}', 'application/json');
    await store.put('jobs/x/auth/b.json', '{}', 'application/json');
    expect(requests().map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-1']);
    fake.faults.push({ match: (r) => r.method === 'GET', status: 401, times: 1, reason: 'authError' });
    expect(await store.exists('jobs/x/auth/a.json')).toBe(true);
    expect(requests().slice(-2).map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    fake.faults.push({ match: (r) => r.method === 'GET', status: 401, times: 2, reason: 'authError' });
    await expect(store.exists('jobs/x/auth/a.json')).rejects.toBeInstanceOf(JobError);
  });

  it('a second write to one object within a second is answered 429 by Cloud Storage and retried by the client', async () => {
    const store = new GcsObjectStore('artifacts'); // production retry settings
    fake.objectUpdateIntervalMs = 1000;
    const requests = since();
    await store.put('jobs/x/rate/status.json', '{"status":"running"}', 'application/json');
    await store.put('jobs/x/rate/status.json', '{"status":"completed"}', 'application/json');
    expect(uploadsOf(requests(), 'jobs/x/rate/status.json').length).toBeGreaterThanOrEqual(3); // the second one was throttled, then retried
    expect(fake.objects.get('artifacts/jobs/x/rate/status.json')?.body.toString()).toBe('{"status":"completed"}');
    expect(store.updateIntervalMs).toBe(1000);
  }, 30_000);

  it('plain puts carry no precondition; a persistent server error is a TransientError', async () => {
    const store = quickStore();
    const requests = since();
    await store.put('jobs/x/status.json', '{}', 'application/json');
    expect(requests()[0]!.query.has('ifGenerationMatch')).toBe(false);
    fake.faults.push({ match: (r) => r.method === 'POST', status: 503, times: 10 });
    await expect(store.put('jobs/x/other.json', '{}', 'application/json')).rejects.toBeInstanceOf(TransientError);
  });

  it.each([
    [403, 'forbidden', 'caller does not have storage.objects.create access'],
    [400, 'invalid', 'Invalid argument'],
    [404, 'notFound', 'The specified bucket does not exist'],
  ])('HTTP %i is permanent: a JobError internal carrying the service message, not retried', async (status, reason) => {
    const store = quickStore();
    const requests = since();
    fake.faults.push({ match: (r) => r.method === 'POST', status, times: 10, reason });
    const error = await store.put('jobs/x/denied.json', '{}', 'application/json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('internal');
    expect((error as JobError).message).toMatch(new RegExp(`^Writing gs://artifacts/jobs/x/denied\\.json failed \\(HTTP ${status}, ${reason}\\): injected fault`));
    expect(requests().filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});

describe('access tokens from the metadata server (Cloud Run, Cloud Functions)', () => {
  it('asks the metadata server with Metadata-Flavor: Google, once for concurrent callers, again only near expiry', async () => {
    const asked: http.IncomingHttpHeaders[] = [];
    let status = 200;
    const server = http.createServer((req, res) => {
      asked.push(req.headers);
      expect(req.url).toBe('/computeMetadata/v1/instance/service-accounts/default/token');
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(status === 200 ? JSON.stringify({ access_token: `ya29.secret-${asked.length}`, expires_in: 3599, token_type: 'Bearer' }) : 'ya29.leaked-in-an-error-page');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      let clock = 1_000_000;
      const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
      const source = cloudAccessToken('https://www.googleapis.com/auth/devstorage.read_write', { K_SERVICE: 'blackscholes', GCE_METADATA_HOST: host }, () => clock);
      expect(await Promise.all([source.token(), source.token(), source.token()])).toEqual(['ya29.secret-1', 'ya29.secret-1', 'ya29.secret-1']);
      expect(asked).toHaveLength(1);
      expect(asked[0]!['metadata-flavor']).toBe('Google');
      clock += 3599_000 - 6 * 60_000; // 6 minutes left: still used
      expect(await source.token()).toBe('ya29.secret-1');
      clock += 2 * 60_000; // 4 minutes left: refreshed
      expect(await source.token()).toBe('ya29.secret-2');
      source.invalidate();
      status = 500;
      const error = await source.token().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect((error as Error).message).toContain('HTTP 500');
      expect((error as Error).message).not.toContain('ya29');
      status = 200; // a failure is not remembered
      expect(await source.token()).toBe('ya29.secret-4');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('BigQueryWarehouse against the BigQuery REST API', () => {
  const warehouse = (options: { maxRetries?: number; location?: string } = {}) =>
    new BigQueryWarehouse({ projectId: 'test-project', datasets: { raw: 'raw_eu', curated: 'curated_eu' }, location: options.location ?? 'europe-west3', emulatorHost: base, ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}) });
  const run = (jobId: string) => ({ job_id: jobId, model: 'montecarlo', status: 'completed', finished_at: '2024-06-03T10:00:00.000Z' });
  const metric = (jobId: string, name: string, value: number) => ({ job_id: jobId, model: 'montecarlo', metric: name, value, recorded_at: '2024-06-03T10:00:00.000Z' });

  it('streams rows into the right dataset and table with their insert ids', async () => {
    const requests = since();
    await warehouse().insertRows('job_runs', [{ insertId: 'montecarlo/j1', row: run('j1') }]);
    await warehouse().insertRows('model_metrics', [
      { insertId: 'montecarlo/j1/var/', row: metric('j1', 'var', 0.1) },
      { insertId: 'montecarlo/j1/cvar/', row: metric('j1', 'cvar', 0.2) },
    ]);
    const paths = requests().map((r) => r.path);
    expect(paths).toEqual([
      '/bigquery/v2/projects/test-project/datasets/curated_eu/tables/job_runs/insertAll',
      '/bigquery/v2/projects/test-project/datasets/curated_eu/tables/model_metrics/insertAll',
    ]);
    expect(JSON.parse(requests()[1]!.body).rows.map((r: { insertId: string }) => r.insertId)).toEqual(['montecarlo/j1/var/', 'montecarlo/j1/cvar/']);
  });

  it('a request over BigQuery\'s limits (10 MB, 50,000 rows) is refused whole, as BigQuery does', async () => {
    const post = (rows: unknown[]) =>
      fetch(`${base}/bigquery/v2/projects/test-project/datasets/curated_eu/tables/model_metrics/insertAll`, { method: 'POST', body: JSON.stringify({ rows }) }).then(async (r) => ({ status: r.status, body: await r.text() }));
    const stored = fake.insertedRows.length;
    const tooMany = await post(Array.from({ length: INSERT_ALL_MAX_ROWS + 1 }, (_, i) => ({ insertId: `many/${i}`, json: metric('many', `m${i}`, i) })));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toContain('too many rows present in the request, limit: 50000');
    const padding = 'x'.repeat(1000);
    const tooLarge = await post(Array.from({ length: 11_000 }, (_, i) => ({ insertId: `large/${i}`, json: metric('large', `m${i}${padding}`, i) })));
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body).toContain('Request payload size exceeds the limit: 10485760 bytes');
    expect(fake.insertedRows.length).toBe(stored);
  });

  it('many rows (the metrics of a whole exchange) go in requests within BigQuery\'s limits, in order, each row once', async () => {
    const requests = since();
    // 12,000 rows of ~1.2 KB: 14 MB, more than one request may carry.
    const padding = 'x'.repeat(1000);
    const rows = Array.from({ length: 12_000 }, (_, i) => ({ insertId: `exchange/${i}`, row: metric('exchange', `per_symbol.S${i}.rows${padding}`, i) }));
    await warehouse().insertRows('model_metrics', rows);
    const inserts = requests().filter((r) => r.path.endsWith('/insertAll'));
    expect(inserts.length).toBe(24);
    for (const r of inserts) {
      expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(INSERT_ALL_MAX_BYTES);
      expect(JSON.parse(r.body).rows.length).toBeLessThanOrEqual(500);
    }
    const sent = inserts.flatMap((r) => JSON.parse(r.body).rows.map((row: { insertId: string }) => row.insertId));
    expect(sent).toEqual(rows.map((r) => r.insertId));
    expect(fake.rows('curated_eu.model_metrics').filter((r) => r.job_id === 'exchange')).toHaveLength(12_000);
  });

  it('rows too large for 500 a request are batched by size: each request stays under 10 MB', () => {
    const big = 'y'.repeat(100_000);
    const rows = Array.from({ length: 300 }, (_, i) => ({ insertId: `big/${i}`, row: { metric: big, value: i } }));
    const batches = insertBatches(rows);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(rows);
    for (const b of batches) expect(JSON.stringify({ rows: b.map((r) => ({ insertId: r.insertId, json: r.row })) }).length).toBeLessThanOrEqual(INSERT_BATCH_BYTES);
  });

  it('rows BigQuery rejects (a REQUIRED column missing) fail the job as internal, sent once, naming the field', async () => {
    const requests = since();
    const error = await warehouse()
      .insertRows('job_runs', [
        { insertId: 'montecarlo/ok', row: run('ok') },
        { insertId: 'montecarlo/bad', row: { job_id: 'bad', status: 'completed' } },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('internal');
    expect((error as JobError).message).toMatch(/^Inserting 2 rows into curated_eu\.job_runs failed \(invalid\): .*Missing required field: model\./);
    expect(requests().filter((r) => r.path.endsWith('/insertAll'))).toHaveLength(1); // no re-sending of rows that cannot pass
    expect(fake.rows('curated_eu.job_runs').filter((r) => r.job_id === 'ok')).toEqual([]); // BigQuery stored none of the request
  });

  it.each([
    [403, 'rateLimitExceeded', TransientError],
    [429, 'rateLimitExceeded', TransientError],
    [500, 'backendError', TransientError],
    [403, 'quotaExceeded', JobError],
    [403, 'accessDenied', JobError],
    [404, 'notFound', JobError],
    [400, 'invalidQuery', JobError],
  ] as const)('HTTP %i %s is %o', async (status, reason, kind) => {
    fake.faults.push({ match: (r) => r.path.endsWith('/insertAll'), status, times: 1, reason });
    const error = await warehouse({ maxRetries: 0 }).insertRows('job_runs', [{ insertId: `x-${status}-${reason}`, row: run('x') }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).toContain(`HTTP ${status}, ${reason}`);
    if (error instanceof JobError) expect(error.code).toBe('internal');
  });

  it('re-sent rows are dropped only within the insertId window: later ones are stored twice, as in BigQuery', async () => {
    let clock = 1_000_000;
    fake.now = () => clock;
    try {
      await warehouse().insertRows('job_runs', [{ insertId: 'montecarlo/window', row: run('window') }]);
      clock += 30_000;
      await warehouse().insertRows('job_runs', [{ insertId: 'montecarlo/window', row: run('window') }]);
      expect(fake.rows('curated_eu.job_runs').filter((r) => r.job_id === 'window')).toHaveLength(1);
      clock += 5 * 60_000; // a Pub/Sub redelivery, minutes later
      await warehouse().insertRows('job_runs', [{ insertId: 'montecarlo/window', row: run('window') }]);
      expect(fake.rows('curated_eu.job_runs').filter((r) => r.job_id === 'window')).toHaveLength(2);
    } finally {
      fake.now = () => Date.now();
    }
  });

  it('reads prices with a parameterized query in the datasets location, across polls and result pages', async () => {
    fake.queryFields = [
      { name: 'date', type: 'STRING' },
      { name: 'symbol', type: 'STRING' },
      { name: 'close', type: 'FLOAT' },
      { name: 'adj_close', type: 'FLOAT' },
    ];
    fake.queryRows = [
      { date: '2024-01-02', symbol: 'AAPL', close: 185.5, adj_close: 184.9 },
      { date: '2024-01-03', symbol: 'AAPL', close: 184.2, adj_close: 183.6 },
      { date: '2024-01-02', symbol: 'MSFT', close: 370.9, adj_close: 368.1 },
      { date: '2024-01-03', symbol: 'MSFT', close: 370.6, adj_close: 367.8 },
      { date: '2024-01-04', symbol: 'MSFT', close: 367.9, adj_close: 365.1 },
    ];
    fake.incompletePolls = 2;
    const requests = since();
    const rows = await warehouse().queryBySymbols('eq_ohlcv', ['AAPL', 'MSFT'], '2024-01-01', '2024-12-31');
    fake.incompletePolls = 1;
    expect(rows).toEqual(fake.queryRows);
    const query = JSON.parse(requests()[0]!.body);
    expect(query.location).toBe('europe-west3');
    expect(query.query).toContain('FROM `test-project.raw_eu.eq_ohlcv` WHERE symbol IN UNNEST(@symbols) AND date BETWEEN @start AND @end');
    const params = Object.fromEntries(query.queryParameters.map((p: { name: string }) => [p.name, p]));
    expect(params.symbols.parameterType).toEqual({ type: 'ARRAY', arrayType: { type: 'STRING' } });
    expect(params.symbols.parameterValue.arrayValues.map((v: { value: string }) => v.value)).toEqual(['AAPL', 'MSFT']);
    expect(params.start).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-01-01' } });
    expect(params.end).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-12-31' } });
    const polls = requests().filter((r) => r.method === 'GET' && r.path.includes('/queries/'));
    expect(polls.length).toBe(2 + 3); // two incomplete answers, then three pages of two rows
    for (const poll of polls) expect(poll.query.get('location')).toBe('europe-west3');
  });

  it('a query sent to another location than the datasets is refused by BigQuery (404), as a permanent error', async () => {
    const error = await warehouse({ location: 'US' })
      .queryBySymbols('eq_ohlcv', ['AAPL'], '2024-01-01', '2024-12-31')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as Error).message).toMatch(/HTTP 404.*not found in location US/);
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
    const query = JSON.parse(requests()[0]!.body);
    expect(query.query).toBe(
      `SELECT asset_class, CAST(date AS STRING) AS date, symbol, open, high, low, close, adj_close, volume, source, ingested_at ` +
        'FROM `test-project.raw_eu.prices` WHERE symbol IN UNNEST(@symbols) AND date BETWEEN @start AND @end ORDER BY symbol, date',
    );
    const params = Object.fromEntries(query.queryParameters.map((p: { name: string }) => [p.name, p]));
    expect(params.symbols.parameterValue.arrayValues.map((v: { value: string }) => v.value)).toEqual(['AAPL', 'BTCUSD', 'EURUSD']);
    expect(params.start).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-01-01' } });
    expect(params.end).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-06-28' } });
  });

  it('upserts with one MERGE on the key columns, restricted to the batch symbols and dates, in the datasets location', async () => {
    fake.dmlStats = { insertedRowCount: '1', updatedRowCount: '1' };
    const requests = since();
    const rows = [
      { date: '2024-01-03', symbol: 'AAPL', open: 1, high: 2, low: 0.5, close: 1.6, adj_close: null, volume: null, source: 'eodhd', ingested_at: '2024-06-03T00:00:00Z' },
      { date: '2024-01-02', symbol: 'AAPL', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.5, volume: 100, source: 'eodhd', ingested_at: '2024-06-03T00:00:00Z' },
    ];
    expect(await warehouse().upsertRows('eq_ohlcv', ['symbol', 'date'], rows)).toEqual({ inserted: 1, updated: 1 });
    const job = JSON.parse(requests().find((r) => r.path.endsWith('/jobs'))!.body);
    expect(job.jobReference.location).toBe('europe-west3');
    const sql: string = job.configuration.query.query;
    expect(sql).toMatch(/^MERGE `test-project\.raw_eu\.eq_ohlcv` AS t USING UNNEST\(@rows\) AS s ON t\.symbol = s\.symbol AND t\.date = s\.date AND t\.symbol IN UNNEST\(@symbols\) AND t\.date BETWEEN @first_date AND @last_date WHEN/);
    expect(sql).toContain('WHEN NOT MATCHED THEN INSERT');
    const params = Object.fromEntries(job.configuration.query.queryParameters.map((p: { name: string }) => [p.name, p]));
    expect(params.symbols.parameterValue.arrayValues.map((v: { value: string }) => v.value)).toEqual(['AAPL']);
    expect(params.first_date).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-01-02' } });
    expect(params.last_date).toMatchObject({ parameterType: { type: 'DATE' }, parameterValue: { value: '2024-01-03' } });
    const param = params.rows;
    const structTypes = param.parameterType.arrayType.structTypes.map((t: { name: string; type: { type: string } }) => [t.name, t.type.type]);
    expect(structTypes).toEqual(TABLES.eq_ohlcv.columns.map((c) => [c.name, c.type]));
    expect(param.parameterValue.arrayValues).toHaveLength(2);
    const second = param.parameterValue.arrayValues[1].structValues;
    expect(second.date.value).toBe('2024-01-02');
    expect(second.symbol.value).toBe('AAPL');
    expect(Number(second.close.value)).toBe(1.5);
    expect(second.ingested_at.value).toMatch(/^2024-06-03[ T]00:00:00/);
    expect(param.parameterValue.arrayValues[0].structValues.adj_close.value ?? null).toBeNull();
    for (const get of requests().filter((r) => r.method === 'GET')) expect(get.query.get('location')).toBe('europe-west3');
  });

  it('a MERGE whose job insert reply was lost is found again by the client (409, then a lookup in the location) and counted once', async () => {
    fake.dmlStats = { insertedRowCount: '2', updatedRowCount: '0' };
    fake.lostReplies.push({ match: (r) => r.method === 'POST' && r.path.endsWith('/jobs'), times: 1 });
    const requests = since();
    const rows = [{ date: '2024-01-02', symbol: 'MSFT', close: 1, source: 'eodhd', ingested_at: '2024-06-03T00:00:00Z' }];
    expect(await warehouse().upsertRows('eq_ohlcv', ['symbol', 'date'], rows)).toEqual({ inserted: 2, updated: 0 });
    const inserts = requests().filter((r) => r.method === 'POST' && r.path.endsWith('/jobs'));
    expect(inserts).toHaveLength(2);
    expect(JSON.parse(inserts[0]!.body).jobReference.jobId).toBe(JSON.parse(inserts[1]!.body).jobReference.jobId);
  }, 30_000);

  it('a warehouse outage is a TransientError', async () => {
    fake.faults.push({ match: (r) => r.path.endsWith('/insertAll'), status: 500, times: 4 });
    await expect(warehouse({ maxRetries: 0 }).insertRows('job_runs', [{ insertId: 'a', row: run('a') }])).rejects.toBeInstanceOf(TransientError);
  });

  describe('streaming inserts without the BigQuery client (direct tabledata.insertAll)', () => {
    /** The client's retry rules, delays 20 times shorter. */
    const QUICK_INSERT_RETRY = { ...INSERT_ALL_RETRY, unitMs: 50, jitterMs: 50 };
    /** A client that fails the test if anything touches it: inserts must not need the BigQuery client. */
    const untouchable = new Proxy({}, { get: (_target, key) => { throw new Error(`the BigQuery client was used (${String(key)})`); } }) as unknown as BigQuery;
    const quick = (options: { maxRetries?: number; token?: CachedToken } = {}) =>
      new BigQueryWarehouse({ projectId: 'test-project', datasets: { raw: 'raw_eu', curated: 'curated_eu' }, location: 'europe-west3', emulatorHost: base, client: untouchable, insertRetry: QUICK_INSERT_RETRY, ...options });
    const inserts = (requests: ReturnType<ReturnType<typeof since>>) => requests.filter((r) => r.path.endsWith('/insertAll'));

    it('sends exactly the request the client sent with raw rows: {"rows":[{"insertId","json"}]}, JSON, no other option, no token with an emulator', async () => {
      const requests = since();
      await quick().insertRows('model_metrics', [
        { insertId: 'montecarlo/j9/var/', row: metric('j9', 'var', 0.1) },
        { insertId: 'montecarlo/j9/cvar/', row: metric('j9', 'cvar', 0.2) },
      ]);
      const [request] = inserts(requests());
      expect(request!.method).toBe('POST');
      expect(request!.path).toBe('/bigquery/v2/projects/test-project/datasets/curated_eu/tables/model_metrics/insertAll');
      expect(request!.headers['content-type']).toBe('application/json');
      expect(request!.headers.authorization).toBeUndefined();
      expect(JSON.parse(request!.body)).toEqual({
        rows: [
          { insertId: 'montecarlo/j9/var/', json: metric('j9', 'var', 0.1) },
          { insertId: 'montecarlo/j9/cvar/', json: metric('j9', 'cvar', 0.2) },
        ],
      });
      expect(fake.rows('curated_eu.model_metrics').filter((r) => r.job_id === 'j9').map((r) => r.metric)).toEqual(['var', 'cvar']);
    });

    it('finds the REST root as the client does: BIGQUERY_EMULATOR_HOST verbatim, else the endpoint with https:// and /bigquery/v2, else Google', () => {
      expect(bigQueryApiRoot({}, {})).toBe('https://bigquery.googleapis.com/bigquery/v2');
      expect(bigQueryApiRoot({ apiEndpoint: 'bq.example.com/' }, {})).toBe('https://bq.example.com/bigquery/v2');
      expect(bigQueryApiRoot({ emulatorHost: 'http://127.0.0.1:9050' }, {})).toBe('http://127.0.0.1:9050/bigquery/v2');
      expect(bigQueryApiRoot({ emulatorHost: 'http://127.0.0.1:9050' }, { BIGQUERY_EMULATOR_HOST: 'http://127.0.0.1:9060' })).toBe('http://127.0.0.1:9060');
    });

    it('sends the access token; a 401 fetches a fresh one and is sent again once, a second 401 is permanent', async () => {
      let issued = 0;
      const token = new CachedToken(async () => ({ accessToken: `bq-token-${++issued}`, expiresInS: 3600 }));
      const warehouse = quick({ token });
      const requests = since();
      await warehouse.insertRows('job_runs', [{ insertId: 'montecarlo/tok1', row: run('tok1') }]);
      fake.faults.push({ match: (r) => r.path.endsWith('/insertAll'), status: 401, times: 1, reason: 'authError' });
      await warehouse.insertRows('job_runs', [{ insertId: 'montecarlo/tok2', row: run('tok2') }]);
      expect(inserts(requests()).map((r) => r.headers.authorization)).toEqual(['Bearer bq-token-1', 'Bearer bq-token-1', 'Bearer bq-token-2']);
      fake.faults.push({ match: (r) => r.path.endsWith('/insertAll'), status: 401, times: 2, reason: 'authError' });
      const error = await warehouse.insertRows('job_runs', [{ insertId: 'montecarlo/tok3', row: run('tok3') }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobError);
      expect((error as Error).message).not.toContain('bq-token');
      expect(fake.rows('curated_eu.job_runs').filter((r) => String(r.job_id).startsWith('tok')).map((r) => r.job_id)).toEqual(['tok1', 'tok2']);
    });

    it.each([
      [500, 'backendError'],
      [503, 'backendError'],
      [429, 'rateLimitExceeded'],
      [403, 'rateLimitExceeded'],
    ] as const)('HTTP %i %s is retried with backoff, and the rows are stored once', async (status, reason) => {
      const requests = since();
      fake.faults.push({ match: (r) => r.path.endsWith('/insertAll'), status, times: 2, reason });
      const id = `retried-${status}-${reason}`;
      await quick().insertRows('job_runs', [{ insertId: `montecarlo/${id}`, row: run(id) }]);
      const sent = inserts(requests());
      expect(sent).toHaveLength(3);
      // Backoff: 2^1 then 2^2 units (100, 200 ms) plus jitter under 50 ms.
      expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(90);
      expect(sent[2]!.at - sent[1]!.at).toBeGreaterThanOrEqual(190);
      expect(fake.rows('curated_eu.job_runs').filter((r) => r.job_id === id)).toHaveLength(1);
    });

    it('a server fault that outlasts the retries (3, as the client) is a TransientError after 4 requests', async () => {
      const requests = since();
      fake.faults.push({ match: (r) => r.path.endsWith('/insertAll'), status: 502, times: 10 });
      const error = await quick().insertRows('job_runs', [{ insertId: 'montecarlo/outage', row: run('outage') }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect((error as Error).message).toBe('Inserting 1 rows into curated_eu.job_runs failed (HTTP 502, backendError): injected fault');
      expect(inserts(requests())).toHaveLength(4);
    });

    it.each([
      [400, 'invalid'],
      [403, 'accessDenied'],
      [404, 'notFound'],
    ] as const)('HTTP %i %s is permanent: sent once, the job fails as internal', async (status, reason) => {
      const requests = since();
      fake.faults.push({ match: (r) => r.path.endsWith('/insertAll'), status, times: 1, reason });
      const error = await quick().insertRows('job_runs', [{ insertId: `montecarlo/perm-${status}`, row: run(`perm-${status}`) }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobError);
      expect((error as JobError).code).toBe('internal');
      expect((error as Error).message).toBe(`Inserting 1 rows into curated_eu.job_runs failed (HTTP ${status}, ${reason}): injected fault`);
      expect(inserts(requests())).toHaveLength(1);
    });

    it('insertErrors (rows refused) are permanent, not re-sent, and name each refused row by its index in the request', async () => {
      const requests = since();
      const rows = [
        { insertId: 'montecarlo/ie-ok', row: run('ie-ok') },
        { insertId: 'montecarlo/ie-bad1', row: { job_id: 'ie-bad1', status: 'completed' } },
        { insertId: 'montecarlo/ie-bad2', row: { ...run('ie-bad2'), colour: 'blue' } },
      ];
      const error = await quick().insertRows('job_runs', rows).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobError);
      expect((error as Error).message).toBe('Inserting 3 rows into curated_eu.job_runs failed (invalid): row 1: Missing required field: model.; row 2: no such field: colour.');
      expect(inserts(requests())).toHaveLength(1);
      expect(fake.rows('curated_eu.job_runs').filter((r) => String(r.job_id).startsWith('ie-'))).toEqual([]);
    });

    it('a connection that fails (nothing listening) is retried, then a TransientError', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as { port: number }).port;
      await new Promise((resolve) => closed.close(resolve));
      const warehouse = new BigQueryWarehouse({ projectId: 'test-project', datasets: { raw: 'raw_eu', curated: 'curated_eu' }, location: 'europe-west3', emulatorHost: `http://127.0.0.1:${port}`, client: untouchable, insertRetry: QUICK_INSERT_RETRY, maxRetries: 1 });
      const error = await warehouse.insertRows('job_runs', [{ insertId: 'montecarlo/refused', row: run('refused') }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect((error as Error).message).toMatch(/^Inserting 1 rows into curated_eu\.job_runs failed: .*ECONNREFUSED/);
    });
  });
});
