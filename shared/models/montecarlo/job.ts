/**
 * @module Monte Carlo (`montecarlo`): Geometric Brownian Motion paths of one asset or a
 * correlated portfolio, with VaR/CVaR and percentile bands.
 *
 * The folder: `calibration.ts` (drift, volatility and correlation from history, as the
 * contract defines them), `correlationFactor.ts` (Cholesky with rounding repair), `limits.ts`,
 * `gbmModel.ts` (the run as a whole), `simulation.ts` (paths in 4096-path blocks on the
 * WebAssembly kernel of `shared/numerics/random/`), `parallelRunner.ts`/`worker.ts`/
 * `sharedJob.ts` (worker threads claiming blocks), `statistics*.ts`, `blockMoments.ts`,
 * `bandBrackets.ts`/`terminalBrackets.ts`/`quantileBrackets.ts` (exact percentiles without
 * storing every path), `shards.ts`/`shardedRun.ts` (a job split into shards, merged to the
 * same numbers), `chart.ts` (fan chart); this file is the job: params, resolution,
 * result document. Same seed, same numbers, whatever the thread count.
 */
import { randomInt } from 'node:crypto';
import * as z from 'zod';
import { fewObservationsWarning } from '../../job/calibrationWarning.js';
import { JobError } from '../../job/errors.js';
import { periodsPerYearParam } from '../../job/periodsPerYear.js';
import type { Job, ModelContext, ModelDefinition, ModelOutput } from '../../job/model.js';
import { alignOnCommonDates } from '../../prices/history.js';
import { calibrateFromHistory, type Calibration } from './calibration.js';
import { runMonteCarlo, type MonteCarloSpec } from './gbmModel.js';
import { checkShardedLimits, checkSimulationLimits, MAX_SHARDS, minimumShards } from './limits.js';
import { MIN_BRACKETED_SIMULATIONS } from './quantileBrackets.js';
import { memoryShardStates, runShardsInProcess, splitJob, type SplitOptions } from './shardedRun.js';
import { monteCarloOutput, type OutputFrame } from './output.js';
import { folderShardStates, planShards, resumeShards, runDeadLetteredShardTask, runShardTask, SHARD_TASK_KIND } from './shardTasks.js';
import type { RunOptions } from './parallelRunner.js';
import type { SelectionOptions } from './selectionPasses.js';

/** Prices between these keep every simulated value and its square finite (with MAX_DRIFT_HORIZON). */
const MIN_INITIAL_PRICE = 1e-6;
const MAX_HORIZON_YEARS = 100;
const MAX_INITIAL_PRICE = 1e9;
/** Each weight within ±100: a portfolio levered beyond that is not one, and huge opposite weights cancel to noise. */
const MAX_WEIGHT = 100;
/**
 * Largest |drift| x horizon in years: growth of at most e^200 (drift 10 over 100 years
 * would be e^1000, past a double's range). The volatility term adds at most about Z^2/2 in
 * log price whatever the volatility, so values stay below ~1e100 and their squares finite.
 */
const MAX_DRIFT_HORIZON = 200;

const weight = z.number().min(-MAX_WEIGHT, `must be at least -${MAX_WEIGHT} (leverage limit)`).max(MAX_WEIGHT, `must be at most ${MAX_WEIGHT} (leverage limit)`);

/** Weights must sum to 1 within this (a typed 1/3 + 1/3 + 1/3 is off by ~1e-16). */
const WEIGHT_SUM_TOLERANCE = 1e-9;

const paramsSchema = z
  .object({
    simulations: z.number().int().min(1).default(10_000),
    time_steps: z.number().int().min(1).default(252),
    /** Default: time_steps / periods_per_year (one step per period of the price data). */
    horizon_years: z.number().positive().max(MAX_HORIZON_YEARS, `must be at most ${MAX_HORIZON_YEARS} years`).optional(),
    /** Annualization of the daily history, as Markowitz's: 252 trading days; 365 for crypto alone. */
    periods_per_year: periodsPerYearParam,
    /** Default: drawn from crypto and reported in inputs.seed. */
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    initial_price: z
      .number()
      .min(MIN_INITIAL_PRICE, `must be at least ${MIN_INITIAL_PRICE} (the smallest price the model takes)`)
      .max(MAX_INITIAL_PRICE, `must be at most ${MAX_INITIAL_PRICE} (the largest price the model takes)`)
      .optional(),
    drift: z.number().min(-10).max(10).optional(),
    volatility: z.number().min(0).max(10).optional(),
    /** An array in symbols order, or an object keyed by symbol (every symbol, no other key); each weight within ±MAX_WEIGHT. */
    weights: z.union([z.array(weight).min(1), z.record(z.string(), weight)]).optional(),
    /**
     * Default: with a shard topic (MC_SHARD_TOPIC), the fewest shards within one instance's
     * limits (1 for every job one instance can run); without one, 1.
     */
    shards: z.number().int().min(1).max(MAX_SHARDS).optional(),
    confidence_levels: z
      .array(z.number().gt(0).lt(1))
      .min(1)
      .max(10)
      .refine((levels) => new Set(levels).size === levels.length, 'confidence levels must be distinct')
      .default([0.95, 0.99]),
  })
  .strict();

