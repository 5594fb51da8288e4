import { JobError } from '../../job/errors.js';
import { monteCarloResult, simulationPlanOf, type MonteCarloOutcome, type MonteCarloSpec } from './gbmModel.js';
import { MAX_SIMULATIONS, MAX_TERMINAL_VALUES } from './limits.js';
import { runShardSimulation, runSimulation, type RunOptions } from './parallelRunner.js';
import { MIN_BRACKETED_SIMULATIONS } from './quantileBrackets.js';
import { PassResults, Selection, selectionSettings, selectionTargets, type PassSpec, type SelectionOptions } from './selectionPasses.js';
import { firstPassOf, runSelectionPass } from './selectionRun.js';
import {
  ShardMerger,
  ShardMismatchError,
  parsePartial,
  parsePassPartial,
  planFingerprint,
  sameSpec,
  serializePartial,
  serializePassPartial,
  shardPartial,
  shardRanges,
} from './shards.js';
import { allocateBuffers, type BlockRange, type SimulationPlan } from './simulation.js';

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
  /**
   * Where the shards' results of selection pass `pass` (2 and up) go, when they are kept
   * (a merge that restarts then finds them); without it they live in the merge's memory.
   */
  forPass?(pass: number): ShardStates;
}

/** A job's shards: their block ranges, and the fingerprint their partial states carry. */
export interface ShardSplit {
  readonly ranges: readonly BlockRange[];
  readonly fingerprint: string;
  /** The selection passes' settings when the shards count instead of storing (selectionPasses.ts); else null. */
  readonly selection: Required<SelectionOptions> | null;
}

export interface SplitOptions extends RunOptions {
  /**
   * Selection passes instead of stores for a job without brackets: true or settings to force
   * them (tests), false to forbid; by default when the stores would exceed one instance's
   * (MAX_SIMULATIONS paths or MAX_TERMINAL_VALUES stored values).
   */
  readonly selection?: boolean | SelectionOptions;
}

/** Whether a plan's shards would keep stores (no brackets: several symbols, or one asset without volatility or with few paths). */
function keepsStores(plan: SimulationPlan, options: RunOptions): boolean {
  return options.brackets === false || plan.assets > 1 || !(plan.volatility[0] > 0) || plan.simulations < MIN_BRACKETED_SIMULATIONS;
}

/** Whether one instance could hold the stores of a plan (what a merge of stores needs). */
export function storesFitOneInstance(simulations: number, symbols: number): boolean {
  return simulations <= MAX_SIMULATIONS && simulations * (symbols + 1) <= MAX_TERMINAL_VALUES;
}

/** Splits `spec` into at most `shards` shards (never more than its blocks). */
export function splitJob(spec: MonteCarloSpec, shards: number, options: SplitOptions = {}): ShardSplit {
  const plan = simulationPlanOf(spec);
  const ranges = shardRanges(plan, shards);
  const wanted = options.selection ?? !storesFitOneInstance(plan.simulations, plan.assets);
  const pairs = selectionTargets(plan, spec.confidenceLevels).length;
  const selection = wanted !== false && keepsStores(plan, options) ? selectionSettings(pairs, typeof wanted === 'object' ? wanted : {}) : null;
  const settings = selection && [selection.bins, selection.maxKept, selection.pilotBlocks, selection.pilotWidth];
  return { ranges, fingerprint: planFingerprint(plan, spec.confidenceLevels, options.brackets !== false, ranges.length, settings ?? undefined), selection };
}

/** Simulates shard `shard` of `split`: its partial state as stored, and the threads that simulated. */
export async function runShard(spec: MonteCarloSpec, split: ShardSplit, shard: number, options: RunOptions = {}): Promise<{ body: string; threads: number }> {
  const plan = simulationPlanOf(spec);
  const range = split.ranges[shard];
  if (split.selection) {
    // Counts over the first pass's windows instead of stores; block moments and sample paths as ever.
    const first = await firstPassOf(split.fingerprint, plan, spec.confidenceLevels, split.selection, options);
    const buffers = allocateBuffers(plan, false, null, { ...range, paths: 0 });
    const extras = { blockMoments: buffers.blockMoments, samplePaths: new Float64Array(0) };
    const { results, threads } = await runSelectionPass(plan, spec.confidenceLevels, range, first, selectionTargets(plan, spec.confidenceLevels), options, extras);
    const partial = shardPartial(plan, spec.confidenceLevels, shard, split.ranges.length, { ...buffers, samplePaths: extras.samplePaths, range }, split.fingerprint, results);
    return { body: serializePartial(partial), threads };
  }
  const { buffers, threads } = await runShardSimulation(plan, spec.confidenceLevels, range, options);
  return { body: serializePartial(shardPartial(plan, spec.confidenceLevels, shard, split.ranges.length, buffers, split.fingerprint)), threads };
}

/**
 * Runs selection pass `pass` (2 and up, its windows planned by the merge) over shard
 * `shard`'s blocks: its results as stored. What a second round of shard tasks runs.
 */
