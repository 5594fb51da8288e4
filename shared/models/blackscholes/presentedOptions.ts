import { MAX_NUMBER_BYTES, writeJsonNumber } from '../../results/jsonBytes.js';
import { PRESENTED, type PresentedValue } from '../../job/presentedValue.js';
import type { OptionBatch } from './optionBatch.js';
import { OPTION_FIELDS, type ReadOptions } from './optionsReader.js';

/**
 * A large batch's `params.options` as the command line read it from the job's bytes
 * (optionsReader.ts, on the valuation worker): the batch's columns and which fields each
 * option gave, standing in for the 100,000 option objects JSON.parse would have made
 * (presentedValue.ts). Made only for options the schema accepts as they are
 * (presentOptions in job.ts); the job values the columns themselves, and its digest takes
 * their canonical text from here.
 */
export class PresentedOptions implements PresentedValue {
  readonly [PRESENTED] = true as const;

  readonly batch: OptionBatch;
  /** Per option, a bit per field it gave, in OPTION_FIELDS order. */
  readonly present: Uint8Array;
  private readonly textStart: Int32Array;
  private readonly textLength: Uint8Array;
  /** Each numeric field's column, by its index in OPTION_FIELDS (option_type's slot is unused). */
  private readonly columns: readonly Float64Array[];

  /** @param bytes the job's bytes the options were read from (their canonical number texts are copied from there) */
  constructor(read: OptionsRead, private readonly bytes: Uint8Array) {
    this.batch = read.batch;
    this.present = read.present;
    this.textStart = read.textStart;
    this.textLength = read.textLength;
    const b = read.batch;
    this.columns = [b.spot, b.spot, b.strike, b.timeToExpiry, b.riskFreeRate, b.dividendYield, b.volatility, b.marketPrice];
  }

  get count(): number {
    return this.batch.count;
  }

  /** One option as the object JSON.parse gives for it: the fields it gave, in the schema's order. */
  option(i: number): Record<string, string | number> {
    return this.refill({}, i);
  }

  /**
   * Whether `accepts` takes every option, each given as its object: one object for each set of
   * fields given, refilled option after option (100,000 options, no object each).
   */
  every(accepts: (option: Record<string, string | number>) => boolean): boolean {
    const objects = new Map<number, Record<string, string | number>>();
    for (let i = 0; i < this.count; i++) {
      const bits = this.present[i];
      let option = objects.get(bits);
      if (option === undefined) objects.set(bits, (option = this.option(i)));
      else this.refill(option, i);
      if (!accepts(option)) return false;
    }
    return true;
  }

  /** Sets the fields option `i` gave on `option`, in the schema's order (OPTION_FIELDS's, spelled out: named stores). */
  private refill(option: Record<string, string | number>, i: number): Record<string, string | number> {
    const bits = this.present[i];
    const b = this.batch;
    if (bits & 1) option.option_type = b.isCall[i] === 1 ? 'call' : 'put';
    if (bits & 2) option.spot = b.spot[i];
    if (bits & 4) option.strike = b.strike[i];
    if (bits & 8) option.time_to_expiry = b.timeToExpiry[i];
    if (bits & 16) option.risk_free_rate = b.riskFreeRate[i];
    if (bits & 32) option.dividend_yield = b.dividendYield[i];
    if (bits & 64) option.volatility = b.volatility[i];
    if (bits & 128) option.market_price = b.marketPrice[i];
    return option;
  }

  toJSON(): Record<string, string | number>[] {
    return Array.from({ length: this.count }, (_, i) => this.option(i));
  }

  /**
   * canonicalJson(this.toJSON()) as one piece: each option's fields in sorted key order,
   * numbers as the canonical writer writes them (writeJsonNumber), or their own text where
   * it is that already.
   */
  writeCanonical(write: (piece: Buffer) => void): void {
    // One buffer for the whole text, as long as it could be (pages never written cost nothing):
    // one large block, which `npm run job` has backed by huge pages, rather than 250 blocks of
    // 64 KB, each page of which is a fault of its own (~16 µs each on the development VMs).
    const text = Buffer.allocUnsafeSlow(2 + this.count * (MAX_OPTION_BYTES + 1));
    let at = 0;
    text[at++] = 0x5b; // [
    for (let i = 0; i < this.count; i++) {
      if (i > 0) text[at++] = 0x2c; // ,
      at = this.writeOption(text, at, i);
    }
    text[at++] = 0x5d; // ]
    write(text.subarray(0, at));
  }

  /**
   * Option `i`'s canonical text into `chunk` at `at`; returns where it ends. A function of its
   * own, called 100,000 times: it is optimised as a whole rather than by on-stack replacement.
   */
  private writeOption(chunk: Buffer, at: number, i: number): number {
    const { textStart, textLength, bytes } = this;
    const bits = this.present[i];
    chunk[at++] = 0x7b; // {
    let first = true;
    for (let k = 0; k < SORTED.length; k++) {
      const field = SORTED[k];
      if (!(bits & (1 << field))) continue;
      // Short runs of bytes: a loop, not TypedArray.set (a call each, 800,000 times).
      const key = first ? FIRST_KEYS[k] : NEXT_KEYS[k];
      for (let j = 0; j < key.length; j++) chunk[at++] = key[j];
      first = false;
      if (field === OPTION_TYPE) {
        const text = this.batch.isCall[i] === 1 ? CALL : PUT;
        for (let j = 0; j < text.length; j++) chunk[at++] = text[j];
        continue;
      }
      // A number's text that is canonical already is copied (most publishers write numbers as JSON.stringify does).
      const slot = i * OPTION_FIELDS.length + field;
      const length = textLength[slot];
      if (length === 0) at = writeJsonNumber(chunk, at, this.columns[field][i]);
      else for (let from = textStart[slot], to = from + length; from < to; from++) chunk[at++] = bytes[from];
    }
    chunk[at++] = 0x7d; // }
    return at;
  }
}

/** What of a reading of the options (ReadOptions) their stand-in keeps. */
export type OptionsRead = Pick<ReadOptions, 'batch' | 'present' | 'textStart' | 'textLength'>;

export function isPresentedOptions(value: unknown): value is PresentedOptions {
  return value instanceof PresentedOptions;
}

const OPTION_TYPE = OPTION_FIELDS.indexOf('option_type');
/** The fields' indices in canonical (sorted key) order. */
const SORTED = OPTION_FIELDS.map((name, field) => ({ name, field }))
  .sort((a, b) => (a.name < b.name ? -1 : 1))
  .map(({ field }) => field);
const FIRST_KEYS = SORTED.map((field) => Buffer.from(`"${OPTION_FIELDS[field]}":`, 'latin1'));
const NEXT_KEYS = SORTED.map((field) => Buffer.from(`,"${OPTION_FIELDS[field]}":`, 'latin1'));
const CALL = Buffer.from('"call"');
const PUT = Buffer.from('"put"');
const MAX_OPTION_BYTES = 2 + NEXT_KEYS.reduce((sum, key) => sum + key.length, 0) + OPTION_FIELDS.length * MAX_NUMBER_BYTES + 1;
