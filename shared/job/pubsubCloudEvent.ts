import { randomUUID } from 'node:crypto';
import type { CloudEventV1 } from 'cloudevents';
import { recordParsedBody } from './pubsubEvent.js';

export const MESSAGE_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

/**
 * A Pub/Sub `messagePublished` CloudEvent carrying `body` as its message, the way
 * Eventarc delivers a published job to a function: the plain CloudEvents 1.0 structure the
 * functions-framework hands a handler (the SDK's class validates with a JSON-schema engine
 * that would add tens of milliseconds to every command-line run). `body` is the job's JSON, as
 * text or as the UTF-8 bytes of a file (encoded as they are, without a round trip through a string).
 * @param parsed the body already parsed (`JSON.parse`), which the handler then takes instead of
 *   parsing the message again
 */
export function pubsubCloudEvent(body: string | Uint8Array, topic: string, project = 'local-project', parsed?: { readonly document: unknown }): CloudEventV1<unknown> {
  const messageId = randomUUID();
  const publishTime = new Date().toISOString();
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const message = base64Data(bytes);
  const data = { message: Object.assign(message, { messageId, publishTime, attributes: {} }), subscription: `projects/${project}/subscriptions/${topic}-local` };
  if (parsed) recordParsedBody(data, bytes, parsed.document, publishTime);
  return {
    specversion: '1.0',
    id: messageId,
    type: MESSAGE_PUBLISHED,
    source: `//pubsub.googleapis.com/projects/${project}/topics/${topic}`,
    time: publishTime,
    datacontenttype: 'application/json',
    data,
  };
}

/**
 * An object whose `data` is the base64 of `bytes`, made on first read and then kept (an
 * ordinary enumerable property from there on): the message of a 16 MB job, whose base64 the
 * handler does not read, is never encoded (~20 ms and a 21 MB string).
 */
function base64Data(bytes: Buffer): { data: string } {
  return Object.defineProperty({} as { data: string }, 'data', {
    enumerable: true,
    configurable: true,
    get(this: { data: string }): string {
      const text = bytes.toString('base64');
      Object.defineProperty(this, 'data', { value: text, enumerable: true, writable: true, configurable: true });
      return text;
    },
  });
}
