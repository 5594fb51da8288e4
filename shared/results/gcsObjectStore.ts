import { randomUUID } from 'node:crypto';
import { IdempotencyStrategy, Storage, type Bucket, type StorageOptions } from '@google-cloud/storage';
import { cloudFailure, httpStatus } from '../cloudErrors.js';
import type { ObjectBody, ObjectStore, StoredObject } from './objectStore.js';

/**
 * The storage client's retry settings, stated rather than left to its defaults.
 * `RetryAlways`: every write this store makes is safe to repeat — a plain put overwrites
 * with the same bytes, and a conditional write carries its precondition. Under the default
 * (`RetryConditional`) the client switches `autoRetry` off on the shared client for a put
 * without a precondition and never switches it back, so after the first `put()` no request
 * was retried at all (storage 7.22).
 */
export const STORAGE_RETRY: NonNullable<StorageOptions['retryOptions']> = {
  autoRetry: true,
  idempotencyStrategy: IdempotencyStrategy.RetryAlways,
  maxRetries: 4,
  retryDelayMultiplier: 2,
  maxRetryDelay: 16,
  totalTimeout: 60,
};

/** Cloud Storage accepts about one update per second to one object name (more may be answered 429). */
const GCS_UPDATE_INTERVAL_MS = 1000;

/** The custom metadata key that names one write, so an ambiguous conditional write can be recognised as ours. */
const WRITE_ID = 'write_id';

/**
 * The artifacts bucket in Cloud Storage. Create-only writes carry the precondition
 * `ifGenerationMatch=0`, so of two concurrent writers exactly one succeeds (HTTP 412 for
 * the other); conditional replaces and deletes match the generation read before.
 *
 * A conditional write whose first attempt was stored but whose reply was lost is retried
 * by the client and answered 412. Each conditional write therefore carries a fresh id in
 * its custom metadata; on 412 the object's metadata is read back, and if it carries our id
 * the write was ours and succeeded.
 */
export class GcsObjectStore implements ObjectStore {
  readonly updateIntervalMs = GCS_UPDATE_INTERVAL_MS;
  private readonly bucket: Bucket;

  constructor(
    private readonly bucketName: string,
    projectId?: string,
    storage: Storage = new Storage({ ...(projectId ? { projectId } : {}), retryOptions: STORAGE_RETRY }),
  ) {
    this.bucket = storage.bucket(bucketName);
  }

  async createOnly(name: string, body: ObjectBody, contentType: string): Promise<string | null> {
    return this.conditionalSave(name, body, contentType, 0);
  }

  async put(name: string, body: string, contentType: string): Promise<void> {
    try {
      await this.bucket.file(name).save(body, { contentType, resumable: false });
    } catch (error) {
      throw cloudFailure(`Writing gs://${this.bucketName}/${name}`, error);
    }
  }

  async replaceIf(name: string, body: ObjectBody, contentType: string, generation: string): Promise<string | null> {
    return this.conditionalSave(name, body, contentType, Number(generation));
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.bucket.file(name).getMetadata();
      return true;
    } catch (error) {
      if (httpStatus(error) === 404) return false;
      throw cloudFailure(`Reading the metadata of gs://${this.bucketName}/${name}`, error);
    }
  }

  async get(name: string): Promise<StoredObject | null> {
    try {
      const [metadata] = await this.bucket.file(name).getMetadata();
      const generation = String(metadata.generation);
      // Read the generation we saw, so body and generation belong together.
      const [contents] = await this.bucket.file(name, { generation }).download();
      return { body: contents.toString('utf8'), generation };
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw cloudFailure(`Reading gs://${this.bucketName}/${name}`, error);
    }
  }

  async names(prefix: string): Promise<string[]> {
    try {
      // autoPaginate: every page (1000 names a page); only the names are asked for.
      const [files] = await this.bucket.getFiles({ prefix, autoPaginate: true, fields: 'items(name),nextPageToken' });
      return files.map((file) => file.name);
    } catch (error) {
      throw cloudFailure(`Listing gs://${this.bucketName}/${prefix}*`, error);
    }
  }

  async deleteIf(name: string, generation: string): Promise<void> {
    try {
      await this.bucket.file(name).delete({ ifGenerationMatch: Number(generation) });
    } catch (error) {
      const status = httpStatus(error);
      // 404: gone (a retried delete whose first attempt went through lands here too); 412: changed.
      if (status === 404 || status === 412) return;
      throw cloudFailure(`Deleting gs://${this.bucketName}/${name}`, error);
    }
  }

  uri(name: string): string {
    return `gs://${this.bucketName}/${name}`;
  }

  private async conditionalSave(name: string, body: ObjectBody, contentType: string, ifGenerationMatch: number): Promise<string | null> {
    const writeId = randomUUID();
    try {
      const file = this.bucket.file(name);
      await file.save(saveData(body), { resumable: false, metadata: { contentType, metadata: { [WRITE_ID]: writeId } }, preconditionOpts: { ifGenerationMatch } });
      // The upload's response metadata carries the new generation: no second request.
      return String(file.metadata.generation);
    } catch (error) {
      if (httpStatus(error) === 412) return this.generationWrittenBy(name, writeId);
      throw cloudFailure(`Writing gs://${this.bucketName}/${name}`, error);
    }
  }

  /** After a 412: the object's generation if our own (retried) write stored it, else null (another writer's). */
  private async generationWrittenBy(name: string, writeId: string): Promise<string | null> {
    try {
      const [metadata] = await this.bucket.file(name).getMetadata();
      return metadata.metadata?.[WRITE_ID] === writeId ? String(metadata.generation) : null;
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw cloudFailure(`Reading back gs://${this.bucketName}/${name}`, error);
    }
  }
}

/**
 * A body as the client uploads it: a text as it is; chunks through a function that the client
 * calls once an attempt, so a retried upload sends them again from the first (an iterable
 * would be consumed once, and the client does not retry one). Each attempt is one
 * non-resumable upload: the object is stored whole when it completes, or not at all.
 */
function saveData(body: ObjectBody): string | (() => Iterable<Uint8Array>) {
  return typeof body === 'string' ? body : () => body;
}
