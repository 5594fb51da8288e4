import * as z from 'zod';
import { JobError, TransientError } from '../../job/errors.js';
import { RunContinues } from '../../job/handedOffCommit.js';
import type { HandedOffRun, JobFiles, ModelOutput, TaskContext } from '../../job/model.js';
import type { Logger } from '../../log.js';
import type { MonteCarloSpec } from './gbmModel.js';
import { monteCarloOutput, type OutputFrame } from './output.js';
import type { RunOptions } from './parallelRunner.js';
import type { PassSpec } from './selectionPasses.js';
import { mergeShards, runShard, runShardPass, splitJob, type ShardSplit, type ShardStates, type SplitOptions } from './shardedRun.js';
import { parsePassSpec, serializePassSpec, ShardMismatchError } from './shards.js';

/**
 * Shards over Pub/Sub. The instance that receives a sharded job plans it: stores the
 * resolved job (`manifest.json`: the spec, calibration included, so every shard simulates
 * the same numbers, and the output's frame, so any instance can build the job's output),
 * hands the run off to the lifecycle (handedOffRun.ts), which records it and marks the job
 * `running`, publishes one task per shard not yet stored, and acknowledges. It holds no
 * delivery while the shards run.
 *
 * A task's delivery (runShardTask, any instance) simulates its shard unless its state is
 * stored, writes the state create-only, and counts the states stored (one listing). Short
 * of all, it offers the progress to status.json; with all, it merges and commits the job
 * through the lifecycle's commit of a handed-off run (handedOffCommit.ts), under the job's
 * claim: of two last shards finishing at once, one commits the one result.json, job_runs
 * row and job-events message, and the other finds them. A delivery that crashes anywhere is
 * redelivered and finds its state stored (or simulates it again, the same numbers), then
 * comes to the same count: a crash while merging is retried by that redelivery. A shard
 * that cannot run (its manifest corrupt or of another job), or whose task is dead-lettered
 * before its state is stored, fails the job, naming it, through the same commit: once.
 *
 * A job past one instance's stores (selection passes, selectionPasses.ts) has later rounds:
 * the merge of the delivery that finds a round complete (under the job's claim) plans the
 * next pass's windows, stores them create-only (`shards/<fingerprint>-pass<p>/pass.json`:
 * the first stored wins, and the tasks read them back), publishes one pass task per shard
 * not stored (`pass` in the task), records that this run dispatched them (`dispatched/<run
 * id>` beside them, so a later delivery of the round publishes nothing again) and ends
 * without committing (RunContinues). Each pass task runs its shard's pass (runShardPass),
 * stores the results create-only beside the windows and counts them, as a shard does its
 * state; the one finding them all merges again: the next round, or the commit.
 */

/** The attribute that tells a shard task from a job on the montecarlo function. */
export const SHARD_TASK_KIND = 'montecarlo-shard';

const shardTaskSchema = z
  .object({
    job_id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
    fingerprint: z.string().regex(/^[0-9a-f]{32}$/),
    shard: z.number().int().min(0),
    /** Shards in all, so that a shard failing before it can read the manifest is still named "i of n". */
    shards: z.number().int().min(1),
    /** A selection pass's task (2 and up): the shard's pass results, over the windows stored for that pass. Absent: the shard's state (the first pass). */
    pass: z.number().int().min(2).max(1000).optional(),
  })
  .strict();
export type ShardTask = z.infer<typeof shardTaskSchema>;

