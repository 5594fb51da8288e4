import type { TableName } from '../warehouse/schemas.js';

export type VendorName = 'eodhd' | 'twelvedata';
export type AssetClass = 'equity' | 'fx' | 'crypto';

/** The raw table each asset class lands in. */
export const OHLCV_TABLE: Record<AssetClass, TableName> = {
  equity: 'eq_ohlcv',
  fx: 'fx_ohlcv',
  crypto: 'crypto_ohlcv',
};

/** One row of `eq_ohlcv` / `fx_ohlcv` / `crypto_ohlcv`: exactly the columns of `TABLES.eq_ohlcv`. */
export type OhlcvRow = {
  date: string;
  symbol: string;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number;
  /** Null where the vendor gives no adjusted close (Twelve Data); models fall back to `close`. */
  adj_close: number | null;
  volume: number | null;
  source: VendorName;
  ingested_at: string;
};

/** One row of `corporate_actions`: exactly the columns of `TABLES.corporate_actions`. */
export type CorporateActionRow = {
  date: string;
  symbol: string;
  action: 'dividend' | 'split';
  /** Dividend per share adjusted for later splits (EODHD `value`): on the scale of `adj_close`. */
  amount: number | null;
  /** Dividend per share as paid (EODHD `unadjustedValue`): on the scale of the raw `close` of its day. */
  unadjusted_amount: number | null;
  split_ratio: number | null;
  source: VendorName;
  ingested_at: string;
};

/** A vendor row that was not stored, and why. `date` is null when the row had no readable date. */
export interface RejectedRow {
  readonly symbol: string;
  readonly date: string | null;
  readonly reason: string;
}

/** A daily bar as a vendor sent it, fields renamed to ours but not yet validated. */
export interface CandidateBar {
  readonly date: unknown;
  readonly open: unknown;
  readonly high: unknown;
  readonly low: unknown;
  readonly close: unknown;
  readonly adj_close: unknown;
  readonly volume: unknown;
}

/** A dividend or split as a vendor sent it, not yet validated. */
export interface CandidateAction {
  readonly date: unknown;
  readonly action: 'dividend' | 'split';
  /** Dividend per share adjusted for later splits, or the vendor's split text ("4.000000/1.000000"). */
  readonly value: unknown;
  /** Dividend per share as paid, before any later split (absent for splits). */
  readonly unadjustedValue?: unknown;
}
