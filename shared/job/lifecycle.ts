import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { PriceSource } from '../prices/priceSource.js';
import type { ObjectStore } from '../results/objectStore.js';
import type { SecretSource } from '../secrets/secretSource.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { jobObjects, resultJson, type CompletedDocument, type FailedDocument, type JobObjects, type ResultDocument, type StatusDocument } from './documents.js';
import { parseJob, salvageJobId } from './envelope.js';
import { JobError, TransientError } from './errors.js';
import { claimJob } from './jobClaim.js';
import { jobRunRow, metricRows } from './jobRows.js';
import type { Job, Metric, ModelDefinition, ModelOutput } from './model.js';
import { decodePubsubEvent } from './pubsubEvent.js';

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
  readonly now?: () => Date;
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
  readonly status: 'completed' | 'failed';
  /** The object holding the job's result document. */
  readonly resultObject: string;
  /** True when the job was already finished and this delivery only acknowledged it. */
  readonly duplicate: boolean;
}

const JSON_TYPE = 'application/json';

/** A message that decoded into a valid job, or the rejection to record for it. */
type Received<P> =
  | { readonly ok: true; readonly job: Job<P>; readonly objects: JobObjects }
  | { readonly ok: false; readonly rejection: JobError; readonly jobId: string | null; readonly objects: JobObjects };

/**
 * Runs one delivery of a job, from CloudEvent to stored result:
 * decode and validate, skip if the job already has a result, claim it, compute, write the
 * chart and metrics, commit `result.json` with a create-only write (the commit point:
 * exactly one per job), then the warehouse rows and the final status.
 *
 * Returns how the job ended. A bad job or a model's domain error ends as a `failed`
 * document; a fault that may pass (storage, warehouse, vendor), including one while a
 * rejection is recorded, is thrown, so that Pub/Sub redelivers the message.
 */
export async function runJobEvent<P>(model: ModelDefinition<P>, event: IncomingEvent, services: JobServices): Promise<JobOutcome> {
  const now = services.now ?? (() => new Date());
  const startedAt = now();
  const clock = performance.now();
  const log = services.log.child({ model: model.name, event_id: event.id });
  const timing = () => ({ started_at: startedAt.toISOString(), finished_at: now().toISOString(), duration_ms: round(performance.now() - clock) });

  const received = receiveJob(model, event);
  if (!received.ok) return recordRejection(model, received, timing(), services, log);
  const { job, objects } = received;
  const jobLog = log.child({ job_id: job.job_id });

  if (await services.store.exists(objects.result)) return acknowledgeDuplicate(job.job_id, objects, services, jobLog);

  const claim = await claimJob(services.store, objects.claim, services.leaseMs, now, jobLog);
  if (!claim) throw new TransientError(`Job ${job.job_id} is being run by another delivery; this one will be retried.`);
  try {
    await writeStatus(services.store, objects, { job_id: job.job_id, model: model.name, status: 'running', started_at: startedAt.toISOString() });
    jobLog.info('Job started.', { symbols: job.symbols, start: job.start, end: job.end, run_id: claim.runId });
    const ran = await runModel(model, job, services, jobLog);
    const { document, metrics } = await storeArtifacts(model, job, ran, objects, timing(), services);
    const committed = await services.store.createOnly(objects.result, resultJson(document), JSON_TYPE);
    if (committed === null) {
      jobLog.warn('Another delivery committed this job first; its result stands.');
      return acknowledgeDuplicate(job.job_id, objects, services, jobLog);
    }
    await finish(document, metrics, objects, services);
    logOutcome(jobLog, document);
    return { job_id: job.job_id, status: document.status, resultObject: objects.result, duplicate: false };
  } finally {
    await claim.release();
  }
}

/** Step 1: decode and validate. Touches no storage, so nothing here is transient. */
function receiveJob<P>(model: ModelDefinition<P>, event: IncomingEvent): Received<P> {
  const byMessage = () => jobObjects(model.name, { messageId: event.id ?? messageIdOf(event.data) ?? digest(event.data) });
  let message: ReturnType<typeof decodePubsubEvent>;
  try {
    message = decodePubsubEvent(event.data, event.time);
  } catch (error) {
    return { ok: false, rejection: asRejection(error, 'decoding the message'), jobId: null, objects: byMessage() };
  }
  const jobId = salvageJobId(message.document) ?? null;
  const objects = jobId !== null ? jobObjects(model.name, { jobId }) : byMessage();
  try {
    return { ok: true, job: parseJob(message.document, model, message.publishTime.toISOString().slice(0, 10)), objects };
  } catch (error) {
    return { ok: false, rejection: asRejection(error, 'validating the job'), jobId, objects };
  }
}

/** A bug in decoding or validation is recorded as `internal` rather than retried: it would fail the same way again. */
function asRejection(error: unknown, doing: string): JobError {
  return error instanceof JobError ? error : new JobError('internal', `Internal error while ${doing}: ${(error as Error).message}`);
}

