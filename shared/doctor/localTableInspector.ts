import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FoundColumn, FoundTable, TableInspector } from './tablesCheck.js';

/**
 * Local tables (`<root>/<dataset>/<table>.ndjson`): a table's columns are the keys of its
 * rows, and a line that is not a JSON object is reported as an error.
 */
export class LocalTableInspector implements TableInspector {
  constructor(private readonly root: string) {}

  get where(): string {
    return this.root;
  }

  async inspect(dataset: string, table: string): Promise<FoundTable> {
    const file = path.join(this.root, dataset, `${table}.ndjson`);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'not-created-yet' };
      throw error;
    }
    const names = new Set<string>();
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        row = undefined;
      }
      if (typeof row !== 'object' || row === null || Array.isArray(row)) {
        return { kind: 'unreadable', reason: `${file} line ${i + 1} is not a JSON object`, fix: 'repair or delete that line (or the file, to start the table afresh)' };
      }
      for (const key of Object.keys(row)) names.add(key);
    }
    const columns: FoundColumn[] = [...names].map((name) => ({ name }));
    // An empty file has no columns to compare: treat it like one not written yet.
    return columns.length === 0 ? { kind: 'not-created-yet' } : { kind: 'table', columns };
  }
}
