import { JobError } from '../job/errors.js';
import { redactSecret } from '../log.js';
import type { SecretSource } from './secretSource.js';

/**
 * Secrets from environment variables: locally, and when deployed with the secrets mounted
 * as secret environment variables (the Terraform in this repo does that).
 */
export class EnvSecretSource implements SecretSource {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async get(name: string): Promise<string> {
    const value = this.env[name]?.trim();
    if (!value) throw new JobError('internal', `The secret ${name} is not set: set the environment variable ${name} (locally) or the Secret Manager secret ${name} (deployed).`);
    redactSecret(value);
    return value;
  }
}
