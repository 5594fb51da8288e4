import { describe, expect, it } from 'vitest';
import { resultJson, withResultText, type CompletedDocument } from '../../shared/job/documents.js';
import { mayHoldPrototypeKey, parseJob } from '../../shared/job/envelope.js';
import { JobError } from '../../shared/job/errors.js';
import { pubsubCloudEvent } from '../../shared/job/pubsubCloudEvent.js';
import { decodePubsubEvent } from '../../shared/job/pubsubEvent.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { completedDocument } from '../support/completedDocument.js';

const completed = (options: unknown[]): CompletedDocument => completedDocument('text-1', options, ['few "observations"']);

describe('a result document written from the model\'s own result text', () => {
  it('is the same text as encoding the document, small (indented) and large (compact)', () => {
    for (const [count, indented] of [[3, true], [40_000, false]] as const) {
      const options = Array.from({ length: count }, (_, i) => ({ strike: 100 + i / 7, price: i % 5 ? -0 : 1e-9 * i, note: null }));
      const plain = completed(options);
      const spliced = completed(options);
      withResultText(spliced, JSON.stringify(spliced.result));
      expect(resultJson(spliced)).toBe(resultJson(plain));
      expect(resultJson(spliced).startsWith('{\n  "job_id"')).toBe(indented); // compact from 1 MB on
    }
  });
});

describe('a command-line event carrying the job it was built from', () => {
  const job = { job_id: 'parsed-1', params: { strike: 100, note: 'é' } };

  it('decodes to the same job as one decoded from its base64', () => {
    const bytes = Buffer.from(JSON.stringify(job));
    const document = JSON.parse(bytes.toString('utf8')) as unknown;
    const withParse = pubsubCloudEvent(bytes, 'jobs-blackscholes', undefined, { document });
    const without = pubsubCloudEvent(bytes, 'jobs-blackscholes');
    expect(decodePubsubEvent(withParse.data).document).toEqual(decodePubsubEvent(without.data).document);
    expect(decodePubsubEvent(withParse.data).document).toEqual(job);
  });

  it('is still refused as not UTF-8 when its bytes are not, whatever was parsed from them', () => {
    const bytes = Buffer.concat([Buffer.from('{"job_id":"x","n":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const document = JSON.parse(bytes.toString('utf8')) as unknown; // the replacement character parses
    const event = pubsubCloudEvent(bytes, 'jobs-blackscholes', undefined, { document });
    expect(() => decodePubsubEvent(event.data)).toThrow('message.data is not UTF-8 text once decoded from base64.');
  });
});

describe('a "__proto__" key deep in a job', () => {
  it('is named by its path', () => {
    const document = JSON.parse('{"job_id":"proto-3","params":{"options":[{"strike":1},{"strike":2,"__proto__":{}}]}}') as unknown;
    expect(() => parseJob(document, blackscholesModel, '2026-12-01')).toThrow(JobError);
    expect(() => parseJob(document, blackscholesModel, '2026-12-01')).toThrow(/^params\.options\[1\] has a key "__proto__"/);
  });

  // With the bytes the document was parsed from, the walk over every object is needed only if
  // the text could spell the key: literally, or through \u escapes.
  it('is found from the bytes too, spelled literally or with \\u escapes', () => {
    for (const key of ['__proto__', '\\u005f_proto__', '__pr\\u006fto__']) {
      const text = `{"job_id":"proto-4","params":{"options":[{"strike":1},{"strike":2,"${key}":{}}]}}`;
      const bytes = Buffer.from(text);
      expect(mayHoldPrototypeKey(bytes)).toBe(true);
      expect(() => parseJob(JSON.parse(text), blackscholesModel, '2026-12-01', bytes)).toThrow(/^params\.options\[1\] has a key "__proto__"/);
    }
  });

  it('is not looked for when the bytes cannot spell it (the bytes are trusted to be the document\'s)', () => {
    const plain = Buffer.from('{"job_id":"proto-5","params":{"options":[{"strike":1,"note":"\\n é 😀 \\" proto"}]}}');
    expect(mayHoldPrototypeKey(plain)).toBe(false);
    expect(mayHoldPrototypeKey(plain.subarray(0, 20))).toBe(false);
    expect(mayHoldPrototypeKey(Buffer.from('{"note":"__proto__"}'))).toBe(true); // in a value: the walk decides
    const withKey = JSON.parse('{"job_id":"proto-5","params":{"options":[{"strike":2,"__proto__":{}}]}}') as unknown;
    // The walk skipped, the strict schema still refuses the key, in zod's words rather than the walk's.
    expect(() => parseJob(withKey, blackscholesModel, '2026-12-01', plain)).toThrow(/^Unknown key "__proto__" in params\.options\[0\]/);
    expect(() => parseJob(withKey, blackscholesModel, '2026-12-01')).toThrow(/^params\.options\[0\] has a key "__proto__"/);
  });
});