export async function runShardPass(spec: MonteCarloSpec, split: ShardSplit, shard: number, pass: PassSpec, options: RunOptions = {}): Promise<{ body: string; threads: number }> {
  const plan = simulationPlanOf(spec);
  const pairs = selectionTargets(plan, spec.confidenceLevels);
  const { results, threads } = await runSelectionPass(plan, spec.confidenceLevels, split.ranges[shard], pass, pairs, options);
  return { body: serializePassPartial({ fingerprint: split.fingerprint, shard, shards: split.ranges.length, results }), threads };
}

/**
 * Merges every shard's stored state into the job's result, exactly one instance's.
 * Where one instance would simulate again with stores (brackets that missed, a 1e-15 event),
 * so does the merge, within one instance's limits.
 * @throws ShardMismatchError when a state is missing, corrupt or another job's
 * @throws JobError internal when brackets missed on a job larger than one instance can store
 */
export async function mergeShards(spec: MonteCarloSpec, split: ShardSplit, states: ShardStates, options: MergeOptions = {}): Promise<MonteCarloOutcome> {
  const plan = simulationPlanOf(spec);
  const pairs = split.selection && selectionTargets(plan, spec.confidenceLevels);
  const first = split.selection && (await firstPassOf(split.fingerprint, plan, spec.confidenceLevels, split.selection, options));
  const merger = new ShardMerger(plan, spec.confidenceLevels, split.ranges, split.fingerprint, pairs && first ? { pairs, first } : undefined);
  for (let shard = 0; shard < split.ranges.length; shard++) {
    const body = await states.load(shard);
    if (body === null) throw new JobError('internal', `Shard ${shard} of ${split.ranges.length} has no partial state to merge.`);
    merger.add(parsePartial(body));
  }
  let selection: Selection | undefined;
  if (split.selection && pairs && first) {
    selection = new Selection(pairs, plan.simulations, first, split.selection);
    selection.absorb(merger.firstPassResults);
    options.onMergeMemory?.(merger.heldBytes());
    for (let pass = selection.next; pass !== null; pass = selection.next) {
      const merged = new PassResults(pass, pairs);
      const passStates = states.forPass?.(pass.pass);
      if (passStates) await options.distributePass?.(pass, passStates);
      for (let shard = 0; shard < split.ranges.length; shard++) {
        let body = passStates ? await passStates.load(shard) : null;
        if (body === null) {
          body = (await runShardPass(spec, split, shard, pass, { ...options, onProgress: undefined })).body;
          await passStates?.save(shard, body);
        }
        const partial = parsePassPartial(body);
        if (partial.fingerprint !== split.fingerprint || partial.shard !== shard || !sameSpec(partial.results.spec, pass)) {
          throw new ShardMismatchError(`Shard ${shard} of ${split.ranges.length}: its pass ${pass.pass} state belongs to another job, shard or pass.`);
        }
        merged.add(partial.results);
        options.onMergeMemory?.(merger.heldBytes() + merged.heldBytes() + selection.heldBytes());
      }
      selection.absorb(merged);
      options.onPass?.(pass.pass);
    }
  }
  const { statistics, samplePaths, bracketed } = merger.finish(selection);
  if (bracketed && statistics.some(Number.isNaN)) {
    if (plan.simulations > MAX_SIMULATIONS) {
      throw new JobError('internal', `The percentile brackets missed (a 1e-15 event) on ${plan.simulations} paths, more than one instance can store (${MAX_SIMULATIONS}) to compute them again; run again with another seed.`);
    }
    const rerun = await runSimulation(plan, spec.confidenceLevels, { ...options, brackets: false });
    return { result: monteCarloResult(spec, plan, rerun.statistics, rerun.buffers.samplePaths), threads: rerun.threads };
  }
  return { result: monteCarloResult(spec, plan, merger.read(statistics), samplePaths), threads: 1 };
}

export interface MergeOptions extends RunOptions {
  /** Called with the bytes the merge holds after each shard's results are added (tests, benches). */
  readonly onMergeMemory?: (bytes: number) => void;
  /** Called after each selection pass after the first is merged. */
  readonly onPass?: (pass: number) => void;
  /**
   * Has the shards of a selection pass (2 and up) run elsewhere before the merge reads their
   * results from `states` (e.g. a round of shard tasks running runShardPass); the merge
   * simulates any still missing itself. Without it, the merge simulates every shard's pass.
   */
  readonly distributePass?: (pass: PassSpec, states: ShardStates) => Promise<void>;
}

export interface InProcessShardOptions extends MergeOptions, SplitOptions {
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
export function memoryShardStates(): ShardStates & { readonly bodies: Map<number, string>; readonly passes: Map<number, ShardStates & { readonly bodies: Map<number, string> }> } {
  const bodies = new Map<number, string>();
  const passes = new Map<number, ShardStates & { readonly bodies: Map<number, string> }>();
  return {
    bodies,
    passes,
    save: async (shard, body) => {
      if (!bodies.has(shard)) bodies.set(shard, body);
    },
    load: async (shard) => bodies.get(shard) ?? null,
    forPass: (pass) => {
      if (!passes.has(pass)) passes.set(pass, memoryShardStates());
      return passes.get(pass)!;
    },
  };
}
