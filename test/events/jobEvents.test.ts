import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelDefinition } from '../../shared/job/model.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { startFunction, type FunctionUnderTest } from '../support/functionServer.js';

let fn: FunctionUnderTest;
beforeAll(async () => {
  fn = await startFunction(blackscholesModel as ModelDefinition<never>);
});
afterAll(() => fn.close());

async function events(): Promise<{ attributes: Record<string, string>; data: Record<string, unknown> }[]> {
  const text = await fs.readFile(path.join(fn.dataDir, 'pubsub', 'job-events.ndjson'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

describe('job-events, locally (LOCAL_DATA_DIR/pubsub/job-events.ndjson)', () => {
  it('one event per finished job, completed or failed, with the contract fields and attributes; duplicates add none', async () => {
    const ok = { job_id: 'ev-ok', params: { spot: 100, strike: 95, volatility: 0.2, time_to_expiry: 1 } };
    await fn.publish(ok);
    await fn.publish(ok); // a redelivery of a finished job
    await fn.publish({ job_id: 'ev-bad', params: { strike: 95 } });
    const folder = (id: string) => path.join(fn.dataDir, 'bucket', 'jobs', 'blackscholes', id);
    const result = JSON.parse(await fs.readFile(path.join(folder('ev-ok'), 'result.json'), 'utf8'));
    const failed = JSON.parse(await fs.readFile(path.join(folder('ev-bad'), 'result.json'), 'utf8'));
    expect(await events()).toEqual([
      {
        attributes: { model: 'blackscholes', status: 'completed', job_id: 'ev-ok' },
        data: {
          job_id: 'ev-ok', model: 'blackscholes', status: 'completed', duration_ms: result.duration_ms,
          result_uri: pathToFileURL(path.join(folder('ev-ok'), 'result.json')).href, chart_uri: pathToFileURL(path.join(folder('ev-ok'), 'chart.svg')).href,
        },
      },
      {
        attributes: { model: 'blackscholes', status: 'failed', job_id: 'ev-bad' },
        data: {
          job_id: 'ev-bad', model: 'blackscholes', status: 'failed', duration_ms: failed.duration_ms, error: failed.error,
          result_uri: pathToFileURL(path.join(folder('ev-bad'), 'result.json')).href,
        },
      },
    ]);
  });

  it('a message with no usable job_id is announced without a job_id attribute', async () => {
    const before = (await events()).length;
    await fn.publish(null, { raw: 'not json at all', messageId: 'ev-raw' });
    const [event] = (await events()).slice(before);
    expect(event!.attributes).toEqual({ model: 'blackscholes', status: 'failed' });
    expect(event!.data).toMatchObject({ job_id: null, status: 'failed', error: { code: 'invalid_job' } });
  });
});
