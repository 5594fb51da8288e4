import * as z from 'zod';
import { JobError, TransientError } from '../job/errors.js';
import { jobObjects } from '../job/documents.js';
import { MAX_SYMBOLS } from '../job/envelope.js';
import type { Job, Metric, ModelContext, ModelDefinition, ModelOutput } from '../job/model.js';
import { redactSecret } from '../log.js';
import type { TableName } from '../warehouse/schemas.js';
import type { Row } from '../warehouse/warehouse.js';
import { IngestCheckpoints, type UnitSummary } from './checkpoints.js';
import { EODHD_SECRET, EodhdClient } from './eodhd.js';
import { forEachConcurrent } from './forEachConcurrent.js';
import { OHLCV_TABLE, type AssetClass, type OhlcvRow, type RejectedRow } from './ohlcvRow.js';
import { SymbolNotFoundError, SymbolNotInPlanError, SymbolWithoutDataError, type PriceVendor } from './priceVendor.js';
import { RequestBudget } from './requestBudget.js';
import { standardizeActions, standardizeBars } from './standardize.js';
import { QualityBySymbol } from './qualityBySymbol.js';
import { addToTally, emptyTally, type SymbolQuality } from './symbolQuality.js';
import { resolveSymbol, type ResolvedSymbol } from './symbols.js';
import { TWELVE_DATA_SECRET, TwelveDataClient } from './twelveData.js';
import { VendorHttp, type RetryPolicy } from './vendorHttp.js';
import { weekdaysBetween } from './weekdays.js';

const paramsSchema = z
  .object({
    source: z.enum(['eodhd', 'twelvedata']).default('eodhd'),
    asset_class: z.enum(['equity', 'fx', 'crypto']).default('equity'),
    /** Default: true for eodhd equities by symbol, the only combination that has them. */
    corporate_actions: z.boolean().optional(),
    /** An EODHD exchange code: every symbol of it (or of `symbols`) per weekday, from the bulk endpoint. */
    // null reads as absent: Terraform's schedule bodies write every key.
    exchange: z
      .string()
      .regex(/^[A-Za-z0-9]{1,10}$/, 'must be an EODHD exchange code such as US, LSE or XETRA')
      .transform((s) => s.toUpperCase())
      .nullish()
      .transform((s) => s ?? undefined),
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
    if (p.exchange !== undefined && p.source !== 'eodhd') {
      ctx.addIssue({ code: 'custom', path: ['exchange'], message: 'a whole exchange is loaded from EODHD only (its bulk end-of-day endpoint); use source eodhd or list symbols' });
    }
    if (p.exchange !== undefined && p.corporate_actions === true) {
      ctx.addIssue({ code: 'custom', path: ['corporate_actions'], message: 'corporate actions are not loaded with exchange; load them with a job listing symbols' });
    }
  });

export type IngestParams = z.infer<typeof paramsSchema>;

export interface IngestOptions {
  /** Vendor retry policy (tests shorten the delays). */
  readonly retry?: Partial<RetryPolicy>;
  /** How a rate limit slows the client (tests shorten the pauses); see RequestBudget and VendorHttp. */
  readonly throttle?: { readonly firstPauseMs?: number; readonly maxPauseMs?: number; readonly maxThrottles?: number };
}

const CORPORATE_ACTIONS_TABLE: TableName = 'corporate_actions';
/**
 * The most tickers one exchange day may hold: an exchange job keeps up to
 * EXCHANGE_DAYS_IN_FLIGHT days of that size in memory at once (the vendor's answer, its rows,
 * their NDJSON), and the symbols' tallies. 50,000 a day peaks at ~280 MB on Node 20 and
 * ~435 MB on Node 24 in the 1 GiB function (README, Reliability). A larger day fails the job `invalid_job`.
 */
