import type { SecretSource } from '../secrets/secretSource.js';
import { fail, ok, skip, type Check, type CheckOutcome } from './check.js';

/** Who may read a secret: the members granted roles/secretmanager.secretAccessor on it. */
export type SecretAccessors = (secret: string) => Promise<string[]>;

/** The identity that must read the secrets (the ingest function's service account), and where grants are listed. */
export interface ReaderIdentity {
  readonly member: string;
  readonly accessors: SecretAccessors;
}

/**
 * Each vendor secret can be read and, given a `reader`, that identity (the ingest
 * function's) is granted access to it. The value is fetched and dropped: only whether it
 * could be read is reported, never the value (nor its length).
 * @param required false locally, where a missing key only means vendors cannot be called
 */
export function secretsCheck(secrets: SecretSource, names: readonly string[], options: { required: boolean; fix: (name: string) => string; source: string; reader?: ReaderIdentity }): Check {
  return {
    name: 'secrets',
    async run() {
      const outcomes: CheckOutcome[] = [];
      for (const secret of names) {
        const name = `secret ${secret}`;
        try {
          await secrets.get(secret);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          outcomes.push(options.required ? fail(name, reason, options.fix(secret)) : skip(name, `not set in ${options.source} (only ingest from a vendor needs it)`));
          continue;
        }
        const reader = options.reader;
        if (!reader) {
          outcomes.push(ok(name, `readable from ${options.source}`));
          continue;
        }
        // Readable by the doctor's account proves the value exists; the function reads it as its own identity.
        if ((await reader.accessors(secret)).includes(reader.member)) outcomes.push(ok(name, `readable from ${options.source}, and ${reader.member} may read it`));
        else outcomes.push(fail(name, `has a value, but ${reader.member} has no roles/secretmanager.secretAccessor on it`, 'run terraform apply (terraform/iam.tf grants it on each vendor secret); if the ingest function runs as another account, set INGEST_SERVICE_ACCOUNT'));
      }
      return outcomes;
    },
  };
}
