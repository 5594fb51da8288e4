import * as z from 'zod';
import { JobError, TransientError } from '../../job/errors.js';
import type { JobFiles } from '../../job/model.js';
import type { Logger } from '../../log.js';
import type { MonteCarloOutcome, MonteCarloSpec } from './gbmModel.js';
import type { RunOptions } from './parallelRunner.js';
import { mergeShards, runShard, splitJob, type ShardSplit, type ShardStates } from './shardedRun.js';
import { ShardMismatchError } from './shards.js';

/**
 * Shards over Pub/Sub. The instance that receives a sharded job (the coordinator) stores
 * the resolved job (`manifest.json`: the spec, calibration included, so every shard
 * simulates the same numbers) beside the partial states, publishes one shard task per
 * shard not yet stored, and simulates shards itself from the last one down until every
 * state is there; then it merges and returns the result, which the ordinary lifecycle
 * commits (result.json create-only, job_runs, status). A shard task's delivery
 * (runShardTask, any instance) simulates its range unless its state is stored, and writes
 * the state create-only: a duplicate, a redelivery after a crash, or the coordinator
 * reaching the same shard changes nothing. A shard that fails for good leaves a `failed`
 * note, and the coordinator fails the job once, naming the shard. A coordinator that
 * crashes or runs out of its budget lets its delivery be retried: the next one finds the
 * manifest and the states so far, and publishes only the missing shards.
 */

/** The attribute that tells a shard task from a job on the montecarlo function. */
export const SHARD_TASK_KIND = 'montecarlo-shard';

const shardTaskSchema = z
  .object({
    job_id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
    fingerprint: z.string().regex(/^[0-9a-f]{32}$/),
    shard: z.number().int().min(0),
  })
  .strict();
export type ShardTask = z.infer<typeof shardTaskSchema>;

const finite = z.number().finite();
const manifestSchema = z
  .object({
    format: z.literal('montecarlo-shards/1'),
    job_id: z.string(),
    fingerprint: z.string(),
    shards: z.number().int().min(1),
    spec: z
      .object({
        assets: z.array(z.object({ name: z.string(), initialPrice: finite, drift: finite, volatility: finite }).strict()).min(1),
        correlation: z.array(z.array(finite)),
        weights: z.array(finite),
        simulations: z.number().int().min(1),
        timeSteps: z.number().int().min(1),
        horizonYears: finite,
        seed: z.number().int().min(0),
        confidenceLevels: z.array(finite),
      })
      .strict(),
  })
  .strict();

/** The job folder's names of a split's objects. */
export const shardObjects = (fingerprint: string) => ({
  manifest: `shards/${fingerprint}/manifest.json`,
  state: (shard: number) => `shards/${fingerprint}/${shard}.json`,
  failed: (shard: number) => `shards/${fingerprint}/${shard}.failed.json`,
});

/** Partial states in the job folder. */
export function folderShardStates(files: JobFiles, fingerprint: string): ShardStates {
  const names = shardObjects(fingerprint);
  return {
    save: async (shard, body) => void (await files.createOnly(names.state(shard), body)),
    load: (shard) => files.read(names.state(shard)),
    // Selection passes' results (shardedRun.mergeShards), beside the folder (not in it): a merge that restarts finds them.
    forPass: (pass) => folderShardStates(files, `${fingerprint}-pass${pass}`),
  };
}

export interface CoordinationOptions extends RunOptions {
  readonly jobId: string;
  readonly files: JobFiles;
  /** Publishes one shard task (data: the task's JSON). */
  readonly publish: (data: string, attributes: Readonly<Record<string, string>>) => Promise<void>;
  /** How long this delivery works on the job before giving it back (retried, it resumes): inside the function timeout. */
  readonly budgetMs: number;
  readonly log: Logger;
  readonly onShard?: (done: number, shards: number) => void | Promise<void>;
}

/**
 * Splits the job, publishes its shard tasks, then works through the shards itself from the
 * last one down, simulating each whose state is not stored yet, while the instances that
 * receive the tasks work from the first one up; then merges. So a job finishes even when no
 * other instance is free (max_instances), and with many it takes about one shard's time.
 * @throws JobError internal naming a shard that failed for good elsewhere
 * @throws TransientError when the budget runs out (the delivery is retried and resumes)
 */
