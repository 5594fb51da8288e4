import { describe, expect, it } from 'vitest';
import type { Config } from '../../../shared/config.js';
import { JobError, TransientError } from '../../../shared/job/errors.js';
import type { JobFiles, ModelContext } from '../../../shared/job/model.js';
import type { Logger } from '../../../shared/log.js';
import { montecarloModel } from '../../../shared/models/montecarlo/job.js';
import { SHARD_TASK_KIND } from '../../../shared/models/montecarlo/shardTasks.js';

// The shard protocol over a stand-in for Pub/Sub and the bucket: the coordinator (the
// model's run) publishes shard tasks; "Pub/Sub" delivers each to the model's task handler
// (as another instance would, here before the coordinator goes on), `copies` times, and
// redelivers a task whose delivery threw.

const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => log };
const config = { MC_THREADS: 1, MC_SHARD_TOPIC: 'montecarlo-shards', MC_SHARD_BUDGET_SECONDS: 60 } as Config;

/** A bucket of job folders: folder(jobId) is that job's JobFiles. */
function bucket() {
  const objects = new Map<string, string>();
  const folder = (jobId: string): JobFiles => ({
    createOnly: async (name, body) => {
      const key = `${jobId}/${name}`;
      if (objects.has(key)) return false;
      objects.set(key, body);
      return true;
    },
    read: async (name) => objects.get(`${jobId}/${name}`) ?? null,
  });
  return { objects, folder };
}

interface Delivery { data: string; attributes: Readonly<Record<string, string>> }

/** Pub/Sub: each published task delivered to the model's task handler `copies` times; a delivery that throws is delivered again. */
function pubsub(folderOf: (jobId: string) => JobFiles, options: { copies?: number; deliver?: boolean } = {}) {
  const published: Delivery[] = [];
  const outcomes: unknown[] = [];
  let redeliveries = 0;
  const deliverOne = async (message: Delivery): Promise<void> => {
    for (;;) {
      try {
        outcomes.push(await montecarloModel.tasks!.run(message.data, { jobFiles: folderOf, log, config }));
        return;
      } catch (error) {
        if (!(error instanceof TransientError)) throw error;
        redeliveries++;
      }
    }
  };
  const publish = async (topic: string, data: string, attributes: Readonly<Record<string, string>>) => {
    expect(topic).toBe('montecarlo-shards');
    expect(attributes.kind).toBe(SHARD_TASK_KIND);
    const message = { data, attributes };
    published.push(message);
    if (options.deliver === false) return;
    for (let copy = 0; copy < (options.copies ?? 1); copy++) await deliverOne(message);
  };
  return { published, outcomes, publish, deliverOne, redeliveries: () => redeliveries };
}

const job = (jobId: string, params: Record<string, unknown>) => ({
  job_id: jobId, symbols: [], start: '2024-01-01', end: '2024-12-31',
  params: montecarloModel.params.parse({ initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 120_000, time_steps: 12, seed: 3, ...params }),
});

const context = (files: JobFiles, publish: ModelContext['publish']): ModelContext => ({
  history: async () => [],
  log,
  config,
  warehouse: {} as ModelContext['warehouse'],
  secrets: {} as ModelContext['secrets'],
  jobFiles: files,
  publish,
});

