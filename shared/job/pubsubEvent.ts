import { isUtf8 } from 'node:buffer';
import * as z from 'zod';
import { JobError } from './errors.js';

/** The part of a `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent's data we read. */
const messagePublishedSchema = z.object({
  message: z.object({
    data: z.string().optional(),
    messageId: z.string().optional(),
    publishTime: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
  }),
});

/** What a Pub/Sub CloudEvent carries, decoded. */
export interface DecodedMessage {
  /** The job document, parsed from JSON (not yet validated). */
  readonly document: unknown;
  /** When the message was published: stable across redeliveries of the same message. */
  readonly publishTime: Date;
  /** The bytes the document was parsed from (UTF-8 JSON): a large job's digest is taken from them on a helper thread. */
  readonly source?: Uint8Array;
}

// One character class and a length check: a pattern with a repeated group backtracks
// through the whole message and overflows the stack on a multi-megabyte job.
const BASE64_CHARACTERS = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes the job out of a Pub/Sub CloudEvent: base64 `message.data`, UTF-8, JSON.
 * Throws JobError `invalid_job` saying which layer is wrong.
 * @param eventTime the CloudEvent's `time`, used when the message has no publishTime.
 */
export function decodePubsubEvent(data: unknown, eventTime?: string): DecodedMessage {
  const recorded = typeof data === 'object' && data !== null ? parsedBodies.get(data) : undefined;
  const { document, publishTime: publishedText, bytes } = recorded ?? parseMessage(data);
  const published = new Date(publishedText ?? eventTime ?? Date.now());
  const publishTime = Number.isNaN(published.getTime()) ? new Date() : published;
  return { document: expandDateTemplates(document, publishTime), publishTime, source: bytes };
}

/** The job and publish time in a messagePublished event's data: JobError `invalid_job` saying which layer is wrong. */
function parseMessage(data: unknown): RecordedMessage {
  const parsed = messagePublishedSchema.safeParse(data);
  if (!parsed.success) {
    throw new JobError('invalid_job', 'The event is not a Pub/Sub messagePublished event: data.message is missing or malformed.');
  }
  const { message } = parsed.data;
  return { ...parseBody(message.data ?? ''), publishTime: message.publishTime };
}

/** What a messagePublished event's data made in this process says, its body already parsed. */
interface RecordedMessage {
  readonly document: Record<string, unknown>;
  readonly publishTime?: string;
  /** The bytes the document was parsed from. */
  readonly bytes: Uint8Array;
}

/**
 * Events built in this process from a body already parsed (the command line parses its job
 * file to tell a usage error): their `data`, and the job that body is. A 16 MB job is then
 * parsed once, not decoded from base64 and parsed again, and its base64 (21 MB) is never
 * made (pubsubCloudEvent writes it only when something reads `message.data`).
 */
const parsedBodies = new WeakMap<object, RecordedMessage>();

/**
 * Records that `data`, a messagePublished event's data made here, carries `bytes` as its
 * message, published at `publishTime`, and that the bytes parse as `document`;
 * decodePubsubEvent then takes `document`. Nothing is recorded unless the bytes are what
 * decoding would accept: UTF-8 (then the decoder's text and `bytes.toString()` agree) holding
 * a JSON object. Returns whether it was recorded.
 */
export function recordParsedBody(data: object, bytes: Uint8Array, document: unknown, publishTime?: string): boolean {
  if (typeof document !== 'object' || document === null || Array.isArray(document) || !isUtf8(bytes)) return false;
  parsedBodies.set(data, { document: document as Record<string, unknown>, bytes, ...(publishTime !== undefined && { publishTime }) });
  return true;
}

/** The job in base64 `message.data`, and its bytes: JobError `invalid_job` saying which layer is wrong. */
function parseBody(data: string): { document: Record<string, unknown>; bytes: Uint8Array } {
  const bytes = canonicalBase64(data) ?? checkedBase64(data);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new JobError('invalid_job', 'message.data is not UTF-8 text once decoded from base64.');
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new JobError('invalid_job', `message.data is not JSON: ${(error as Error).message}.`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new JobError('invalid_job', 'message.data must be a JSON object (the job), not an array or a bare value.');
  }
  return { document: document as Record<string, unknown>, bytes };
}

/**
 * The bytes of base64 as Pub/Sub writes it (padded, no whitespace): such text is exactly what
 * its bytes encode back to, which checks a 15 MB message in a few milliseconds. Anything else
 * (whitespace, unusual padding bits, bad characters) returns undefined for checkedBase64.
 */
function canonicalBase64(data: string): Buffer | undefined {
  if (data === '') return undefined;
  const bytes = Buffer.from(data, 'base64');
  return bytes.toString('base64') === data ? bytes : undefined;
}

/** Base64 with whitespace removed, checked character by character: the bytes, or JobError saying what is wrong. */
function checkedBase64(data: string): Buffer {
  const encoded = data.replace(/\s+/g, '');
  if (encoded === '') throw new JobError('invalid_job', 'message.data is empty: publish the job JSON as the message body.');
  if (encoded.length % 4 !== 0 || !BASE64_CHARACTERS.test(encoded)) throw new JobError('invalid_job', 'message.data is not valid base64.');
  return Buffer.from(encoded, 'base64');
}

/**
 * A scheduled job cannot change its body from one day to the next, yet each day's job
 * needs its own job_id and window. So `{date}` and `{date-Nd}` in `job_id`, `start` and
 * `end` are replaced by the publish date (UTC), minus N days. Nothing else is touched.
 */
export function expandDateTemplates(document: Record<string, unknown>, publishTime: Date): Record<string, unknown> {
  const out = { ...document };
  for (const key of ['job_id', 'start', 'end'] as const) {
    const value = out[key];
    if (typeof value !== 'string' || !value.includes('{date')) continue;
    out[key] = value.replace(/\{date(?:-(\d{1,4})d)?\}/g, (_m, days: string | undefined) => {
      const d = new Date(publishTime.getTime() - Number(days ?? 0) * 86_400_000);
      return d.toISOString().slice(0, 10);
    });
  }
  return out;
}
