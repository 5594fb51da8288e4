import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { ObjectStore } from '../results/objectStore.js';
import type { TableName } from '../warehouse/schemas.js';
import type { Row, StagedRows } from '../warehouse/warehouse.js';

/** Where the staged rows and checkpoints of ingest jobs live; the bucket deletes them after a few days (terraform/storage.tf). */
export const STAGING_PREFIX = 'staging/ingest';

const tallySchema = z.object({
  rows: z.number().int().min(0),
  first_date: z.string().nullable(),
  last_date: z.string().nullable(),
  weekday_rows: z.number().int().min(0),
  placeholder_bars: z.number().int().min(0),
  vendor_said: z.string().optional(),
});

const rejectedSchema = z.object({ symbol: z.string(), date: z.string().nullable(), reason: z.string() });

/** What a finished unit (one symbol, or one exchange day) left: how many rows went where, and its data quality. */
const unitSummarySchema = z.object({
  /** The job's window: a checkpoint of another window is not reused. */
  window: z.object({ start: z.string(), end: z.string() }),
  /** Rows staged per table (a table with 0 has no object). */
  rows: z.record(z.string(), z.number().int().min(0)),
  /** One symbol's tally (symbol units)... */
  tally: tallySchema.optional(),
  /** ...or the stored symbols with a bar, and with a placeholder, that day (exchange-day units). */
  day: z.object({ date: z.string(), symbols: z.array(z.string()), placeholders: z.array(z.string()) }).optional(),
  /** The first rejected rows (a few are enough to see what is wrong)... */
  rejected: z.array(rejectedSchema),
  /** ...and how many there were. */
  rejected_total: z.number().int().min(0),
});

export type UnitSummary = z.infer<typeof unitSummarySchema>;

const NDJSON = 'application/x-ndjson';

/**
 * Per-unit checkpoints of one ingest job in the bucket, under `staging/ingest/<job_id>/`:
 * each finished unit's rows as one NDJSON object per table (`<table>/<unit>.ndjson`,
 * the staging objects that BigQuery loads), then its summary (`done/<unit>.json`). The
 * summary is written last, so its presence means the unit's rows are all there: a
 * redelivery skips such units and fetches only the rest.
 */
export class IngestCheckpoints {
  private readonly prefix: string;

  constructor(
    private readonly store: ObjectStore,
    jobId: string,
    private readonly window: { start: string; end: string },
  ) {
    this.prefix = `${STAGING_PREFIX}/${jobId}`;
  }

  /** The unit's summary if an earlier run of this job finished it, else null. */
  async finished(unit: string): Promise<UnitSummary | null> {
    const stored = await this.store.get(this.summaryObject(unit));
    if (!stored) return null;
    let parsed: ReturnType<typeof unitSummarySchema.safeParse>;
    try {
      parsed = unitSummarySchema.safeParse(JSON.parse(stored.body));
    } catch {
      return null;
    }
    // An unreadable checkpoint or one of another window is redone, not trusted.
    if (!parsed.success || parsed.data.window.start !== this.window.start || parsed.data.window.end !== this.window.end) return null;
    return parsed.data;
  }

  /** Stages a unit's rows (one object per table with rows), then marks the unit finished. */
  async finish(unit: string, rowsByTable: ReadonlyMap<TableName, readonly Row[]>, summary: Omit<UnitSummary, 'window' | 'rows'>): Promise<UnitSummary> {
    const counts: Record<string, number> = {};
    await Promise.all(
      [...rowsByTable].map(async ([table, rows]) => {
        counts[table] = rows.length;
        if (rows.length > 0) await this.store.put(this.rowsObject(table, unit), toNdjson(rows), NDJSON);
      }),
    );
    const full: UnitSummary = { window: this.window, rows: counts, ...summary };
    await this.store.put(this.summaryObject(unit), JSON.stringify(full), 'application/json');
    return full;
  }

  /** The staged rows of `table` from the given units (those with rows in it). */
  staged(table: TableName, units: readonly string[]): StagedRows {
    const store = this.store;
    const names = units.map((u) => this.rowsObject(table, u));
    return {
      uris: [store.uri(`${this.prefix}/${table}/*`)],
      dateRange: { first: this.window.start, last: this.window.end },
      objects: async function* () {
        for (const name of names) {
          const stored = await store.get(name);
          if (!stored) throw new Error(`The staged object ${name} is missing although its unit is marked finished.`);
          yield stored.body
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as Row);
        }
      },
    };
  }

  /** A staging-table id for this job and table: letters, digits and `_` only. */
  stageId(table: TableName): string {
    return `${table}_${createHash('sha256').update(this.prefix).digest('hex').slice(0, 16)}`;
  }

  private rowsObject(table: TableName, unit: string): string {
    return `${this.prefix}/${table}/${safeName(unit)}.ndjson`;
  }

  private summaryObject(unit: string): string {
    return `${this.prefix}/done/${safeName(unit)}.json`;
  }
}

/** A unit key as one path segment: symbols may hold `/` or `^`. */
function safeName(unit: string): string {
  return encodeURIComponent(unit).replace(/%/g, '~');
}

function toNdjson(rows: readonly Row[]): string {
  let out = '';
  for (const row of rows) out += JSON.stringify(row) + '\n';
  return out;
}