const finite = z.number().finite();
const manifestSchema = z
  .object({
    format: z.literal('montecarlo-shards/2'),
    job_id: z.string(),
    fingerprint: z.string(),
    /** Shards asked for (splitJob makes the same split of them). */
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
    frame: z.object({ inputs: z.record(z.string(), z.unknown()), title: z.string(), warnings: z.array(z.string()) }).strict(),
    /** The split's selection-pass settings (null: none), so every instance splits alike; absent in manifests written before them (the default decision). */
    selection: z
      .object({ bins: z.number().int().min(1), maxKept: z.number().int().min(1), pilotBlocks: z.number().int().min(1), pilotWidth: z.number().positive() })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

/** How a manifest's job is split again: with the settings it was planned with. */
function manifestSplitOptions(manifest: z.infer<typeof manifestSchema>, options: RunOptions): SplitOptions {
  return { ...options, ...(manifest.selection !== undefined && { selection: manifest.selection ?? false }) };
}

/** The job folder's names of a split's objects. */
export const shardObjects = (fingerprint: string) => ({
  folder: `shards/${fingerprint}/`,
  manifest: `shards/${fingerprint}/manifest.json`,
  state: (shard: number) => `shards/${fingerprint}/${shard}.json`,
  /** Selection pass `pass`'s folder (its results `<i>.json`, as folderShardStates(...).forPass). */
  passStates: (pass: number) => `${fingerprint}-pass${pass}`,
  passSpec: (pass: number) => `shards/${fingerprint}-pass${pass}/pass.json`,
  passDispatched: (pass: number, runId: string) => `shards/${fingerprint}-pass${pass}/dispatched/${runId}.json`,
});

/** Partial states in the job folder. */
export function folderShardStates(files: JobFiles, fingerprint: string): ShardStates {
  const names = shardObjects(fingerprint);
  return {
    save: async (shard, body) => void (await files.createOnly(names.state(shard), body)),
    load: (shard) => files.read(names.state(shard)),
    // Selection passes' results (shardedRun.mergeShards), beside the folder (not in it): a merge that restarts finds them.
    forPass: (pass) => folderShardStates(files, names.passStates(pass)),
  };
}

/** The shards whose states are stored: one listing of the split's folder, no state read. */
export async function storedShards(files: JobFiles, fingerprint: string): Promise<Set<number>> {
  const folder = shardObjects(fingerprint).folder;
  const stored = new Set<number>();
  for (const name of await files.names(folder)) {
    const match = /^(\d+)\.json$/.exec(name.slice(folder.length));
    if (match) stored.add(Number(match[1]));
  }
  return stored;
}

/** Publishes one shard task (data: the task's JSON). */
export type PublishShardTask = (data: string, attributes: Readonly<Record<string, string>>) => Promise<void>;

/** Tasks published at once: a thousand shards are sent in seconds, not one request after another. */
const PUBLISH_CONCURRENCY = 32;

/**
 * The next step of a sharded job on the delivery that received it: hand the run off (its
 * dispatch publishes a task for each shard not stored), or, when every state is stored
 * already (a run after an earlier one stored them), merge here.
 */
export type ShardedStep = { readonly handOff: HandedOffRun } | { readonly merge: () => Promise<ModelOutput> };

/** Plans a sharded job for Pub/Sub: splits it and stores its manifest (create-only: a redelivery's identical plan keeps the first). */
export async function planShards(jobId: string, spec: MonteCarloSpec, frame: OutputFrame, shards: number, files: JobFiles, publish: PublishShardTask, log: Logger, options: SplitOptions = {}): Promise<ShardedStep> {
  const split = splitJob(spec, shards, options);
  const manifest: z.infer<typeof manifestSchema> = {
    format: 'montecarlo-shards/2',
    job_id: jobId,
    fingerprint: split.fingerprint,
    shards,
    spec: { ...spec, assets: [...spec.assets], correlation: spec.correlation.map((row) => [...row]), weights: [...spec.weights], confidenceLevels: [...spec.confidenceLevels] },
    frame: { ...frame, warnings: [...frame.warnings] },
    selection: split.selection,
  };
  await files.createOnly(shardObjects(split.fingerprint).manifest, JSON.stringify(manifest));
  return shardedStep(jobId, { spec, frame, split }, files, publish, log, options);
}

/**
 * The run an earlier delivery of the job's message handed off under `plan` (a split's
 * fingerprint), continued from its manifest; null when the manifest is not there or not
 * that plan's (a new plan is made).
 */
export async function resumeShards(jobId: string, plan: string, files: JobFiles, publish: PublishShardTask, log: Logger, options: RunOptions = {}): Promise<ShardedStep | null> {
  if (!/^[0-9a-f]{32}$/.test(plan)) return null;
  const body = await files.read(shardObjects(plan).manifest);
  if (body === null) return null;
  const parsed = manifestSchema.safeParse(safeJson(body));
  if (!parsed.success || parsed.data.job_id !== jobId) return null;
  const split = splitJob(parsed.data.spec, parsed.data.shards, manifestSplitOptions(parsed.data, options));
  if (split.fingerprint !== plan) return null;
  log.info('Sharded job: this delivery continues the run an earlier delivery handed off.', { plan });
  return shardedStep(jobId, { spec: parsed.data.spec, frame: parsed.data.frame, split }, files, publish, log, options);
}

async function shardedStep(jobId: string, plan: ShardPlan, files: JobFiles, publish: PublishShardTask, log: Logger, options: RunOptions): Promise<ShardedStep> {
  const { split } = plan;
  const count = split.ranges.length;
  const stored = await storedShards(files, split.fingerprint);
  // With selection passes the later rounds are tasks too: the last shard's task (published below) goes on from the stored ones.
  if (stored.size === count && !split.selection) {
    log.info('Sharded job: every shard is stored already; merging here.', { shards: count });
    return { merge: () => mergedOutput(plan, files, options) };
  }
  const handOff: HandedOffRun = {
    plan: split.fingerprint,
    progress: roundsProgress(split, 1, stored.size, count),
    detail: progressDetail(split, 1, stored.size, count),
    dispatch: async () => {
      // Stored states as of now: a shard stored since the plan needs no task. Should all be
      // stored by now, the last shard's task is published still: its delivery merges.
      const done = await storedShards(files, split.fingerprint);
      const missing = Array.from({ length: count }, (_, shard) => shard).filter((shard) => !done.has(shard));
      const publishing = missing.length > 0 ? missing : [count - 1];
      for (let from = 0; from < publishing.length; from += PUBLISH_CONCURRENCY) {
        await Promise.all(
          publishing.slice(from, from + PUBLISH_CONCURRENCY).map((shard) =>
            publish(JSON.stringify({ job_id: jobId, fingerprint: split.fingerprint, shard, shards: count } satisfies ShardTask), { kind: SHARD_TASK_KIND, job_id: jobId }),
          ),
        );
      }
      log.info('Sharded job: shard tasks published.', { shards: count, published: publishing.length, stored: done.size });
    },
  };
  return { handOff };
}

/** What one delivery of a shard task did: to its shard (its state, or its pass results), and to its job. */
export interface ShardTaskOutcome {
  readonly shard: 'simulated' | 'already-stored' | 'failed' | 'no-manifest' | 'unreadable';
  /** `waiting`: other shards of its round are not stored yet; else how the commit attempt ended (TaskContext.commitJob; `continued`: another round was dispatched). */
  readonly job?: 'waiting' | 'committed' | 'settled' | 'stale' | 'continued';
}

/**
 * Runs one delivery of a shard task, or of a selection pass's task (see the module
 * comment). A task that cannot be read, or whose job has no manifest, is acknowledged
 * (logged). Faults that may pass are thrown, so that Pub/Sub redelivers the task.
 */
export async function runShardTask(data: string, context: TaskContext, options: RunOptions = {}): Promise<ShardTaskOutcome> {
  const task = parseTask(data, context.log);
  if (task === null) return { shard: 'unreadable' };
  const files = context.jobFiles(task.job_id);
  const log = context.log.child({ job_id: task.job_id, shard: task.shard, ...(task.pass && { pass: task.pass }) });
  const names = shardObjects(task.fingerprint);
  const manifestBody = await files.read(names.manifest);
  if (manifestBody === null) {
    log.warn('A shard task whose job has no manifest was acknowledged.');
    return { shard: 'no-manifest' };
  }
  let plan: ShardPlan;
  let outcome: 'simulated' | 'already-stored';
  try {
    plan = shardPlan(manifestBody, task, options);
    if ((await storedShards(files, roundFolder(task))).has(task.shard)) outcome = 'already-stored';
    else if (task.pass === undefined) {
      const { body } = await runShard(plan.spec, plan.split, task.shard, options);
      await files.createOnly(names.state(task.shard), body);
      log.info('Shard simulated.', { shards: task.shards });
      outcome = 'simulated';
    } else {
      const pass = await storedPass(files, task.fingerprint, task.pass);
      const { body } = await runShardPass(plan.spec, plan.split, task.shard, pass, options);
      await files.createOnly(`shards/${names.passStates(task.pass)}/${task.shard}.json`, body);
      log.info('Shard\'s selection pass simulated.', { shards: task.shards });
      outcome = 'simulated';
    }
  } catch (error) {
    if (error instanceof TransientError || !isPermanent(error)) throw error;
    const reason = error instanceof z.ZodError ? `its manifest is malformed (${error.issues[0]?.path.join('.')})` : (error as Error).message;
    log.error('Shard failed for good: the job fails.', { error: reason });
    return { shard: 'failed', job: await failJob(task, reason, context) };
  }
  return { shard: outcome, job: await commitIfComplete(task, plan, files, context, options) };
}

/**
 * A shard task (or pass task) that reached the dead-letter topic (its deliveries crashed or
 * met faults every time). Its state (pass results) stored (the merge was what kept
 * failing): the merge is tried again. Not stored: the job fails, naming the shard (and pass).
 */
export async function runDeadLetteredShardTask(data: string, context: TaskContext, attempts: string | undefined, options: RunOptions = {}): Promise<ShardTaskOutcome> {
  const task = parseTask(data, context.log);
  if (task === null) return { shard: 'unreadable' };
  const files = context.jobFiles(task.job_id);
  if ((await storedShards(files, roundFolder(task))).has(task.shard)) return runShardTask(data, context, options);
  const reason =
    `its task was delivered ${attempts ?? 'the maximum number of'} times without an answer (a crash or a transient fault each time) ` +
    `and was moved to the dead-letter topic; publish the job again to run it (the shards stored are kept)`;
  context.log.error('A shard task was dead-lettered: the job fails.', { job_id: task.job_id, shard: task.shard, pass: task.pass, delivery_attempts: attempts });
  return { shard: 'failed', job: await failJob(task, reason, context) };
}

/** A manifest's job, checked against the task. */
interface ShardPlan {
  readonly spec: MonteCarloSpec;
  readonly frame: OutputFrame;
  readonly split: ShardSplit;
}

function shardPlan(manifestBody: string, task: ShardTask, options: RunOptions): ShardPlan {
  const manifest = manifestSchema.parse(JSON.parse(manifestBody));
  const split = splitJob(manifest.spec, manifest.shards, manifestSplitOptions(manifest, options));
  if (manifest.job_id !== task.job_id) throw new ShardMismatchError(`its manifest is of job ${manifest.job_id}`);
  if (split.fingerprint !== task.fingerprint) throw new ShardMismatchError(`the manifest's job has fingerprint ${split.fingerprint}, the task ${task.fingerprint}`);
  if (task.shard >= split.ranges.length) throw new ShardMismatchError(`the job has ${split.ranges.length} shards`);
  if (task.pass !== undefined && !split.selection) throw new ShardMismatchError(`the job has no selection passes, the task is of pass ${task.pass}`);
  return { spec: manifest.spec, frame: manifest.frame, split };
}

/** The folder (as storedShards names it) of the round a task belongs to: the shards' states, or a pass's results. */
function roundFolder(task: ShardTask): string {
  return task.pass === undefined ? task.fingerprint : shardObjects(task.fingerprint).passStates(task.pass);
}

/**
 * Selection pass `pass`'s windows as stored by the merge that dispatched it.
 * @throws ShardMismatchError when they are missing, malformed or of another pass
 */
async function storedPass(files: JobFiles, fingerprint: string, pass: number): Promise<PassSpec> {
  const body = await files.read(shardObjects(fingerprint).passSpec(pass));
  if (body === null) throw new ShardMismatchError(`selection pass ${pass} has no stored windows`);
  const spec = parsePassSpec(body);
  if (spec.pass !== pass) throw new ShardMismatchError(`the windows stored for selection pass ${pass} are pass ${spec.pass}'s`);
  return spec;
}

/**
 * `status.json`'s progress of a sharded job: shards stored over shards for a job without
 * selection passes; with them, over every round so far, counting at least two (pass p of
 * a job shows (p - 1 + done / shards) / max(2, p)): the first round is half, the second
 * the other half, and a third (a pilot that missed) starts at two thirds.
 */
export function roundsProgress(split: ShardSplit, pass: number, done: number, count: number): number {
  return split.selection ? (pass - 1 + done / count) / Math.max(2, pass) : done / count;
}

function progressDetail(split: ShardSplit, pass: number, done: number, count: number): Record<string, number> {
  return { shards_done: done, shards: count, ...(split.selection && { pass }) };
}

/** After this task's state (pass results) is stored: the progress while its round misses some, the merge once all are there. */
async function commitIfComplete(task: ShardTask, plan: ShardPlan, files: JobFiles, context: TaskContext, options: RunOptions): Promise<ShardTaskOutcome['job']> {
  const count = plan.split.ranges.length;
  const pass = task.pass ?? 1;
  const done = (await storedShards(files, roundFolder(task))).size;
  if (done < count) {
    await context.reportProgress(task.job_id, task.fingerprint, roundsProgress(plan.split, pass, done, count), progressDetail(plan.split, pass, done, count));
    return 'waiting';
  }
  const log = context.log.child({ job_id: task.job_id });
  return context.commitJob(task.job_id, task.fingerprint, (run) => mergedOutput(plan, files, options, passRounds(task.job_id, plan, files, context, run.runId, log)));
}

/**
 * The merge's distributePass for a handed-off run: a pass whose results are all stored is
 * read; otherwise its windows are stored (create-only: the first stored wins), its tasks
 * published unless this run did so already, and the merge ends with RunContinues. Without
 * a shard topic the merge runs the pass itself (undefined).
 */
function passRounds(jobId: string, plan: ShardPlan, files: JobFiles, context: TaskContext, runId: string, log: Logger): MergeHooks['distributePass'] {
  const topic = context.config.MC_SHARD_TOPIC;
  const publish = context.publish;
  if (!topic || !publish) return undefined;
  const { split } = plan;
  const names = shardObjects(split.fingerprint);
  const count = split.ranges.length;
  return async (pass) => {
    const done = await storedShards(files, names.passStates(pass.pass));
    if (done.size === count) return;
    await files.createOnly(names.passSpec(pass.pass), serializePassSpec(pass));
    await storedPass(files, split.fingerprint, pass.pass); // what the tasks will read: the first stored
    const marker = names.passDispatched(pass.pass, runId);
    if ((await files.read(marker)) !== null) throw new RunContinues(`selection pass ${pass.pass}'s tasks were published by this run already`);
    const missing = Array.from({ length: count }, (_, shard) => shard).filter((shard) => !done.has(shard));
    for (let from = 0; from < missing.length; from += PUBLISH_CONCURRENCY) {
      await Promise.all(
        missing.slice(from, from + PUBLISH_CONCURRENCY).map((shard) =>
          publish(topic, JSON.stringify({ job_id: jobId, fingerprint: split.fingerprint, shard, shards: count, pass: pass.pass } satisfies ShardTask), {
            kind: SHARD_TASK_KIND,
            job_id: jobId,
            pass: String(pass.pass),
          }),
        ),
      );
    }
    await files.createOnly(marker, JSON.stringify({ run_id: runId, published: missing.length }));
    log.info('Sharded job: selection pass tasks published.', { pass: pass.pass, shards: count, published: missing.length });
    await context.reportProgress(jobId, split.fingerprint, roundsProgress(split, pass.pass, done.size, count), progressDetail(split, pass.pass, done.size, count));
    throw new RunContinues(`selection pass ${pass.pass}: ${missing.length} tasks published`);
  };
}

type MergeHooks = { readonly distributePass?: (pass: PassSpec, states: ShardStates) => Promise<void> };

/** Every shard's state merged into the job's output (the same numbers as one instance's); `distributePass` as mergeShards'. */
async function mergedOutput(plan: ShardPlan, files: JobFiles, options: RunOptions, distributePass?: MergeHooks['distributePass']): Promise<ModelOutput> {
  try {
    const merged = await mergeShards(plan.spec, plan.split, folderShardStates(files, plan.split.fingerprint), { ...options, ...(distributePass && { distributePass }) });
    return monteCarloOutput(plan.spec, plan.frame, merged, plan.split.ranges.length);
  } catch (error) {
    if (error instanceof ShardMismatchError) throw new JobError('internal', `Merging the shards failed: ${error.message}`);
    throw error;
  }
}

function failJob(task: ShardTask, reason: string, context: TaskContext): Promise<'committed' | 'settled' | 'stale' | 'continued'> {
  const which = task.pass === undefined ? '' : ` in selection pass ${task.pass}`;
  return context.commitJob(task.job_id, task.fingerprint, () => Promise.reject(new JobError('internal', `Shard ${task.shard} of ${task.shards} failed${which}: ${reason}.`)));
}

function parseTask(data: string, log: Logger): ShardTask | null {
  try {
    return shardTaskSchema.parse(JSON.parse(data));
  } catch (error) {
    log.warn('A shard task that is not one was acknowledged.', { error: (error as Error).message });
    return null;
  }
}

/** Errors that running the shard again would meet again. */
function isPermanent(error: unknown): boolean {
  return error instanceof ShardMismatchError || error instanceof JobError || error instanceof z.ZodError || error instanceof SyntaxError;
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}