export const MAX_EXCHANGE_TICKERS = 50_000;
/** Exchange days fetched at once (or INGEST_CONCURRENCY if lower): a day is one request but up to MAX_EXCHANGE_TICKERS rows. */
export const EXCHANGE_DAYS_IN_FLIGHT = 4;
/**
 * Symbols whose quality `result.per_symbol` lists in full (the envelope's most symbols, so every
 * job by symbols lists all); past it (a whole exchange) the result lists those whose data
 * look incomplete, up to this many, and `per_symbol.ndjson` beside it holds every symbol.
 */
export const MAX_PER_SYMBOL_LISTED = MAX_SYMBOLS;
/** Rejected rows listed in the result (all are counted). */
const MAX_REJECTED_LISTED = 1000;
/** Rejected rows a unit's checkpoint keeps (all are counted). */
const REJECTED_KEPT_PER_UNIT = 100;

/** One piece of work with its own checkpoint: a symbol's whole window, or one exchange day. */
type Unit = { readonly key: string; readonly symbol: ResolvedSymbol } | { readonly key: string; readonly date: string };

/**
 * The `ingest` job: fetches daily bars (and dividends and splits) of every symbol, or of a
 * whole exchange day by day, from the vendor, concurrently within the vendor's per-minute
 * budget; validates them; stages each symbol's (or day's) rows as objects in the bucket with
 * a checkpoint, so a redelivery resumes where a crashed run stopped; then loads each table
 * with one MERGE keyed by symbol and date, so that re-ingesting a window adds no duplicates.
 * An unknown symbol fails the job with `unknown_symbol` after the rest are loaded; a vendor
 * fault that outlasts the retries is thrown as TransientError, and the redelivery fetches
 * only what is not checkpointed.
 */
export function createIngestModel(options: IngestOptions = {}): ModelDefinition<IngestParams> {
  return {
    name: 'ingest',
    params: paramsSchema,
    // Optional with params.exchange only; checked in run(), which sees both.
    symbolsOptional: true,
    run: (job, context) => runIngest(job, context, options),
  };
}

/** The `ingest` job with the production retry policy. */
export const ingestModel: ModelDefinition<IngestParams> = createIngestModel();

