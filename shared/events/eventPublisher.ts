import type { JobEvent } from './jobEvent.js';

/**
 * Where finished jobs are announced: the Pub/Sub topic `job-events` (deployed, or the
 * emulator), or a local file. Faults that may pass are thrown as `TransientError`, so the
 * delivery is retried and the event published then.
 */
export interface EventPublisher {
  publish(event: JobEvent): Promise<void>;
}
