import { JobError } from '../../job/errors.js';
import { monteCarloResult, simulationPlanOf, type MonteCarloOutcome, type MonteCarloSpec } from './gbmModel.js';
import { MAX_SIMULATIONS } from './limits.js';
import { runShardSimulation, runSimulation, type RunOptions } from './parallelRunner.js';
import { ShardMerger, parsePartial, planFingerprint, serializePartial, shardPartial, shardRanges } from './shards.js';
import type { BlockRange } from './simulation.js';

/**
 * The three steps of a sharded job, whoever runs them: split (which blocks each shard
 * simulates), shard (simulate one range, leave its partial state), merge (read every
 * partial state, compute the result). `npm run job` runs them one after another in one
 * process (runShardsInProcess); the same functions serve shards sent over Pub/Sub.
 */

/** Where shards leave their partial states: the job's folder in the bucket, or memory. */
export interface ShardStates {
  /** Stores shard `shard`'s state unless one is already there (create-only: a redelivered shard changes nothing). */
  save(shard: number, body: string): Promise<void>;
  /** Shard `shard`'s stored state, or null. */
  load(shard: number): Promise<string | null>;
}

/** A job's shards: their block ranges, and the fingerprint their partial states carry. */
export interface ShardSplit {
  readonly ranges: readonly BlockRange[];
  readonly fingerprint: string;
}

/** Splits `spec` into at most `shards` shards (never more than its blocks). */
export function splitJob(spec: MonteCarloSpec, shards: number, options: RunOptions = {}): ShardSplit {
  const plan = simulationPlanOf(spec);
  const ranges = shardRanges(plan, shards);
  return { ranges, fingerprint: planFingerprint(plan, spec.confidenceLevels, options.brackets !== false, ranges.length) };
}

/** Simulates shard `shard` of `split`: its partial state as stored, and the threads that simulated. */
export async function runShard(spec: MonteCarloSpec, split: ShardSplit, shard: number, options: RunOptions = {}): Promise<{ body: string; threads: number }> {
  const plan = simulationPlanOf(spec);
  const range = split.ranges[shard];
  const { buffers, threads } = await runShardSimulation(plan, spec.confidenceLevels, range, options);
  return { body: serializePartial(shardPartial(plan, spec.confidenceLevels, shard, split.ranges.length, buffers, split.fingerprint)), threads };
}

/**
 * Merges every shard's stored state into the job's result, exactly one instance's.
 * Where one instance would simulate again with stores (brackets that missed, a 1e-15 event),
 * so does the merge, within one instance's limits.
 * @throws ShardMismatchError when a state is missing, corrupt or another job's
 * @throws JobError internal when brackets missed on a job larger than one instance can store
 */
export async function mergeShards(spec: MonteCarloSpec, split: ShardSplit, states: ShardStates, options: RunOptions = {}): Promise<MonteCarloOutcome> {
  const plan = simulationPlanOf(spec);
  const merger = new ShardMerger(plan, spec.confidenceLevels, split.ranges, split.fingerprint);
  for (let shard = 0; shard < split.ranges.length; shard++) {
    const body = await states.load(shard);
    if (body === null) throw new JobError('internal', `Shard ${shard} of ${split.ranges.length} has no partial state to merge.`);
    merger.add(parsePartial(body));
  }
  const { statistics, samplePaths, bracketed } = merger.finish();
  if (bracketed && statistics.some(Number.isNaN)) {
    if (plan.simulations > MAX_SIMULATIONS) {
      throw new JobError('internal', `The percentile brackets missed (a 1e-15 event) on ${plan.simulations} paths, more than one instance can store (${MAX_SIMULATIONS}) to compute them again; run again with another seed.`);
    }
    const rerun = await runSimulation(plan, spec.confidenceLevels, { ...options, brackets: false });
    return { result: monteCarloResult(spec, plan, rerun.statistics, rerun.buffers.samplePaths), threads: rerun.threads };
  }
  return { result: monteCarloResult(spec, plan, merger.read(statistics), samplePaths), threads: 1 };
}

export interface InProcessShardOptions extends RunOptions {
  /** Called after each shard is stored, with shards done, in all, and whether this call simulated it (false: found stored). */
  readonly onShard?: (done: number, shards: number, simulated: boolean) => void | Promise<void>;
}

/**
 * Split, shard and merge in this process, one shard after another (each on this process's
 * threads). A shard whose state is already stored (an earlier delivery got that far) is not
 * simulated again.
 */
export async function runShardsInProcess(
  spec: MonteCarloSpec,
  split: ShardSplit,
  states: ShardStates,
  options: InProcessShardOptions = {},
): Promise<MonteCarloOutcome & { readonly shards: number }> {
  const count = split.ranges.length;
  let threads = 1;
  for (let shard = 0; shard < count; shard++) {
    const stored = (await states.load(shard)) !== null;
    if (!stored) {
      const report = options.onProgress;
      const ran = await runShard(spec, split, shard, { ...options, onProgress: report && ((f) => report((shard + f) / count)) });
      threads = Math.max(threads, ran.threads);
      await states.save(shard, ran.body);
    }
    await options.onShard?.(shard + 1, count, !stored);
  }
  const merged = await mergeShards(spec, split, states, options);
  return { ...merged, threads: Math.max(threads, merged.threads), shards: count };
}

/** Partial states kept in memory (a model run without a bucket, tests). */
export function memoryShardStates(): ShardStates & { readonly bodies: Map<number, string> } {
  const bodies = new Map<number, string>();
  return {
    bodies,
    save: async (shard, body) => {
      if (!bodies.has(shard)) bodies.set(shard, body);
    },
    load: async (shard) => bodies.get(shard) ?? null,
  };
}