async function runIngest(job: Job<IngestParams>, context: ModelContext, options: IngestOptions): Promise<ModelOutput> {
  const { source, asset_class: assetClass, exchange } = job.params;
  if (job.symbols.length === 0 && exchange === undefined) {
    throw new JobError('invalid_job', 'symbols is required by ingest jobs unless params.exchange names a whole exchange: list at least one symbol.');
  }
  if (!context.store) throw new JobError('internal', 'The ingest job needs the artifacts bucket for its staged rows.');
  const withActions = exchange === undefined && (job.params.corporate_actions ?? (source === 'eodhd' && assetClass === 'equity'));
  const symbols = uniqueByStored(job.symbols.map((s) => resolveSymbol(s, source, assetClass)));
  const table = OHLCV_TABLE[assetClass];
  const ingestedAt = new Date().toISOString();
  const log = context.log;
  const weekdays = weekdaysBetween(job.start, job.end);
  const units: Unit[] = exchange === undefined ? symbols.map((symbol) => ({ key: symbol.stored, symbol })) : weekdays.map((date) => ({ key: `day-${date}`, date }));

  const budget = new RequestBudget({
    perMinute: source === 'eodhd' ? context.config.EODHD_REQUESTS_PER_MINUTE : context.config.TWELVE_DATA_REQUESTS_PER_MINUTE,
    firstPauseMs: options.throttle?.firstPauseMs,
    maxPauseMs: options.throttle?.maxPauseMs,
  });
  const vendor = await openVendor(source, context, options, budget);
  const checkpoints = new IngestCheckpoints(context.store, job.job_id, { start: job.start, end: job.end });
  const fetchUnit = exchange === undefined ? symbolFetcher(vendor, withActions, table, job, ingestedAt) : exchangeDayFetcher(vendor, exchange, symbols, assetClass, table, ingestedAt);

  // What is kept of each finished unit: its row counts and rejected rows (an exchange day's list of symbols goes into `quality` and is dropped).
  const finished = new Map<string, FinishedUnit>();
  const quality = new QualityBySymbol();
  const settle = (key: string, summary: UnitSummary) => {
    quality.add(key, summary);
    finished.set(key, { rows: summary.rows, rejected: summary.rejected, rejected_total: summary.rejected_total });
  };
  const unknown: ResolvedSymbol[] = [];
  const notInPlan: SymbolNotInPlanError[] = [];
  // Set from inside the concurrent work, so kept in an object (a `let` would be narrowed to null).
  const stop: { by: Error | null } = { by: null };
  let resumed = 0;
  const reportProgress = () =>
    context.progress?.((finished.size + unknown.length + notInPlan.length) / Math.max(1, units.length), {
      [exchange === undefined ? 'symbols_done' : 'days_done']: finished.size,
      [exchange === undefined ? 'symbols_total' : 'days_total']: units.length,
    });

  await forEachConcurrent(
    units,
    exchange === undefined ? context.config.INGEST_CONCURRENCY : Math.min(context.config.INGEST_CONCURRENCY, EXCHANGE_DAYS_IN_FLIGHT),
    async (unit) => {
      try {
        const done = await checkpoints.finished(unit.key);
        if (done) {
          resumed++;
          settle(unit.key, done);
          return;
        }
        const { rowsByTable, summary } = await fetchUnit(unit);
        settle(unit.key, await checkpoints.finish(unit.key, rowsByTable, summary));
        if ('symbol' in unit) log.debug(`Staged ${rowsByTable.get(table)?.length ?? 0} bars of ${unit.key}`, { symbol: unit.key });
      } catch (error) {
        if (error instanceof SymbolNotFoundError && 'symbol' in unit) {
          log.warn(error.message, { symbol: unit.symbol.requested });
          unknown.push(unit.symbol);
        } else if (error instanceof SymbolNotInPlanError) {
          log.warn(error.message, { symbol: unit.key });
          notInPlan.push(error);
        } else {
          // A vendor fault or a rejected key would hit every later unit too: stop asking;
          // what is checkpointed stays for the redelivery.
          stop.by ??= error instanceof Error ? error : new Error(String(error));
        }
      } finally {
        reportProgress();
      }
    },
    () => stop.by !== null,
  );

  const summaries = units.flatMap((u) => {
    const s = finished.get(u.key);
    return s ? [{ key: u.key, summary: s }] : [];
  });
  const rowsIn = (t: TableName) => summaries.reduce((n, s) => n + (s.summary.rows[t] ?? 0), 0);
  const fetchedNote = `${summaries.length} ${exchange === undefined ? 'symbol' : 'day'}${summaries.length === 1 ? ' is' : 's are'} staged (${rowsIn(table)} rows) and resume${summaries.length === 1 ? 's' : ''} on redelivery`;
  const stoppedBy = stop.by;
  if (stoppedBy instanceof TransientError) throw new TransientError(`${stoppedBy.message} ${fetchedNote}.`);
  if (stoppedBy !== null && !(stoppedBy instanceof JobError)) throw stoppedBy;
  // A job over a limit (an exchange too large) loads nothing: it is refused whole.
  if (stoppedBy instanceof JobError && stoppedBy.code === 'invalid_job') throw stoppedBy;

  // One load per table per job.
  const merge = async (t: TableName) => {
    const withRows = summaries.filter((s) => (s.summary.rows[t] ?? 0) > 0).map((s) => s.key);
    if (withRows.length === 0) return { inserted: 0, updated: 0 };
    return context.warehouse.mergeStaged(t, t === CORPORATE_ACTIONS_TABLE ? ['symbol', 'date', 'action'] : ['symbol', 'date'], checkpoints.staged(t, withRows), checkpoints.stageId(t));
  };
  const counts = await merge(table);
  const actionCounts = withActions ? await merge(CORPORATE_ACTIONS_TABLE) : { inserted: 0, updated: 0 };
  const barsLoaded = rowsIn(table);
  const actionsLoaded = rowsIn(CORPORATE_ACTIONS_TABLE);
  log.info(`Loaded ${barsLoaded} rows into ${table}`, { table, inserted: counts.inserted, updated: counts.updated, corporate_actions: actionsLoaded, resumed_units: resumed, throttled: budget.throttles });

  const loadedNote = `${summaries.length} other ${exchange === undefined ? 'symbol' : 'day'}${summaries.length === 1 ? ' was' : 's were'} loaded (${barsLoaded} rows into ${table})`;
  if (stoppedBy) throw stoppedBy;
  // Named in the job's order, whatever order the concurrent fetches ended in.
  const order = new Map(units.map((u, i) => [u.key, i]));
  unknown.sort((a, b) => (order.get(a.stored) ?? 0) - (order.get(b.stored) ?? 0));
  notInPlan.sort((a, b) => a.vendorSymbol.localeCompare(b.vendorSymbol));
  const planNote = notInPlan.map((e) => e.message).join('; ');
  if (unknown.length > 0) {
    const names = unknown.map((s) => s.requested).join(', ');
    throw new JobError('unknown_symbol', `${vendor.displayName} does not know the symbol${unknown.length === 1 ? '' : 's'} ${names}; ${planNote ? `${planNote}; ` : ''}the ${loadedNote}.`);
  }
  if (notInPlan.length > 0) {
    // The account's limit, not the job's fault: `internal`, so the same job runs again once the plan allows it.
    throw new JobError(
      'internal',
      `${planNote}; the ${loadedNote}. Upgrade the plan of the key in ${source === 'twelvedata' ? TWELVE_DATA_SECRET : EODHD_SECRET}, or load these symbols from another source, then publish the job again.`,
    );
  }

  const { perSymbol, complete, withIssues, everySymbol } = listQuality(quality, weekdays.length, units.map((u) => u.key));
  let perSymbolObject: string | undefined;
  if (!complete) {
    // Every symbol's line, in the job's folder: the result stays small whatever the exchange.
    const name = jobObjects('ingest', { jobId: job.job_id }).result.replace(/result\.json$/, 'per_symbol.ndjson');
    await context.store.put(name, everySymbol(), 'application/x-ndjson');
    perSymbolObject = context.store.uri(name);
  }
  const rejected = summaries.flatMap((s) => s.summary.rejected);
  if (rejected.length > 0) log.warn(`${summaries.reduce((n, s) => n + s.summary.rejected_total, 0)} vendor rows were malformed and not stored`, { rejected_rows: rejected.slice(0, 20) });
  // One row per listed symbol: a whole exchange's 50,000 would be 50,000 rows a day in model_metrics.
  const metrics: Metric[] = Object.entries(perSymbol).map(([symbol, q]) => ({ metric: `per_symbol.${symbol}.rows`, value: q.rows, symbol }));
  metrics.push(
    { metric: 'symbols_loaded', value: quality.size },
    { metric: 'rows_loaded', value: barsLoaded },
    { metric: 'rows_inserted', value: counts.inserted },
    { metric: 'rows_updated', value: counts.updated },
    { metric: 'corporate_actions', value: actionsLoaded },
  );
  return {
    inputs: {
      source,
      asset_class: assetClass,
      corporate_actions: withActions,
      window: { start: job.start, end: job.end, weekdays: weekdays.length },
      ...(exchange !== undefined ? { exchange } : {}),
      symbols: symbols.map((s) => ({ requested: s.requested, stored: s.stored, vendor: s.vendor })),
      requests_per_minute: budget.perMinute,
      concurrency: context.config.INGEST_CONCURRENCY,
    },
    result: {
      table,
      rows_loaded: barsLoaded,
      rows_inserted: counts.inserted,
      rows_updated: counts.updated,
      corporate_actions: actionsLoaded,
      corporate_actions_inserted: actionCounts.inserted,
      symbols_loaded: quality.size,
      per_symbol: perSymbol,
      per_symbol_complete: complete,
      ...(complete ? {} : { symbols_with_issues: withIssues, per_symbol_object: perSymbolObject }),
      rejected_rows: rejected.slice(0, MAX_REJECTED_LISTED),
      rejected_rows_total: summaries.reduce((n, s) => n + s.summary.rejected_total, 0),
      resumed_from_checkpoint: resumed,
      rate_limited_responses: budget.throttles,
    },
    metrics,
  };
}

