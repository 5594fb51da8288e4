import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { httpStatus, transient } from '../cloudErrors.js';
import { JobError } from '../job/errors.js';
import { redactSecret } from '../log.js';
import type { SecretSource } from './secretSource.js';

/** The part of the Secret Manager client this source uses (a fake stands in for it in tests). */
export interface SecretVersionAccessor {
  accessSecretVersion(request: { name: string }): Promise<[{ payload?: { data?: Uint8Array | string | null } | null }, ...unknown[]]>;
  getProjectId(): Promise<string>;
}

/**
 * Secrets from Secret Manager (`projects/<project>/secrets/<NAME>/versions/latest`),
 * after the environment: a secret mounted as an environment variable wins.
 */
export class SecretManagerSource implements SecretSource {
  private readonly cache = new Map<string, Promise<string>>();

  constructor(
    private readonly projectId: string | undefined,
    private readonly fallback: SecretSource,
    private readonly client: SecretVersionAccessor = new SecretManagerServiceClient() as unknown as SecretVersionAccessor,
  ) {}

  get(name: string): Promise<string> {
    let value = this.cache.get(name);
    if (!value) {
      value = this.fallback.get(name).catch(() => this.access(name));
      value.catch(() => this.cache.delete(name));
      this.cache.set(name, value);
    }
    return value;
  }

  private async access(name: string): Promise<string> {
    const project = this.projectId ?? (await this.client.getProjectId());
    try {
      const [version] = await this.client.accessSecretVersion({ name: `projects/${project}/secrets/${name}/versions/latest` });
      const data = version.payload?.data;
      const value = (typeof data === 'string' ? data : data ? Buffer.from(data).toString('utf8') : '').trim();
      if (!value) throw new JobError('internal', `The secret ${name} has no value: add a version with gcloud secrets versions add ${name}.`);
      redactSecret(value);
      return value;
    } catch (error) {
      if (error instanceof JobError) throw error;
      // gRPC NOT_FOUND (5) / PERMISSION_DENIED (7): a deployment problem, not the job's.
      const code = httpStatus(error);
      if (code === 5 || code === 7 || code === 404 || code === 403) {
        throw new JobError('internal', `The secret ${name} cannot be read from Secret Manager (it is missing or this function may not access it).`);
      }
      throw transient(`Reading the secret ${name}`, error);
    }
  }
}
