import * as z from 'zod';
import type {
  CandidateAction,
  CandidateBar,
  CorporateActionRow,
  OhlcvRow,
  RejectedRow,
  VendorName,
} from './ohlcvRow.js';

/** Who the rows belong to and which window to keep. */
export interface StandardizeContext {
  /** The stored symbol (see symbols.ts). */
  readonly symbol: string;
  readonly source: VendorName;
  /** One timestamp for every row of a run. */
  readonly ingestedAt: string;
  /** Inclusive ISO dates; vendor rows outside them are dropped, not reported. */
  readonly start: string;
  readonly end: string;
}

export interface Standardized<R> {
  /** Valid rows, one per key, oldest first. */
  readonly rows: R[];
  readonly rejected: RejectedRow[];
}

export interface StandardizedBars extends Standardized<OhlcvRow> {
  /**
   * All-zero bars in the window (open, high, low and close 0: EODHD sends these for days a
   * listing did not trade, e.g. TFG.JSE 2018-05-31). Not prices, so not stored, and not
   * malformed either: counted, and the day counts as a weekday without a bar.
   */
  readonly placeholders: number;
}

const decimalText = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

// Twelve Data sends every number as a string ("185.64000"), EODHD as JSON numbers: both are read.
const numeric = z.preprocess(
  (v) => (typeof v === 'string' && decimalText.test(v) ? Number(v) : v),
  z.number({ error: (issue) => (issue.input === undefined || issue.input === null ? 'missing' : 'not a number') }),
);
const price = numeric.refine((v) => v > 0, 'must be a positive price');
const optionalPrice = price.nullish().transform((v) => v ?? null);
const optionalVolume = numeric
  .refine((v) => v >= 0, 'must not be negative')
  .nullish()
  .transform((v) => v ?? null);

/** A calendar date; Twelve Data may add a time of day ("2024-01-02 00:00:00"), which daily bars ignore. */
const tradingDate = z
  .string({ error: (issue) => (issue.input === undefined || issue.input === null ? 'missing' : 'not a date') })
  .regex(/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$/, 'not a YYYY-MM-DD date')
  .transform((s) => s.slice(0, 10))
  .refine((d) => {
    const parsed = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === d;
  }, 'not a calendar date');

const barSchema = z
  .object({
    date: tradingDate,
    open: optionalPrice,
    high: optionalPrice,
    low: optionalPrice,
    close: price,
    adj_close: optionalPrice,
    volume: optionalVolume,
  })
  // Only high < low is treated as corrupt. A close a cent outside [low, high] is common in
  // consolidated feeds (different venues' last trades) and is kept as sent.
  .refine((b) => b.high === null || b.low === null || b.high >= b.low, { message: 'high is below low', path: ['high'] });

// A bare number is taken as the ratio itself.
const splitRatio = z.preprocess(
  (v) => (typeof v === 'number' ? `${v}/1` : v),
  z
    .string({ error: 'missing' })
    .regex(/^\s*\d+(\.\d+)?\s*[/:]\s*\d+(\.\d+)?\s*$/, 'not a ratio such as "4.000000/1.000000"')
    .transform((s) => s.split(/[/:]/).map(Number) as [number, number])
    .refine(([n, d]) => n > 0 && d > 0, 'has a zero side')
    // EODHD writes new/old: "4.000000/1.000000" is a 4-for-1 split, 4 new shares per old one.
    .transform(([n, d]) => n / d),
);

function reasonOf(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

function readableDate(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 32) : null;
}

/**
 * Validates a vendor's daily bars and turns them into warehouse rows: malformed bars (a
 * missing close, a non-positive price, a bad date, high below low) are reported, not stored;
 * a date sent twice keeps its first bar (a differing repeat is reported); bars outside the
 * window are dropped.
 * @returns rows oldest first, one per date, and the rejected bars with their reasons.
 */
export function standardizeBars(bars: readonly CandidateBar[], context: StandardizeContext): StandardizedBars {
  const byDate = new Map<string, OhlcvRow>();
  const rejected: RejectedRow[] = [];
  let placeholders = 0;
  for (const bar of bars) {
    if (isPlaceholder(bar)) {
      const date = readableDate(bar.date)?.slice(0, 10);
      if (date !== undefined && date >= context.start && date <= context.end) placeholders++;
      continue;
    }
    const parsed = plainBar(bar) ?? barSchema.safeParse(bar);
    if (!parsed.success) {
      rejected.push({ symbol: context.symbol, date: readableDate(bar.date), reason: reasonOf(parsed.error) });
      continue;
    }
    const b = parsed.data;
    if (b.date < context.start || b.date > context.end) continue;
    const row: OhlcvRow = {
      date: b.date,
      symbol: context.symbol,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      adj_close: b.adj_close,
      volume: b.volume,
      source: context.source,
      ingested_at: context.ingestedAt,
    };
    const earlier = byDate.get(b.date);
    if (earlier === undefined) byDate.set(b.date, row);
    else if (!sameBar(earlier, row)) {
      rejected.push({ symbol: context.symbol, date: b.date, reason: 'a second, different bar for this date (the first was kept)' });
    }
  }
  return { rows: [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : 1)), rejected, placeholders };
}

