import { randomUUID } from 'node:crypto';
import { MESSAGE_PUBLISHED } from '../../shared/job/pubsubCloudEvent.js';

/**
 * POSTs a Pub/Sub `messagePublished` CloudEvent in binary mode, as Eventarc delivers it,
 * with `data` as the event's data. Returns the HTTP status.
 */
export async function postCloudEvent(url: string, data: unknown, options: { id?: string; topic?: string } = {}): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-id': options.id ?? randomUUID(),
      'ce-specversion': '1.0',
      'ce-type': MESSAGE_PUBLISHED,
      'ce-source': `//pubsub.googleapis.com/projects/test/topics/${options.topic ?? 'jobs'}`,
      'ce-time': new Date().toISOString(),
    },
    body: JSON.stringify(data),
  });
  await response.text();
  return response.status;
}

/** The event data of a Pub/Sub message whose body is `job` as JSON (or `raw`, already base64). */
export function pubsubData(job: unknown, messageId: string, raw?: string): unknown {
  const data = raw ?? Buffer.from(JSON.stringify(job), 'utf8').toString('base64');
  return { message: { data, messageId, publishTime: new Date().toISOString() }, subscription: 'projects/test/subscriptions/jobs' };
}

/** Publishes `job` to a function's URL as a Pub/Sub CloudEvent; returns the HTTP status. */
export function publishJob(url: string, job: unknown, topic?: string): Promise<number> {
  const id = randomUUID();
  return postCloudEvent(url, pubsubData(job, id), { id, topic });
}
