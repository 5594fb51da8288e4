import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseJob } from '../../shared/job/envelope.js';
import { identityOnThread, THREAD_BYTES } from '../../shared/job/identityThread.js';
import { jobIdentity, jobIdentityJson } from '../../shared/job/jobDigest.js';
import { runJobEvent, type JobServices } from '../../shared/job/lifecycle.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { createLogger } from '../../shared/log.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { createServices } from '../../shared/runtime.js';
import { quotedOptions } from '../support/digestDocuments.js';

const model = blackscholesModel as ModelDefinition<unknown>;
const publishTime = new Date('2026-06-03T10:00:00Z');
/** A job over THREAD_BYTES, its keys in another order than the schema's (validation copies each option). */
const document = { params: { options: quotedOptions(12_000).map((o) => Object.fromEntries(Object.entries(o).reverse())) }, job_id: 'thread-1', symbols: ['AAPL'], end: '{date}' };
const bytes = Buffer.from(JSON.stringify(document), 'utf8');
const validated = () => parseJob({ ...document, end: '2026-06-03' }, model, '2026-06-03');

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("a large job's digest on a helper thread", () => {
  it('is the digest and job.json this thread computes, from the same bytes', async () => {
    expect(bytes.length).toBeGreaterThan(THREAD_BYTES);
    vi.stubEnv('IDENTITY_THREAD', '1');
    const onThread = identityOnThread('blackscholes', bytes, publishTime);
    expect(onThread).not.toBeNull();
    const identity = await onThread!.identity('blackscholes', validated());
    expect(await onThread!.answered).toBe(true);
    const here = jobIdentity('blackscholes', validated());
    expect(identity.digest).toBe(here.digest);
    expect(jobIdentityJson(identity)).toBe(jobIdentityJson(here));
  });

  it('falls back to this thread when the thread validated another job or could not decode the bytes', async () => {
    vi.stubEnv('IDENTITY_THREAD', '1');
    const other = Buffer.from(JSON.stringify({ ...document, job_id: 'thread-other' }), 'utf8');
    const notUtf8 = Buffer.concat([bytes.subarray(0, bytes.length - 2), Buffer.from([0xff, 0x7d])]);
    const here = jobIdentity('blackscholes', validated());
    for (const [source, answered] of [[other, true], [notUtf8, false]] as const) {
      const onThread = identityOnThread('blackscholes', source, publishTime)!;
      expect((await onThread.identity('blackscholes', validated())).digest).toBe(here.digest);
      expect(await onThread.answered).toBe(answered);
    }
  });

  it('is not used for a small message, with IDENTITY_THREAD=0, or without the worker script', () => {
    vi.stubEnv('IDENTITY_THREAD', '1');
    expect(identityOnThread('blackscholes', bytes.subarray(0, THREAD_BYTES - 1), publishTime)).toBeNull();
    expect(identityOnThread('blackscholes', bytes, publishTime, new URL('./noSuchWorker.js', import.meta.url))).toBeNull();
    vi.stubEnv('IDENTITY_THREAD', '0');
    expect(identityOnThread('blackscholes', bytes, publishTime)).toBeNull();
  });
});

describe('a delivery of a large job', () => {
  let services: JobServices;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'identity-thread-'));
    services = await createServices({ USE_FIXTURE: 'true', LOCAL_DATA_DIR: root }, createLogger('ERROR'));
  });

  const deliver = (id: string, body: Buffer) =>
    runJobEvent(model as ModelDefinition<never>, { id, data: { message: { data: body.toString('base64'), messageId: id, publishTime: publishTime.toISOString() } } }, services);
  const jobJson = (jobId: string) => readFileSync(path.join(root, 'bucket', 'jobs', 'blackscholes', jobId, 'job.json'), 'utf8');

  it('binds the same job.json with the digest on a thread or not, and a redelivery under either is a duplicate', async () => {
    vi.stubEnv('IDENTITY_THREAD', '1');
    const threaded = await deliver('t-1', bytes);
    expect(threaded).toMatchObject({ status: 'completed', duplicate: false });
    const bound = jobJson('thread-1');
    expect(JSON.parse(bound)).toMatchObject({ digest: jobIdentity('blackscholes', validated()).digest, valid: true });
    vi.stubEnv('IDENTITY_THREAD', '0');
    expect(await deliver('t-2', bytes)).toMatchObject({ status: 'completed', duplicate: true });
    // The same job under another job_id, digested on this thread: the same job.json but for the job_id and digest.
    await deliver('t-3', Buffer.from(JSON.stringify({ ...document, job_id: 'thread-2' }), 'utf8'));
    const second = JSON.parse(jobJson('thread-2')) as { job: { job_id: string }; digest: string };
    expect(second.digest).toBe(jobIdentity('blackscholes', { ...validated(), job_id: 'thread-2' }).digest);
    expect(jobJson('thread-2')).toBe(bound.replaceAll('"job_id":"thread-1"', '"job_id":"thread-2"').replace(/"digest":"[^"]+"/, `"digest":"${second.digest}"`));
    vi.stubEnv('IDENTITY_THREAD', '1');
    // Another job under the same job_id is refused, its digest from the thread.
    const changed = { ...document, params: { options: quotedOptions(12_000, 12) } };
    const refused = await deliver('t-4', Buffer.from(JSON.stringify(changed), 'utf8'));
    expect(refused).toMatchObject({ status: 'failed', duplicate: false });
    expect((await services.store.get(refused.resultObject))!.body).toContain('already names a different blackscholes job');
  }, 60_000);
});
