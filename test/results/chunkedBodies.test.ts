import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultBody, resultJson, withResultText, type CompletedDocument } from '../../shared/job/documents.js';
import { GcsObjectStore, STORAGE_RETRY } from '../../shared/results/gcsObjectStore.js';
import { LocalObjectStore } from '../../shared/results/localObjectStore.js';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';
import { completedDocument } from '../support/completedDocument.js';

/** A body as chunks of bytes cut anywhere, a multi-byte character split between two of them. */
function chunked(text: string, cuts: readonly number[]): Uint8Array[] {
  const bytes = Buffer.from(text, 'utf8');
  const edges = [0, ...cuts, bytes.length];
  return edges.slice(1).map((end, i) => bytes.subarray(edges[i], end));
}

const TEXT = '{"note":"é ü — 100,000 options","n":[1,2,3]}';
const CHUNKS = chunked(TEXT, [3, 10, 11, 30]); // byte 10 is inside 'é'

describe('a body written from chunks', () => {
  it('is stored whole by the local store, create-only, and a second create leaves the first', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'chunked-'));
    const store = new LocalObjectStore(root);
    expect(Buffer.from(CHUNKS[1]!).toString('utf8')).toContain('\ufffd'); // the cut does split a character
    const generation = await store.createOnly('jobs/x/1/result.json', CHUNKS);
    expect(generation).not.toBeNull();
    expect(readFileSync(path.join(root, 'jobs/x/1/result.json'), 'utf8')).toBe(TEXT);
    expect(await store.createOnly('jobs/x/1/result.json', chunked('{"other":1}', [4]))).toBeNull();
    expect((await store.get('jobs/x/1/result.json'))?.body).toBe(TEXT);
    expect(await store.replaceIf('jobs/x/1/result.json', chunked('{"n":2}', [2]), 'application/json', generation!)).not.toBeNull();
    expect((await store.get('jobs/x/1/result.json'))?.body).toBe('{"n":2}');
    // No temporary file is left beside the object.
    expect(readdirSync(path.join(root, 'jobs/x/1'))).toEqual(['result.json']);
  });

  it('is written and overwritten whole by the local store\'s put (a large job.json)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'chunked-'));
    const store = new LocalObjectStore(root);
    await store.put('jobs/x/4/job.json', CHUNKS);
    expect(readFileSync(path.join(root, 'jobs/x/4/job.json'), 'utf8')).toBe(TEXT);
    await store.put('jobs/x/4/job.json', chunked('{"n":2}', [2]));
    expect((await store.get('jobs/x/4/job.json'))?.body).toBe('{"n":2}');
    expect(readdirSync(path.join(root, 'jobs/x/4'))).toEqual(['job.json']);
  });

  describe('by the Cloud Storage store', () => {
    const fake = new FakeGoogleApis();
    const previousEmulator = process.env.STORAGE_EMULATOR_HOST;
    beforeAll(async () => {
      process.env.STORAGE_EMULATOR_HOST = await fake.start();
      fake.objectUpdateIntervalMs = 0;
    });
    afterAll(async () => {
      await fake.close();
      if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
    });
    const store = () => new GcsObjectStore('artifacts', { retry: { ...STORAGE_RETRY, unitMs: 1, jitterMs: 1, maxDelayMs: 1 } });

    it('is one create-only upload (ifGenerationMatch=0) of every chunk, and the second writer loses', async () => {
      const start = fake.requests.length;
      const generation = await store().createOnly('jobs/x/2/result.json', CHUNKS, 'application/json');
      expect(generation).toBe(String(fake.objects.get('artifacts/jobs/x/2/result.json')?.generation));
      expect(fake.objects.get('artifacts/jobs/x/2/result.json')?.body.toString('utf8')).toBe(TEXT);
      const uploads = fake.requests.slice(start).filter((r) => r.method === 'POST' && r.query.get('name') === 'jobs/x/2/result.json');
      expect(uploads).toHaveLength(1);
      expect(uploads[0]!.query.get('ifGenerationMatch')).toBe('0');
      expect(await store().createOnly('jobs/x/2/result.json', chunked('{"other":1}', [4]), 'application/json')).toBeNull();
      expect(fake.objects.get('artifacts/jobs/x/2/result.json')?.body.toString('utf8')).toBe(TEXT);
    });

    it('is one unconditional upload of every chunk by put (a large job.json), over what was there', async () => {
      await store().put('jobs/x/5/job.json', '{"before":true}', 'application/json');
      const start = fake.requests.length;
      await store().put('jobs/x/5/job.json', CHUNKS, 'application/json');
      expect(fake.objects.get('artifacts/jobs/x/5/job.json')?.body.toString('utf8')).toBe(TEXT);
      const uploads = fake.requests.slice(start).filter((r) => r.method === 'POST' && r.query.get('name') === 'jobs/x/5/job.json');
      expect(uploads).toHaveLength(1);
      expect(uploads[0]!.query.get('ifGenerationMatch')).toBeNull();
    });

    it('is sent again from its first chunk when an upload fails, and a stored upload whose reply was lost is recognised as ours', async () => {
      fake.faults.push({ match: (r) => r.method === 'POST' && r.query.get('name') === 'jobs/x/3/result.json', status: 503, times: 1 });
      fake.lostReplies.push({ match: (r) => r.method === 'POST' && r.query.get('name') === 'jobs/x/3/result.json', times: 1 });
      const generation = await store().createOnly('jobs/x/3/result.json', CHUNKS, 'application/json');
      expect(generation).toBe(String(fake.objects.get('artifacts/jobs/x/3/result.json')?.generation));
      expect(fake.objects.get('artifacts/jobs/x/3/result.json')?.body.toString('utf8')).toBe(TEXT);
    });
  });
});

describe('a result document whose result text came as chunks', () => {
  const completed = (options: unknown[], warnings?: string[]): CompletedDocument => completedDocument('chunks-1', options, warnings);

  it('has the bytes of encoding the whole document, never built as one string', () => {
    for (const warnings of [undefined, ['few "observations" — é']]) {
      const options = Array.from({ length: 30_000 }, (_, i) => ({ strike: 100 + i / 7, price: i % 5 ? -0 : 1e-9 * i, error: i % 3 ? null : 'ü' }));
      const plain = completed(options, warnings);
      const text = JSON.stringify(plain.result);
      const spliced = completed(options, warnings);
      withResultText(spliced, chunked(text, [1, 5000, 5001, 70_000]));
      const body = resultBody(spliced);
      expect(Array.isArray(body)).toBe(true);
      expect(Buffer.concat(body as Uint8Array[]).toString('utf8')).toBe(resultJson(plain));
      expect(resultJson(spliced)).toBe(resultJson(plain));
    }
  });

  it('is the plain text when the model gave none', () => {
    const document = completed([{ strike: 1 }]);
    expect(resultBody(document)).toBe(resultJson(document));
  });
});
