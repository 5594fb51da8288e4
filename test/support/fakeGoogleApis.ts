import { createHash } from 'node:crypto';
import http from 'node:http';
import { CRC32C } from '@google-cloud/storage';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}

interface StoredObject {
  body: Buffer;
  generation: number;
  contentType: string;
}

/**
 * A local HTTP server standing in for the Cloud Storage JSON API and the BigQuery REST
 * API, enough for the real client libraries to talk to it: objects with generations and
 * preconditions, insertAll, and query jobs. Every request is recorded for assertions.
 */
export class FakeGoogleApis {
  readonly requests: RecordedRequest[] = [];
  readonly objects = new Map<string, StoredObject>();
  readonly insertedRows: { table: string; insertId: string; json: Record<string, unknown> }[] = [];
  /** Rows returned by the next query jobs (BigQuery's f/v format is produced from these). */
  queryRows: Record<string, unknown>[] = [];
  queryFields: { name: string; type: string }[] = [];
  dmlStats = { insertedRowCount: '0', updatedRowCount: '0' };
  /** Per-query answers by SQL (the doctor's several queries); undefined falls back to queryRows/queryFields. */
  queryAnswer?: (sql: string) => { fields: { name: string; type: string }[]; rows: Record<string, unknown>[] } | undefined;
  /** Datasets and tables that tables.get / datasets.get find (`dataset.table` to its schema fields). */
  readonly datasets = new Set<string>();
  readonly tables = new Map<string, { name: string; type: string; mode?: string }[]>();
  /** Cloud Monitoring timeSeries.list: the answer for a request's filter (default: no series). */
  timeSeries: (filter: string) => unknown = () => ({});
  private readonly jobSql = new Map<string, string>();
  private jobCount = 0;
  /** Status codes to answer the next requests matching a predicate with (then served normally). */
  readonly faults: { match: (r: RecordedRequest) => boolean; status: number; times: number }[] = [];
  private generation = 1000;
  private server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const raw = Buffer.concat(chunks);
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.searchParams, body: raw.toString('utf8') };
      this.requests.push(recorded);
      const fault = this.faults.find((f) => f.times > 0 && f.match(recorded));
      if (fault) {
        fault.times--;
        return send(res, fault.status, { error: { code: fault.status, message: 'injected fault' } });
      }
      const p = url.pathname.replace(/^\/storage\/v1/, '');
      let m: RegExpMatchArray | null;
      if ((m = p.match(/^\/upload\/storage\/v1\/b\/([^/]+)\/o$/)) && req.method === 'POST') return this.upload(res, m[1], url.searchParams, req.headers['content-type'] ?? '', raw);
      if ((m = p.match(/^\/b\/([^/]+)\/o\/(.+)$/))) return this.object(res, req.method ?? 'GET', m[1], decodeURIComponent(m[2]), url.searchParams);
      if ((m = url.pathname.match(/\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/insertAll$/))) return this.insertAll(res, `${m[2]}.${m[3]}`, raw);
      if ((m = url.pathname.match(/\/projects\/[^/]+\/(queries|jobs)(?:\/([^/]+))?$/))) return this.query(res, m[2], raw);
      if ((m = url.pathname.match(/\/bigquery\/v2\/projects\/[^/]+\/datasets\/([^/]+)(?:\/tables\/([^/]+))?$/)) && req.method === 'GET') return this.tableOrDataset(res, m[1], m[2]);
      if (url.pathname.match(/^\/v3\/projects\/[^/]+\/timeSeries$/) && req.method === 'GET') return send(res, 200, this.timeSeries(url.searchParams.get('filter') ?? ''));
      send(res, 404, { error: { code: 404, message: `no fake for ${req.method} ${url.pathname}` } });
    });
  }

  private upload(res: http.ServerResponse, bucket: string, query: URLSearchParams, contentType: string, raw: Buffer): void {
    const name = query.get('name') as string;
    const key = `${bucket}/${name}`;
    const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
    let body = raw;
    let type = 'application/octet-stream';
    if (boundary) {
      const parts = raw.toString('latin1').split(`--${boundary}`);
      const meta = JSON.parse(parts[1].split(/\r?\n\r?\n/)[1]);
      type = meta.contentType ?? type;
      const media = parts[2];
      const start = media.search(/\r?\n\r?\n/);
      const sep = media.slice(start).match(/^\r?\n\r?\n/)![0].length;
      body = Buffer.from(media.slice(start + sep).replace(/\r?\n$/, ''), 'latin1');
    }
    const current = this.objects.get(key);
    if (query.has('ifGenerationMatch') && Number(query.get('ifGenerationMatch')) !== (current?.generation ?? 0)) {
      return send(res, 412, { error: { code: 412, message: 'conditionNotMet' } });
    }
    const stored = { body, generation: ++this.generation, contentType: type };
    this.objects.set(key, stored);
    send(res, 200, metadata(bucket, name, stored));
  }

  private object(res: http.ServerResponse, method: string, bucket: string, name: string, query: URLSearchParams): void {
    const key = `${bucket}/${name}`;
    const current = this.objects.get(key);
    if (!current || (query.has('generation') && Number(query.get('generation')) !== current.generation)) {
      return send(res, 404, { error: { code: 404, message: 'No such object' } });
    }
    if (method === 'DELETE') {
      if (query.has('ifGenerationMatch') && Number(query.get('ifGenerationMatch')) !== current.generation) {
        return send(res, 412, { error: { code: 412, message: 'conditionNotMet' } });
      }
      this.objects.delete(key);
      res.statusCode = 204;
      return void res.end();
    }
    if (query.get('alt') === 'media') {
      res.setHeader('content-type', current.contentType);
      res.setHeader('x-goog-hash', `crc32c=${crc32c(current.body)},md5=${md5(current.body)}`);
      res.setHeader('x-goog-generation', String(current.generation));
      return void res.end(current.body);
    }
    send(res, 200, metadata(bucket, name, current));
  }

  private insertAll(res: http.ServerResponse, table: string, raw: Buffer): void {
    const request = JSON.parse(raw.toString('utf8')) as { rows: { insertId: string; json: Record<string, unknown> }[] };
    for (const row of request.rows) this.insertedRows.push({ table, ...row });
    send(res, 200, { kind: 'bigquery#tableDataInsertAllResponse' });
  }

  private query(res: http.ServerResponse, jobId: string | undefined, raw: Buffer): void {
    // A new job (POST) remembers its SQL under a fresh id; reading its results finds it again.
    let id = jobId ?? `job-${++this.jobCount}`;
    if (!jobId && raw.length > 0) {
      const body = JSON.parse(raw.toString('utf8')) as { query?: string; configuration?: { query?: { query?: string } }; jobReference?: { jobId?: string } };
      id = body.jobReference?.jobId ?? id;
      this.jobSql.set(id, body.configuration?.query?.query ?? body.query ?? '');
    }
    const answer = this.queryAnswer?.(this.jobSql.get(id) ?? '');
    const fields = answer?.fields ?? this.queryFields;
    const rows = answer?.rows ?? this.queryRows;
    send(res, 200, {
      kind: 'bigquery#queryResponse',
      jobComplete: true,
      jobReference: { projectId: 'test-project', jobId: id, location: 'EU' },
      status: { state: 'DONE' },
      statistics: { query: { dmlStats: this.dmlStats } },
      schema: { fields },
      rows: rows.map((r) => ({ f: fields.map((f) => ({ v: r[f.name] === null || r[f.name] === undefined ? null : String(r[f.name]) })) })),
      totalRows: String(rows.length),
    });
  }

  private tableOrDataset(res: http.ServerResponse, dataset: string, table: string | undefined): void {
    if (!table) return this.datasets.has(dataset) ? send(res, 200, { kind: 'bigquery#dataset', datasetReference: { datasetId: dataset } }) : send(res, 404, { error: { code: 404, message: `Not found: Dataset ${dataset}` } });
    const fields = this.tables.get(`${dataset}.${table}`);
    if (!fields) return send(res, 404, { error: { code: 404, message: `Not found: Table ${dataset}.${table}` } });
    send(res, 200, { kind: 'bigquery#table', tableReference: { datasetId: dataset, tableId: table }, schema: { fields } });
  }
}

function metadata(bucket: string, name: string, o: StoredObject) {
  return {
    kind: 'storage#object',
    bucket,
    name,
    generation: String(o.generation),
    contentType: o.contentType,
    size: String(o.body.length),
    md5Hash: md5(o.body),
    crc32c: crc32c(o.body),
  };
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('base64');
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

function crc32c(b: Buffer): string {
  const crc = new CRC32C();
  crc.update(b);
  return crc.toString();
}
