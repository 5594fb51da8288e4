import { createHash, randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { EventPublisher } from '../events/eventPublisher.js';
import { jobEventOf } from '../events/jobEvent.js';
import type { Logger } from '../log.js';
import type { PriceSource } from '../prices/priceSource.js';
import type { Publisher } from '../messaging/publisher.js';
import type { ObjectStore } from '../results/objectStore.js';
import type { SecretSource } from '../secrets/secretSource.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { jobObjects, refusalObject, resultBody, resultJson, withResultText, type CompletedDocument, type FailedDocument, type JobObjects, type ResultDocument, type StatusDocument } from './documents.js';
import { parseJob, salvageJobId } from './envelope.js';
import { JobError, TransientError } from './errors.js';
import { FINAL_ERROR_CODES, isFinal } from './finality.js';
import { claimJob, releaseUnheldClaim, type HeldClaim } from './jobClaim.js';
import { identityOnThread } from './identityThread.js';
import { holdsPresented } from './presentedValue.js';
import { differentJobMessage, jobIdentity, jobIdentityBody, parseJobIdentity, unvalidatedJobIdentity, type JobIdentity } from './jobDigest.js';
import { jobRunRow, metricRows } from './jobRows.js';
import { jobFolderFiles } from './jobFiles.js';
import { jobReportHtml } from './report.js';
import type { Job, Metric, ModelDefinition, ModelName, ModelOutput } from './model.js';
import { progressReporter } from './progress.js';
import { decodePubsubEvent, type DecodedMessage } from './pubsubEvent.js';
import { commitResult } from './resultCommit.js';
import { handOffRun, HandOffDone, resumableHandOff } from './handedOffRun.js';
import { StatusWriter } from './statusWriter.js';

/** Everything a job run touches, chosen from configuration at start-up. */
export interface JobServices {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly prices: PriceSource;
  readonly secrets: SecretSource;
  readonly config: Config;
  readonly log: Logger;
  /**
   * How long a run's claim keeps other deliveries off a job without being renewed. A
   * heartbeat renews it every quarter lease while the job runs, so this is also how soon
   * after a crash a redelivery can take the job over.
   */
  readonly leaseMs: number;
  /** Where a finished job is announced (`job-events`); none in some tests. */
  readonly events?: EventPublisher;
  readonly now?: () => Date;
  /** Publishing to Pub/Sub, when the configuration names a topic a model publishes to (Monte Carlo shards). */
  readonly publisher?: Publisher;
}

/** The CloudEvent fields the runner reads. */
export interface IncomingEvent {
  readonly id?: string;
  readonly time?: string;
  readonly data?: unknown;
}

/** How a delivery ended: what the push answer acknowledges (the result itself stays in the bucket). */
export interface JobOutcome {
  readonly job_id: string | null;
  /** `running`: the job was handed off to the model's tasks (Monte Carlo shards), one of which commits it. */
  readonly status: 'completed' | 'failed' | 'running';
  /** The object holding this delivery's answer: the job's result document, or a refusal (not yet written while `running`). */
  readonly resultObject: string;
  /** True when the job already had its final result and this delivery only acknowledged it. */
  readonly duplicate: boolean;
}

const JSON_TYPE = 'application/json';
const HTML_TYPE = 'text/html; charset=utf-8';

/**
 * Runs one delivery of a job, from CloudEvent to stored result:
 * decode and validate, answer from the stored result if the job_id already has a final one
 * (or refuse the delivery if that result is of a different job), claim the job, bind the
 * job_id to this job (`job.json`), compute, write the chart and metrics, commit
 * `result.json` (the commit point: exactly one final result per job), then the warehouse
 * rows and the final status.
 *
 * Returns how the delivery ended (the documents stay in the bucket: a duplicate delivery
 * of a finished job reads none of its result). A bad job or a model's domain error ends
 * as a `failed` document; a fault that may pass (storage, warehouse, vendor), including one
 * while a rejection is recorded, is thrown, so that Pub/Sub redelivers the message.
 */
export async function runJobEvent<P>(model: ModelDefinition<P>, event: IncomingEvent, services: JobServices): Promise<JobOutcome> {
  const now = services.now ?? (() => new Date());
  const startedAt = now();
  const clock = performance.now();
  const log = services.log.child({ model: model.name, event_id: event.id });
  // What names this delivery's refusal or rejection. Taken now, so that no closure below keeps
  // the event, and with it the message (15 MB for a large batch), alive while the job runs.
  const messageKey = event.id ?? messageIdOf(event.data) ?? digest(event.data);

  let message: DecodedMessage;
  try {
    message = decodePubsubEvent(event.data, event.time);
  } catch (error) {
    // Decoding touches nothing that may pass: an unexpected error here is a bug to record, not to retry.
    return await rejectUnidentified(asRejection(error, 'decoding the message'));
  }
  const jobId = salvageJobId(message.document);
  // A large job's digest starts on a helper thread now, while this one validates and runs it;
  // not for options already read into columns, whose text this thread writes faster than the
  // helper would parse them again.
  const digestThread = jobId !== undefined && !holdsPresented(message.document) ? identityOnThread(model.name, message.source, message.publishTime) : null;
  const { job, rejection } = validate(message);
  if (!job) digestThread?.cancel();
  if (jobId === undefined) return await rejectUnidentified(rejection ?? new JobError('invalid_job', 'job_id: is missing.'));

  const boundJobId: string = jobId;
  const objects = jobObjects(model.name, { jobId });
  // The job's identity: needed before the commit (job.json), or at once if the job_id already
  // has a result. Taken when first asked for: a valid job's once its run is under way (below),
  // so that a large job's digest (~0.1-0.2 s of this thread) does not hold up the run's start.
  // A failure is met where it is awaited (job.json's write, a stored result's check).
  let identityTaken: Promise<JobIdentity> | undefined;
  const identity = (): Promise<JobIdentity> =>
    (identityTaken ??= job
      ? (digestThread?.identity(model.name, job) ?? new Promise<JobIdentity>((resolve) => resolve(jobIdentity(model.name, job))))
      : new Promise<JobIdentity>((resolve) => resolve(unvalidatedJobIdentity(model.name, jobId, message.document))));
  const jobLog = log.child({ job_id: jobId });
  const stored = await storedAnswer();
  if (stored) return stored;

  // This run's id, written into its claim: how it recognises the claim as its own after a
  // write whose reply was lost, and releases it whatever happens next.
  const runId = randomUUID();
  const status = new StatusWriter(services.store, objects.status, { log: jobLog });
  let claim: HeldClaim | null = null;
  let resultStands = false;
  // The write of job.json, awaited before the commit and before the claim is released.
  let binding: Promise<void> | undefined;
  try {
    claim = await claimJob(services.store, objects.claim, services.leaseMs, now, jobLog, runId);
    if (!claim) {
      throw new TransientError(`Job ${jobId} is being run by another delivery; this one will be retried.`);
    }
    // Another delivery may have committed between our first look and our claim.
    const settled = await storedAnswer();
    resultStands = settled !== null; // a final result (or a refusal, which answers from one)
    if (settled) return settled;
    // Under the claim, this run alone writes job.json and result.json (see README "A job_id names one job").
    const bind = () => identity().then((bound) => services.store.put(objects.job, jobIdentityBody(bound), JSON_TYPE));
    if (!job) {
      const error = rejection ?? new JobError('internal', 'Internal error: the job neither validated nor was rejected.');
      await (binding = bind());
      return await commit({ job_id: jobId, model: model.name, status: 'failed', ...timingSoFar(), error: { code: error.code, message: error.message } }, []);
    }

    const running: StatusDocument = { job_id: job.job_id, model: model.name, status: 'running', started_at: startedAt.toISOString() };
    await status.start(running);
    // Every ~10% at most; the StatusWriter coalesces further to the store's update rate.
    const progress = progressReporter(async (fields) => status.offer({ ...running, ...fields }), { log: jobLog, now });
    jobLog.info('Job started.', { symbols: job.symbols, start: job.start, end: job.end, run_id: runId });

    // A model with tasks of its own may have handed this run off already (its message delivered again).
    const handedOff = model.tasks ? await resumableHandOff(services.store, objects) : null;
    // job.json is written while the job runs (it only has to be stored before the commit), from
    // the next turn of the event loop: after the run's first wait (a large Black-Scholes batch
    // waits once its worker is valuing, which then takes more of the batch while this thread digests).
    binding = new Promise<void>((resolve) => setImmediate(resolve)).then(bind);
    binding.catch(() => undefined); // its failure is met where it is awaited
    let output: ModelOutput | undefined;
    let failure: FailedDocument['error'] | undefined;
    try {
      const produced = await model.run(job, {
        history: (symbols) => services.prices.histories(symbols, job.start, job.end),
        log: jobLog,
        config: services.config,
        warehouse: services.warehouse,
        secrets: services.secrets,
        store: services.store,
        progress: progress.report,
        jobFiles: jobFolderFiles(services.store, model.name, job.job_id),
        ...(services.publisher && { publish: services.publisher.publish.bind(services.publisher) }),
        handOff: async (run) => {
          await progress.close();
          await binding; // the run is handed off bound to its job
          return handOffRun(run, { store: services.store, objects, jobId: job.job_id, model: model.name, runId, startedAt: startedAt.toISOString(), previous: handedOff, status, log: jobLog });
        },
        ...(handedOff && { resumePlan: handedOff.plan }),
      });
      await storeOutputArtifacts(services.store, objects, produced);
      output = produced;
    } catch (error) {
      // Handed off: the job is running on the model's tasks, one of which will commit it.
      if (error instanceof HandOffDone) return { job_id: job.job_id, status: 'running', resultObject: objects.result, duplicate: false };
      if (error instanceof TransientError) throw error;
      // A JobError: the model's domain error, or a permanent cloud error (code internal, the service's message).
      if (error instanceof JobError) failure = { code: error.code, message: error.message };
      else {
        jobLog.error('The model failed unexpectedly.', { error, stack: (error as Error).stack });
        failure = { code: 'internal', message: `Internal error in the ${model.name} model: ${(error as Error).message}` };
      }
    } finally {
      // No progress write may land after the final status.
      await progress.close();
    }
    const timing = { started_at: startedAt.toISOString(), finished_at: now().toISOString(), duration_ms: round(performance.now() - clock) };
    const { document, metrics } = await recordRunDocument(services.store, model.name, job.job_id, objects, timing, output ? { output } : { failure: failure! });
    await binding;
    return await commit(document, metrics);
  } finally {
    // No write under this run's claim may land after the claim is released.
    await binding?.catch(() => undefined);
    await (claim ? claim.release(resultStands) : releaseUnheldClaim(services.store, objects.claim, runId)).catch((error: unknown) => {
      jobLog.warn('Could not release the job claim; it expires by itself.', { error });
    });
  }

  /** Commits the document (the commit point), then its rows and final status; the winner's answer if another delivery committed first. */
  async function commit(document: ResultDocument, metrics: readonly Metric[]): Promise<JobOutcome> {
    // The store resolves an ambiguous write (a retried upload whose first attempt was stored)
    // by its own write id: false here means another delivery's final result is there.
    const committed = await commitResult(services.store, objects, resultBody(document));
    // A final result guards the job from here on (an `internal` failure does not: a re-run needs the claim free).
    resultStands = !committed || isFinal(document);
    if (!committed) {
      jobLog.warn('Another delivery committed this job_id first; its result stands.');
      const winner = await storedAnswer();
      if (winner) return winner;
      throw new TransientError(`Job ${jobId}: result.json exists but could not be read.`);
    }
    await finish(document, metrics, objects, services, status);
    logOutcome(jobLog, document);
    return { job_id: document.job_id, status: document.status, resultObject: objects.result, duplicate: false };
  }

  /** The validated job, or why it is not one. */
  function validate(decoded: DecodedMessage): { job?: Job<P>; rejection?: JobError } {
    try {
      return { job: parseJob(decoded.document, model, decoded.publishTime.toISOString().slice(0, 10), decoded.source) };
    } catch (error) {
      return { rejection: asRejection(error, 'validating the job') };
    }
  }

  /**
   * The answer a final stored result gives this delivery: that result if it is of this
   * job, else a refusal; null when the job_id has no final result (none, or an internal
   * failure, which does not consume it).
   */
  async function storedAnswer(): Promise<JobOutcome | null> {
    const stored = await storedResult(services.store, objects);
    if (!stored) return null;
    if (!stored.final) {
      jobLog.info('The job_id has an internal failure, which does not consume it: running the job.', { error_code: 'internal' });
      return null;
    }
    const bound = await services.store.get(objects.job);
    const boundIdentity = bound ? parseJobIdentity(bound.body) : null;
    const offered = boundIdentity ? await identity() : null;
    // A result committed before job.json existed has no recorded job: it is taken to be this one.
    if (boundIdentity && offered && boundIdentity.digest !== offered.digest) {
      const refusal: FailedDocument = {
        job_id: offered.job_id,
        model: model.name,
        status: 'failed',
        ...timingSoFar(),
        error: { code: 'invalid_job', message: differentJobMessage(boundIdentity, offered) },
      };
      // Recorded apart from the job's own objects, which stay as they are.
      const refused = refusalObject(model.name, offered.job_id, messageKey);
      await services.store.put(refused, resultJson(refusal), JSON_TYPE);
      logOutcome(jobLog, refusal);
      return { job_id: offered.job_id, status: 'failed', resultObject: refused, duplicate: false };
    }
    jobLog.info('Job already has a result: this delivery is a duplicate and is acknowledged without recomputing.', { status: stored.status });
    if (stored.unfinished) await finishInterrupted(stored.unfinished, objects, services, jobLog);
    return { job_id: boundJobId, status: stored.status, resultObject: objects.result, duplicate: true };
  }

  /** A message with no usable job_id, filed under `_rejected/<message id>`. */
  async function rejectUnidentified(error: JobError): Promise<JobOutcome> {
    const rejected = jobObjects(model.name, { messageId: messageKey });
    const document: FailedDocument = { job_id: null, model: model.name, status: 'failed', ...timingSoFar(), error: { code: error.code, message: error.message } };
    const outcome: JobOutcome = { job_id: null, status: 'failed', resultObject: rejected.result, duplicate: false };
    // Already recorded by an earlier delivery of this message: acknowledged as it is.
    if (!(await commitResult(services.store, rejected, resultJson(document)))) return { ...outcome, duplicate: true };
    await finish(document, [], rejected, services);
    logOutcome(log.child({ job_id: null }), document);
    return outcome;
  }

  function timingSoFar(): { started_at: string; finished_at: string; duration_ms: number } {
    return { started_at: startedAt.toISOString(), finished_at: now().toISOString(), duration_ms: round(performance.now() - clock) };
  }
}

/** What a run produced: the model's output, or why the job failed. */
export type RunProduct = { readonly output: ModelOutput } | { readonly failure: FailedDocument['error'] };

/** Writes a produced output's chart and metrics (before its document: report.html embeds the chart). */
export async function storeOutputArtifacts(store: ObjectStore, objects: JobObjects, output: ModelOutput): Promise<void> {
  await Promise.all([
    output.chart !== undefined ? store.put(objects.chart, output.chart, 'image/svg+xml') : undefined,
    store.put(metricsObject(objects), JSON.stringify(output.metrics), JSON_TYPE),
  ]);
}

/**
 * A run's result document and report.html: what the commit then commits. Every run's path
 * to its commit goes through here, the job's own delivery and a handed-off run's last task
 * alike (handedOffCommit.ts).
 */
export async function recordRunDocument(
  store: ObjectStore,
  model: ModelName,
  jobId: string,
  objects: JobObjects,
  timing: { started_at: string; finished_at: string; duration_ms: number },
  product: RunProduct,
): Promise<{ document: ResultDocument; metrics: readonly Metric[] }> {
  if ('failure' in product) {
    const document: FailedDocument = { job_id: jobId, model, status: 'failed', ...timing, error: product.failure };
    await store.put(objects.report, jobReportHtml(document, undefined, []), HTML_TYPE);
    return { document, metrics: [] };
  }
  const { output } = product;
  const document: CompletedDocument = {
    job_id: jobId,
    model,
    status: 'completed',
    ...timing,
    inputs: output.inputs,
    result: output.result,
    artifacts: {
      result: store.uri(objects.result),
      ...(output.chart !== undefined ? { chart: store.uri(objects.chart) } : {}),
      report: store.uri(objects.report),
    },
  };
  if (output.resultText !== undefined) withResultText(document, output.resultText);
  await store.put(objects.report, jobReportHtml(document, output.chart, output.metrics), HTML_TYPE);
  return { document, metrics: output.metrics };
}

/** A validation or decoding error as a job's failure: an unexpected one is `internal`. */
function asRejection(error: unknown, during: string): JobError {
  return error instanceof JobError ? error : new JobError('internal', `Internal error while ${during}: ${(error as Error).message}`);
}

/**
 * Rows and final status: everything after the commit point, safe to repeat. A permanent
 * warehouse error here is thrown like a transient one: the result stands, and the message
 * goes to the dead-letter topic, from which it can be replayed once the table is fixed.
 */
export async function finish(document: ResultDocument, metrics: readonly Metric[], objects: JobObjects, services: JobServices, status?: StatusWriter): Promise<void> {
  await Promise.all([
    services.warehouse.insertRows('job_runs', [jobRunRow(document, objects.rejectedMessageId)]),
    document.status === 'completed' && metrics.length > 0 ? services.warehouse.insertRows('model_metrics', metricRows(document, metrics)) : undefined,
  ]);
  // After the rows and before the final status: a crash between the two leaves the status
  // `running`, so the redelivery publishes again, the same event (it is made from the
  // committed document only), and subscribers key on job_id.
  await services.events?.publish(jobEventOf(document, services.store.uri(objects.result)));
  const final: StatusDocument = {
    job_id: document.job_id,
    model: document.model,
    status: document.status,
    started_at: document.started_at,
    finished_at: document.finished_at,
    duration_ms: document.duration_ms,
    ...(document.status === 'failed' ? { error: document.error } : {}),
  };
  await (status ?? new StatusWriter(services.store, objects.status)).write(final);
}

/** A crash between the commit and the final status leaves status `running`: finish the job's rows and status now. */
export async function finishInterrupted(existing: ResultDocument, objects: JobObjects, services: JobServices, log: Logger): Promise<void> {
  const storedMetrics = existing.status === 'completed' ? await services.store.get(metricsObject(objects)) : null;
  const metrics = storedMetrics ? (JSON.parse(storedMetrics.body) as Metric[]) : [];
  log.warn('The job was committed but not finished (a crash after the commit): writing its rows and status now.');
  await finish(existing, metrics, objects, services);
}

/** What a job's stored result is, when it has one. */
interface StoredResult {
  readonly status: 'completed' | 'failed';
  /** Whether it consumes the job_id (see finality.ts). */
  readonly final: boolean;
  /** The document, read only when its rows and status were not written (a crash after the commit). */
  readonly unfinished?: ResultDocument;
}

/**
 * The job's stored result in O(1): whether `result.json` exists (metadata only), then the
 * small `status.json`, which repeats its status and error code once the job is finished.
 * Only a result whose status was not written yet (a crash after the commit, a run in
 * progress over an `internal` failure) is read itself.
 */
async function storedResult(store: ObjectStore, objects: JobObjects): Promise<StoredResult | null> {
  if (!(await store.exists(objects.result))) return null;
  const statusObject = await store.get(objects.status);
  const status = statusObject ? (JSON.parse(statusObject.body) as StatusDocument) : null;
  if (status && status.status !== 'running' && status.dead_lettered !== true) {
    const final = status.status === 'completed' || (status.error !== undefined && FINAL_ERROR_CODES.has(status.error.code));
    return { status: status.status, final };
  }
  const existing = await readResult(store, objects);
  if (!existing) return null;
  return { status: existing.status, final: isFinal(existing), unfinished: existing };
}

export async function readResult(store: ObjectStore, objects: JobObjects): Promise<ResultDocument | null> {
  const stored = await store.get(objects.result);
  return stored ? (JSON.parse(stored.body) as ResultDocument) : null;
}

function metricsObject(objects: JobObjects): string {
  return objects.result.replace(/result\.json$/, 'metrics.json');
}

function logOutcome(log: Logger, document: ResultDocument): void {
  if (document.status === 'completed') log.info('Job completed.', { status: 'completed', duration_ms: document.duration_ms });
  else log.warn(`Job failed: ${document.error.message}`, { status: 'failed', error_code: document.error.code, duration_ms: document.duration_ms });
}

/** The Pub/Sub message id inside a push body, when the event itself carries no id. */
function messageIdOf(data: unknown): string | undefined {
  const id = (data as { message?: { messageId?: unknown } } | null | undefined)?.message?.messageId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function digest(data: unknown): string {
  return createHash('sha256').update(JSON.stringify(data ?? null)).digest('hex').slice(0, 32);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
