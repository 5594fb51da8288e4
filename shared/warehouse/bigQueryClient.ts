import { BigQuery } from '@google-cloud/bigquery';
import { emulatorAuth } from '../emulatorAuth.js';

/**
 * The BigQuery client library, for the warehouse's queries, MERGE statements and load jobs
 * (its streaming inserts do without it). A module of its own, imported on first use: the
 * library is ~90 ms of module evaluation. Imported statically here (not `import()`-ed by
 * package name), because the bundler gives a dynamically imported CommonJS package only a
 * default export.
 */
export { BigQuery };

export function createBigQueryClient(options: { projectId?: string; location: string; apiEndpoint?: string; emulatorHost?: string; maxRetries?: number }): BigQuery {
  return new BigQuery({
    ...(options.projectId ? { projectId: options.projectId } : {}),
    location: options.location,
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    ...(options.emulatorHost ? { apiEndpoint: options.emulatorHost, authClient: emulatorAuth() } : {}),
    // The client reads `maxRetries: 0` as "use the default (3)": no retries is autoRetry off.
    ...(options.maxRetries !== undefined ? { retryOptions: options.maxRetries > 0 ? { maxRetries: options.maxRetries } : { autoRetry: false } } : {}),
  });
}