export async function coordinateShards(spec: MonteCarloSpec, shards: number, options: CoordinationOptions): Promise<MonteCarloOutcome & { readonly shards: number }> {
  const started = Date.now();
  const split = splitJob(spec, shards, options);
  const count = split.ranges.length;
  const names = shardObjects(split.fingerprint);
  const { files, log } = options;
  await files.createOnly(names.manifest, JSON.stringify({ format: 'montecarlo-shards/1', job_id: options.jobId, fingerprint: split.fingerprint, shards, spec }));
  const states = folderShardStates(files, split.fingerprint);
  let published = 0;
  for (let shard = 0; shard < count; shard++) {
    if ((await states.load(shard)) !== null) continue;
    await options.publish(JSON.stringify({ job_id: options.jobId, fingerprint: split.fingerprint, shard } satisfies ShardTask), { kind: SHARD_TASK_KIND, job_id: options.jobId });
    published++;
  }
  log.info('Sharded job: shard tasks published; simulating the others from the last shard down.', { shards: count, published });
  let done = 0;
  for (let shard = count - 1; shard >= 0; shard--) {
    if ((await states.load(shard)) === null) {
      const failed = await files.read(names.failed(shard));
      if (failed !== null) {
        const reason = (JSON.parse(failed) as { message?: string }).message ?? 'no reason recorded';
        throw new JobError('internal', `Shard ${shard} of ${count} failed: ${reason}`);
      }
      if (Date.now() - started >= options.budgetMs) {
        throw new TransientError(`Job ${options.jobId}: ${done} of ${count} shards done within ${Math.round(options.budgetMs / 1000)} s; the delivery will be retried and resume.`);
      }
      // Progress counts shards here (onShard), not the paths of one shard.
      await states.save(shard, (await runShard(spec, split, shard, { ...options, onProgress: undefined })).body);
    }
    await options.onShard?.(++done, count);
  }
  const merged = await mergeShards(spec, split, states, options);
  return { ...merged, shards: count };
}

/** Where a shard task reads and writes: the bucket's objects of the job it names. */
export type JobFilesOf = (jobId: string) => JobFiles;

/**
 * Runs one delivery of a shard task: simulates the shard unless its state is stored, and
 * stores it create-only. A task that cannot be read, or whose job has no manifest, is
 * acknowledged (logged): the coordinator publishes again what it still needs. A shard that
 * cannot run (its manifest corrupt or of another job) leaves a `failed` note for the
 * coordinator. Anything else is thrown, so that Pub/Sub redelivers the task.
 * @returns what happened, for logs and tests
 */
export async function runShardTask(
  data: string,
  filesOf: JobFilesOf,
  log: Logger,
  options: RunOptions = {},
): Promise<'simulated' | 'already-stored' | 'no-manifest' | 'unreadable' | 'failed'> {
  let task: ShardTask;
  try {
    task = shardTaskSchema.parse(JSON.parse(data));
  } catch (error) {
    log.warn('A shard task that is not one was acknowledged.', { error: (error as Error).message });
    return 'unreadable';
  }
  const files = filesOf(task.job_id);
  const names = shardObjects(task.fingerprint);
  const taskLog = log.child({ job_id: task.job_id, shard: task.shard });
  if ((await files.read(names.state(task.shard))) !== null) return 'already-stored';
  const manifestBody = await files.read(names.manifest);
  if (manifestBody === null) {
    taskLog.warn('A shard task whose job has no manifest was acknowledged.');
    return 'no-manifest';
  }
  try {
    const manifest = manifestSchema.parse(JSON.parse(manifestBody));
    const spec: MonteCarloSpec = manifest.spec;
    const split: ShardSplit = splitJob(spec, manifest.shards, options);
    if (split.fingerprint !== task.fingerprint) throw new ShardMismatchError(`the manifest's job has fingerprint ${split.fingerprint}, the task ${task.fingerprint}`);
    if (task.shard >= split.ranges.length) throw new ShardMismatchError(`the job has ${split.ranges.length} shards`);
    const { body } = await runShard(spec, split, task.shard, options);
    await files.createOnly(names.state(task.shard), body);
    taskLog.info('Shard simulated.', { shards: split.ranges.length });
    return 'simulated';
  } catch (error) {
    if (error instanceof TransientError) throw error;
    if (!(error instanceof ShardMismatchError || error instanceof JobError || error instanceof z.ZodError || error instanceof SyntaxError)) throw error;
    const message = error instanceof z.ZodError ? `its manifest is malformed (${error.issues[0]?.path.join('.')})` : error.message;
    taskLog.error('Shard failed for good.', { error: message });
    await files.createOnly(names.failed(task.shard), JSON.stringify({ message }));
    return 'failed';
  }
}
