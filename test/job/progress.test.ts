import { describe, expect, it } from 'vitest';
import { progressReporter, type ProgressFields } from '../../shared/job/progress.js';
import { createLogger } from '../../shared/log.js';

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
