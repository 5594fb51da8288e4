import * as z from 'zod';
import type { StatusDocument } from './documents.js';
import { jobObjects } from './documents.js';
import { salvageJobId } from './envelope.js';
import { JobError } from './errors.js';
import type { IncomingEvent, JobServices } from './lifecycle.js';
import type { ModelDefinition } from './model.js';
import { decodePubsubEvent } from './pubsubEvent.js';

/** Where a dead-letter topic's messages come from: `<function>-dead-letter` (terraform/messaging.tf). */
const DEAD_LETTER_TOPIC = /\/topics\/[^/]+-dead-letter$/;

/** The attributes Pub/Sub adds to a message it dead-letters. */
const deadLetterAttributes = z.object({
  message: z.object({
    attributes: z
      .object({
        CloudPubSubDeadLetterSourceDeliveryCount: z.string().optional(),
        CloudPubSubDeadLetterSourceSubscription: z.string().optional(),
      })
      .optional(),
  }),
});

/**
 * Whether a CloudEvent comes from a dead-letter topic. Its source names the topic of the
 * push endpoint's path (`.../projects/<p>/topics/<fn>-dead-letter`), which only the
 * dead-letter push subscription uses; a replay published to the job topic runs as a job.
 */
export function isDeadLetterEvent(source: string | undefined): boolean {
  return source !== undefined && DEAD_LETTER_TOPIC.test(source);
}

/**
 * Records that a job's message was dead-lettered: Pub/Sub gave up on it after its delivery
 * attempts (transient faults or crashes every time). `status.json` becomes `failed` with the
 * reason and `dead_lettered: true`. No `result.json` is written, so replaying the message
 * from the dead-letter subscription runs the job; a job that has a result is left alone.
 * Storage faults are thrown (the dead-letter subscription redelivers).
 */
export async function recordDeadLetter<P>(model: ModelDefinition<P>, event: IncomingEvent, services: JobServices): Promise<void> {
  const now = services.now ?? (() => new Date());
  const log = services.log.child({ model: model.name, event_id: event.id });
  let jobId: string | undefined;
  try {
    jobId = salvageJobId(decodePubsubEvent(event.data, event.time).document);
  } catch (error) {
    if (!(error instanceof JobError)) throw error;
  }
  const attributes = deadLetterAttributes.safeParse(event.data);
  const fields = attributes.success ? attributes.data.message.attributes : undefined;
  const attempts = fields?.CloudPubSubDeadLetterSourceDeliveryCount;
  const subscription = fields?.CloudPubSubDeadLetterSourceSubscription;
  if (jobId === undefined) {
    log.error('A message without a usable job_id reached the dead-letter topic; it stays in the dead-letter subscription for inspection.', { delivery_attempts: attempts, subscription });
    return;
  }
  const jobLog = log.child({ job_id: jobId });
  const objects = jobObjects(model.name, { jobId });
  if (await services.store.exists(objects.result)) {
    jobLog.warn('A message of a finished job reached the dead-letter topic (its answer was lost); the job keeps its result.', { delivery_attempts: attempts });
    return;
  }
  const previous = await services.store.get(objects.status);
  const startedAt = previous ? (JSON.parse(previous.body) as Partial<StatusDocument>).started_at : undefined;
  const message =
    `The job's message was delivered ${attempts ?? 'the maximum number of'} times without an answer ` +
    `(a transient fault or a crash each time) and was moved to the dead-letter topic; ` +
    `replay it from the dead-letter subscription once the cause is fixed.`;
  const status: StatusDocument = {
    job_id: jobId,
    model: model.name,
    status: 'failed',
    started_at: startedAt ?? now().toISOString(),
    finished_at: now().toISOString(),
    error: { code: 'internal', message },
    dead_lettered: true,
  };
  await services.store.put(objects.status, JSON.stringify(status, null, 2) + '\n', 'application/json');
  jobLog.error(`Job dead-lettered: ${message}`, { status: 'failed', error_code: 'internal', dead_lettered: true, delivery_attempts: attempts, subscription });
}
