import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobError } from '../../shared/job/errors.js';
import { alignOnCommonDates } from '../../shared/prices/history.js';
import { FixturePriceSource } from '../../shared/prices/fixturePriceSource.js';

function csv(lines: string[]): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'prices-')), 'prices.csv');
  writeFileSync(file, ['date,symbol,open,high,low,close,adj_close,volume', ...lines].join('\n') + '\n');
  return file;
}

describe('FixturePriceSource', () => {
  it('reads adj_close, falls back to close, skips unusable prices, keeps the window', async () => {
    const file = csv([
      '2024-01-01,AAA,1,1,1,10,9.5,100',
      '2024-01-02,AAA,1,1,1,11,,100',
      '2024-01-03,AAA,1,1,1,0,0,100',
      '2024-01-04,AAA,1,1,1,12,11.5,100',
      '2024-01-05,AAA,1,1,1,13,12.5,100',
    ]);
    const [h] = await new FixturePriceSource(file).histories(['AAA'], '2024-01-01', '2024-01-04');
    expect(h).toEqual({ symbol: 'AAA', dates: ['2024-01-01', '2024-01-02', '2024-01-04'], prices: [9.5, 11, 11.5] });
  });

  it('sorts rows given out of order and keeps the last of duplicated dates', async () => {
    const file = csv(['2024-01-03,AAA,,,,3,3,', '2024-01-01,AAA,,,,1,1,', '2024-01-02,AAA,,,,2,2,', '2024-01-02,AAA,,,,2.5,2.5,']);
    const [h] = await new FixturePriceSource(file).histories(['AAA'], '2024-01-01', '2024-12-31');
    expect(h.dates).toEqual(['2024-01-01', '2024-01-02', '2024-01-03']);
    expect(h.prices).toEqual([1, 2.5, 3]);
  });

  it('a symbol ingested locally is read from the tables only, with its asset class; others from the CSV', async () => {
    const file = csv(['2024-01-01,AAA,,,,1,1,', '2024-01-02,AAA,,,,2,2,', '2024-01-01,BBB,,,,5,5,', '2024-01-02,BBB,,,,6,6,']);
    const source = new FixturePriceSource(file, async () => [
      { date: '2024-01-02', symbol: 'AAA', close: 20, adj_close: null, asset_class: 'equity' },
      { date: '2024-01-03', symbol: 'AAA', close: 30, adj_close: 29, asset_class: 'equity' },
    ]);
    const [a, b] = await source.histories(['AAA', 'BBB'], '2024-01-01', '2024-12-31');
    // 2024-01-01 is only in the CSV: not mixed into the ingested calendar.
    expect(a).toEqual({ symbol: 'AAA', dates: ['2024-01-02', '2024-01-03'], prices: [20, 29], assetClass: 'equity' });
    expect(b).toEqual({ symbol: 'BBB', dates: ['2024-01-01', '2024-01-02'], prices: [5, 6] });
  });

  it('a symbol in the tables of two asset classes is invalid_job naming it and both tables', async () => {
    const file = csv(['2024-01-01,AAA,,,,1,1,']);
    const source = new FixturePriceSource(file, async () => [
      { date: '2024-01-02', symbol: 'ETH', close: 20, adj_close: null, asset_class: 'crypto' },
      { date: '2024-01-03', symbol: 'ETH', close: 30, adj_close: 29, asset_class: 'equity' },
    ]);
    const error = await source.histories(['AAA', 'ETH'], '2024-01-01', '2024-12-31').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('invalid_job');
    expect((error as JobError).message).toMatch(/^Symbol "ETH" has prices in eq_ohlcv and crypto_ohlcv between 2024-01-01 and 2024-12-31/);
  });

  it('a symbol with no prices in the window is unknown_symbol naming it; histories come in the order asked', async () => {
    const file = csv(['2024-01-01,AAA,,,,1,1,', '2024-01-01,BBB,,,,2,2,']);
    const source = new FixturePriceSource(file);
    expect((await source.histories(['BBB', 'AAA'], '2024-01-01', '2024-01-01')).map((h) => h.symbol)).toEqual(['BBB', 'AAA']);
    const error = await source.histories(['AAA', 'ZZZ'], '2024-01-01', '2024-01-01').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('unknown_symbol');
    expect((error as JobError).message).toContain('"ZZZ"');
  });

  it('a known symbol with no prices in the window is insufficient_data naming the symbol and the window', async () => {
    const file = csv(['2024-01-01,AAA,,,,1,1,', '2024-01-02,AAA,,,,2,2,']);
    const error = await new FixturePriceSource(file).histories(['AAA'], '2023-01-01', '2023-12-31').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'insufficient_data' });
    expect((error as JobError).message).toMatch(/^Symbol "AAA" has no prices between 2023-01-01 and 2023-12-31 in the fixture prices/);
  });

  it('the committed fixture: three symbols over three years, aligned on common dates despite GOOGL gaps', async () => {
    const histories = await new FixturePriceSource(path.join('fixtures', 'prices.csv')).histories(['AAPL', 'MSFT', 'GOOGL'], '2023-01-01', '2025-12-31');
    expect(histories.map((h) => h.dates.length)).toEqual([783, 783, 780]);
    const aligned = alignOnCommonDates(histories);
    expect(aligned.dates).toHaveLength(780);
    expect(aligned.dates).not.toContain('2024-07-03');
  });
});