/** Records a rejected message as a failed result, once; storage faults propagate (redelivery). */
async function recordRejection<P>(
  model: ModelDefinition<P>,
  received: Extract<Received<P>, { ok: false }>,
  timing: Timing,
  services: JobServices,
  log: Logger,
): Promise<JobOutcome> {
  const { rejection, jobId, objects } = received;
  const document: FailedDocument = { job_id: jobId, model: model.name, status: 'failed', ...timing, error: { code: rejection.code, message: rejection.message } };
  const committed = await services.store.createOnly(objects.result, resultJson(document), JSON_TYPE);
  if (committed === null) return acknowledgeDuplicate(jobId, objects, services, log);
  await finish(document, [], objects, services);
  logOutcome(log.child({ job_id: jobId }), document);
  return { job_id: jobId, status: 'failed', resultObject: objects.result, duplicate: false };
}

type Timing = Pick<ResultDocument, 'started_at' | 'finished_at' | 'duration_ms'>;

/** Step 4: the model. Its domain errors and bugs are values; transient faults propagate. */
async function runModel<P>(model: ModelDefinition<P>, job: Job<P>, services: JobServices, log: Logger): Promise<ModelOutput | FailedDocument['error']> {
  try {
    return await model.run(job, {
      history: (symbols) => services.prices.histories(symbols, job.start, job.end),
      log,
      config: services.config,
      warehouse: services.warehouse,
      secrets: services.secrets,
    });
  } catch (error) {
    if (error instanceof TransientError) throw error;
    if (error instanceof JobError) return { code: error.code, message: error.message };
    log.error('The model failed unexpectedly.', { error, stack: (error as Error).stack });
    return { code: 'internal', message: `Internal error in the ${model.name} model: ${(error as Error).message}` };
  }
}

/** Step 5, before the commit: the chart and metrics of a completed job, and its result document. */
async function storeArtifacts<P>(
  model: ModelDefinition<P>,
  job: Job<P>,
  ran: ModelOutput | FailedDocument['error'],
  objects: JobObjects,
  timing: Timing,
  services: JobServices,
): Promise<{ document: ResultDocument; metrics: readonly Metric[] }> {
  if (!('result' in ran)) return { document: { job_id: job.job_id, model: model.name, status: 'failed', ...timing, error: ran }, metrics: [] };
  await Promise.all([
    ran.chart !== undefined ? services.store.put(objects.chart, ran.chart, 'image/svg+xml') : undefined,
    services.store.put(metricsObject(objects), JSON.stringify(ran.metrics), JSON_TYPE),
  ]);
  const document: CompletedDocument = {
    job_id: job.job_id,
    model: model.name,
    status: 'completed',
    ...timing,
    inputs: ran.inputs,
    result: ran.result,
    artifacts: {
      result: services.store.uri(objects.result),
      ...(ran.chart !== undefined ? { chart: services.store.uri(objects.chart) } : {}),
    },
  };
  return { document, metrics: ran.metrics };
}

/**
 * Step 2: the job already has a result. Reads only the small `status.json`; the result
 * document itself is read only if a crash interrupted the steps after the commit, so a
 * duplicate delivery of a finished job costs the same whatever the job's size.
 */
async function acknowledgeDuplicate(jobId: string | null, objects: JobObjects, services: JobServices, log: Logger): Promise<JobOutcome> {
  const stored = await services.store.get(objects.status);
  const status = stored ? (JSON.parse(stored.body) as StatusDocument) : null;
  if (status && status.status !== 'running' && status.dead_lettered !== true) {
    log.info('Job already has a result: this delivery is a duplicate and is acknowledged without recomputing.', { status: status.status });
    return { job_id: jobId, status: status.status, resultObject: objects.result, duplicate: true };
  }
  const result = await services.store.get(objects.result);
  if (!result) throw new TransientError(`Job ${jobId ?? '(rejected message)'}: result.json exists but could not be read.`);
  const document = JSON.parse(result.body) as ResultDocument;
  const storedMetrics = document.status === 'completed' ? await services.store.get(metricsObject(objects)) : null;
  const metrics = storedMetrics ? (JSON.parse(storedMetrics.body) as Metric[]) : [];
  log.warn('The job was committed but not finished (a crash after the commit): writing its rows and status now.');
  await finish(document, metrics, objects, services);
  return { job_id: jobId, status: document.status, resultObject: objects.result, duplicate: true };
}

/** Rows and final status: everything after the commit point, safe to repeat. */
async function finish(document: ResultDocument, metrics: readonly Metric[], objects: JobObjects, services: JobServices): Promise<void> {
  await Promise.all([
    services.warehouse.insertRows('job_runs', [jobRunRow(document, objects.rejectedMessageId)]),
    document.status === 'completed' && metrics.length > 0 ? services.warehouse.insertRows('model_metrics', metricRows(document, metrics)) : undefined,
  ]);
  const status: StatusDocument = {
    job_id: document.job_id,
    model: document.model,
    status: document.status,
    started_at: document.started_at,
    finished_at: document.finished_at,
    duration_ms: document.duration_ms,
    ...(document.status === 'failed' ? { error: document.error } : {}),
  };
  await writeStatus(services.store, objects, status);
}

async function writeStatus(store: ObjectStore, objects: JobObjects, status: StatusDocument): Promise<void> {
  await store.put(objects.status, JSON.stringify(status, null, 2) + '\n', JSON_TYPE);
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
