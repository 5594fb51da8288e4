import { Storage, type Bucket } from '@google-cloud/storage';
import { httpStatus, transient } from '../cloudErrors.js';
import type { ObjectStore, StoredObject } from './objectStore.js';

/**
 * The artifacts bucket in Cloud Storage. Create-only writes carry the precondition
 * `ifGenerationMatch=0`, so of two concurrent writers exactly one succeeds (HTTP 412 for
 * the other); conditional replaces and deletes match the generation read before.
 */
export class GcsObjectStore implements ObjectStore {
  private readonly bucket: Bucket;

  constructor(
    private readonly bucketName: string,
    projectId?: string,
    storage: Storage = new Storage(projectId ? { projectId } : {}),
  ) {
    this.bucket = storage.bucket(bucketName);
  }

  async createOnly(name: string, body: string, contentType: string): Promise<string | null> {
    return this.conditionalSave(name, body, contentType, 0);
  }

  async put(name: string, body: string, contentType: string): Promise<void> {
    try {
      await this.bucket.file(name).save(body, { contentType, resumable: false });
    } catch (error) {
      throw transient(`Writing gs://${this.bucketName}/${name}`, error);
    }
  }

  async replaceIf(name: string, body: string, contentType: string, generation: string): Promise<string | null> {
    return this.conditionalSave(name, body, contentType, Number(generation));
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.bucket.file(name).getMetadata();
      return true;
    } catch (error) {
      if (httpStatus(error) === 404) return false;
      throw transient(`Reading the metadata of gs://${this.bucketName}/${name}`, error);
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
      throw transient(`Reading gs://${this.bucketName}/${name}`, error);
    }
  }

  async deleteIf(name: string, generation: string): Promise<void> {
    try {
      await this.bucket.file(name).delete({ ifGenerationMatch: Number(generation) });
    } catch (error) {
      const status = httpStatus(error);
      if (status === 404 || status === 412) return;
      throw transient(`Deleting gs://${this.bucketName}/${name}`, error);
    }
  }

  uri(name: string): string {
    return `gs://${this.bucketName}/${name}`;
  }

  private async conditionalSave(name: string, body: string, contentType: string, ifGenerationMatch: number): Promise<string | null> {
    try {
      const file = this.bucket.file(name);
      await file.save(body, { contentType, resumable: false, preconditionOpts: { ifGenerationMatch } });
      // The upload's response metadata carries the new generation: no second request.
      return String(file.metadata.generation);
    } catch (error) {
      if (httpStatus(error) === 412) return null;
      throw transient(`Writing gs://${this.bucketName}/${name}`, error);
    }
  }
}
