import type { CloudEventV1 } from 'cloudevents';
import { logLine, redact } from '../log.js';
import { createServices, preloadAdapters } from '../runtime.js';
import { isDeadLetterEvent, recordDeadLetter } from './deadLetter.js';
import { TransientError } from './errors.js';
import type { IncomingEvent, JobOutcome, JobServices } from './lifecycle.js';
import { runJobEvent } from './lifecycle.js';
import { jobFolderFiles } from './jobFiles.js';
import { commitHandedOffRun, reportHandedOffProgress } from './handedOffCommit.js';
import type { ModelDefinition, ModelName, TaskContext } from './model.js';

/**
 * The CloudEvent function of a model: runs each delivery through the job lifecycle, or,
 * for a message from the model's dead-letter topic, records the job as failed. A model's
 * own task (message attribute `kind`, a Monte Carlo shard) goes to the model's task
 * handler, dead-lettered or not.
 * Resolves with nothing, so the push answer is an empty 204 whatever the job's size (the
 * result lives in the bucket); throws only transient faults, so Pub/Sub redelivers.
 * @param services how to build the adapters; by default from the environment, once.
 */
export function cloudEventHandler<P>(model: ModelDefinition<P>, services: () => Promise<JobServices> = sharedServices) {
  // A deployed function builds its handler as its module loads: the cloud clients start
  // loading now, while the framework starts listening and the first event is on its way.
  if (services === sharedServices) preloadAdapters();
  const handle = jobEventHandler(model, services);
  return async (event: CloudEventV1<unknown>): Promise<void> => {
    await handle(event);
  };
}

/**
 * The same handler, resolving with how the job ended (null for a dead-letter record):
 * for the command line, which prints the stored result.
 */
export function jobEventHandler<P>(model: ModelDefinition<P>, services: () => Promise<JobServices> = sharedServices) {
  return async (event: CloudEventV1<unknown>): Promise<JobOutcome | null> => {
    const incoming = incomingEvent(event);
    try {
      const ready = await services();
      // A model's own task (a Monte Carlo shard), told apart by the message attribute `kind`.
      const task = model.tasks ? taskMessage(event.data, model.tasks.kind) : null;
      const context = task !== null ? taskContext(model.name, ready, event.id) : null;
      if (isDeadLetterEvent(event.source)) {
        if (task !== null && context !== null && model.tasks) await model.tasks.deadLettered(task.data, context, task.deadLetterAttempts);
        else await recordDeadLetter(model, incoming, ready);
        return null;
      }
      if (task !== null && context !== null && model.tasks) {
        await model.tasks.run(task.data, context);
        return null;
      }
      return await runJobEvent(model, incoming, ready);
    } catch (error) {
      throw new RedeliveryRequest(model.name, incoming.id, error);
    }
  };
}

/**
 * What the handler throws for a transient fault. The functions-framework prints a thrown
 * error's `stack` to stderr; this one's stack is the fault's one-line JSON log entry, so a
 * redelivered message logs one line, like every other event.
 */
export class RedeliveryRequest extends Error {
  constructor(model: string, eventId: string | undefined, cause: unknown) {
    // The framework also sends the message as the answer's body outside production: redacted too.
    super(redact(cause instanceof Error ? cause.message : String(cause)), { cause });
    this.name = 'RedeliveryRequest';
    const fields = { model, event_id: eventId, error: cause };
    // A permanent cloud error where the job could not be recorded (its bucket refused it) or
    // after its result was committed (its rows): redelivered until the dead-letter topic keeps it for replay.
    this.stack =
      cause instanceof TransientError
        ? logLine('WARNING', 'Transient fault: the message will be redelivered by Pub/Sub.', fields)
        : logLine('ERROR', `Cloud error that retrying will not fix; the message goes to the dead-letter topic: ${this.message}`, fields);
  }
}

/**
 * The functions-framework turns a push body into a CloudEvent only when `message.data` is
 * non-empty; a message with attributes and no data arrives as the push body itself. Both
 * become the same event here, identified by the message id.
 */
function incomingEvent(event: CloudEventV1<unknown>): IncomingEvent {
  const push = event as unknown as { message?: { messageId?: unknown }; subscription?: unknown };
  if (event.data === undefined && typeof push.message === 'object' && push.message !== null) {
    const id = push.message.messageId;
    return { id: typeof id === 'string' ? id : undefined, data: { message: push.message, subscription: push.subscription } };
  }
  return { id: event.id, time: event.time, data: event.data };
}

let cached: Promise<JobServices> | undefined;
function sharedServices(): Promise<JobServices> {
  cached ??= createServices().catch((error: unknown) => {
    cached = undefined; // a bad start-up is retried on the next event, not remembered
    throw error;
  });
  return cached;
}

/** A task message: its text and, dead-lettered, how many deliveries it had; null when the event is not one of `kind`. */
function taskMessage(data: unknown, kind: string): { data: string; deadLetterAttempts?: string } | null {
  if (typeof data !== 'object' || data === null) return null;
  const message = (data as { message?: { data?: unknown; attributes?: Record<string, unknown> } }).message;
  if (message?.attributes?.kind !== kind || typeof message.data !== 'string') return null;
  const attempts = message.attributes.CloudPubSubDeadLetterSourceDeliveryCount;
  return { data: Buffer.from(message.data, 'base64').toString('utf8'), ...(typeof attempts === 'string' && { deadLetterAttempts: attempts }) };
}

/** What a model's task may use: the job folders, and the lifecycle's commit of a handed-off run. */
function taskContext(model: ModelName, services: JobServices, eventId: string | undefined): TaskContext {
  return {
    jobFiles: (jobId) => jobFolderFiles(services.store, model, jobId),
    log: services.log.child({ model, event_id: eventId }),
    config: services.config,
    ...(services.publisher && { publish: services.publisher.publish.bind(services.publisher) }),
    commitJob: (jobId, plan, produce) => commitHandedOffRun(model, jobId, plan, produce, services),
    reportProgress: (jobId, plan, fraction, detail) => reportHandedOffProgress(model, jobId, plan, fraction, detail, services),
  };
}
