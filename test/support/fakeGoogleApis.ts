import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { CRC32C } from '@google-cloud/storage';
import { TABLES, type TableName } from '../../shared/warehouse/schemas.js';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The path as sent, percent-encoding kept (an object name's slashes are `%2F` in it). */
  rawPath: string;
  /** The request's headers (lower-case names). */
  headers: http.IncomingHttpHeaders;
  query: URLSearchParams;
  body: string;
  /** When it arrived (ms since the epoch). */
  at: number;
}

interface StoredObject {
  body: Buffer;
  generation: number;
  contentType: string;
  /** Custom metadata (`x-goog-meta-*`), as the JSON API returns it under `metadata`. */
  metadata: Record<string, string>;
}

interface FakeJob {
  id: string;
  location: string;
  /** Polls still to be answered `jobComplete: false`. */
  incompletePolls: number;
  rows: Record<string, unknown>[];
  fields: { name: string; type: string }[];
  dmlStats: { insertedRowCount: string; updatedRowCount: string };
}

type Match = (r: RecordedRequest) => boolean;

/** BigQuery streaming inserts: the largest HTTP request (10 MB) and the most rows one request may carry. */
export const INSERT_ALL_MAX_BYTES = 10 * 1024 * 1024;
export const INSERT_ALL_MAX_ROWS = 50_000;

/**
 * A local HTTP server standing in for the Cloud Storage JSON API and the BigQuery REST
 * API, enough for the real client libraries to talk to it, and as strict as the services
 * where our code depends on their rules:
 *
 * - Storage: generations and preconditions (412), custom metadata, and about one mutation
 *   per second per object name (faster ones are answered 429 `rateLimitExceeded`).
 * - BigQuery: `insertAll` refuses a request over 10 MB or 50,000 rows (400), rejects rows missing a REQUIRED column or carrying an unknown
 *   one with `insertErrors` (and stores none of the request, the others `stopped`); an
 *   insertId is de-duplicated only within `insertIdWindowMs`, as BigQuery's best effort; a
 *   job id inserted twice is answered 409; datasets live in `location`, and a job is
 *   found only with its location; every query answers `jobComplete: false` first and its
 *   rows come in pages of `pageSize`.
 * - Any request: injected faults (`faults`: answered without being served) and lost
 *   replies (`lostReplies`: served, then answered 503 as if the reply never arrived).
 *
 * Every request is recorded for assertions.
 */