type ParsedBar = z.infer<typeof barSchema>;
const plainDate = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const optionalPositive = (v: unknown): v is number | null | undefined => v === null || v === undefined || positive(v);

/**
 * The common case without zod: a bar whose numbers are JSON numbers that pass every rule
 * of `barSchema` (EODHD's rows), parsed to the same value. Anything else (strings, a
 * missing close, a bad date) returns undefined and goes through `barSchema`, which also
 * says what is wrong. A million bars a job make the difference worth having.
 */
function plainBar(bar: CandidateBar): { success: true; data: ParsedBar } | undefined {
  const { date, open, high, low, close, adj_close, volume } = bar;
  if (typeof date !== 'string' || !plainDate.test(date) || !positive(close) || !optionalPositive(open) || !optionalPositive(high) || !optionalPositive(low) || !optionalPositive(adj_close)) return undefined;
  if (!(volume === null || volume === undefined || (typeof volume === 'number' && Number.isFinite(volume) && volume >= 0))) return undefined;
  if (typeof high === 'number' && typeof low === 'number' && high < low) return undefined;
  // Day 29-31 of a short month: let the schema reject it.
  if (Number(date.slice(8, 10)) > 28 && new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) return undefined;
  return { success: true, data: { date, open: open ?? null, high: high ?? null, low: low ?? null, close, adj_close: adj_close ?? null, volume: volume ?? null } };
}

const isZero = (v: unknown) => v === 0 || (typeof v === 'string' && decimalText.test(v) && Number(v) === 0);

function isPlaceholder(bar: CandidateBar): boolean {
  return isZero(bar.open) && isZero(bar.high) && isZero(bar.low) && isZero(bar.close);
}

function sameBar(a: OhlcvRow, b: OhlcvRow): boolean {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.adj_close === b.adj_close && a.volume === b.volume;
}

const optionalAmount = price.nullish().transform((v) => v ?? null);

/**
 * Validates dividends (a positive amount per share) and splits (a positive new/old ratio)
 * into `corporate_actions` rows, one per date and action, keeping those in the window.
 * @returns rows oldest first and the rejected actions with their reasons.
 */
export function standardizeActions(
  actions: readonly CandidateAction[],
  context: StandardizeContext,
): Standardized<CorporateActionRow> {
  const byKey = new Map<string, CorporateActionRow>();
  const rejected: RejectedRow[] = [];
  for (const action of actions) {
    const date = tradingDate.safeParse(action.date);
    const value = action.action === 'dividend' ? price.safeParse(action.value) : splitRatio.safeParse(action.value);
    const unadjusted = optionalAmount.safeParse(action.action === 'dividend' ? action.unadjustedValue : null);
    if (!date.success || !value.success || !unadjusted.success) {
      const reasons = [
        ...(date.success ? [] : [`date: ${reasonOf(date.error)}`]),
        ...(value.success ? [] : [`${action.action === 'dividend' ? 'amount' : 'ratio'}: ${reasonOf(value.error)}`]),
        ...(unadjusted.success ? [] : [`unadjusted amount: ${reasonOf(unadjusted.error)}`]),
      ];
      rejected.push({ symbol: context.symbol, date: readableDate(action.date), reason: `${action.action} ${reasons.join('; ')}` });
      continue;
    }
    if (date.data < context.start || date.data > context.end) continue;
    const key = `${date.data}|${action.action}`;
    if (byKey.has(key)) continue;
    byKey.set(key, {
      date: date.data,
      symbol: context.symbol,
      action: action.action,
      amount: action.action === 'dividend' ? value.data : null,
      unadjusted_amount: unadjusted.data,
      split_ratio: action.action === 'split' ? value.data : null,
      source: context.source,
      ingested_at: context.ingestedAt,
    });
  }
  const rows = [...byKey.values()].sort((a, b) => (a.date === b.date ? a.action.localeCompare(b.action) : a.date < b.date ? -1 : 1));
  return { rows, rejected };
}
