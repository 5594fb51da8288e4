import { createHash, randomUUID } from 'node:crypto';
import { cloudAccessToken, type AccessTokenSource } from '../cloudAccessToken.js';
import { cloudFailure, httpStatus } from '../cloudErrors.js';
import { httpRequest, type HttpAnswer } from '../httpRequest.js';
import type { ObjectBody, ObjectStore, StoredObject } from './objectStore.js';
import { GoogleApiHttpError, googleApiErrorBody, type GoogleApiRetry } from '../googleApiError.js';

/**
 * How failed requests are retried (see `retryable`): every request this store makes is safe to repeat (a plain
 * put overwrites with the same bytes, a conditional write carries its precondition, a read
 * reads). The delays are the storage client's: `multiplier^n` seconds plus up to a second of
 * jitter, at most `maxDelayMs`, no retry started after `totalTimeoutMs`.
 */
export type StorageRetry = GoogleApiRetry;

export const STORAGE_RETRY: StorageRetry = { maxRetries: 4, multiplier: 2, maxDelayMs: 16_000, totalTimeoutMs: 60_000, jitterMs: 1000, unitMs: 1000 };

export interface GcsObjectStoreOptions {
  readonly retry?: StorageRetry;
  /**
   * A Cloud Storage emulator or stand-in (default: `STORAGE_EMULATOR_HOST`): requests go to it
   * without credentials, at the URLs the storage client uses for it (JSON API at the host's
   * root, uploads under `/upload/storage/v1`).
   */
  readonly emulatorHost?: string;
  /** Where the access token comes from (default: the metadata server, or application default credentials). */
  readonly token?: AccessTokenSource;
  /** One request's time limit. */
  readonly requestTimeoutMs?: number;
}

/** Cloud Storage accepts about one update per second to one object name (more may be answered 429). */
const GCS_UPDATE_INTERVAL_MS = 1000;

/** The custom metadata key that names one write, so an ambiguous conditional write can be recognised as ours. */
const WRITE_ID = 'write_id';

const SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';

/** An answer of the JSON API that is not a success, shaped as `cloudFailure` reads Google clients' errors. */
export class StorageHttpError extends GoogleApiHttpError {}

interface ObjectResource {
  generation?: string;
  metadata?: Record<string, string>;
}

/**
 * The artifacts bucket in Cloud Storage, through its JSON API over `node:http(s)` (no client library:
 * the storage client and its auth stack are ~65 ms of module evaluation, which a function's
 * first event waited for). Create-only writes carry the precondition `ifGenerationMatch=0`, so
 * of two concurrent writers exactly one succeeds (HTTP 412 for the other); conditional
 * replaces and deletes match the generation read before. Throttling (429), timeouts (408),
 * server faults (5xx) and lost connections are retried with backoff, then thrown as
 * `TransientError`; other answers are permanent (`JobError` internal), as `cloudFailure` says.
 *
 * A conditional write whose first attempt was stored but whose reply was lost is retried and
 * answered 412. Each conditional write therefore carries a fresh id in its custom metadata;
 * on 412 the object's metadata is read back, and if it carries our id the write was ours and
 * succeeded.
 */
export class GcsObjectStore implements ObjectStore {
  readonly updateIntervalMs = GCS_UPDATE_INTERVAL_MS;
  private readonly api: string;
  private readonly upload: string;
  private readonly token: AccessTokenSource | undefined;
  private readonly retry: StorageRetry;
  private readonly requestTimeoutMs: number;

