import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import { reportHandedOffProgress } from '../../shared/job/handedOffCommit.js';
import type { JobServices } from '../../shared/job/lifecycle.js';
import type { Logger } from '../../shared/log.js';
import { MemoryObjectStore } from '../support/memoryObjectStore.js';

const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => log };
const folder = 'jobs/montecarlo/j';
const startedAt = '2026-12-01T00:00:00.000Z';

function services(store: MemoryObjectStore): JobServices {
  const unused = () => Promise.reject(new Error('unused'));
  return {
    store,
    warehouse: { insertRows: unused, upsertRows: unused, mergeStaged: unused, queryBySymbols: unused },
    prices: { histories: unused },
    secrets: { get: unused },
    config: loadConfig({}),
    log,
    leaseMs: 1000,
    now: () => new Date('2026-12-01T00:01:00Z'),
  };
}

async function setUp(status: Record<string, unknown>, plan = 'p1') {
  const store = new MemoryObjectStore();
  await store.put(`${folder}/hand-off.json`, JSON.stringify({ run_id: 'r', started_at: startedAt, plan, dispatched: true }));
  await store.put(`${folder}/status.json`, JSON.stringify({ job_id: 'j', model: 'montecarlo', status: 'running', started_at: startedAt, ...status }));
  return store;
}

const offer = (store: MemoryObjectStore, fraction: number, plan = 'p1') =>
  reportHandedOffProgress('montecarlo', 'j', plan, fraction, { shards_done: Math.round(fraction * 8), shards: 8 }, services(store));

describe('progress of a handed-off run in status.json', () => {
  it('is written when it crosses the next 10%, with the shard counts beside it', async () => {
    const store = await setUp({ progress: 0.25, shards_done: 2, shards: 8 });
    await offer(store, 0.375);
    expect(store.json(`${folder}/status.json`)).toMatchObject({ status: 'running', progress: 0.375, shards_done: 3, shards: 8, updated_at: '2026-12-01T00:01:00.000Z' });
  });

  it('is not written within the same 10%, nor backwards (a slower task offering less)', async () => {
    const store = await setUp({ progress: 0.5, shards_done: 4, shards: 8 });
    const before = store.writes.get(`${folder}/status.json`);
    await offer(store, 0.55);
    await offer(store, 0.25);
    expect(store.writes.get(`${folder}/status.json`)).toBe(before);
  });

  it('never lands on a final status, another run\'s status, or for another plan', async () => {
    for (const [status, plan] of [[{ status: 'completed' }, 'p1'], [{ started_at: '2026-11-30T00:00:00.000Z' }, 'p1'], [{}, 'p2']] as const) {
      const store = await setUp({ progress: 0, ...status });
      const before = store.objects.get(`${folder}/status.json`)!.body;
      await offer(store, 0.5, plan);
      expect(store.objects.get(`${folder}/status.json`)!.body).toBe(before);
    }
  });

  it('loses to a status written between its read and its write (generation-matched), and says nothing', async () => {
    const store = await setUp({ progress: 0 });
    store.hook = async (op) => {
      if (op.op === 'replaceIf') {
        store.hook = () => {};
        await store.put(`${folder}/status.json`, JSON.stringify({ job_id: 'j', model: 'montecarlo', status: 'completed', started_at: startedAt }));
      }
    };
    await offer(store, 0.5);
    expect(store.json(`${folder}/status.json`)).toMatchObject({ status: 'completed' });
  });
});