export type MonteCarloParams = z.infer<typeof paramsSchema>;

export interface MonteCarloModelOptions {
  /** Worker script override (tests, unusual bundles); see parallelRunner.defaultWorkerUrl. */
  readonly workerUrl?: URL;
  /**
   * Selection passes of a sharded job (shardedRun.SplitOptions.selection): tests force them
   * with small settings on small jobs; by default past one instance's stores. A planned
   * job's manifest keeps the settings, so every instance splits it alike.
   */
  readonly selection?: boolean | SelectionOptions;
}

/**
 * The `montecarlo` job: GBM paths for one asset given by params (no symbols) or for the
 * job's symbols calibrated from their aligned history and correlated through the Cholesky
 * factor of their sample log-return correlation; terminal statistics per symbol, portfolio
 * VaR/CVaR and percentile bands. Threads: config MC_THREADS, default all cores.
 */
export function createMontecarloModel(options: MonteCarloModelOptions = {}): ModelDefinition<MonteCarloParams> {
  return {
    name: 'montecarlo',
    params: paramsSchema,
    symbolsOptional: true,
    // Shard tasks of sharded jobs, from the shard topic (shardTasks.ts).
    tasks: {
      kind: SHARD_TASK_KIND,
      run: (data, context) => runShardTask(data, context, shardRunOptions(context, options)),
      deadLettered: (data, context, attempts) => runDeadLetteredShardTask(data, context, attempts, shardRunOptions(context, options)),
    },
    async run(job: Job<MonteCarloParams>, context: ModelContext): Promise<ModelOutput> {
      // This job's message delivered again while its shards run: the same run, handed off again.
      const handOff = shardHandOff(context);
      if (handOff && context.resumePlan !== undefined) {
        const resumed = await resumeShards(job.job_id, context.resumePlan, handOff.files, handOff.publish, context.log, shardRunOptions(context, options));
        if (resumed) return 'handOff' in resumed ? handOff.to(resumed.handOff) : resumed.merge();
      }
      const params = job.params;
      const singleAsset = job.symbols.length === 0;
      let calibration: Calibration | null = null;
      let assetClasses: Record<string, string | null> | null = null;
      let names: string[];
      let spec: MonteCarloSpec;
      const timeSteps = params.time_steps;
      const horizonYears = params.horizon_years ?? timeSteps / params.periods_per_year;
      if (params.horizon_years === undefined && horizonYears > MAX_HORIZON_YEARS) {
        throw new JobError(
          'invalid_job',
          `params.time_steps: ${timeSteps} steps at ${params.periods_per_year} a year (periods_per_year) is a ${horizonYears.toFixed(1)}-year horizon, past the maximum of ${MAX_HORIZON_YEARS} years for horizon_years; give horizon_years or fewer time_steps.`,
        );
      }
      const seed = params.seed ?? randomInt(0, 2 ** 48 - 1);
      const common = {
        simulations: params.simulations,
        timeSteps,
        horizonYears,
        seed,
        confidenceLevels: params.confidence_levels,
      };
      if (singleAsset) {
        const missing = (['initial_price', 'drift', 'volatility'] as const).filter((key) => params[key] === undefined);
        if (missing.length > 0) {
          throw new JobError(
            'invalid_job',
            `params.${missing[0]} is required without symbols (single-asset mode needs initial_price, drift and volatility); or list symbols to calibrate from history.`,
          );
        }
        if (params.weights !== undefined && !isUnitWeight(params.weights)) {
          throw new JobError('invalid_job', 'params.weights applies to symbols; a single-asset job (no symbols) has no weights to set.');
        }
        if (shardsOf(params, 1, context) === 1) checkSimulationLimits(params.simulations, timeSteps, 1);
        names = ['asset'];
        spec = {
          ...common,
          assets: [{ name: 'asset', initialPrice: params.initial_price!, drift: params.drift!, volatility: params.volatility! }],
          correlation: [[1]],
          weights: [1],
        };
      } else {
        for (const key of ['initial_price', 'drift', 'volatility'] as const) {
          if (params[key] !== undefined) {
            throw new JobError(
              'invalid_job',
              `params.${key} is for single-asset mode only; with symbols it is calibrated from their history: remove params.${key} or the symbols.`,
            );
          }
        }
        const seen = new Set<string>();
        for (const symbol of job.symbols) {
          if (seen.has(symbol)) throw new JobError('invalid_job', `symbols lists ${symbol} twice; list each symbol once.`);
          seen.add(symbol);
        }
        const k = job.symbols.length;
        const weights = params.weights === undefined ? Array.from({ length: k }, () => 1 / k) : weightsInSymbolsOrder(params.weights, job.symbols);
        const sum = weights.reduce((a, b) => a + b, 0);
        if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
          throw new JobError('invalid_job', `params.weights sum to ${sum}, not 1 (tolerance ${WEIGHT_SUM_TOLERANCE}).`);
        }
        if (shardsOf(params, k, context) === 1) checkSimulationLimits(params.simulations, timeSteps, k);
        const histories = await context.history(job.symbols);
        assetClasses = Object.fromEntries(histories.map((h) => [h.symbol, h.assetClass ?? null]));
        calibration = calibrateFromHistory(alignOnCommonDates(histories), params.periods_per_year);
        names = [...job.symbols];
        const cal = calibration;
        spec = {
          ...common,
          assets: names.map((name, a) => ({ name, initialPrice: cal.initialPrices[a], drift: cal.drift[a], volatility: cal.volatility[a] })),
          correlation: cal.correlation,
          weights,
        };
      }

      const fastest = spec.assets.reduce((a, b) => (Math.abs(b.drift) > Math.abs(a.drift) ? b : a));
      if (Math.abs(fastest.drift) * horizonYears > MAX_DRIFT_HORIZON) {
        const source = singleAsset ? 'params.drift' : `the drift calibrated for ${fastest.name}`;
        throw new JobError(
          'invalid_job',
          `params.horizon_years: ${source} (${fastest.drift.toPrecision(4)}) over ${horizonYears} years is growth of exp(${(fastest.drift * horizonYears).toPrecision(4)}), past the limit |drift x horizon_years| <= ${MAX_DRIFT_HORIZON} where prices stay finite; shorten the horizon.`,
        );
      }
      const inputs: Record<string, unknown> = {
        mode: singleAsset ? 'single_asset' : 'calibrated',
        symbols: singleAsset ? [] : names,
        initial_price: byName(names, spec.assets.map((a) => a.initialPrice)),
        drift: byName(names, spec.assets.map((a) => a.drift)),
        volatility: byName(names, spec.assets.map((a) => a.volatility)),
        correlation: spec.correlation,
        window: calibration ? calibration.window : null,
        observations: calibration ? calibration.observations : null,
        periods_per_year: params.periods_per_year,
        asset_classes: assetClasses,
        seed,
        simulations: spec.simulations,
        time_steps: timeSteps,
        horizon_years: horizonYears,
        weights: byName(names, spec.weights),
        confidence_levels: spec.confidenceLevels,
      };
      const warnings: string[] = [];
      if (calibration) {
        const warning = fewObservationsWarning(calibration.observations, `The calibration of ${names.join(', ')}`, calibration.window);
        if (warning) (warnings.push(warning), context.log.warn(warning));
      }
      const frame: OutputFrame = { inputs, title: `Monte Carlo ${job.job_id}: ${singleAsset ? 'single asset' : names.join(', ')}`, warnings };

      const runOptions: RunOptions = {
        threads: context.config.MC_THREADS,
        workerUrl: options.workerUrl,
        onProgress: (fraction) => {
          context.log.info('progress', { paths_done: Math.round(fraction * params.simulations), fraction });
          context.progress?.(fraction);
        },
      };
      const shards = shardsOf(params, spec.assets.length, context);
      if (shards === 1) return monteCarloOutput(spec, frame, await runMonteCarlo(spec, runOptions), 1);
      const outcome = await runSharded(job.job_id, spec, frame, shards, { ...runOptions, ...(options.selection !== undefined && { selection: options.selection }) }, context);
      return monteCarloOutput(spec, frame, outcome, outcome.shards);
    },
  };
}

