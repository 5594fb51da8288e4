import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { ModelDefinition } from '../../shared/job/model.js';
import { startFunction, type FunctionUnderTest } from '../support/functionServer.js';

// status.json while a job runs: progress (0..1), when it was measured, and the model's detail.
let fn: FunctionUnderTest | undefined;
afterAll(() => fn?.close());

describe('progress in status.json', () => {
  it('shows the progress a model reports while it runs, and the final status replaces it', async () => {
    let release: () => void = () => {};
    let reported: () => void = () => {};
    const halfway = new Promise<void>((r) => (reported = r));
    const model: ModelDefinition<Record<string, never>> = {
      name: 'blackscholes',
      params: z.object({}).strict(),
      symbolsOptional: true,
      async run(_job, context) {
        context.progress?.(0.05, { symbols_done: 1, symbols_total: 20 });
        context.progress?.(0.5, { symbols_done: 10, symbols_total: 20 });
        // Wait for the progress write to land, then let the test look.
        setTimeout(reported, 50);
        await new Promise<void>((r) => (release = r));
        return { inputs: {}, result: { ok: true }, metrics: [] };
      },
    };
    fn = await startFunction(model as unknown as ModelDefinition<never>);
    const statusFile = path.join(fn.dataDir, 'bucket', 'jobs', 'blackscholes', 'progress-1', 'status.json');
    const answered = fn.publish({ job_id: 'progress-1', params: {} });
    await halfway;
    const running = JSON.parse(await fs.readFile(statusFile, 'utf8')) as Record<string, unknown>;
    expect(running).toMatchObject({ status: 'running', progress: 0.5, symbols_done: 10, symbols_total: 20 });
    expect(Date.parse(String(running.updated_at))).not.toBeNaN();
    release();
    expect((await answered).status).toBeLessThan(300);
    const done = JSON.parse(await fs.readFile(statusFile, 'utf8')) as Record<string, unknown>;
    expect(done.status).toBe('completed');
    expect(done).not.toHaveProperty('progress');
  });
});
