import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { StatusDocument } from '../../shared/job/documents.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { progressWriter } from '../../shared/job/progress.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import { stopWorkers } from '../../shared/models/montecarlo/parallelRunner.js';
import { startFunction } from '../support/functionServer.js';

afterAll(() => stopWorkers());

describe('progressWriter', () => {
  it('writes once per 10% mark crossed, not for steps within a mark', async () => {
    const written: number[] = [];
    const p = progressWriter(async (f) => void written.push(f), { minIntervalMs: 0 });
    for (let k = 1; k <= 100; k++) {
      p.report(k / 100);
      await new Promise((r) => setImmediate(r));
    }
    await p.close();
    expect(written).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
  });

  it('never writes twice within the interval: the latest fraction waits, older ones are dropped', async () => {
    vi.useFakeTimers();
    try {
      let clock = 0;
      const written: [number, number][] = [];
      const p = progressWriter(async (f) => void written.push([clock, f]), { minIntervalMs: 1000, now: () => clock });
      p.report(0.1); // written at once
      await vi.advanceTimersByTimeAsync(0);
      clock = 100;
      p.report(0.2);
      p.report(0.35); // replaces 0.2 while it waits
      clock = 1000;
      await vi.advanceTimersByTimeAsync(1000);
      expect(written).toEqual([[0, 0.1], [1000, 0.35]]);
      await p.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('after close, a waiting fraction is dropped and a write in flight has finished', async () => {
    let release!: () => void;
    const events: string[] = [];
    const p = progressWriter(
      (f) => {
        events.push(`start ${f}`);
        return new Promise<void>((resolve) => (release = () => (events.push(`end ${f}`), resolve())));
      },
      { minIntervalMs: 0 },
    );
    p.report(0.5);
    await new Promise((r) => setImmediate(r));
    p.report(0.9); // waits for the write in flight
    const closed = p.close().then(() => events.push('closed'));
    release();
    await closed;
    p.report(1);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['start 0.5', 'end 0.5', 'closed']);
  });

  it('a failed write is reported and the job goes on', async () => {
    const errors: unknown[] = [];
    const p = progressWriter(async () => Promise.reject(new Error('503')), { minIntervalMs: 0, onError: (e) => errors.push(e) });
    p.report(0.2);
    await new Promise((r) => setImmediate(r));
    await p.close();
    expect(errors).toHaveLength(1);
  });
});

describe('status.json while a Monte Carlo job runs', () => {
  it('says running with progress and updated_at while paths are simulated, then the final status', async () => {
    const fn = await startFunction(montecarloModel as ModelDefinition<never>, { MC_THREADS: '1' });
    const statuses: StatusDocument[] = [];
    const put = fn.services.store.put.bind(fn.services.store);
    fn.services.store.put = async (name, body, type) => {
      if (name.endsWith('/status.json')) statuses.push(JSON.parse(body) as StatusDocument);
      return put(name, body, type);
    };
    try {
      // 200,000 paths: 49 blocks of 4096, so ten marks to cross.
      await fn.publish({ job_id: 'progress-mc', params: { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 200_000, time_steps: 50, seed: 1 } });
      const progress = statuses.filter((s) => s.progress !== undefined);
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress.length).toBeLessThanOrEqual(10);
      for (const s of progress) {
        expect(s).toMatchObject({ job_id: 'progress-mc', model: 'montecarlo', status: 'running' });
        expect(s.progress).toBeGreaterThan(0);
        expect(s.progress).toBeLessThanOrEqual(1);
        expect(Date.parse(s.updated_at!)).toBeGreaterThanOrEqual(Date.parse(s.started_at));
      }
      // Increasing, and the first mark (10%) is written while the paths are still being simulated.
      expect(progress.map((s) => s.progress)).toEqual([...progress.map((s) => s.progress)].sort());
      expect(progress[0]!.progress).toBeLessThan(1);
      expect(statuses.at(-1)).toMatchObject({ status: 'completed' });
      expect(statuses.at(-1)).not.toHaveProperty('progress');
      const stored = JSON.parse(await fs.readFile(path.join(fn.dataDir, 'bucket/jobs/montecarlo/progress-mc/status.json'), 'utf8'));
      expect(stored.status).toBe('completed');
    } finally {
      await fn.close();
    }
  });
});
