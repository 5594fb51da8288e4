import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelDefinition } from '../../shared/job/model.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import { startFunction, type FunctionUnderTest } from '../support/functionServer.js';
import { postCloudEvent } from '../support/pubsubPost.js';

// A sharded job through the montecarlo function over HTTP, with its shard tasks published
// through the REST publisher to a stand-in for Pub/Sub's publish endpoint (on the emulator
// path), which pushes every task back to the function twice, as Pub/Sub's at-least-once
// delivery may, and pushes again a delivery answered with an error (a task finding the job
// claimed by the delivery merging it), as Pub/Sub redelivers.

interface Published { topic: string; data: string; attributes: Record<string, string> }

describe('the montecarlo function with a shard topic', () => {
  let pubsub: Server;
  let fn: FunctionUnderTest;
  const published: Published[] = [];
  const pushes: Promise<number[]>[] = [];
  /** Pushes until the function acknowledges: every answer's status. */
  const pushUntilAcked = async (data: unknown, id: string, topic: string): Promise<number[]> => {
    const answers: number[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      answers.push(await postCloudEvent(url(), data, { id, topic }));
      if (answers[answers.length - 1]! < 300) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return answers;
  };

  beforeAll(async () => {
    pubsub = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        const match = /^\/v1\/projects\/([^/]+)\/topics\/([^/:]+):publish$/.exec(request.url ?? '');
        if (request.method !== 'POST' || !match || match[1] !== 'test-project') {
          response.writeHead(404).end();
          return;
        }
        const { messages } = JSON.parse(body) as { messages: { data: string; attributes: Record<string, string> }[] };
        const ids = messages.map(() => randomUUID());
        messages.forEach((m, i) => {
          published.push({ topic: match[2], data: Buffer.from(m.data, 'base64').toString('utf8'), attributes: m.attributes });
          if (match[2] !== 'montecarlo-shards') return; // job-events: nothing subscribes here
          for (let copy = 0; copy < 2; copy++) {
            const data = { message: { data: m.data, attributes: m.attributes, messageId: ids[i], publishTime: new Date().toISOString() }, subscription: 'projects/test-project/subscriptions/montecarlo-shards-push' };
            pushes.push(new Promise((resolve) => setTimeout(resolve, 10 * copy)).then(() => pushUntilAcked(data, ids[i]!, match[2]!)));
          }
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ messageIds: ids }));
      });
    });
    await new Promise<void>((resolve) => pubsub.listen(0, '127.0.0.1', resolve));
    const { port } = pubsub.address() as { port: number };
    fn = await startFunction(montecarloModel as ModelDefinition<never>, {
      GCP_PROJECT: 'test-project',
      MC_SHARD_TOPIC: 'montecarlo-shards',
      PUBSUB_EMULATOR_HOST: `127.0.0.1:${port}`,
      MC_THREADS: '1',
    });
  });
  const url = () => fn.url;

  afterAll(async () => {
    await fn?.close();
    await new Promise<void>((resolve) => pubsub.close(() => resolve()));
  });

  it('hands the job off (acknowledged at once, running), and the last shard task commits the one-shard numbers once, every task pushed twice', async () => {
    const params = { initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 120_000, time_steps: 12, seed: 9 };
    const folder = (id: string) => path.join(fn.dataDir, 'bucket', 'jobs', 'montecarlo', id);
    const read = (id: string, name: string) => JSON.parse(readFileSync(path.join(folder(id), name), 'utf8'));
    expect((await fn.publish({ job_id: 'mc-sharded', params: { ...params, shards: 4 } })).status).toBeLessThan(300);
    // Acknowledged with the tasks published: running, nothing committed yet.
    expect(published.filter((p) => p.topic === 'montecarlo-shards').map((p) => [p.topic, p.attributes.kind, JSON.parse(p.data).shard])).toEqual([0, 1, 2, 3].map((shard) => ['montecarlo-shards', 'montecarlo-shard', shard]));
    expect(read('mc-sharded', 'status.json')).toMatchObject({ status: 'running', shards: 4 });
    expect(existsSync(path.join(folder('mc-sharded'), 'result.json'))).toBe(false);

    const answers = await Promise.all(pushes);
    expect(answers).toHaveLength(8);
    expect(answers.every((a) => a[a.length - 1]! < 300)).toBe(true);
    expect((await fn.publish({ job_id: 'mc-one', params })).status).toBeLessThan(300);

    const sharded = read('mc-sharded', 'result.json');
    expect(sharded.status).toBe('completed');
    expect(sharded.inputs.shards).toBe(4);
    expect(JSON.stringify(sharded.result)).toBe(JSON.stringify(read('mc-one', 'result.json').result));
    expect(read('mc-sharded', 'status.json')).toMatchObject({ status: 'completed', started_at: sharded.started_at });
    const shardsDir = path.join(folder('mc-sharded'), 'shards');
    const [fingerprint] = readdirSync(shardsDir);
    expect(readdirSync(path.join(shardsDir, fingerprint!)).sort()).toEqual(['0.json', '1.json', '2.json', '3.json', 'manifest.json']);
    // One job_runs row for the job.
    const runs = path.join(fn.dataDir, 'bigquery', 'curated', 'job_runs.ndjson');
    expect(existsSync(runs)).toBe(true);
    expect(readFileSync(runs, 'utf8').split('\n').filter((l) => l.includes('"mc-sharded"'))).toHaveLength(1);
    // One job-events message for the job, published by the shard task that committed it.
    expect(published.filter((p) => p.topic === 'job-events' && JSON.parse(p.data).job_id === 'mc-sharded')).toHaveLength(1);
  });
});
