import type { CloudEventV1 } from 'cloudevents';
import { createServices } from '../runtime.js';
import type { ResultDocument } from './documents.js';
import { TransientError } from './errors.js';
import type { JobServices } from './lifecycle.js';
import { runJobEvent } from './lifecycle.js';
import { jobFolderFiles } from './jobFiles.js';
import type { ModelDefinition } from './model.js';

/**
 * The CloudEvent function of a model: runs each delivery through the job lifecycle.
 * Returns normally for every job that ends (completed or failed), so Pub/Sub acks it;
 * throws only transient faults, so Pub/Sub redelivers.
 * @param services how to build the adapters; by default from the environment, once.
 */
export function cloudEventHandler<P>(model: ModelDefinition<P>, services: () => Promise<JobServices> = sharedServices) {
  return async (event: CloudEventV1<unknown>): Promise<ResultDocument | undefined> => {
    const ready = await services();
    // Only the id outlives the call: the message (15 MB for a large batch) is not kept here while the job runs.
    const id = event.id;
    try {
      const task = model.tasks && taskMessage(event.data, model.tasks.kind);
      if (task !== undefined && task !== null && model.tasks) {
        await model.tasks.run(task, {
          jobFiles: (jobId) => jobFolderFiles(ready.store, model.name, jobId),
          log: ready.log.child({ model: model.name, event_id: id }),
          config: ready.config,
        });
        return undefined;
      }
      return await runJobEvent(model, { id, time: event.time, data: event.data }, ready);
    } catch (error) {
      if (error instanceof TransientError) ready.log.warn('Transient fault: the message will be redelivered by Pub/Sub.', { model: model.name, event_id: id, error });
      // A permanent cloud error where the job could not be recorded (its bucket refused it) or
      // after its result was committed (its rows): redelivered until the dead-letter topic keeps it for replay.
      else ready.log.error(`Cloud error that retrying will not fix; the message goes to the dead-letter topic: ${(error as Error).message}`, { model: model.name, event_id: id, error });
      throw error;
    }
  };
}

/** The text of a message whose attribute `kind` is `kind`, or null when the event is not one. */
function taskMessage(data: unknown, kind: string): string | null {
  if (typeof data !== 'object' || data === null) return null;
  const message = (data as { message?: { data?: unknown; attributes?: Record<string, unknown> } }).message;
  if (message?.attributes?.kind !== kind || typeof message.data !== 'string') return null;
  return Buffer.from(message.data, 'base64').toString('utf8');
}

let cached: Promise<JobServices> | undefined;
function sharedServices(): Promise<JobServices> {
  cached ??= createServices().catch((error: unknown) => {
    cached = undefined; // a bad start-up is retried on the next event, not remembered
    throw error;
  });
  return cached;
}
