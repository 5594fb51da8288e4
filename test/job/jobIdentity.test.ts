import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFunction, type FunctionUnderTest } from '../support/functionServer.js';
import { probeModel } from '../support/probeModel.js';

// A job_id names one job (the contract's envelope): the same job again gets the stored
// result, a different job under a used id is refused, and only the job's own faults are final.

const open: FunctionUnderTest[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});

async function start() {
  const probe = probeModel();
  const fn = await startFunction(probe.model);
  open.push(fn);
  return { fn, state: probe.state };
}

const folder = (id: string) => `jobs/blackscholes/${id}`;

async function readText(fn: FunctionUnderTest, object: string): Promise<string | null> {
  return fs.readFile(path.join(fn.dataDir, 'bucket', object), 'utf8').catch(() => null);
}

async function readJson(fn: FunctionUnderTest, object: string): Promise<Record<string, unknown> | null> {
  const text = await readText(fn, object);
  return text === null ? null : JSON.parse(text);
}

async function jobRuns(fn: FunctionUnderTest): Promise<Record<string, unknown>[]> {
  const text = await fs.readFile(path.join(fn.dataDir, 'bigquery', 'curated', 'job_runs.ndjson'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** The refusals the function logged (it answers Pub/Sub with an ack only; the log and the returned document carry the refusal). */
function refusals(fn: FunctionUnderTest): { job_id: string; message: string; error_code: string }[] {
  return fn.logLines.map((l) => JSON.parse(l)).filter((l) => l.error_code === 'invalid_job' && String(l.message).includes('already names a different'));
}

/** A snapshot of everything a reader of the job's folder and tables sees. */
async function snapshot(fn: FunctionUnderTest, id: string) {
  return {
    result: await readText(fn, `${folder(id)}/result.json`),
    status: await readText(fn, `${folder(id)}/status.json`),
    job: await readText(fn, `${folder(id)}/job.json`),
    rows: await jobRuns(fn),
  };
}

const job = (id: string, params: Record<string, unknown>) => ({ job_id: id, params });

describe('a job_id names one job', () => {
  it('the same job again (keys reordered, defaults spelled out) gets the stored result without running', async () => {
    const { fn, state } = await start();
    expect((await fn.publish(job('same-1', { value: 2 }))).status).toBeLessThan(300);
    const before = await snapshot(fn, 'same-1');
    expect((await fn.publish({ params: { behave: 'ok', value: 2 }, job_id: 'same-1' })).status).toBeLessThan(300);
    expect(state.runs).toEqual([2]);
    expect(await snapshot(fn, 'same-1')).toEqual(before);
    expect(refusals(fn)).toEqual([]);
    expect(JSON.parse(before.job!)).toMatchObject({ model: 'blackscholes', job_id: 'same-1', valid: true, digest: expect.stringMatching(/^sha256:/), job: { params: { value: 2, behave: 'ok' } } });
  });

  it('a different job under a used id is refused as invalid_job naming the id; the stored result stands and still answers the first job', async () => {
    const { fn, state } = await start();
    await fn.publish(job('strike-1', { value: 2 }));
    const before = await snapshot(fn, 'strike-1');
    const refused = await fn.publish(job('strike-1', { value: 3 }));
    expect(refused.status).toBeLessThan(300); // acknowledged: never retried
    expect(state.runs).toEqual([2]);
    expect(await snapshot(fn, 'strike-1')).toEqual(before); // result, status, binding and rows untouched
    expect(refusals(fn)).toEqual([
      expect.objectContaining({
        job_id: 'strike-1',
        message:
          'Job failed: job_id "strike-1" already names a different blackscholes job (params.value was 2, this job has 3); its stored result is kept and this job was not run. Publish this job under a new job_id.',
      }),
    ]);
    // The refusal is recorded under the message id the publisher got back, beside the job.
    expect(await readJson(fn, `${folder('strike-1')}/refused/${refused.messageId}.json`)).toMatchObject({
      job_id: 'strike-1',
      status: 'failed',
      error: { code: 'invalid_job', message: expect.stringContaining('already names a different blackscholes job') },
    });
    // The first job again: its stored result, as before.
    expect((await fn.publish(job('strike-1', { value: 2 }))).status).toBeLessThan(300);
    expect(state.runs).toEqual([2]);
    expect(refusals(fn)).toHaveLength(1);
    // And the second job under a new id runs.
    await fn.publish(job('strike-2', { value: 3 }));
    expect(await readJson(fn, `${folder('strike-2')}/result.json`)).toMatchObject({ status: 'completed', result: { doubled: 6 } });
  });

  it('a job whose window defaults to the publish date is the same job that day, and a different job the next', async () => {
    const { fn, state } = await start();
    const publishOn = (publishTime: string) => {
      const messageId = randomUUID();
      const data = Buffer.from(JSON.stringify(job('daily-1', { value: 2 }))).toString('base64');
      return fn.post({ message: { data, messageId, publishTime } }, messageId);
    };
    await publishOn('2026-06-03T08:00:00Z');
    await publishOn('2026-06-03T20:00:00Z');
    expect(state.runs).toEqual([2]);
    expect(refusals(fn)).toEqual([]);
    await publishOn('2026-06-04T08:00:00Z');
    expect(state.runs).toEqual([2]);
    expect(refusals(fn)[0]?.message).toContain('(end was "2026-06-03", this job has "2026-06-04")');
  });
});

describe('only the job\'s own faults are final', () => {
  it('an internal failure does not consume the id: after the fix the same job runs and commits, and is final from then on', async () => {
    const { fn, state } = await start();
    state.broken = true;
    expect((await fn.publish(job('fix-1', { value: 2 }))).status).toBeLessThan(300);
    expect(await readJson(fn, `${folder('fix-1')}/result.json`)).toMatchObject({ status: 'failed', error: { code: 'internal' } });
    expect(await readJson(fn, `${folder('fix-1')}/status.json`)).toMatchObject({ status: 'failed', error: { code: 'internal' } });

    state.broken = false; // the operator's fix
    expect((await fn.publish(job('fix-1', { value: 2 }))).status).toBeLessThan(300);
    expect(state.runs).toEqual([2, 2]);
    expect(await readJson(fn, `${folder('fix-1')}/result.json`)).toMatchObject({ status: 'completed', result: { doubled: 4 } });
    expect(await readJson(fn, `${folder('fix-1')}/status.json`)).toMatchObject({ status: 'completed' });
    // job_runs keeps the failed attempt and the final outcome; the latest finished_at is the job's state.
    const rows = await jobRuns(fn);
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([['failed', 'internal'], ['completed', null]]);
    expect(String(rows[1].finished_at) >= String(rows[0].finished_at)).toBe(true);

    // Final now: the same job is not run again, a different one is refused.
    const settled = await snapshot(fn, 'fix-1');
    await fn.publish(job('fix-1', { value: 2 }));
    await fn.publish(job('fix-1', { value: 5 }));
    expect(state.runs).toEqual([2, 2]);
    expect(await snapshot(fn, 'fix-1')).toEqual(settled);
    expect(refusals(fn)).toHaveLength(1);
  });

  it('after an internal failure a different job may take the id, and then the first one is refused', async () => {
    const { fn, state } = await start();
    state.broken = true;
    await fn.publish(job('take-1', { value: 2 }));
    state.broken = false;
    await fn.publish(job('take-1', { value: 7 }));
    expect(await readJson(fn, `${folder('take-1')}/result.json`)).toMatchObject({ status: 'completed', result: { doubled: 14 } });
    expect(await readJson(fn, `${folder('take-1')}/job.json`)).toMatchObject({ job: { params: { value: 7 } } });
    await fn.publish(job('take-1', { value: 2 }));
    expect(state.runs).toEqual([2, 7]);
    expect(refusals(fn)[0]?.message).toContain('(params.value was 7, this job has 2)');
  });

  it("a job's own failure (insufficient_data) is final: the same job gets it back, a different one is refused", async () => {
    const { fn, state } = await start();
    await fn.publish(job('own-1', { value: 1, behave: 'job_error' }));
    const before = await snapshot(fn, 'own-1');
    expect(JSON.parse(before.result!)).toMatchObject({ status: 'failed', error: { code: 'insufficient_data' } });
    await fn.publish(job('own-1', { value: 1, behave: 'job_error' }));
    await fn.publish(job('own-1', { value: 1 }));
    expect(state.runs).toEqual([1]);
    expect(await snapshot(fn, 'own-1')).toEqual(before);
    expect(refusals(fn)).toHaveLength(1);
  });

  it('an invalid job is final: the same document gets its failure back, a corrected job under the same id is refused', async () => {
    const { fn, state } = await start();
    await fn.publish(job('typo-1', { value: 1, valeu: 2 }));
    const before = await snapshot(fn, 'typo-1');
    expect(JSON.parse(before.result!)).toMatchObject({ status: 'failed', error: { code: 'invalid_job', message: expect.stringContaining('"valeu"') } });
    expect(JSON.parse(before.job!)).toMatchObject({ valid: false, job: { params: { value: 1, valeu: 2 } } });
    await fn.publish(job('typo-1', { valeu: 2, value: 1 }));
    await fn.publish(job('typo-1', { value: 1 }));
    expect(state.runs).toEqual([]);
    expect(await snapshot(fn, 'typo-1')).toEqual(before);
    expect(refusals(fn)).toEqual([expect.objectContaining({ message: expect.stringContaining('already names a different blackscholes job (one that did not validate)') })]);
  });
});

describe('a job nested deeper than the call stack', () => {
  it('is digested all the same: acknowledged as invalid_job, the same document answered, another refused', async () => {
    const { fn, state } = await start();
    // Written as text: JSON.stringify itself cannot serialize a value this deep.
    const deep = (leaf: number) => ({ raw: Buffer.from(`{"job_id":"deep-1","params":{"value":${'['.repeat(200_000)}${leaf}${']'.repeat(200_000)}}}`).toString('base64') });
    expect((await fn.publish(undefined, deep(1))).status).toBeLessThan(300);
    const before = await snapshot(fn, 'deep-1');
    expect(JSON.parse(before.result!)).toMatchObject({ status: 'failed', error: { code: 'invalid_job' } });
    expect(JSON.parse(before.job!)).toMatchObject({ valid: false, job: null, digest: expect.stringMatching(/^sha256:/) });
    expect((await fn.publish(undefined, deep(1))).status).toBeLessThan(300);
    expect(refusals(fn)).toEqual([]);
    expect((await fn.publish(undefined, deep(2))).status).toBeLessThan(300);
    expect(refusals(fn)).toHaveLength(1);
    expect(await snapshot(fn, 'deep-1')).toEqual(before);
    expect(state.runs).toEqual([]);
  });
});

describe('concurrent deliveries of two different jobs under one id', () => {
  it('exactly one job runs and commits; every delivery of the other is refused once retried', async () => {
    const { fn, state } = await start();
    const first = job('race-1', { value: 3, behave: 'slow' });
    const second = job('race-1', { value: 5, behave: 'slow' });
    const deliveries = [first, second, first, second];
    const answers = await Promise.all(deliveries.map((body) => fn.publish(body)));
    // The claim lets one delivery run; the others find it held and are retried by Pub/Sub (HTTP 500).
    expect(answers.filter((a) => a.status < 300)).toHaveLength(1);
    expect(state.runs).toHaveLength(1);
    const winner = state.runs[0];
    // Pub/Sub redelivers the others (same message ids): now every one is acknowledged.
    for (const [i, answer] of answers.entries()) {
      if (answer.status >= 300) expect((await fn.publish(deliveries[i], { messageId: answer.messageId })).status).toBeLessThan(300);
    }
    expect(state.runs).toEqual([winner]);
    expect(await readJson(fn, `${folder('race-1')}/result.json`)).toMatchObject({ status: 'completed', result: { doubled: winner * 2 } });
    expect(await readJson(fn, `${folder('race-1')}/job.json`)).toMatchObject({ job: { params: { value: winner } } });
    expect(await jobRuns(fn)).toHaveLength(1);
    // Both deliveries of the losing job were refused, none of the winning job's.
    expect(refusals(fn)).toHaveLength(2);
    expect(refusals(fn).every((r) => r.message.includes(`was ${winner}, this job has ${winner === 3 ? 5 : 3}`))).toBe(true);
  });
});