/** What the job keeps of a finished unit until its end. */
type FinishedUnit = Pick<UnitSummary, 'rows' | 'rejected' | 'rejected_total'>;

interface FetchedUnit {
  readonly rowsByTable: Map<TableName, Row[]>;
  readonly summary: Omit<UnitSummary, 'window' | 'rows'>;
}

/** One symbol's whole window: bars (paged by the client where the vendor caps a request) and corporate actions. */
function symbolFetcher(vendor: PriceVendor, withActions: boolean, table: TableName, job: Job<IngestParams>, ingestedAt: string) {
  return async (unit: Unit): Promise<FetchedUnit> => {
    if (!('symbol' in unit)) throw new Error('a symbol unit was expected');
    const { symbol } = unit;
    const window = { symbol: symbol.stored, source: vendor.source, ingestedAt, start: job.start, end: job.end };
    let vendorSaid: string | undefined;
    let candidates: Awaited<ReturnType<PriceVendor['dailyBars']>> = [];
    try {
      candidates = await vendor.dailyBars(symbol.vendor, job.start, job.end);
    } catch (error) {
      if (!(error instanceof SymbolWithoutDataError)) throw error;
      vendorSaid = error.vendorSaid;
    }
    const bars = standardizeBars(candidates, window);
    const actions = withActions && vendor.corporateActions && vendorSaid === undefined ? standardizeActions(await vendor.corporateActions(symbol.vendor, job.start, job.end), window) : { rows: [], rejected: [] };
    const tally = addToTally(emptyTally(), bars.rows.map((r) => r.date), bars.placeholders);
    if (vendorSaid !== undefined) tally.vendor_said = vendorSaid;
    const rowsByTable = new Map<TableName, Row[]>([[table, bars.rows]]);
    if (withActions) rowsByTable.set(CORPORATE_ACTIONS_TABLE, actions.rows);
    const rejected = [...bars.rejected, ...actions.rejected];
    return { rowsByTable, summary: { tally, rejected: rejected.slice(0, REJECTED_KEPT_PER_UNIT), rejected_total: rejected.length } };
  };
}

