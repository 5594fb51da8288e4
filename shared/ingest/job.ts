import * as z from 'zod';
import { JobError, TransientError } from '../job/errors.js';
import type { Job, Metric, ModelContext, ModelDefinition, ModelOutput } from '../job/model.js';
import { redactSecret } from '../log.js';
import { EODHD_SECRET, EodhdClient } from './eodhd.js';
import { OHLCV_TABLE, type CorporateActionRow, type OhlcvRow, type RejectedRow } from './ohlcvRow.js';
import { SymbolNotFoundError, type PriceVendor } from './priceVendor.js';
import { standardizeActions, standardizeBars } from './standardize.js';
import { resolveSymbol, type ResolvedSymbol } from './symbols.js';
import { TWELVE_DATA_SECRET, TWELVE_DATA_MAX_POINTS, TwelveDataClient } from './twelveData.js';
import { VendorHttp, type RetryPolicy } from './vendorHttp.js';
import type { TableName } from '../warehouse/schemas.js';
import type { Row } from '../warehouse/warehouse.js';

const paramsSchema = z
  .object({
    source: z.enum(['eodhd', 'twelvedata']).default('eodhd'),
    asset_class: z.enum(['equity', 'fx', 'crypto']).default('equity'),
    /** Default: true for eodhd equities, the only combination that has them. */
    corporate_actions: z.boolean().optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.corporate_actions === true && !(p.source === 'eodhd' && p.asset_class === 'equity')) {
      ctx.addIssue({
        code: 'custom',
        path: ['corporate_actions'],
        message: 'corporate actions are loaded for source eodhd and asset_class equity only; leave corporate_actions out or set it to false',
      });
    }
  });

export type IngestParams = z.infer<typeof paramsSchema>;

export interface IngestOptions {
  /** Vendor retry policy (tests shorten the delays). */
  readonly retry?: Partial<RetryPolicy>;
  /** Rows per upsertRows call, to keep one MERGE's parameters well under BigQuery's request size limit. */
  readonly batchSize?: number;
}

const CORPORATE_ACTIONS_TABLE: TableName = 'corporate_actions';

interface SymbolOutcome {
  readonly symbol: ResolvedSymbol;
  readonly bars: OhlcvRow[];
  readonly actions: CorporateActionRow[];
}

/**
 * The `ingest` job: fetches daily bars (and dividends and splits) of every symbol from the
 * vendor, validates them, and upserts them into the raw tables keyed by symbol and date, so
 * that re-ingesting a window adds no duplicates. Symbols that load are kept when others
 * fail: an unknown symbol fails the job with `unknown_symbol` after the rest are loaded; a
 * vendor fault that outlasts the retries is thrown as TransientError after loading what was
 * fetched, and the redelivery reloads idempotently.
 */
export function createIngestModel(options: IngestOptions = {}): ModelDefinition<IngestParams> {
  return {
    name: 'ingest',
    params: paramsSchema,
    symbolsOptional: false,
    run: (job, context) => runIngest(job, context, options),
  };
}

/** The `ingest` job with the production retry policy. */
export const ingestModel: ModelDefinition<IngestParams> = createIngestModel();

