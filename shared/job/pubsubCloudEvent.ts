import { randomUUID } from 'node:crypto';
import type { CloudEventV1 } from 'cloudevents';

export const MESSAGE_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

/**
 * A Pub/Sub `messagePublished` CloudEvent carrying `body` as its message, the way
 * Eventarc delivers a published job to a function: the plain CloudEvents 1.0 structure the
 * functions-framework hands a handler (the SDK's class validates with a JSON-schema engine
 * that would add tens of milliseconds to every command-line run).
 */
export function pubsubCloudEvent(body: string, topic: string, project = 'local-project'): CloudEventV1<unknown> {
  const messageId = randomUUID();
  const publishTime = new Date().toISOString();
  return {
    specversion: '1.0',
    id: messageId,
    type: MESSAGE_PUBLISHED,
    source: `//pubsub.googleapis.com/projects/${project}/topics/${topic}`,
    time: publishTime,
    datacontenttype: 'application/json',
    data: {
      message: { data: Buffer.from(body, 'utf8').toString('base64'), messageId, publishTime, attributes: {} },
      subscription: `projects/${project}/subscriptions/${topic}-local`,
    },
  };
}