/** One weekday of a whole exchange (or of the job's symbols on it) from EODHD's bulk endpoint. */
function exchangeDayFetcher(vendor: PriceVendor, exchange: string, symbols: readonly ResolvedSymbol[], assetClass: AssetClass, table: TableName, ingestedAt: string) {
  const wanted = symbols.length > 0 ? new Set(symbols.map((s) => s.stored)) : null;
  return async (unit: Unit): Promise<FetchedUnit> => {
    if (!('date' in unit) || !(vendor instanceof EodhdClient)) throw new Error('an exchange day from EODHD was expected');
    const { date } = unit;
    const rows: OhlcvRow[] = [];
    const rejected: RejectedRow[] = [];
    const placeholders: string[] = [];
    const seen = new Set<string>();
    const answer = await vendor.exchangeDay(exchange, date);
    if (answer.length > MAX_EXCHANGE_TICKERS) {
      throw new JobError(
        'invalid_job',
        `params.exchange: EODHD lists ${answer.length.toLocaleString('en')} tickers for ${exchange} on ${date}, more than the ${MAX_EXCHANGE_TICKERS.toLocaleString('en')} a day that an exchange job may hold in the ingest function's memory (MAX_EXCHANGE_TICKERS); load this exchange by symbols instead (symbols without params.exchange, at most ${MAX_SYMBOLS.toLocaleString('en')} a job). Nothing was loaded.`,
      );
    }
    for (const { code, bar } of answer) {
      // A holiday may answer with the last trading day's rows: those belong to that day's unit.
      if (typeof bar.date !== 'string' || bar.date.slice(0, 10) !== date) continue;
      let stored: string;
      try {
        stored = resolveSymbol(`${String(code)}.${exchange}`, 'eodhd', assetClass).stored;
      } catch {
        rejected.push({ symbol: String(code).slice(0, 40), date, reason: `code: not a ${assetClass} symbol this project stores` });
        continue;
      }
      if ((wanted && !wanted.has(stored)) || seen.has(stored)) continue;
      seen.add(stored);
      const standardized = standardizeBars([bar], { symbol: stored, source: 'eodhd', ingestedAt, start: date, end: date });
      rows.push(...standardized.rows);
      rejected.push(...standardized.rejected);
      if (standardized.placeholders > 0) placeholders.push(stored);
    }
    return {
      rowsByTable: new Map<TableName, Row[]>([[table, rows]]),
      summary: { day: { date, symbols: rows.map((r) => r.symbol), placeholders }, rejected: rejected.slice(0, REJECTED_KEPT_PER_UNIT), rejected_total: rejected.length },
    };
  };
}

