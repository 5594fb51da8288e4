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
  /** Every load job: its destination `dataset.table`, source URIs and the rows it read from the fake bucket. */
  readonly loadJobs: { destination: string; sourceUris: string[]; rows: number }[] = [];
  /** The SQL of every query job, in order. */
  readonly statements: string[] = [];
  /** Tables deleted, as `dataset.table`. */
  readonly deletedTables: string[] = [];
  /** Rows in each table a load job filled (`dataset.table`). */
  private readonly loadedTables = new Map<string, number>();
  /** Status codes to answer the next requests matching a predicate with (then served normally). */
  readonly faults: { match: (r: RecordedRequest) => boolean; status: number; times: number }[] = [];
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
      if ((m = url.pathname.match(/\/projects\/([^/]+)\/jobs$/)) && req.method === 'POST' && isLoadJob(raw)) return this.loadJob(res, m[1], raw);
      if ((m = url.pathname.match(/\/projects\/[^/]+\/datasets\/([^/]+)\/tables\/([^/]+)$/)) && req.method === 'DELETE') return this.deleteTable(res, `${m[1]}.${m[2]}`);
      if (url.pathname.match(/\/projects\/[^/]+\/(queries|jobs)(\/[^/]+)?$/)) {
        if (req.method === 'POST') this.recordStatement(raw);
        return this.query(res);
      }
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

  /**
   * A load job from NDJSON objects of the fake bucket (`gs://bucket/prefix*` or exact
   * names), as BigQuery runs one: every line must be a JSON object holding the schema's
   * REQUIRED fields, or the job fails; no matching object is a 404, as BigQuery answers.
   */
  private loadJob(res: http.ServerResponse, project: string, raw: Buffer): void {
    const body = JSON.parse(raw.toString('utf8')) as { jobReference?: { jobId?: string }; configuration: { load: LoadConfiguration } };
    const load = body.configuration.load;
    if (load.sourceFormat !== 'NEWLINE_DELIMITED_JSON') return send(res, 400, { error: { code: 400, message: `unsupported sourceFormat ${load.sourceFormat}` } });
    const required = (load.schema?.fields ?? []).filter((f) => f.mode === 'REQUIRED').map((f) => f.name);
    let rows = 0;
    let matched = 0;
    for (const uri of load.sourceUris) {
      const [, bucket, pattern] = /^gs:\/\/([^/]+)\/(.*)$/.exec(uri) ?? [];
      const prefix = pattern?.endsWith('*') ? pattern.slice(0, -1) : undefined;
      for (const [key, object] of this.objects) {
        const name = key.slice(bucket.length + 1);
        if (!key.startsWith(`${bucket}/`) || (prefix !== undefined ? !name.startsWith(prefix) : name !== pattern)) continue;
        matched++;
        for (const line of object.body.toString('utf8').split('\n')) {
          if (line === '') continue;
          const row = JSON.parse(line) as Record<string, unknown>;
          const missing = required.find((f) => row[f] === null || row[f] === undefined);
          if (missing) return send(res, 400, { error: { code: 400, message: `Error while reading data: required field ${missing} missing in ${name}` } });
          rows++;
        }
      }
    }
    if (matched === 0) return send(res, 404, { error: { code: 404, message: `Not found: URI ${load.sourceUris.join(', ')}` } });
    const destination = `${load.destinationTable.datasetId}.${load.destinationTable.tableId}`;
    const previous = load.writeDisposition === 'WRITE_TRUNCATE' ? 0 : (this.loadedTables.get(destination) ?? 0);
    this.loadedTables.set(destination, previous + rows);
    this.loadJobs.push({ destination, sourceUris: load.sourceUris, rows });
    send(res, 200, {
      kind: 'bigquery#job',
      jobReference: { projectId: project, jobId: body.jobReference?.jobId ?? 'load-1', location: 'EU' },
      configuration: body.configuration,
      status: { state: 'DONE' },
      statistics: { load: { outputRows: String(rows), inputFiles: String(matched) } },
    });
  }

  private deleteTable(res: http.ServerResponse, table: string): void {
    if (!this.loadedTables.delete(table)) return send(res, 404, { error: { code: 404, message: `Not found: Table ${table}` } });
    this.deletedTables.push(table);
    res.statusCode = 204;
    res.end();
  }

  /** Keeps the SQL; a MERGE from a loaded table reports its rows as inserted (the fake keeps no target rows). */
  private recordStatement(raw: Buffer): void {
    const body = JSON.parse(raw.toString('utf8') || '{}') as { query?: string; configuration?: { query?: { query?: string } } };
    const sql = body.configuration?.query?.query ?? body.query;
    if (typeof sql !== 'string') return;
    this.statements.push(sql);
    const source = /^MERGE `[^`]+` AS t USING `[^`.]+\.([^`.]+)\.([^`.]+)` AS s/.exec(sql);
    const loaded = source ? this.loadedTables.get(`${source[1]}.${source[2]}`) : undefined;
    if (loaded !== undefined) this.dmlStats = { insertedRowCount: String(loaded), updatedRowCount: '0' };
  }

  private query(res: http.ServerResponse): void {
    send(res, 200, {
      kind: 'bigquery#queryResponse',
      jobComplete: true,
      jobReference: { projectId: 'test-project', jobId: 'job-1', location: 'EU' },
      status: { state: 'DONE' },
      statistics: { query: { dmlStats: this.dmlStats } },
      schema: { fields: this.queryFields },
      rows: this.queryRows.map((r) => ({ f: this.queryFields.map((f) => ({ v: r[f.name] === null || r[f.name] === undefined ? null : String(r[f.name]) })) })),
      totalRows: String(this.queryRows.length),
    });
  }
}

interface LoadConfiguration {
  sourceUris: string[];
  sourceFormat: string;
  destinationTable: { projectId: string; datasetId: string; tableId: string };
  schema?: { fields: { name: string; type: string; mode?: string }[] };
  writeDisposition?: string;
}

function isLoadJob(raw: Buffer): boolean {
  try {
    return (JSON.parse(raw.toString('utf8')) as { configuration?: { load?: unknown } }).configuration?.load !== undefined;
  } catch {
    return false;
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
