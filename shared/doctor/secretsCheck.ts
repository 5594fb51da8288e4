import type { SecretSource } from '../secrets/secretSource.js';
import { fail, ok, skip, type Check, type CheckOutcome } from './check.js';

/**
 * Each vendor secret can be read. The value is fetched and dropped: only whether it could
 * be read is reported, never the value (nor its length).
 * @param required false locally, where a missing key only means vendors cannot be called
 */
export function secretsCheck(secrets: SecretSource, names: readonly string[], options: { required: boolean; fix: (name: string) => string; source: string }): Check {
  return {
    name: 'secrets',
    async run() {
      const outcomes: CheckOutcome[] = [];
      for (const secret of names) {
        const name = `secret ${secret}`;
        try {
          await secrets.get(secret);
          outcomes.push(ok(name, `readable from ${options.source}`));
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          outcomes.push(options.required ? fail(name, reason, options.fix(secret)) : skip(name, `not set in ${options.source} (only ingest from a vendor needs it)`));
        }
      }
      return outcomes;
    },
  };
}
