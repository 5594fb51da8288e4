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
  it('starts building at once, waits for it, then forwards each call with its arguments and answer', async () => {
    const calls: unknown[][] = [];
    let builds = 0;
    let finish!: (w: Warehouse) => void;
    const deferred = new DeferredWarehouse(() => (builds++, new Promise<Warehouse>((resolve) => (finish = resolve))));
    expect(builds).toBe(1); // before any call
    const rows: InsertRow[] = [{ insertId: 'a', row: { x: 1 } }];
    const inserting = deferred.insertRows('job_runs', rows);
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toEqual([]); // nothing reaches a warehouse that is not built yet
    finish(recording(calls));
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
    expect(builds).toBe(1);
  });

  it('a failed build fails the call waiting for it, is retried by the next call, and is never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const calls: unknown[][] = [];
      let builds = 0;
      // Fails twice (the build at construction, and the one the first call starts), then works.
      const deferred = new DeferredWarehouse(async () => {
        builds++;
        if (builds <= 2) throw new Error(`client module missing (${builds})`);
        return recording(calls);
      });
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
      await expect(deferred.insertRows('job_runs', [])).rejects.toThrow('client module missing (2)');
      await deferred.insertRows('job_runs', []);
      expect(builds).toBe(3);
      expect(calls).toEqual([['insertRows', 'job_runs', []]]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