/** The job's shards: params.shards, else by size where shards can travel (see the params schema). */
function shardsOf(params: MonteCarloParams, symbols: number, context: ModelContext): number {
  if (params.shards !== undefined) return params.shards;
  return context.config.MC_SHARD_TOPIC && context.publish ? minimumShards(params.simulations, params.time_steps, symbols) : 1;
}

/**
 * A job of more than one shard: checked against the sharded limits, then split into shards
 * whose partial states are stored in the job's folder (`shards/<fingerprint>/<i>.json`,
 * create-only) and merged (the same numbers as one instance's). With MC_SHARD_TOPIC the job
 * is handed off: its shards are published as tasks to that topic, and the task that stores
 * the last state merges and commits the job (shardTasks.ts); without it, the shards run
 * here one after another (a delivery after a crash finds the shards done so far and
 * simulates only the rest).
 */
async function runSharded(jobId: string, spec: MonteCarloSpec, frame: OutputFrame, shards: number, runOptions: SplitOptions, context: ModelContext) {
  const k = spec.assets.length;
  const bracketed = k === 1 && spec.assets[0].volatility > 0 && spec.simulations >= MIN_BRACKETED_SIMULATIONS;
  checkShardedLimits(spec.simulations, spec.timeSteps, k, shards, bracketed);
  const { log, jobFiles: files } = context;
  const handOff = shardHandOff(context);
  if (handOff) {
    const step = await planShards(jobId, spec, frame, shards, handOff.files, handOff.publish, log, runOptions);
    if ('handOff' in step) return handOff.to(step.handOff);
  }
  const split = splitJob(spec, shards, runOptions);
  log.info('Sharded job: simulating its shards in this process.', { shards: split.ranges.length });
  const onShard = async (done: number, count: number, simulated: boolean) => {
    log.info(simulated ? 'Shard simulated.' : 'Shard found stored (an earlier delivery simulated it).', { shards_done: done, shards: count });
    context.progress?.(done / count, { shards_done: done, shards: count });
  };
  return runShardsInProcess(spec, split, files ? folderShardStates(files, split.fingerprint) : memoryShardStates(), { ...runOptions, onShard });
}

