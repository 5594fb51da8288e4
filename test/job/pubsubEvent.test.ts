import { describe, expect, it } from 'vitest';
import { JobError } from '../../shared/job/errors.js';
import { decodePubsubEvent } from '../../shared/job/pubsubEvent.js';

const event = (data: string) => ({ message: { data, publishTime: '2026-01-02T03:04:05Z' } });
const job = { job_id: 'b64', params: { strike: 100, note: 'é'.repeat(40) } };
const canonical = Buffer.from(JSON.stringify(job)).toString('base64');

describe('decodePubsubEvent base64', () => {
  it('decodes base64 as Pub/Sub writes it', () => {
    expect(decodePubsubEvent(event(canonical)).document).toEqual(job);
  });

  it('still accepts what is valid but not canonical: line breaks and spaces, unused padding bits', () => {
    const wrapped = canonical.match(/.{1,76}/g)!.join('\r\n') + '\n';
    expect(decodePubsubEvent(event(wrapped)).document).toEqual(job);
    // "e30=" is {} ; "e31=" differs only in the bits the padding leaves unused.
    expect(decodePubsubEvent(event('e31=')).document).toEqual({});
  });

  it('names what is wrong with data that is not base64', () => {
    const message = (data: string) => {
      try {
        decodePubsubEvent(event(data));
      } catch (error) {
        expect(error).toBeInstanceOf(JobError);
        return (error as JobError).message;
      }
      return 'no error';
    };
    expect(message(' \n ')).toMatch(/message\.data is empty/);
    expect(message('e30')).toMatch(/not valid base64/);
    expect(message('e3-=')).toMatch(/not valid base64/);
    expect(message(canonical.slice(0, -4) + '!' + canonical.slice(-3))).toMatch(/not valid base64/);
  });
});