export class FakeGoogleApis {
  readonly requests: RecordedRequest[] = [];
  readonly objects = new Map<string, StoredObject>();
  /** Rows BigQuery stored, duplicates included. */
  readonly insertedRows: { table: string; insertId: string; json: Record<string, unknown>; at: number }[] = [];
  /** Rows returned by the next query jobs (BigQuery's f/v format is produced from these). */
  queryRows: Record<string, unknown>[] = [];
  queryFields: { name: string; type: string }[] = [];
  dmlStats = { insertedRowCount: '0', updatedRowCount: '0' };
  /** Messages published through the Pub/Sub REST API (`topics.publish`), data decoded. */
  readonly published: { topic: string; data: unknown; attributes: Record<string, string> }[] = [];
  /** Per-query answers by SQL (the doctor's several queries); undefined falls back to queryRows/queryFields. */
  queryAnswer?: (sql: string) => { fields: { name: string; type: string }[]; rows: Record<string, unknown>[] } | undefined;
  /** Datasets and tables that tables.get / datasets.get find (`dataset.table` to its schema fields). */
  readonly datasets = new Set<string>();
  readonly tables = new Map<string, { name: string; type: string; mode?: string }[]>();
  /** Cloud Monitoring timeSeries.list: the answer for a request's filter (default: no series). */
  timeSeries: (filter: string) => unknown = () => ({});
  /** Location of every dataset. */
  location = 'europe-west3';
  /** Rows per page of query results. */
  pageSize = 2;
  /** Polls a query answers `jobComplete: false` before it is done. */
  incompletePolls = 1;
  /** How long BigQuery remembers an insertId (best effort: about a minute). */
  insertIdWindowMs = 60_000;
  /** Names per page of objects.list (the service's default and most: 1,000). */
  listPageSize = 1000;
  /** Least time between two mutations of one object name; 0 turns the limit off. */
  objectUpdateIntervalMs = 1000;
  /** Status codes to answer the next requests matching a predicate with, without serving them. */
  readonly faults: { match: Match; status: number; times: number; reason?: string }[] = [];
  /** Requests to serve, then answer 503 as though the reply was lost. */
  readonly lostReplies: { match: Match; times: number }[] = [];
  /** The clock of the insertId window and the update rate (tests move it). */
  now: () => number = () => Date.now();
  readonly jobs = new Map<string, FakeJob>();
  /** The SQL of every query job, in order. */
  readonly statements: string[] = [];
  /** Every load job: its destination `dataset.table`, source URIs and the rows it read from the fake bucket. */
  readonly loadJobs: { destination: string; sourceUris: string[]; rows: number }[] = [];
  /** Tables deleted, as `dataset.table`. */
  readonly deletedTables: string[] = [];
  /** Rows in each table a load job filled (`dataset.table`). */
  private readonly loadedTables = new Map<string, number>();
  private readonly lastMutation = new Map<string, number>();
  /** When each `dataset.table` + insertId was last stored (the de-duplication window's memory). */
  private readonly insertIdSeenAt = new Map<string, number>();
  private generation = 1000;
  private server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<string> {
    // The clients keep sockets alive; a server closing an idle one as a client reuses it
    // (the default 5 s, on a loop busy with a large job) would fail an upload with EPIPE.
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    this.server.closeIdleConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private publish(res: Reply, topic: string, raw: Buffer): void {
    const { messages } = JSON.parse(raw.toString('utf8')) as { messages: { data: string; attributes?: Record<string, string> }[] };
    const ids = messages.map((m) => {
      this.published.push({ topic, data: JSON.parse(Buffer.from(m.data, 'base64').toString('utf8')), attributes: m.attributes ?? {} });
      return String(this.published.length);
    });
    res.send(200, { messageIds: ids });
  }

  /** Rows of a table as BigQuery holds them (dataset.table, duplicates included). */
  rows(table: string): Record<string, unknown>[] {
    return this.insertedRows.filter((r) => r.table === table).map((r) => r.json);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const raw = Buffer.concat(chunks);
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), rawPath: url.pathname, headers: req.headers, query: url.searchParams, body: raw.toString('utf8'), at: Date.now() };
      this.requests.push(recorded);
      const fault = this.faults.find((f) => f.times > 0 && f.match(recorded));
      if (fault) {
        fault.times--;
        return send(res, fault.status, apiError(fault.status, fault.reason ?? (fault.status === 429 ? 'rateLimitExceeded' : 'backendError'), 'injected fault'));
      }
      const lost = this.lostReplies.find((l) => l.times > 0 && l.match(recorded));
      if (lost) lost.times--;
      const reply = lost ? lostReply(res) : realReply(res);
      this.route(reply, req.method ?? 'GET', url, raw);
    });
  }

  private route(res: Reply, method: string, url: URL, raw: Buffer): void {
    const p = url.pathname.replace(/^\/storage\/v1/, '');
    let m: RegExpMatchArray | null;
    if ((m = url.pathname.match(/^\/v1\/projects\/([^/]+)\/topics\/([^/:]+):publish$/)) && method === 'POST') return this.publish(res, m[2]!, raw);
    if ((m = p.match(/^\/upload\/storage\/v1\/b\/([^/]+)\/o$/)) && method === 'POST') return this.upload(res, m[1]!, url.searchParams, raw);
    if ((m = p.match(/^\/b\/([^/]+)\/o$/)) && method === 'GET') return this.list(res, m[1]!, url.searchParams);
    if ((m = p.match(/^\/b\/([^/]+)\/o\/(.+)$/))) return this.object(res, method, m[1]!, decodeURIComponent(m[2]!), url.searchParams);
    if ((m = url.pathname.match(/\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/insertAll$/))) return this.insertAll(res, m[2]!, m[3]!, raw);
    if ((m = url.pathname.match(/\/projects\/([^/]+)\/jobs$/)) && method === 'POST') return this.insertJob(res, m[1]!, JSON.parse(raw.toString('utf8')));
    if ((m = url.pathname.match(/\/projects\/([^/]+)\/queries$/)) && method === 'POST') return this.queryJob(res, m[1]!, JSON.parse(raw.toString('utf8')));
    if ((m = url.pathname.match(/\/projects\/([^/]+)\/queries\/([^/]+)$/)) && method === 'GET') return this.queryResults(res, m[1]!, m[2]!, url.searchParams);
    if ((m = url.pathname.match(/\/projects\/([^/]+)\/jobs\/([^/]+)$/)) && method === 'GET') return this.getJob(res, m[1]!, m[2]!, url.searchParams);
    if ((m = url.pathname.match(/\/bigquery\/v2\/projects\/[^/]+\/datasets\/([^/]+)(?:\/tables\/([^/]+))?$/)) && method === 'GET') return this.tableOrDataset(res, m[1]!, m[2]);
    if ((m = url.pathname.match(/\/projects\/[^/]+\/datasets\/([^/]+)\/tables\/([^/]+)$/)) && method === 'DELETE') return this.deleteTable(res, `${m[1]}.${m[2]}`);
    if (url.pathname.match(/^\/v3\/projects\/[^/]+\/timeSeries$/) && method === 'GET') return res.send(200, this.timeSeries(url.searchParams.get('filter') ?? ''));
    res.send(404, apiError(404, 'notFound', `no fake for ${method} ${url.pathname}`));
  }

  // ---- Cloud Storage ----

  private upload(res: Reply, bucket: string, query: URLSearchParams, raw: Buffer): void {
    const name = query.get('name') as string;
    const key = `${bucket}/${name}`;
    const parts = multipart(raw);
    // A multipart upload may name the bytes' MD5: Cloud Storage refuses them if it differs.
    if (parts.md5Hash !== undefined && parts.md5Hash !== md5(parts.body)) return res.send(400, apiError(400, 'invalid', `Provided MD5 hash "${parts.md5Hash}" doesn't match calculated MD5 hash "${md5(parts.body)}".`));
    if (!this.mayMutate(res, key)) return;
    const current = this.objects.get(key);
    if (query.has('ifGenerationMatch') && Number(query.get('ifGenerationMatch')) !== (current?.generation ?? 0)) {
      return res.send(412, apiError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.'));
    }
    const stored: StoredObject = { body: parts.body, generation: ++this.generation, contentType: parts.contentType, metadata: parts.metadata };
    this.objects.set(key, stored);
    this.lastMutation.set(key, this.now());
    res.send(200, objectMetadata(bucket, name, stored));
  }

  /** objects.list: the names under `prefix` in name order, `listPageSize` (or `maxResults`) a page, continued by `pageToken`. */
  private list(res: Reply, bucket: string, query: URLSearchParams): void {
    const prefix = query.get('prefix') ?? '';
    const matching = [...this.objects.entries()].filter(([key]) => key.startsWith(`${bucket}/${prefix}`)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const start = Number(query.get('pageToken') ?? 0);
    const size = Math.min(this.listPageSize, Number(query.get('maxResults') ?? Infinity));
    const items = matching.slice(start, start + size).map(([key, stored]) => objectMetadata(bucket, key.slice(bucket.length + 1), stored));
    const next = start + size < matching.length ? String(start + size) : undefined;
    res.send(200, { kind: 'storage#objects', items, ...(next ? { nextPageToken: next } : {}) });
  }

  private object(res: Reply, method: string, bucket: string, name: string, query: URLSearchParams): void {
    const key = `${bucket}/${name}`;
    const current = this.objects.get(key);
    if (!current || (query.has('generation') && Number(query.get('generation')) !== current.generation)) {
      return res.send(404, apiError(404, 'notFound', 'No such object: ' + key));
    }
    if (method === 'DELETE') {
      if (!this.mayMutate(res, key)) return;
      if (query.has('ifGenerationMatch') && Number(query.get('ifGenerationMatch')) !== current.generation) {
        return res.send(412, apiError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.'));
      }
      this.objects.delete(key);
      this.lastMutation.set(key, this.now());
      return res.send(204, undefined);
    }
    if (query.get('alt') === 'media') return res.media(current);
    res.send(200, objectMetadata(bucket, name, current));
  }

  /** Cloud Storage's per-object mutation rate: false (and a 429 sent) when it is exceeded. */
  private mayMutate(res: Reply, key: string): boolean {
    const last = this.lastMutation.get(key);
    if (this.objectUpdateIntervalMs > 0 && last !== undefined && this.now() - last < this.objectUpdateIntervalMs) {
      res.send(429, apiError(429, 'rateLimitExceeded', `The object ${key} exceeded the rate limit for object mutation operations (create, update, and delete). Please reduce your request rate.`));
      return false;
    }
    return true;
  }

  // ---- BigQuery ----

  private insertAll(res: Reply, dataset: string, table: string, raw: Buffer): void {
    // BigQuery's streaming limits: 10 MB per HTTP request, 50,000 rows per request (500 recommended).
    if (raw.length > INSERT_ALL_MAX_BYTES) return res.send(400, apiError(400, 'invalid', `Request payload size exceeds the limit: ${INSERT_ALL_MAX_BYTES} bytes.`));
    const request = JSON.parse(raw.toString('utf8')) as { rows: { insertId?: string; json: Record<string, unknown> }[]; skipInvalidRows?: boolean };
    if (request.rows.length > INSERT_ALL_MAX_ROWS) {
      return res.send(400, apiError(400, 'invalid', `too many rows present in the request, limit: ${INSERT_ALL_MAX_ROWS} row count: ${request.rows.length}.`));
    }
    const schema = TABLES[table as TableName];
    if (!schema) return res.send(404, apiError(404, 'notFound', `Not found: Table test-project:${dataset}.${table}`));
    const columns = new Map<string, { mode: string }>(schema.columns.map((c) => [c.name, c]));
    const problems = request.rows.map((row) => {
      const missing = schema.columns.find((c) => c.mode === 'REQUIRED' && (row.json[c.name] === null || row.json[c.name] === undefined));
      if (missing) return { reason: 'invalid', location: missing.name, message: `Missing required field: ${missing.name}.` };
      const unknown = Object.keys(row.json).find((k) => !columns.has(k));
      if (unknown) return { reason: 'invalid', location: unknown, message: `no such field: ${unknown}.` };
      return null;
    });
    if (problems.some(Boolean)) {
      // Without skipInvalidRows BigQuery stores none of the request's rows.
      const insertErrors = problems.map((p, index) => ({ index, errors: [p ?? { reason: 'stopped', location: '', message: '' }] }));
      return res.send(200, { kind: 'bigquery#tableDataInsertAllResponse', insertErrors });
    }
    const now = this.now();
    const qualified = `${dataset}.${table}`;
    for (const row of request.rows) {
      // One lookup per row: a scan of every stored row made a 50,000-row request take minutes.
      const key = row.insertId !== undefined ? `${qualified}\n${row.insertId}` : undefined;
      const lastAt = key !== undefined ? this.insertIdSeenAt.get(key) : undefined;
      if (lastAt !== undefined && now - lastAt < this.insertIdWindowMs) continue;
      this.insertedRows.push({ table: qualified, insertId: row.insertId ?? randomUUID(), json: row.json, at: now });
      if (key !== undefined) this.insertIdSeenAt.set(key, now);
    }
    res.send(200, { kind: 'bigquery#tableDataInsertAllResponse' });
  }

  private insertJob(res: Reply, project: string, body: { jobReference?: { jobId?: string; location?: string }; configuration?: { query?: { query?: string }; load?: LoadConfiguration } }): void {
    const jobId = body.jobReference?.jobId ?? randomUUID();
    if (!this.inLocation(res, project, body.jobReference?.location)) return;
    if (this.jobs.has(jobId)) return res.send(409, apiError(409, 'duplicate', `Already Exists: Job ${project}:${this.location}.${jobId}`));
    if (body.configuration?.load) return this.loadJob(res, project, jobId, body.configuration.load);
    this.jobs.set(jobId, this.newJob(jobId, body.configuration?.query?.query ?? ''));
    res.send(200, { kind: 'bigquery#job', jobReference: { projectId: project, jobId, location: this.location }, configuration: body.configuration, status: { state: 'RUNNING' }, statistics: {} });
  }

  private queryJob(res: Reply, project: string, body: { location?: string; query?: string }): void {
    if (!this.inLocation(res, project, body.location)) return;
    const jobId = `job_${randomUUID().replace(/-/g, '')}`;
    this.jobs.set(jobId, this.newJob(jobId, body.query ?? ''));
    res.send(200, { kind: 'bigquery#queryResponse', jobReference: { projectId: project, jobId, location: this.location }, jobComplete: false });
  }

  private queryResults(res: Reply, project: string, jobId: string, query: URLSearchParams): void {
    const job = this.findJob(res, project, jobId, query);
    if (!job) return;
    const jobReference = { projectId: project, jobId, location: job.location };
    if (job.incompletePolls > 0) {
      job.incompletePolls--;
      return res.send(200, { kind: 'bigquery#getQueryResultsResponse', jobReference, jobComplete: false });
    }
    const start = Number(query.get('pageToken') ?? 0);
    const size = Math.min(this.pageSize, Number(query.get('maxResults') ?? Infinity));
    const page = job.rows.slice(start, start + size);
    const next = start + size < job.rows.length ? String(start + size) : undefined;
    res.send(200, {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference,
      jobComplete: true,
      schema: { fields: job.fields },
      rows: page.map((r) => ({ f: job.fields.map((f) => ({ v: r[f.name] === null || r[f.name] === undefined ? null : String(r[f.name]) })) })),
      totalRows: String(job.rows.length),
      ...(next ? { pageToken: next } : {}),
    });
  }

  private getJob(res: Reply, project: string, jobId: string, query: URLSearchParams): void {
    const job = this.findJob(res, project, jobId, query);
    if (!job) return;
    res.send(200, {
      kind: 'bigquery#job',
      jobReference: { projectId: project, jobId, location: job.location },
      status: { state: job.incompletePolls > 0 ? 'RUNNING' : 'DONE' },
      statistics: { query: { dmlStats: job.dmlStats } },
    });
  }

  private newJob(id: string, sql: string): FakeJob {
    if (sql !== '') this.statements.push(sql);
    const answer = this.queryAnswer?.(sql);
    const fields = answer?.fields ?? this.queryFields;
    const rows = answer?.rows ?? this.queryRows;
    return { id, location: this.location, incompletePolls: this.incompletePolls, rows: [...rows], fields: [...fields], dmlStats: this.mergedFromLoad(sql) ?? { ...this.dmlStats } };
  }

  /**
   * A load job from NDJSON objects of the fake bucket (`gs://bucket/prefix*` or exact
   * names), as BigQuery runs one: every line must be a JSON object holding the schema's
   * REQUIRED fields, or the job fails; no matching object is a 404, as BigQuery answers.
   */
  private loadJob(res: Reply, project: string, jobId: string, load: LoadConfiguration): void {
    if (load.sourceFormat !== 'NEWLINE_DELIMITED_JSON') return res.send(400, apiError(400, 'invalid', `unsupported sourceFormat ${load.sourceFormat}`));
    const required = (load.schema?.fields ?? []).filter((f) => f.mode === 'REQUIRED').map((f) => f.name);
    let rows = 0;
    let matched = 0;
    for (const uri of load.sourceUris) {
      const [, bucket = '', pattern = ''] = /^gs:\/\/([^/]+)\/(.*)$/.exec(uri) ?? [];
      const prefix = pattern.endsWith('*') ? pattern.slice(0, -1) : undefined;
      for (const [key, object] of this.objects) {
        const name = key.slice(bucket.length + 1);
        if (!key.startsWith(`${bucket}/`) || (prefix !== undefined ? !name.startsWith(prefix) : name !== pattern)) continue;
        matched++;
        for (const line of object.body.toString('utf8').split('\n')) {
          if (line === '') continue;
          const row = JSON.parse(line) as Record<string, unknown>;
          const missing = required.find((f) => row[f] === null || row[f] === undefined);
          if (missing) return res.send(400, apiError(400, 'invalid', `Error while reading data: required field ${missing} missing in ${name}`));
          rows++;
        }
      }
    }
    if (matched === 0) return res.send(404, apiError(404, 'notFound', `Not found: URI ${load.sourceUris.join(', ')}`));
    const destination = `${load.destinationTable.datasetId}.${load.destinationTable.tableId}`;
    const previous = load.writeDisposition === 'WRITE_TRUNCATE' ? 0 : (this.loadedTables.get(destination) ?? 0);
    this.loadedTables.set(destination, previous + rows);
    this.loadJobs.push({ destination, sourceUris: load.sourceUris, rows });
    // Done at the first poll (the client polls jobs.get until DONE).
    this.jobs.set(jobId, { id: jobId, location: this.location, incompletePolls: 0, rows: [], fields: [], dmlStats: { insertedRowCount: '0', updatedRowCount: '0' } });
    res.send(200, { kind: 'bigquery#job', jobReference: { projectId: project, jobId, location: this.location }, configuration: { load }, status: { state: 'RUNNING' }, statistics: {} });
  }

  private deleteTable(res: Reply, table: string): void {
    if (!this.loadedTables.delete(table)) return res.send(404, apiError(404, 'notFound', `Not found: Table ${table}`));
    this.deletedTables.push(table);
    res.send(204, undefined);
  }

  /** A MERGE from a table a load job filled reports its rows as inserted (the fake keeps no target rows). */
  private mergedFromLoad(sql: string): FakeJob['dmlStats'] | undefined {
    const source = /^MERGE `[^`]+` AS t USING `[^`.]+\.([^`.]+)\.([^`.]+)` AS s/.exec(sql);
    const loaded = source ? this.loadedTables.get(`${source[1]}.${source[2]}`) : undefined;
    return loaded === undefined ? undefined : { insertedRowCount: String(loaded), updatedRowCount: '0' };
  }

  /** A job exists only in its location: without `location` (or with another) BigQuery answers 404. */
  private findJob(res: Reply, project: string, jobId: string, query: URLSearchParams): FakeJob | undefined {
    const job = this.jobs.get(jobId);
    if (!job || (query.get('location') ?? '').toLowerCase() !== job.location.toLowerCase()) {
      res.send(404, apiError(404, 'notFound', `Not found: Job ${project}:${jobId}`));
      return undefined;
    }
    return job;
  }

  /** A job or query named in another location than the datasets' cannot see them. */
  private inLocation(res: Reply, project: string, location: string | undefined): boolean {
    if (location === undefined || location.toLowerCase() === this.location.toLowerCase()) return true;
    res.send(404, apiError(404, 'notFound', `Not found: Dataset ${project} was not found in location ${location}`));
    return false;
  }

  private tableOrDataset(res: Reply, dataset: string, table: string | undefined): void {
    if (!table) {
      return this.datasets.has(dataset)
        ? res.send(200, { kind: 'bigquery#dataset', datasetReference: { datasetId: dataset }, location: this.location })
        : res.send(404, apiError(404, 'notFound', `Not found: Dataset ${dataset}`));
    }
    const fields = this.tables.get(`${dataset}.${table}`);
    if (!fields) return res.send(404, apiError(404, 'notFound', `Not found: Table ${dataset}.${table}`));
    res.send(200, { kind: 'bigquery#table', tableReference: { datasetId: dataset, tableId: table }, schema: { fields } });
  }
}

interface LoadConfiguration {
  sourceUris: string[];
  sourceFormat: string;
  destinationTable: { projectId: string; datasetId: string; tableId: string };
  schema?: { fields: { name: string; type: string; mode?: string }[] };
  writeDisposition?: string;
}

/** Where a handler answers: the real response, or one that serves and then "loses" the reply. */
interface Reply {
  send(status: number, body: unknown): void;
  media(object: StoredObject): void;
}

function realReply(res: http.ServerResponse): Reply {
  return {
    send: (status, body) => send(res, status, body),
    media: (object) => {
      res.setHeader('content-type', object.contentType);
      res.setHeader('x-goog-hash', `crc32c=${crc32c(object.body)},md5=${md5(object.body)}`);
      res.setHeader('x-goog-generation', String(object.generation));
      res.end(object.body);
    },
  };
}

/** The request was served; its reply never reached the client, which sees a 503. */
function lostReply(res: http.ServerResponse): Reply {
  const unavailable = () => send(res, 503, apiError(503, 'backendError', 'The service is currently unavailable (reply lost after the request was served).'));
  return { send: unavailable, media: unavailable };
}

function apiError(code: number, reason: string, message: string) {
  return { error: { code, message, errors: [{ domain: 'global', reason, message }] } };
}

function multipart(raw: Buffer): { body: Buffer; contentType: string; metadata: Record<string, string>; md5Hash?: string } {
  const text = raw.toString('latin1');
  const boundary = /^--([^\r\n]+)/.exec(text)?.[1];
  if (!boundary) return { body: raw, contentType: 'application/octet-stream', metadata: {} };
  const parts = text.split(`--${boundary}`);
  const meta = JSON.parse(parts[1]!.split(/\r?\n\r?\n/)[1]!) as { contentType?: string; metadata?: Record<string, string>; md5Hash?: string };
  const media = parts[2]!;
  const start = media.search(/\r?\n\r?\n/);
  const sep = media.slice(start).match(/^\r?\n\r?\n/)![0].length;
  return { body: Buffer.from(media.slice(start + sep).replace(/\r?\n$/, ''), 'latin1'), contentType: meta.contentType ?? 'application/octet-stream', metadata: meta.metadata ?? {}, ...(meta.md5Hash !== undefined ? { md5Hash: meta.md5Hash } : {}) };
}

function objectMetadata(bucket: string, name: string, o: StoredObject) {
  return {
    kind: 'storage#object',
    bucket,
    name,
    generation: String(o.generation),
    contentType: o.contentType,
    size: String(o.body.length),
    md5Hash: md5(o.body),
    crc32c: crc32c(o.body),
    ...(Object.keys(o.metadata).length > 0 ? { metadata: o.metadata } : {}),
  };
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('base64');
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  if (body === undefined) return void res.end();
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

function crc32c(b: Buffer): string {
  const crc = new CRC32C();
  crc.update(b);
  return crc.toString();
}
