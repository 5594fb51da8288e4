import { afterEach, describe, expect, it } from 'vitest';
import { allEntries, IMPLIED_SOURCE } from '../../../shared/models/blackscholes/optionBatch.js';
import { newBatch, valueBatch } from '../../../shared/models/blackscholes/parallelValuation.js';
import { CHUNK_OPTIONS } from '../../../shared/models/blackscholes/sharedChunks.js';
import { dropSpeculation, speculateValuation, speculationPending } from '../../../shared/models/blackscholes/speculativeValuation.js';

const N = 3 * CHUNK_OPTIONS + 11;

/** A plain job's options (quotes below their bounds among them: error sentences). */
function options(strikeShift = 0) {
  return Array.from({ length: N }, (_, i) => ({
    ...(i % 3 === 0 && { option_type: 'put' }),
    spot: 100,
    strike: 50 + (i % 97) + (i === N - 1 ? strikeShift : 0),
    time_to_expiry: 0.01 + (i % 40) / 8,
    risk_free_rate: ((i % 7) - 3) / 100,
    ...(i % 4 === 0 ? { market_price: i % 8 === 0 ? 0 : 3 + (i % 11) } : { volatility: 0.05 + (i % 30) / 20 }),
  }));
}

const jobBytes = (list: object[]) => Buffer.from(JSON.stringify({ job_id: 'spec', params: { options: list } }));

/** The batch the job's run() resolves from those options as the job's JSON carries them (no symbols, no defaults). */
function resolvedBatch(given: ReturnType<typeof options>) {
  const list = (JSON.parse(jobBytes(given).toString()) as { params: { options: ReturnType<typeof options> } }).params.options;
  const batch = newBatch(list.length, [], 2);
  list.forEach((o, i) => {
    batch.isCall[i] = 'option_type' in o ? 0 : 1;
    batch.spot[i] = o.spot;
    batch.strike[i] = o.strike;
    batch.timeToExpiry[i] = o.time_to_expiry;
    batch.riskFreeRate[i] = o.risk_free_rate;
    if ('market_price' in o) (batch.hasMarketPrice[i] = 1), (batch.marketPrice[i] = o.market_price!);
    if ('volatility' in o) batch.volatility[i] = o.volatility!;
    else batch.source[i] = IMPLIED_SOURCE;
    batch.symbolIndex[i] = -1;
  });
  return batch;
}

const text = (chunks: readonly Uint8Array[] | undefined) => Buffer.concat(chunks ?? []).toString('utf8');

afterEach(() => dropSpeculation());

describe('a batch valued from the job\'s bytes before the job is validated', () => {
  it('is adopted when its columns are the batch\'s, with the same entries and bytes as one thread', async () => {
    const list = options();
    const single = await valueBatch(resolvedBatch(list), 1, { json: true });
    speculateValuation(jobBytes(list), 1);
    expect(speculationPending()).toBe(true);
    const adopted = await valueBatch(resolvedBatch(list), 2);
    expect(adopted.speculative).toBe(true);
    expect(adopted.threads).toBe(2);
    expect(speculationPending()).toBe(false);
    expect(text(adopted.optionsJson)).toBe(text(single.optionsJson));
    expect(allEntries(adopted.entries)).toEqual(allEntries(single.entries));
    expect(text(adopted.optionsJson)).toContain('"implied_volatility_error":"The ');
  });

  it('is not adopted for a batch that differs in one strike: that batch is valued as it is', async () => {
    const shifted = options(0.01);
    const single = await valueBatch(resolvedBatch(shifted), 1, { json: true });
    speculateValuation(jobBytes(options()), 1);
    const valued = await valueBatch(resolvedBatch(shifted), 2);
    expect(valued.speculative).toBe(false);
    expect(valued.threads).toBe(2);
    expect(text(valued.optionsJson)).toBe(text(single.optionsJson));
  });

  it('is not attempted for a job the reader leaves to the job (a symbol), whose worker then values the batch', async () => {
    const list = options();
    const single = await valueBatch(resolvedBatch(list), 1, { json: true });
    speculateValuation(jobBytes([{ ...list[0], symbol: 'AAPL' }, ...list.slice(1)]), 1);
    const valued = await valueBatch(resolvedBatch(list), 2);
    expect(valued.speculative).toBe(false);
    expect(valued.threads).toBe(2);
    expect(text(valued.optionsJson)).toBe(text(single.optionsJson));
  });

  it('is not attempted with BS_THREADS=1', () => {
    const before = process.env.BS_THREADS;
    process.env.BS_THREADS = '1';
    try {
      speculateValuation(jobBytes(options()), 1);
      expect(speculationPending()).toBe(false);
    } finally {
      if (before === undefined) delete process.env.BS_THREADS;
      else process.env.BS_THREADS = before;
    }
  });
});
