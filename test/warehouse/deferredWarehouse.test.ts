import { describe, expect, it } from 'vitest';
import { DeferredWarehouse } from '../../shared/warehouse/deferredWarehouse.js';
import type { InsertRow, Row, StagedRows, Warehouse } from '../../shared/warehouse/warehouse.js';

/** A warehouse that records each call and answers with something that names it. */
function recording(calls: unknown[][]): Warehouse {
  return {
    insertRows: async (...args) => void calls.push(['insertRows', ...args]),
    upsertRows: async (...args) => (calls.push(['upsertRows', ...args]), { inserted: 1, updated: 2 }),
    mergeStaged: async (...args) => (calls.push(['mergeStaged', ...args]), { inserted: 3, updated: 4 }),
    queryBySymbols: async (...args) => (calls.push(['queryBySymbols', ...args]), [{ symbol: 'AAPL' }]),
  };
}

describe('DeferredWarehouse', () => {
  it('waits for the warehouse being built, then forwards each call with its arguments and answer', async () => {
    const calls: unknown[][] = [];
    let build!: (w: Warehouse) => void;
    const deferred = new DeferredWarehouse(new Promise<Warehouse>((resolve) => (build = resolve)));
    const rows: InsertRow[] = [{ insertId: 'a', row: { x: 1 } }];
    const inserting = deferred.insertRows('job_runs', rows);
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toEqual([]); // nothing reaches a warehouse that is not built yet
    build(recording(calls));
    await inserting;
    const upsert: Row[] = [{ symbol: 'AAPL' }];
    const staged: StagedRows = { uris: ['gs://b/x.ndjson'], objects: async function* () {} };
    expect(await deferred.upsertRows('eq_ohlcv', ['symbol'], upsert)).toEqual({ inserted: 1, updated: 2 });
    expect(await deferred.mergeStaged('eq_ohlcv', ['symbol'], staged, 's1')).toEqual({ inserted: 3, updated: 4 });
    expect(await deferred.queryBySymbols('prices', ['AAPL'], '2025-01-01', '2025-12-31')).toEqual([{ symbol: 'AAPL' }]);
    expect(calls).toEqual([
      ['insertRows', 'job_runs', rows],
      ['upsertRows', 'eq_ohlcv', ['symbol'], upsert],
      ['mergeStaged', 'eq_ohlcv', ['symbol'], staged, 's1'],
      ['queryBySymbols', 'prices', ['AAPL'], '2025-01-01', '2025-12-31'],
    ]);
  });

  it('a warehouse that could not be built fails the calls, and is not an unhandled rejection before them', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const deferred = new DeferredWarehouse(Promise.reject(new Error('client module missing')));
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
      await expect(deferred.insertRows('job_runs', [])).rejects.toThrow('client module missing');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
