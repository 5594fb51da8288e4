import type { BigQuery } from '@google-cloud/bigquery';
import { httpStatus } from '../cloudErrors.js';
import type { FoundTable, TableInspector } from './tablesCheck.js';

/** Tables as BigQuery describes them (tables.get): column names, types and modes. */
export class BigQueryTableInspector implements TableInspector {
  constructor(
    private readonly client: BigQuery,
    readonly where: string,
  ) {}

  async inspect(dataset: string, table: string): Promise<FoundTable> {
    try {
      const [metadata] = await this.client.dataset(dataset).table(table).getMetadata();
      const fields = (metadata as { schema?: { fields?: { name?: string; type?: string; mode?: string }[] } }).schema?.fields ?? [];
      // The API leaves out the mode of NULLABLE columns.
      return { kind: 'table', columns: fields.map((f) => ({ name: String(f.name), type: f.type, mode: f.mode ?? 'NULLABLE' })) };
    } catch (error) {
      if (httpStatus(error) !== 404) throw error;
      const [exists] = await this.client.dataset(dataset).exists();
      return exists ? { kind: 'no-table' } : { kind: 'no-dataset' };
    }
  }
}