describe('shards over Pub/Sub', () => {
  it('give the one-shard numbers with every task delivered twice and one delivery crashing', async () => {
    const { objects, folder } = bucket();
    // The first write of shard 1's state fails as a crashed instance would: thrown, redelivered.
    let crashed = false;
    const crashing = (jobId: string): JobFiles => {
      const files = folder(jobId);
      return {
        read: files.read,
        createOnly: async (name, body) => {
          if (/\/1\.json$/.test(name) && !crashed) {
            crashed = true;
            throw new TransientError('instance killed while writing');
          }
          return files.createOnly(name, body);
        },
      };
    };
    const bus = pubsub(crashing, { copies: 2 });
    const out = await montecarloModel.run(job('mc-pubsub', { shards: 4 }), context(folder('mc-pubsub'), bus.publish));
    const single = await montecarloModel.run(job('mc-one', {}), context(folder('mc-one'), undefined));
    expect(JSON.stringify(out.result)).toBe(JSON.stringify(single.result));
    expect(out.inputs.shards).toBe(4);
    expect(bus.published).toHaveLength(4);
    expect(bus.redeliveries()).toBe(1);
    expect(bus.outcomes.filter((o) => o === 'simulated')).toHaveLength(4);
    expect(bus.outcomes.filter((o) => o === 'already-stored')).toHaveLength(4);
    expect([...objects.keys()].filter((k) => k.startsWith('mc-pubsub/') && /\/\d+\.json$/.test(k))).toHaveLength(4);
  });

  it('finish on the coordinator alone, from the last shard down, when no instance takes the tasks', async () => {
    const { folder } = bucket();
    const quiet = pubsub(folder, { deliver: false });
    const out = await montecarloModel.run(job('mc-alone', { shards: 3 }), context(folder('mc-alone'), quiet.publish));
    expect(quiet.published.map((m) => JSON.parse(m.data).shard)).toEqual([0, 1, 2]);
    expect(out.result).toEqual((await montecarloModel.run(job('mc-one', {}), context(folder('mc-one'), undefined))).result);
    // The tasks arriving afterwards find their states stored.
    expect(await quiet.deliverOne(quiet.published[0]).then(() => quiet.outcomes)).toEqual(['already-stored']);
  });

  it('fail the job once, naming the shard, when a shard fails for good', async () => {
    const { objects, folder } = bucket();
    // Shard 2's task finds a manifest it cannot read (corrupted in the bucket).
    const corrupting = (jobId: string): JobFiles => {
      const files = folder(jobId);
      return { ...files, read: async (name) => (name.endsWith('manifest.json') ? '{"format":"montecarlo-shards/1"}' : files.read(name)) };
    };
    const bus = pubsub(corrupting);
    const error = await montecarloModel.run(job('mc-bad', { shards: 3 }), context(folder('mc-bad'), bus.publish)).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('internal');
    expect((error as JobError).message).toMatch(/^Shard 2 of 3 failed: its manifest is malformed/);
    expect([...objects.keys()].filter((k) => k.endsWith('.failed.json'))).toHaveLength(3);
  });

  it('give the delivery back when its budget runs out, and resume from the stored shards on the next', async () => {
    const { folder } = bucket();
    const quiet = pubsub(folder, { deliver: false });
    const noBudget = { ...config, MC_SHARD_BUDGET_SECONDS: 0 } as Config;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const first = await montecarloModel
      .run(job('mc-slow', { shards: 3 }), { ...context(folder('mc-slow'), quiet.publish), config: noBudget })
      .then(() => null, (e: unknown) => e);
    expect(first).toBeInstanceOf(TransientError);
    expect((first as Error).message).toMatch(/0 of 3 shards done within 0 s; the delivery will be retried and resume/);
    // Two tasks get through before the redelivery; it publishes only the third again.
    await quiet.deliverOne(quiet.published[0]);
    await quiet.deliverOne(quiet.published[1]);
    const bus = pubsub(folder, { deliver: false });
    const out = await montecarloModel.run(job('mc-slow', { shards: 3 }), context(folder('mc-slow'), bus.publish));
    expect(bus.published.map((m) => JSON.parse(m.data).shard)).toEqual([2]);
    expect(out.result).toEqual((await montecarloModel.run(job('mc-one', {}), context(folder('mc-one'), undefined))).result);
  });

  it('split a job too large for one instance by default, into the fewest shards within one instance\'s limits', async () => {
    const { folder } = bucket();
    const quiet = pubsub(folder, { deliver: false });
    // 5,000,001 paths: one over one instance's limit; no params.shards.
    const params = { simulations: 5_000_001, time_steps: 1, seed: 1 };
    const noBudget = { ...config, MC_SHARD_BUDGET_SECONDS: 0 } as Config;
    const outcome = await montecarloModel.run(job('mc-big', params), { ...context(folder('mc-big'), quiet.publish), config: noBudget }).then(() => null, (e: unknown) => e);
    expect(outcome).toBeInstanceOf(TransientError); // published, then given back: no budget here
    expect(quiet.published).toHaveLength(2);
    // Without a shard topic the same job stays one instance's, and too large.
    const alone = await montecarloModel.run(job('mc-big2', params), context(folder('mc-big2'), undefined)).then(() => null, (e: unknown) => e);
    expect((alone as JobError).message).toMatch(/params\.simulations is 5000001; the limit is 5000000/);
  });

  it('acknowledge a task that is not one, or whose job has no manifest', async () => {
    const { folder } = bucket();
    const run = (data: string) => montecarloModel.tasks!.run(data, { jobFiles: folder, log, config });
    expect(await run('not json')).toBe('unreadable');
    expect(await run(JSON.stringify({ job_id: 'x', fingerprint: 'a'.repeat(32), shard: 0 }))).toBe('no-manifest');
  });
});
