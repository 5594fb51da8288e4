import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EventPublisher } from './eventPublisher.js';
import { jobEventAttributes, type JobEvent } from './jobEvent.js';

/**
 * `job-events` as a file: one line per event, `{ "attributes": {...}, "data": {...} }`,
 * appended to `<LOCAL_DATA_DIR>/pubsub/job-events.ndjson` (a single write of one line, so
 * lines of concurrent jobs do not interleave).
 */
export class LocalEventPublisher implements EventPublisher {
  constructor(private readonly file: string) {}

  async publish(event: JobEvent): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await fs.appendFile(this.file, JSON.stringify({ attributes: jobEventAttributes(event), data: event }) + '\n');
  }
}
