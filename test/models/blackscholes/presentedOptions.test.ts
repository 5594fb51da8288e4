import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../shared/job/canonicalJson.js';
import { parseJob } from '../../../shared/job/envelope.js';
import { JobError } from '../../../shared/job/errors.js';
import { differentJobMessage, jobIdentity, jobIdentityJson } from '../../../shared/job/jobDigest.js';
import { blackscholesModel, MAX_OPTIONS, presentOptions } from '../../../shared/models/blackscholes/job.js';
import { allocateBatch } from '../../../shared/models/blackscholes/optionBatch.js';
import { OPTION_FIELDS, readOptionColumns } from '../../../shared/models/blackscholes/optionsReader.js';
import { PresentedOptions } from '../../../shared/models/blackscholes/presentedOptions.js';
import { optionText, validOption } from '../../support/optionTexts.js';

// A large batch's options as the command line hands them to the job: the columns its worker
// read from the bytes (optionsReader.ts) standing in for the objects JSON.parse would give
// (presentedOptions.ts). Whatever the job makes of them must be what it makes of the parse.
const TODAY = '2026-06-01';

interface Parsed {
  job_id: string;
  params: { options: Record<string, unknown>[]; periods_per_year?: unknown };
}

/** The job's text, its parse, and the options as the command line presents them (null where it would not). */
function bothWays(options: readonly string[], extra = '') {
  const text = `{"job_id":"both","params":{"options":[${options.join(',')}]${extra}}}`;
  const bytes = Buffer.from(text, 'utf8');
  const parsed = JSON.parse(text) as Parsed;
  const read = readOptionColumns(bytes, 1);
  expect(read, 'the reader takes every plain option').not.toBeNull();
  const presented = presentOptions(read!, bytes);
  const withPresented = presented && { ...parsed, params: { ...parsed.params, options: presented } };
  return { bytes, parsed, presented, withPresented };
}

function identityOf(document: unknown, bytes: Buffer) {
  return jobIdentity('blackscholes', parseJob(document, blackscholesModel, TODAY, bytes));
}

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof JobError) return error.message;
    throw error;
  }
  return 'no error';
}