/**
 * `result.per_symbol`: every symbol when there are at most MAX_PER_SYMBOL_LISTED; else those
 * whose data look incomplete (QualityBySymbol.hasIssues), the first MAX_PER_SYMBOL_LISTED by
 * name, with `everySymbol()` writing every symbol as NDJSON lines `{"symbol":...,...quality}`.
 */
function listQuality(quality: QualityBySymbol, weekdaysInWindow: number, order: readonly string[]) {
  const perSymbol: Record<string, SymbolQuality> = {};
  const complete = quality.size <= MAX_PER_SYMBOL_LISTED;
  let withIssues = 0;
  let listed = 0;
  for (const [symbol, q] of quality.entries(weekdaysInWindow, order)) {
    const issues = !complete && quality.hasIssues(q, weekdaysInWindow);
    if (issues) withIssues++;
    if (complete || (issues && listed < MAX_PER_SYMBOL_LISTED)) {
      perSymbol[symbol] = q;
      listed++;
    }
  }
  const everySymbol = () => {
    const lines: string[] = [];
    for (const [symbol, q] of quality.entries(weekdaysInWindow, order)) lines.push(JSON.stringify({ symbol, ...q }));
    return lines.join('\n') + '\n';
  };
  return { perSymbol, complete, withIssues, everySymbol };
}

async function openVendor(source: IngestParams['source'], context: ModelContext, options: IngestOptions, budget: RequestBudget): Promise<PriceVendor> {
  const secretName = source === 'eodhd' ? EODHD_SECRET : TWELVE_DATA_SECRET;
  const apiKey = await context.secrets.get(secretName);
  redactSecret(apiKey);
  const displayName = source === 'eodhd' ? 'EODHD' : 'Twelve Data';
  const http = new VendorHttp({ vendor: displayName, retry: options.retry, log: context.log, budget, maxThrottles: options.throttle?.maxThrottles });
  return source === 'eodhd'
    ? new EodhdClient({ baseUrl: context.config.EODHD_BASE_URL, apiKey, http })
    : new TwelveDataClient({ baseUrl: context.config.TWELVE_DATA_BASE_URL, apiKey, http });
}

/** The same stored symbol asked twice (AAPL and AAPL.US) is fetched once. */
function uniqueByStored(symbols: ResolvedSymbol[]): ResolvedSymbol[] {
  const seen = new Set<string>();
  return symbols.filter((s) => !seen.has(s.stored) && seen.add(s.stored));
}
