import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';

export const MESSAGE_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

/**
 * A Pub/Sub `messagePublished` CloudEvent carrying `body` as its message, the way
 * Eventarc delivers a published job to a function.
 */
export function pubsubCloudEvent(body: string, topic: string, project = 'local-project'): CloudEvent<unknown> {
  const messageId = randomUUID();
  const publishTime = new Date().toISOString();
  return new CloudEvent({
    id: messageId,
    type: MESSAGE_PUBLISHED,
    source: `//pubsub.googleapis.com/projects/${project}/topics/${topic}`,
    time: publishTime,
    datacontenttype: 'application/json',
    data: {
      message: { data: Buffer.from(body, 'utf8').toString('base64'), messageId, publishTime, attributes: {} },
      subscription: `projects/${project}/subscriptions/${topic}-local`,
    },
  });
}
