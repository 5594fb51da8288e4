import type * as z from 'zod';
import type { Logger } from '../log.js';
import type { Config } from '../config.js';
import type { PriceHistory } from '../prices/history.js';
import type { SecretSource } from '../secrets/secretSource.js';
import type { ObjectStore } from '../results/objectStore.js';
import type { Warehouse } from '../warehouse/warehouse.js';

/** A function's name: one of `FUNCTION_NAMES` in `shared/registry.ts`, which is the one list of them. */
export type ModelName = string;

/** The validated envelope of a job (see the job contract); `params` is the model's own. */
export interface Job<P> {
  readonly job_id: string;
  readonly symbols: readonly string[];
  /** Inclusive ISO dates of the price window (defaults documented in the README). */
  readonly start: string;
  readonly end: string;
  readonly params: P;
}

/** One scalar of a result, as a row of the `model_metrics` table. */
export interface Metric {
  readonly metric: string;
  readonly value: number;
  readonly symbol?: string;
}

/** What a model hands back to the job runner. */
export interface ModelOutput {
  /** What the model actually used: calibrated drift, volatility, window, observations. */
  readonly inputs: Record<string, unknown>;
  /** The model-specific result of the contract. */
  readonly result: Record<string, unknown>;
  /** Scalars worth a row in `model_metrics`. */
  readonly metrics: readonly Metric[];
  /** The job's chart, an SVG document (every model but ingest has one). */
  readonly chart?: string;
  /**
   * `JSON.stringify(result)`, when the model wrote it itself (Black-Scholes writes a large
   * batch's on two threads, as UTF-8 chunks): the result document is then written with this
   * text in place of encoding `result` again, and from chunks without ever being one string.
   * The same text, byte for byte.
   */
  readonly resultText?: string | readonly Uint8Array[];
}

/** What a model may ask of the world while it runs. */
export interface ModelContext {
  /**
   * Each symbol's own history in the job's window, in the order asked.
   * Throws JobError `unknown_symbol` naming a symbol with no prices in the window.
   */
  history(symbols: readonly string[]): Promise<PriceHistory[]>;
  readonly log: Logger;
  /** The parsed environment (vendor base URLs, thread counts). */
  readonly config: Config;
  /** The warehouse (ingest loads rows through it). */
  readonly warehouse: Warehouse;
  /** Vendor API keys. */
  readonly secrets: SecretSource;
  /**
   * Objects of the job's own folder (`jobs/<model>/<job_id>/<name>`), for a model that keeps
   * state across deliveries (Monte Carlo shards' partial states). Absent in tests that do
   * not need it.
   */
  readonly jobFiles?: JobFiles;
  /** Publishes a message to a Pub/Sub topic; absent when the configuration names no topic to publish to. */
  readonly publish?: (topic: string, data: string, attributes: Readonly<Record<string, string>>) => Promise<void>;
  /** The artifacts bucket (ingest keeps its staged rows and checkpoints there). */
  readonly store?: ObjectStore;
  /**
   * Reports the share of the work done (0 to 1) into `status.json`, at most every ~10%;
   * `detail` is added beside `progress` (e.g. symbols done and in all).
   */
  readonly progress?: (fraction: number, detail?: Record<string, unknown>) => void;
  /**
   * Hands the job on to the model's own tasks (Monte Carlo shards over Pub/Sub) instead of
   * returning its output: the lifecycle records the run (`hand-off.json`), marks the job
   * `running` with the run's progress, calls `dispatch`, and acknowledges the delivery. It
   * never returns. A task delivery later commits the job through `TaskContext.commitJob`.
   * Absent where a job cannot be handed off.
   */
  readonly handOff?: (run: HandedOffRun) => Promise<never>;
  /**
   * The plan of this job's run that an earlier delivery of its message handed off (the same
   * run, its message delivered again): the model hands off that plan again rather than
   * planning anew (a job without a seed would draw another one).
   */
  readonly resumePlan?: string;
}

/** What a model hands on to its tasks (see ModelContext.handOff). */
export interface HandedOffRun {
  /** The model's name of what it dispatched (a shard split's fingerprint): tasks of another plan never commit this run. */
  readonly plan: string;
  /** `status.json`'s progress now (e.g. shards already stored) and the detail beside it. */
  readonly progress: number;
  readonly detail?: Record<string, unknown>;
  /** Publishes the tasks. Called again by a redelivery of the job's message until one delivery has finished it. */
  dispatch(): Promise<void>;
}

/** Objects under a job's folder, by name relative to it. */
export interface JobFiles {
  /** The names (relative to the folder) of the objects whose names start with `prefix`: one listing. */
  names(prefix: string): Promise<string[]>;
  /** Writes the object unless it exists: true if this call wrote it. */
  createOnly(name: string, body: string): Promise<boolean>;
  /** The object's body, or null. */
  read(name: string): Promise<string | null>;
}

/** A model function: its params schema (zod, strict) and how it runs a validated job. */
export interface ModelDefinition<P> {
  readonly name: ModelName;
  readonly params: z.ZodType<P>;
  /** Whether a job without `symbols` is valid (single-asset Monte Carlo, Black-Scholes with spot and volatility). */
  readonly symbolsOptional: boolean;
  run(job: Job<P>, context: ModelContext): Promise<ModelOutput>;
  /**
   * Messages of the model's own besides jobs, told apart by the message attribute `kind`
   * (Monte Carlo's shard tasks). `run` returns when the message is done with (acknowledged)
   * and throws TransientError for Pub/Sub to redeliver it.
   */
  readonly tasks?: {
    readonly kind: string;
    run(data: string, context: TaskContext): Promise<unknown>;
    /** A task message that reached the dead-letter topic (`attempts` deliveries without an answer): fails its job, or finishes it. */
    deadLettered(data: string, context: TaskContext, attempts: string | undefined): Promise<unknown>;
  };
}

/** What a model's task may use. */
export interface TaskContext {
  /** The folder of job `jobId` of this model. */
  jobFiles(jobId: string): JobFiles;
  readonly log: Logger;
  readonly config: Config;
  /**
   * Commits job `jobId`'s run handed off under `plan` through the job lifecycle's commit
   * (result.json create-only, one job_runs row, the job-events message, the final status),
   * with what `produce` gives (given the run's id); a JobError from `produce` fails the job
   * with it, and a RunContinues (handedOffCommit.ts: it dispatched another round of tasks)
   * commits nothing. Under the job's claim, so of deliveries committing at once one commits
   * and the others find it committed; throws TransientError while another delivery holds
   * the claim.
   * @returns `committed` (this call), `settled` (the run already has its result), `stale` (the job's run is not of this plan), `continued` (produce threw RunContinues)
   */
  commitJob(jobId: string, plan: string, produce: (run: { readonly runId: string }) => Promise<ModelOutput>): Promise<'committed' | 'settled' | 'stale' | 'continued'>;
  /** Publishes a message to a Pub/Sub topic (a model's next round of tasks); absent when the configuration names no topic. */
  readonly publish?: (topic: string, data: string, attributes: Readonly<Record<string, string>>) => Promise<void>;
  /** Offers progress of job `jobId`'s handed-off run to status.json (best effort: never after the final status, never backwards). */
  reportProgress(jobId: string, plan: string, fraction: number, detail: Record<string, unknown>): Promise<void>;
}
