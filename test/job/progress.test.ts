import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../shared/job/documents.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { progressReporter, type ProgressFields } from '../../shared/job/progress.js';
import { createLogger } from '../../shared/log.js';
import { bodyText } from '../../shared/results/objectStore.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import { stopWorkers } from '../../shared/models/montecarlo/parallelRunner.js';
import { startFunction } from '../support/functionServer.js';

afterAll(() => stopWorkers());

const quiet = createLogger('ERROR', () => {});
const clock = () => new Date('2026-12-01T01:00:00.000Z');

describe('progressReporter', () => {
  it('writes at most once per 10% however often it is told, the last write at 1, with its time and detail', async () => {
    const writes: ProgressFields[] = [];
    const reporter = progressReporter(async (f) => void writes.push(f), { log: quiet, now: clock });
    for (let i = 1; i <= 1000; i++) reporter.report(i / 1000, { symbols_done: i, symbols_total: 1000 });
    await reporter.close();
    expect(writes.map((w) => w.progress)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(writes[0]).toEqual({ progress: 0.1, updated_at: '2026-12-01T01:00:00.000Z', symbols_done: 100, symbols_total: 1000 });
  });

  it('nothing below 10%; a jump across several marks writes once; values outside 0..1 are clamped', async () => {
    const writes: number[] = [];
    const reporter = progressReporter(async (f) => void writes.push(f.progress), { log: quiet, now: clock });
    reporter.report(0.05);
    reporter.report(0.57);
    reporter.report(0.58);
    reporter.report(7);
    await reporter.close();
    expect(writes).toEqual([0.57, 1]);
  });

  it('writes in order, one at a time, and nothing after close (so no progress lands after the final status)', async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const reporter = progressReporter(
      async (f) => {
        order.push(`start ${f.progress}`);
        if (f.progress === 0.5) await new Promise<void>((r) => (release = r));
        order.push(`end ${f.progress}`);
      },
      { log: quiet, now: clock },
    );
    reporter.report(0.5);
    reporter.report(0.9);
    const closed = reporter.close();
    reporter.report(1);
    await new Promise((r) => setTimeout(r, 5));
    release();
    await closed;
    expect(order).toEqual(['start 0.5', 'end 0.5', 'start 0.9', 'end 0.9']);
  });

  it('a failed write is logged and does not stop the job', async () => {
    const lines: string[] = [];
    const reporter = progressReporter(() => Promise.reject(new Error('storage down')), { log: createLogger('WARNING', (l) => lines.push(l)), now: clock });
    reporter.report(0.5);
    await expect(reporter.close()).resolves.toBeUndefined();
    expect(lines.join('\n')).toContain('Could not write progress');
  });
});

describe('status.json while a Monte Carlo job runs', () => {
  it('says running with progress and updated_at while paths are simulated, then the final status', async () => {
    const fn = await startFunction(montecarloModel as ModelDefinition<never>, { MC_THREADS: '1' });
    const statuses: StatusDocument[] = [];
    const put = fn.services.store.put.bind(fn.services.store);
    fn.services.store.put = async (name, body, type) => {
      if (name.endsWith('/status.json')) statuses.push(JSON.parse(bodyText(body)) as StatusDocument);
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