  constructor(
    private readonly bucketName: string,
    options: GcsObjectStoreOptions = {},
  ) {
    const emulator = options.emulatorHost ?? process.env.STORAGE_EMULATOR_HOST;
    if (emulator) {
      // As the storage client: the JSON API at the emulator's URL as given, uploads beside it.
      const root = (/^https?:\/\//.test(emulator) ? emulator : `https://${emulator}`).replace(/\/+$/, '');
      this.api = `${root}/b/${encodeURIComponent(bucketName)}/o`;
      this.upload = `${root}/upload/storage/v1/b/${encodeURIComponent(bucketName)}/o`;
      this.token = options.token;
    } else {
      this.api = `https://storage.googleapis.com/storage/v1/b/${encodeURIComponent(bucketName)}/o`;
      this.upload = `https://storage.googleapis.com/upload/storage/v1/b/${encodeURIComponent(bucketName)}/o`;
      this.token = options.token ?? cloudAccessToken(SCOPE);
    }
    this.retry = options.retry ?? STORAGE_RETRY;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  async createOnly(name: string, body: ObjectBody, contentType: string): Promise<string | null> {
    return this.conditionalSave(name, body, contentType, '0');
  }

  async put(name: string, body: ObjectBody, contentType: string): Promise<void> {
    try {
      await this.save(name, body, { contentType });
    } catch (error) {
      throw cloudFailure(`Writing ${this.uri(name)}`, error);
    }
  }

  async replaceIf(name: string, body: ObjectBody, contentType: string, generation: string): Promise<string | null> {
    return this.conditionalSave(name, body, contentType, generation);
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.request('GET', this.objectUrl(name, { fields: 'generation' }));
      return true;
    } catch (error) {
      if (httpStatus(error) === 404) return false;
      throw cloudFailure(`Reading the metadata of ${this.uri(name)}`, error);
    }
  }

  async get(name: string): Promise<StoredObject | null> {
    try {
      // One request: the media answer names the generation it served (x-goog-generation).
      const response = await this.request('GET', this.objectUrl(name, { alt: 'media' }));
      const generation = response.headers['x-goog-generation'];
      if (typeof generation === 'string' && generation !== '') return { body: this.checkedBody(name, response), generation };
      // No such header (an emulator that omits it): the generation first, then that generation's bytes.
      const metadata = json<ObjectResource>(await this.request('GET', this.objectUrl(name, { fields: 'generation' })));
      const read = await this.request('GET', this.objectUrl(name, { alt: 'media', generation: String(metadata.generation) }));
      return { body: this.checkedBody(name, read), generation: String(metadata.generation) };
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw cloudFailure(`Reading ${this.uri(name)}`, error);
    }
  }

  async names(prefix: string): Promise<string[]> {
    try {
      const names: string[] = [];
      let pageToken: string | undefined;
      do {
        // Only the names are asked for; the service pages them (1,000 a page).
        const url = `${this.api}?${new URLSearchParams({ prefix, fields: 'items(name),nextPageToken', ...(pageToken ? { pageToken } : {}) })}`;
        const page = json<{ items?: { name: string }[]; nextPageToken?: string }>(await this.request('GET', url));
        for (const item of page.items ?? []) names.push(item.name);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return names;
    } catch (error) {
      throw cloudFailure(`Listing ${this.uri(prefix)}*`, error);
    }
  }

  async deleteIf(name: string, generation: string): Promise<void> {
    try {
      await this.request('DELETE', this.objectUrl(name, { ifGenerationMatch: generation }));
    } catch (error) {
      const status = httpStatus(error);
      // 404: gone (a retried delete whose first attempt went through lands here too); 412: changed.
      if (status === 404 || status === 412) return;
      throw cloudFailure(`Deleting ${this.uri(name)}`, error);
    }
  }

  uri(name: string): string {
    return `gs://${this.bucketName}/${name}`;
  }

  private async conditionalSave(name: string, body: ObjectBody, contentType: string, ifGenerationMatch: string): Promise<string | null> {
    const writeId = randomUUID();
    try {
      // The upload's answer carries the new generation: no second request.
      const stored = await this.save(name, body, { contentType, metadata: { [WRITE_ID]: writeId } }, ifGenerationMatch);
      return String(stored.generation);
    } catch (error) {
      if (httpStatus(error) === 412) return this.generationWrittenBy(name, writeId);
      throw cloudFailure(`Writing ${this.uri(name)}`, error);
    }
  }

  /** After a 412: the object's generation if our own (retried) write stored it, else null (another writer's). */
  private async generationWrittenBy(name: string, writeId: string): Promise<string | null> {
    try {
      const metadata = json<ObjectResource>(await this.request('GET', this.objectUrl(name, { fields: 'generation,metadata' })));
      return metadata.metadata?.[WRITE_ID] === writeId ? String(metadata.generation) : null;
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw cloudFailure(`Reading back ${this.uri(name)}`, error);
    }
  }

  /**
   * One multipart upload (`uploadType=multipart`): the object's metadata (content type, custom
   * metadata, and its MD5, which Cloud Storage checks before storing) and its bytes, in one
   * request; answered with the stored object's resource. A body of chunks is sent as its chunks
   * (a 44 MB result is not copied into one buffer); a retried attempt sends them again from the
   * first. Non-resumable: the object is stored whole when the request completes, or not at all.
   */
  private async save(name: string, body: ObjectBody, metadata: { contentType: string; metadata?: Record<string, string> }, ifGenerationMatch?: string): Promise<ObjectResource> {
    const chunks: readonly Uint8Array[] = typeof body === 'string' ? [Buffer.from(body, 'utf8')] : body;
    const md5 = createHash('md5');
    for (const chunk of chunks) md5.update(chunk);
    const boundary = `----gcs-${randomUUID()}`;
    const head = `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify({ name, ...metadata, md5Hash: md5.digest('base64') })}\r\n--${boundary}\r\nContent-Type: ${metadata.contentType}\r\n\r\n`;
    const payload = [Buffer.from(head, 'utf8'), ...chunks, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')];
    const query = new URLSearchParams({ uploadType: 'multipart', name, fields: 'generation', ...(ifGenerationMatch !== undefined ? { ifGenerationMatch } : {}) });
    return json<ObjectResource>(await this.request('POST', `${this.upload}?${query}`, { body: payload, contentType: `multipart/related; boundary=${boundary}` }));
  }

  /** The body of a media download, its MD5 checked against the `x-goog-hash` Cloud Storage sent (a mismatch is retried by the caller's redelivery). */
  private checkedBody(name: string, response: HttpAnswer): string {
    const bytes = response.body;
    const hashes = response.headers['x-goog-hash'];
    const md5 = /(?:^|,)\s*md5=([^,]+)/.exec(Array.isArray(hashes) ? hashes.join(',') : (hashes ?? ''))?.[1];
    if (md5 !== undefined && createHash('md5').update(bytes).digest('base64') !== md5) {
      throw new StorageHttpError(503, `the bytes read from ${this.uri(name)} do not match their MD5 (corrupted in transit)`, []);
    }
    return bytes.toString('utf8');
  }

  /** `/b/<bucket>/o/<name>`: the name is one path segment, its slashes encoded. */
  private objectUrl(name: string, query: Record<string, string>): string {
    return `${this.api}/${encodeURIComponent(name)}?${new URLSearchParams(query)}`;
  }

  /**
   * One JSON API request, retried while it fails transiently (see `StorageRetry`); a 401 is
   * retried once with a fresh token. Resolves with a 2xx answer, or throws a
   * `StorageHttpError` (an HTTP failure) or the network's error (no status: transient).
   */
  private async request(method: string, url: string, send?: { body: readonly Uint8Array[]; contentType: string }): Promise<HttpAnswer> {
    const started = Date.now();
    let refreshedToken = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const headers: Record<string, string> = {};
        if (this.token) headers.authorization = `Bearer ${await this.token.token()}`;
        if (send) headers['content-type'] = send.contentType;
        const response = await httpRequest(method, url, { headers, ...(send ? { body: send.body } : {}), timeoutMs: this.requestTimeoutMs });
        if (response.status >= 200 && response.status < 300) return response;
        throw httpError(response);
      } catch (error) {
        if (httpStatus(error) === 401 && this.token && !refreshedToken) {
          refreshedToken = true;
          this.token.invalidate();
          continue;
        }
        const delay = Math.min(this.retry.multiplier ** attempt * this.retry.unitMs + Math.random() * this.retry.jitterMs, this.retry.maxDelayMs);
        const retry = attempt < this.retry.maxRetries && retryable(error) && Date.now() + delay - started < this.retry.totalTimeoutMs;
        if (!retry) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

/** A failed answer as a `StorageHttpError`: the service's message and reasons from its JSON error body. */
function httpError(response: HttpAnswer): StorageHttpError {
  const { message, errors } = googleApiErrorBody(response);
  return new StorageHttpError(response.status, message, errors);
}

/** A JSON answer's resource. */
function json<T>(response: HttpAnswer): T {
  return JSON.parse(response.body.toString('utf8')) as T;
}

/**
 * Whether a request is sent again: the storage client's rule (408, 429, 5xx, or no answer at
 * all: a refused or reset connection, a timeout). A reason alone (a 403 saying
 * `rateLimitExceeded`) is not retried here; `cloudFailure` still makes it a `TransientError`,
 * left to Pub/Sub's redelivery.
 */
function retryable(error: unknown): boolean {
  const status = httpStatus(error);
  return status === undefined || status === 408 || status === 429 || status >= 500;
}