async function runIngest(job: Job<IngestParams>, context: ModelContext, options: IngestOptions): Promise<ModelOutput> {
  const { source, asset_class: assetClass } = job.params;
  const withActions = job.params.corporate_actions ?? (source === 'eodhd' && assetClass === 'equity');
  const symbols = uniqueByStored(job.symbols.map((s) => resolveSymbol(s, source, assetClass)));
  const table = OHLCV_TABLE[assetClass];
  const ingestedAt = new Date().toISOString();
  const log = context.log;

  const vendor = await openVendor(source, context, options);

  const loaded: SymbolOutcome[] = [];
  const rejected: RejectedRow[] = [];
  const unknown: ResolvedSymbol[] = [];
  let stoppedBy: Error | null = null;
  let fetched = 0;
  for (const symbol of symbols) {
    try {
      const window = { symbol: symbol.stored, source, ingestedAt, start: job.start, end: job.end };
      const candidates = await vendor.dailyBars(symbol.vendor, job.start, job.end);
      if (candidates.length >= TWELVE_DATA_MAX_POINTS && source === 'twelvedata') {
        log.warn(`${vendor.displayName} returned its maximum of ${TWELVE_DATA_MAX_POINTS} bars for ${symbol.stored}; the start of the window may be missing`);
      }
      const bars = standardizeBars(candidates, window);
      const actions = withActions && vendor.corporateActions ? standardizeActions(await vendor.corporateActions(symbol.vendor, job.start, job.end), window) : { rows: [], rejected: [] };
      rejected.push(...bars.rejected, ...actions.rejected);
      loaded.push({ symbol, bars: bars.rows, actions: actions.rows });
      log.info(`Fetched ${bars.rows.length} bars of ${symbol.stored} from ${vendor.displayName}`, {
        symbol: symbol.stored,
        rows: bars.rows.length,
        rejected: bars.rejected.length + actions.rejected.length,
        corporate_actions: actions.rows.length,
      });
    } catch (error) {
      if (error instanceof SymbolNotFoundError) {
        log.warn(error.message, { symbol: symbol.requested });
        unknown.push(symbol);
        continue;
      }
      // A vendor fault or a rejected key would hit every later symbol too: stop asking,
      // keep what was fetched.
      if (error instanceof TransientError || error instanceof JobError) {
        stoppedBy = error;
        break;
      }
      throw error;
    } finally {
      // Fetching is most of an ingest's time: progress by symbols fetched (status.json).
      context.progress?.(++fetched / symbols.length);
    }
  }
  if (rejected.length > 0) log.warn(`${rejected.length} vendor rows were malformed and not stored`, { rejected_rows: rejected.slice(0, 20) });

  const bars = loaded.flatMap((o) => o.bars);
  const actions = loaded.flatMap((o) => o.actions);
  const counts = await upsertInBatches(context, table, ['symbol', 'date'], bars, options.batchSize);
  await upsertInBatches(context, CORPORATE_ACTIONS_TABLE, ['symbol', 'date', 'action'], actions, options.batchSize);
  log.info(`Loaded ${bars.length} rows into ${table}`, { table, inserted: counts.inserted, updated: counts.updated, corporate_actions: actions.length });

  const loadedNote = `${loaded.length} other symbol${loaded.length === 1 ? ' was' : 's were'} loaded (${bars.length} rows into ${table})`;
  if (stoppedBy instanceof TransientError) {
    throw new TransientError(`${stoppedBy.message} Before that, ${loadedNote}.`);
  }
  if (stoppedBy) throw stoppedBy;
  if (unknown.length > 0) {
    const names = unknown.map((s) => s.requested).join(', ');
    throw new JobError(
      'unknown_symbol',
      `${vendor.displayName} does not know the symbol${unknown.length === 1 ? '' : 's'} ${names}; the ${loadedNote}.`,
    );
  }

  const perSymbol: Record<string, { rows: number; first_date: string | null; last_date: string | null }> = {};
  const metrics: Metric[] = [];
  for (const { symbol, bars: rows } of loaded) {
    perSymbol[symbol.stored] = { rows: rows.length, first_date: rows[0]?.date ?? null, last_date: rows.at(-1)?.date ?? null };
    metrics.push({ metric: `per_symbol.${symbol.stored}.rows`, value: rows.length, symbol: symbol.stored });
  }
  metrics.push(
    { metric: 'rows_loaded', value: bars.length },
    { metric: 'rows_inserted', value: counts.inserted },
    { metric: 'rows_updated', value: counts.updated },
    { metric: 'corporate_actions', value: actions.length },
  );
  return {
    inputs: {
      source,
      asset_class: assetClass,
      corporate_actions: withActions,
      window: { start: job.start, end: job.end },
      symbols: symbols.map((s) => ({ requested: s.requested, stored: s.stored, vendor: s.vendor })),
    },
    result: {
      table,
      rows_loaded: bars.length,
      rows_inserted: counts.inserted,
      rows_updated: counts.updated,
      per_symbol: perSymbol,
      rejected_rows: rejected,
      corporate_actions: actions.length,
    },
    metrics,
  };
}

async function openVendor(source: IngestParams['source'], context: ModelContext, options: IngestOptions): Promise<PriceVendor> {
  const secretName = source === 'eodhd' ? EODHD_SECRET : TWELVE_DATA_SECRET;
  const apiKey = await context.secrets.get(secretName);
  redactSecret(apiKey);
  const displayName = source === 'eodhd' ? 'EODHD' : 'Twelve Data';
  const http = new VendorHttp({ vendor: displayName, retry: options.retry, log: context.log });
  return source === 'eodhd'
    ? new EodhdClient({ baseUrl: context.config.EODHD_BASE_URL, apiKey, http })
    : new TwelveDataClient({ baseUrl: context.config.TWELVE_DATA_BASE_URL, apiKey, http });
}

/** The same stored symbol asked twice (AAPL and AAPL.US) is fetched once. */
function uniqueByStored(symbols: ResolvedSymbol[]): ResolvedSymbol[] {
  const seen = new Set<string>();
  return symbols.filter((s) => !seen.has(s.stored) && seen.add(s.stored));
}

async function upsertInBatches(
  context: ModelContext,
  table: TableName,
  keys: readonly string[],
  rows: readonly Row[],
  batchSize = 10_000,
): Promise<{ inserted: number; updated: number }> {
  let inserted = 0;
  let updated = 0;
  for (let i = 0; i < rows.length; i += batchSize) {
    const result = await context.warehouse.upsertRows(table, keys, rows.slice(i, i + batchSize));
    inserted += result.inserted;
    updated += result.updated;
  }
  return { inserted, updated };
}