describe('options presented from the columns the reader took from the bytes', () => {
  it('are presented exactly when zod accepts them, and then stand for their parse: the same objects, canonical text, digest and job.json', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(validOption, fc.array(fc.nat(20), { maxLength: 8 })), { minLength: 1, maxLength: 25 }), (options) => {
        const { bytes, parsed, presented, withPresented } = bothWays(options.map(([o, order]) => optionText(o, order, '')));
        expect(presented !== null).toBe(blackscholesModel.params.safeParse(parsed.params).success);
        if (presented === null || withPresented === null) return;
        accepted++;
        expect(presented.toJSON()).toEqual(parsed.params.options);
        const pieces: Buffer[] = [];
        presented.writeCanonical((piece) => pieces.push(Buffer.from(piece)));
        expect(Buffer.concat(pieces).toString('utf8')).toBe(canonicalJson(parsed.params.options));
        const [viaColumns, viaParse] = [identityOf(withPresented, bytes), identityOf(parsed, bytes)];
        expect(viaColumns.digest).toBe(viaParse.digest);
        expect(jobIdentityJson(viaColumns)).toBe(jobIdentityJson(viaParse));
      }),
      { numRuns: 400 },
    );
    expect(accepted, 'batches the schema accepted').toBeGreaterThan(200);
  });

  it('copy a number\'s text only where it is what the canonical writer writes for its value', () => {
    // Each text in every numeric field it fits: canonical already, or not (exponent, trailing zero, -0, below 1e-6, 16 digits).
    const texts = ['100', '100.0', '1e2', '0.5', '0.50', '5E-1', '0.000001', '0.0000005', '0', '-0', '0.0', '123456789012345', '1234567890123456', '-0.25', '99.99999999999999', '1.0000000000000002'];
    const fits: Record<string, (value: number) => boolean> = {
      spot: (v) => v >= 1e-6 && v <= 1e9,
      strike: (v) => v >= 1e-6 && v <= 1e9,
      time_to_expiry: (v) => v > 0 && v <= 100,
      risk_free_rate: (v) => v >= -1 && v <= 1,
      dividend_yield: (v) => v >= -1 && v <= 1,
      volatility: (v) => v > 0 && v <= 100,
      market_price: (v) => v >= 0 && v <= 1e9,
    };
    const base: Record<string, string> = { spot: '100', strike: '100', time_to_expiry: '1', volatility: '0.2' };
    const options: string[] = [];
    for (const [field, fits1] of Object.entries(fits)) {
      for (const text of texts) if (fits1(Number(text))) options.push(`{${Object.entries({ ...base, [field]: text }).map(([k, t]) => `"${k}":${t}`).join(',')}}`);
    }
    const { parsed, presented } = bothWays(options);
    expect(presented).not.toBeNull();
    const pieces: Buffer[] = [];
    presented!.writeCanonical((piece) => pieces.push(Buffer.from(piece)));
    expect(Buffer.concat(pieces).toString('utf8')).toBe(canonicalJson(parsed.params.options));
  });

  it('are not presented where one field is out of the schema\'s range (zod then names it)', () => {
    const fields = { spot: '100', strike: '100', time_to_expiry: '1', volatility: '0.2' };
    const option = (changed: Record<string, string> = {}) => `{${Object.entries({ ...fields, ...changed }).map(([key, text]) => `"${key}":${text}`).join(',')}}`;
    const cases: [string, string][] = [['strike', '0'], ['strike', '2e9'], ['time_to_expiry', '0'], ['time_to_expiry', '100.5'], ['risk_free_rate', '1.5'], ['dividend_yield', '-2'], ['volatility', '1e-400'], ['market_price', '-1'], ['spot', '1e400']];
    for (const [key, text] of cases) {
      const { presented, parsed, bytes } = bothWays([option(), option({ [key]: text })]);
      expect(presented, `${key} ${text}`).toBeNull();
      expect(errorOf(() => parseJob(parsed, blackscholesModel, TODAY, bytes)), `${key} ${text}`).toMatch(new RegExp(`^params\\.options\\[1\\]\\.${key}: `));
    }
  });

  it('are not presented beyond MAX_OPTIONS, and are up to it', () => {
    const batchOf = (count: number) => {
      const batch = allocateBatch(count, [], false);
      batch.spot.fill(100), batch.strike.fill(100), batch.timeToExpiry.fill(1), batch.volatility.fill(0.2);
      const bits = ['spot', 'strike', 'time_to_expiry', 'volatility'].reduce((b, field) => b | (1 << OPTION_FIELDS.indexOf(field as (typeof OPTION_FIELDS)[number])), 0);
      const texts = { textStart: new Int32Array(count * OPTION_FIELDS.length), textLength: new Uint8Array(count * OPTION_FIELDS.length) };
      return { batch, present: new Uint8Array(count).fill(bits), ...texts };
    };
    expect(presentOptions(batchOf(MAX_OPTIONS), new Uint8Array(0))?.count).toBe(MAX_OPTIONS);
    expect(presentOptions(batchOf(MAX_OPTIONS + 1), new Uint8Array(0))).toBeNull();
  });

  it('leave the other params to the schema: the same message for a bad periods_per_year as the parse gets', () => {
    const { bytes, parsed, withPresented } = bothWays(['{"spot":100,"strike":90,"time_to_expiry":1,"volatility":0.3}'], ',"periods_per_year":-5');
    const expected = errorOf(() => parseJob(parsed, blackscholesModel, TODAY, bytes));
    expect(expected).toMatch(/^params\.periods_per_year: /);
    expect(errorOf(() => parseJob(withPresented, blackscholesModel, TODAY, bytes))).toBe(expected);
  });

  it('come through validation as they are, and a job told apart from a stored one names the option that differs', () => {
    const options = ['{"spot":100,"strike":90,"time_to_expiry":1,"volatility":0.3}', '{"option_type":"put","spot":100,"strike":95,"time_to_expiry":0.5,"market_price":4.25}'];
    const { bytes, parsed, presented, withPresented } = bothWays(options);
    expect(parseJob(withPresented, blackscholesModel, TODAY, bytes).params.options).toBe(presented);
    expect(presented).toBeInstanceOf(PresentedOptions);
    const stored = identityOf({ ...parsed, params: { options: [parsed.params.options[0], { ...parsed.params.options[1], strike: 96 }] } }, bytes);
    expect(differentJobMessage(stored, identityOf(withPresented, bytes))).toContain('(params.options[1].strike was 96, this job has 95)');
  });
});
