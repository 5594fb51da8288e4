import { JobError } from '../job/errors.js';
import type { CandidateAction, CandidateBar, VendorName } from './ohlcvRow.js';

/**
 * A price vendor as ingestion sees it: daily bars (and, where supported, dividends and
 * splits) of one symbol in the vendor's own naming, not yet validated.
 * Faults that may pass are thrown as TransientError, an unknown symbol as
 * SymbolNotFoundError, a rejected API key as JobError `internal`.
 */
export interface PriceVendor {
  readonly source: VendorName;
  /** For messages: "EODHD", "Twelve Data". */
  readonly displayName: string;
  dailyBars(vendorSymbol: string, start: string, end: string): Promise<CandidateBar[]>;
  /** Absent when ingestion does not load this vendor's corporate actions. */
  readonly corporateActions?: (vendorSymbol: string, start: string, end: string) => Promise<CandidateAction[]>;
}

/** The vendor does not know the symbol: permanent for that symbol, the others go on. */
export class SymbolNotFoundError extends Error {
  constructor(
    readonly vendorSymbol: string,
    vendor: string,
    detail: string,
  ) {
    super(`${vendor} does not know the symbol ${vendorSymbol}${detail ? ` (${detail})` : ''}.`);
    this.name = 'SymbolNotFoundError';
  }
}

/**
 * The vendor knows the symbol but the account's plan does not include it (Twelve Data:
 * "This symbol is available starting with the Grow or Venture plan"). Permanent for this
 * symbol on this key, the other symbols go on; the job then fails `internal`: the account
 * needs attention, not the job, and an `internal` failure lets the same job run again once
 * the plan is changed.
 */
export class SymbolNotInPlanError extends Error {
  constructor(
    readonly vendorSymbol: string,
    vendor: string,
    readonly vendorSaid: string,
  ) {
    super(`${vendor} does not serve ${vendorSymbol} on this account's plan (it said: "${vendorSaid}")`);
    this.name = 'SymbolNotInPlanError';
  }
}

/**
 * The vendor answered "no data" for a symbol it did not call unknown (Twelve Data's 404
 * "Data not found", seen for symbols it lists). The symbol loads no rows and the vendor's
 * words go into its data-quality entry; the job does not fail for it.
 */
export class SymbolWithoutDataError extends Error {
  constructor(
    readonly vendorSymbol: string,
    vendor: string,
    readonly vendorSaid: string,
  ) {
    super(`${vendor} has no data for ${vendorSymbol} (it said: "${vendorSaid}")`);
    this.name = 'SymbolWithoutDataError';
  }
}

/** A permanent failure for a rejected key: names the vendor and the secret, never its value. */
export function apiKeyRejected(vendor: string, secretName: string, status: number): JobError {
  return new JobError(
    'internal',
    `${vendor} rejected the API key (HTTP ${status}); check the secret ${secretName} and the plan it belongs to.`,
  );
}
