import { describe, expect, it } from 'vitest';
import { mergeStatement, targetRange } from '../../shared/warehouse/mergeStatement.js';
import { TABLES } from '../../shared/warehouse/schemas.js';

describe('mergeStatement: a MERGE pruned to the batch', () => {
  const rows = [
    { date: '2024-03-01', symbol: 'MSFT' },
    { date: '2023-12-29', symbol: 'AAPL' },
    { date: '2024-01-02', symbol: 'MSFT' },
  ];

  it('restricts the target to the batch symbols and its first..last date, on top of the key', () => {
    const { sql, range } = mergeStatement('p.raw.eq_ohlcv', TABLES.eq_ohlcv.columns, ['symbol', 'date'], rows);
    expect(range).toEqual({ symbols: ['AAPL', 'MSFT'], firstDate: '2023-12-29', lastDate: '2024-03-01' });
    expect(sql).toContain('ON t.symbol = s.symbol AND t.date = s.date AND t.symbol IN UNNEST(@symbols) AND t.date BETWEEN @first_date AND @last_date WHEN MATCHED');
    // Key columns are never updated; every column is inserted.
    expect(sql).toContain('WHEN MATCHED THEN UPDATE SET open = s.open, high = s.high');
    expect(sql).not.toMatch(/UPDATE SET[^W]*\b(symbol|date) = s\./);
    expect(sql).toContain(`INSERT (${TABLES.eq_ohlcv.columns.map((c) => c.name).join(', ')})`);
  });

  it('every source row lies inside the range, so the restriction loses no match', () => {
    const range = targetRange(rows)!;
    for (const row of rows) {
      expect(range.symbols).toContain(row.symbol);
      expect(row.date >= range.firstDate && row.date <= range.lastDate).toBe(true);
    }
  });

  it('a key without symbol and date compares against the whole table (no range)', () => {
    const { sql, range } = mergeStatement('p.curated.job_runs', TABLES.job_runs.columns, ['model', 'job_id'], [{ model: 'm', job_id: 'j' }]);
    expect(range).toBeNull();
    expect(sql).toContain('ON t.model = s.model AND t.job_id = s.job_id WHEN MATCHED');
  });
});
