import { describe, expect, it } from 'vitest';
import { pubsubCloudEvent } from '../../shared/job/pubsubCloudEvent.js';
import { decodePubsubEvent } from '../../shared/job/pubsubEvent.js';

interface MessageData {
  message: { data: string; messageId: string; publishTime: string; attributes: Record<string, string> };
}

describe('a Pub/Sub CloudEvent built in this process', () => {
  const job = { job_id: 'lazy-1', params: { strike: 100, note: 'é' } };
  const bytes = Buffer.from(JSON.stringify(job));

  it('carries its body as base64 in message.data, in the fields order Pub/Sub delivers', () => {
    const data = pubsubCloudEvent(bytes, 'jobs-blackscholes').data as MessageData;
    expect(Object.keys(data.message)).toEqual(['data', 'messageId', 'publishTime', 'attributes']);
    expect(data.message.data).toBe(bytes.toString('base64'));
    expect(JSON.parse(JSON.stringify(data)).message.data).toBe(bytes.toString('base64'));
    expect(decodePubsubEvent(data).document).toEqual(job);
  });

  it('with the body already parsed, decodes without encoding the base64, which is still there if read', () => {
    const event = pubsubCloudEvent(bytes, 'jobs-blackscholes', undefined, { document: JSON.parse(bytes.toString('utf8')) as unknown });
    const data = event.data as MessageData;
    const decoded = decodePubsubEvent(data);
    expect(decoded.document).toEqual(job);
    expect(decoded.publishTime.toISOString()).toBe(data.message.publishTime);
    // Decoding left message.data unread: still the accessor that encodes on first read.
    expect(typeof Object.getOwnPropertyDescriptor(data.message, 'data')?.get).toBe('function');
    expect(data.message.data).toBe(bytes.toString('base64'));
    expect(Object.getOwnPropertyDescriptor(data.message, 'data')?.value).toBe(bytes.toString('base64'));
  });
});
