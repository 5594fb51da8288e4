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

/** A permanent failure for a rejected key: names the vendor and the secret, never its value. */
export function apiKeyRejected(vendor: string, secretName: string, status: number): JobError {
  return new JobError(
    'internal',
    `${vendor} rejected the API key (HTTP ${status}); check the secret ${secretName} and the plan it belongs to.`,
  );
}