/** How a shard (or a merge) outside a job's own run simulates: this instance's threads. */
function shardRunOptions(context: { readonly config: ModelContext['config'] }, options: MonteCarloModelOptions): RunOptions {
  return { threads: context.config.MC_THREADS, workerUrl: options.workerUrl };
}

/** Where shards travel over Pub/Sub: the shard topic's publisher and the lifecycle's hand-off; null without either. */
function shardHandOff(context: ModelContext) {
  const { publish, handOff, jobFiles } = context;
  const topic = context.config.MC_SHARD_TOPIC;
  if (!topic || !publish || !handOff || !jobFiles) return null;
  return { to: handOff, publish: (data: string, attributes: Readonly<Record<string, string>>) => publish(topic, data, attributes), files: jobFiles };
}

/**
 * Portfolio weights in `symbols` order, from an array (already in that order) or an object
 * keyed by symbol. An object must name every symbol (0 leaves one out) and nothing else: a
 * misspelt or forgotten symbol must not silently get weight 0.
 * @throws JobError `invalid_job` naming the key or symbol at fault
 */
export function weightsInSymbolsOrder(weights: readonly number[] | Readonly<Record<string, number>>, symbols: readonly string[]): number[] {
  const k = symbols.length;
  if (Array.isArray(weights)) {
    if (weights.length !== k) {
      throw new JobError('invalid_job', `params.weights has ${weights.length} entries but symbols has ${k}; give one weight per symbol, in symbols order, or an object keyed by symbol.`);
    }
    return [...weights];
  }
  const keyed = weights as Readonly<Record<string, number>>;
  const known = new Set(symbols);
  const unknown = Object.keys(keyed).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new JobError('invalid_job', `params.weights has a weight for ${unknown.map((u) => JSON.stringify(u)).join(', ')}, which is not among symbols (${symbols.join(', ')}).`);
  }
  const missing = symbols.filter((s) => !Object.prototype.hasOwnProperty.call(keyed, s));
  if (missing.length > 0) {
    throw new JobError('invalid_job', `params.weights has no weight for ${missing.join(', ')}; give every symbol a weight (0 to leave one out).`);
  }
  return symbols.map((s) => keyed[s]!);
}

/** Values by asset name, in the assets' order. */
function byName(names: readonly string[], values: readonly number[]): Record<string, number> {
  return Object.fromEntries(names.map((n, a) => [n, values[a]]));
}

function isUnitWeight(weights: readonly number[] | Readonly<Record<string, number>>): boolean {
  const values = Array.isArray(weights) ? weights : Object.values(weights);
  return values.length === 1 && values[0] === 1;
}

/** The deployed `montecarlo` model. */
export const montecarloModel: ModelDefinition<MonteCarloParams> = createMontecarloModel();
