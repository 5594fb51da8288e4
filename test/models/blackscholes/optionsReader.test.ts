import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IMPLIED_SOURCE, type OptionBatch } from '../../../shared/models/blackscholes/optionBatch.js';
import { OPTION_FIELDS, readOptionColumns } from '../../../shared/models/blackscholes/optionsReader.js';
import { optionText, plainOption } from '../../support/optionTexts.js';

type Option = Record<string, unknown>;

/**
 * The columns the job's run() resolves for a job without symbols or job-wide defaults, written
 * out from the contract's rules (type call unless put, rates and yields 0 unless given, the
 * given volatility, else implied from the quote), from JSON.parse's reading of the same text.
 */
function resolved(text: string) {
  const options = (JSON.parse(text) as { params: { options: Option[] } }).params.options;
  const column = (key: string) => options.map((o) => (o[key] as number | undefined) ?? 0);
  return {
    count: options.length,
    isCall: options.map((o) => (o.option_type === 'put' ? 0 : 1)),
    spot: column('spot'),
    strike: column('strike'),
    timeToExpiry: column('time_to_expiry'),
    riskFreeRate: column('risk_free_rate'),
    dividendYield: column('dividend_yield'),
    volatility: column('volatility'),
    marketPrice: column('market_price'),
    hasMarketPrice: options.map((o) => (o.market_price === undefined ? 0 : 1)),
    source: options.map((o) => (o.volatility === undefined ? IMPLIED_SOURCE : 0)),
    symbolIndex: options.map(() => -1),
    symbols: [],
  };
}

/** The batch as plain arrays (Object.is keeps -0 apart from 0 in toEqual). */
function plain(batch: OptionBatch | null) {
  if (batch === null) return null;
  const { count, symbols, ...columns } = batch;
  return { count, symbols, ...Object.fromEntries(Object.entries(columns).map(([key, column]) => [key, Array.from(column as ArrayLike<number>)])) };
}

const read = (text: string, minimum = 1) => plain(readOptionColumns(Buffer.from(text, 'utf8'), minimum)?.batch ?? null);

describe('reading a batch of options from a job\'s bytes', () => {
  it('gives the columns the job resolves from JSON.parse, for numbers of every form, any key order and spacing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(plainOption, fc.array(fc.nat(20), { maxLength: 8 })), { minLength: 1, maxLength: 30 }),
        fc.constantFrom('', ' ', '\n  ', '\t', '\r\n'),
        (options, space) => {
          const text = `{${space}"job_id":${space}"fuzz",${space}"params":${space}{"options":${space}[${options.map(([o, order]) => optionText(o, order, space)).join(`,${space}`)}]${space},"periods_per_year":365}${space}}${space}`;
          expect(read(text)).toEqual(resolved(text));
          // Which fields each option gave, and where the array lies: what the command line builds the job's options from.
          const bytes = Buffer.from(text, 'utf8');
          const { present, start, end } = readOptionColumns(bytes, 1)!;
          const parsed = (JSON.parse(text) as { params: { options: Option[] } }).params.options;
          expect(Array.from(present)).toEqual(parsed.map((o) => OPTION_FIELDS.reduce((bits, field, bit) => (field in o ? bits | (1 << bit) : bits), 0)));
          expect(JSON.parse(bytes.subarray(start, end).toString('utf8'))).toEqual(parsed);
          expect([bytes[start], bytes[end - 1]]).toEqual([0x5b, 0x5d]);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('reads a quoted option without a volatility as one to imply, and keeps -0', () => {
    const text = '{"params":{"options":[{"strike":100,"time_to_expiry":1,"spot":100,"market_price":10.5,"risk_free_rate":-0}]},"job_id":"q","symbols":[]}';
    const { batch } = readOptionColumns(Buffer.from(text), 1)!;
    expect(batch.source[0]).toBe(IMPLIED_SOURCE);
    expect(batch.hasMarketPrice[0]).toBe(1);
    expect(Object.is(batch.riskFreeRate[0], -0)).toBe(true);
    expect(read(text)).toEqual(resolved(text));
  });

  it('gives up on anything but the plainest batch, leaving it to the job', () => {
    const option = '"strike":100,"time_to_expiry":1,"spot":100,"volatility":0.2';
    const job = (params: string, extra = '') => `{"job_id":"x"${extra},"params":${params}}`;
    const cases = {
      'a job-wide default': job(`{"volatility":0.3,"options":[{${option}}]}`),
      'a symbol': job(`{"options":[{${option},"symbol":"AAPL"}]}`),
      'an unknown key': job(`{"options":[{${option},"strik":1}]}`),
      'a key given twice': job(`{"options":[{${option},"strike":101}]}`),
      'a missing strike': job(`{"options":[{"time_to_expiry":1,"spot":100,"volatility":0.2}]}`),
      'a historical volatility': job(`{"options":[{"strike":100,"time_to_expiry":1,"spot":100}]}`),
      'an escape in a key': job(`{"options":[{"\\u0073trike":100,"time_to_expiry":1,"spot":100,"volatility":0.2}]}`),
      'a leading zero': job(`{"options":[{"strike":0100,"time_to_expiry":1,"spot":100,"volatility":0.2}]}`),
      'a trailing comma': job(`{"options":[{${option}},]}`),
      'an option type other than call or put': job(`{"options":[{${option},"option_type":"straddle"}]}`),
      'a nested array': job(`{"options":[[{${option}}]]}`),
      'no options': job('{"periods_per_year":252}'),
      'params given twice': job(`{"options":[{${option}}]}`, `,"params":{"options":[{${option}}]}`),
      'text after the document': `${job(`{"options":[{${option}}]}`)} x`,
    };
    for (const [what, text] of Object.entries(cases)) expect(read(text), what).toBeNull();
  });

  it('gives up on fewer options than asked for', () => {
    const text = `{"job_id":"x","params":{"options":[${Array.from({ length: 5 }, () => '{"strike":100,"time_to_expiry":1,"spot":100,"volatility":0.2}').join(',')}]}}`;
    expect(read(text, 6)).toBeNull();
    expect(read(text, 5)?.count).toBe(5);
  });

  it('skips the other members of the job, strings with escapes and nested values included', () => {
    const text = '{"job_id":"a\\"b}","symbols":[],"start":"2024-01-01","note":{"x":[1,{"y":"]"}]},"params":{"options":[{"strike":1e2,"time_to_expiry":0.5,"spot":99.5,"volatility":0.25}]}}';
    expect(read(text)).toEqual(resolved(text));
  });
});
