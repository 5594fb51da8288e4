import { randomUUID } from 'node:crypto';
import { jobObjects, resultBody, type StatusDocument } from './documents.js';
import { JobError, TransientError } from './errors.js';
import { isFinal } from './finality.js';
import { readHandOff, type HandOffRecord } from './handedOffRun.js';
import { claimJob } from './jobClaim.js';
import { finish, finishInterrupted, readResult, recordRunDocument, storeOutputArtifacts, type JobServices, type RunProduct } from './lifecycle.js';
import type { ModelName, ModelOutput } from './model.js';
import { commitResult } from './resultCommit.js';

const JSON_TYPE = 'application/json';

/** How a handed-off run's commit attempt ended (see TaskContext.commitJob). */
export type HandedOffCommit = 'committed' | 'settled' | 'stale' | 'continued';

/**
 * What `produce` throws when the run turns out to need another round of tasks (Monte Carlo
 * selection passes: it published them): nothing is committed, the claim is released, and
 * the commit attempt ends `continued`; a task of that round commits the job later.
 */
export class RunContinues extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RunContinues';
  }
}

/**
 * Commits a handed-off run (handedOffRun.ts) from the task delivery that found its work
 * complete, through the ordinary commit path: chart, metrics, report, `result.json`
 * (create-only; generation-matched over an earlier run's `internal` failure), the
 * `job_runs` row (its insert id is the job's: a repeat is dropped), the `job-events`
 * message and the final status.
 *
 * Under the job's claim, like a job's own delivery: two tasks finishing at once are
 * serialized, and the second finds this run's result and commits nothing (nor publishes
 * an event). A delivery that crashed after the commit leaves the status `running`; the
 * redelivery of its task comes here again, finds the run's result, and writes the rows,
 * event and status it did not. A task of another plan than the recorded run's commits
 * nothing (`stale`).
 * @param produce the output, computed under the claim (the merge), given the run's id; a JobError from it fails the job with it, a RunContinues commits nothing
 * @throws TransientError while another delivery holds the job's claim, or for a fault that may pass
 */
export async function commitHandedOffRun(model: ModelName, jobId: string, plan: string, produce: (run: { readonly runId: string }) => Promise<ModelOutput>, services: JobServices): Promise<HandedOffCommit> {
  const now = services.now ?? (() => new Date());
  const objects = jobObjects(model, { jobId });
  const log = services.log.child({ model, job_id: jobId, plan });
  const recorded = await readHandOff(services.store, objects);
  if (!recorded || recorded.plan !== plan) return 'stale';
  // The common case of a task after the commit: settled without taking the claim.
  if ((await services.store.exists(objects.result)) && (await settledResult(recorded, false)) === 'final-status') return 'settled';

  const runId = randomUUID();
  const claim = await claimJob(services.store, objects.claim, services.leaseMs, now, log, runId);
  if (!claim) throw new TransientError(`Job ${jobId} is held by another delivery (committing or handing off the job); this task's delivery will be retried and find it committed, or commit it.`);
  let resultStands = false;
  try {
    const run = await readHandOff(services.store, objects);
    if (!run || run.plan !== plan || run.run_id !== recorded.run_id) return 'stale';
    const settled = await settledResult(run, true);
    if (settled !== null) {
      resultStands = settled !== 'earlier-internal';
      if (settled !== 'earlier-internal') return 'settled';
    }

    let product: RunProduct;
    try {
      const output = await produce({ runId: run.run_id });
      await storeOutputArtifacts(services.store, objects, output);
      product = { output };
    } catch (error) {
      if (error instanceof TransientError) throw error;
      if (error instanceof RunContinues) {
        log.info(`The handed-off run goes on: ${error.message}`);
        return 'continued';
      }
      if (error instanceof JobError) product = { failure: { code: error.code, message: error.message } };
      else {
        log.error('The handed-off run failed unexpectedly.', { error, stack: (error as Error).stack });
        product = { failure: { code: 'internal', message: `Internal error in the ${model} model: ${(error as Error).message}` } };
      }
    }
    const finishedAt = now();
    const timing = { started_at: run.started_at, finished_at: finishedAt.toISOString(), duration_ms: Math.max(0, finishedAt.getTime() - Date.parse(run.started_at)) };
    const { document, metrics } = await recordRunDocument(services.store, model, jobId, objects, timing, product);
    if (!(await commitResult(services.store, objects, resultBody(document)))) {
      resultStands = true;
      log.warn('Another delivery committed this job_id first; its result stands.');
      return 'settled';
    }
    resultStands = isFinal(document);
    await finish(document, metrics, objects, services);
    if (document.status === 'completed') log.info('Job completed.', { status: 'completed', duration_ms: document.duration_ms });
    else log.warn(`Job failed: ${document.error.message}`, { status: 'failed', error_code: document.error.code, duration_ms: document.duration_ms });
    return 'committed';
  } finally {
    await claim.release(resultStands).catch((error: unknown) => log.warn('Could not release the job claim; it expires by itself.', { error }));
  }

  /**
   * Whether the job's stored result settles this run: `final-status` (its rows and status
   * are written), `finished-now` (they were not, after a crash past the commit: written
   * now, under the claim only), `earlier-internal` (an earlier run's `internal` failure,
   * which this run replaces), null (no result).
   */
  async function settledResult(run: HandOffRecord, underClaim: boolean): Promise<'final-status' | 'finished-now' | 'earlier-internal' | null> {
    const existing = await readResult(services.store, objects);
    if (!existing) return null;
    if (!isFinal(existing) && existing.started_at !== run.started_at) return 'earlier-internal';
    const status = await services.store.get(objects.status);
    const written = status !== null && (JSON.parse(status.body) as StatusDocument).status !== 'running';
    if (written) return 'final-status';
    if (underClaim) {
      await finishInterrupted(existing, objects, services, log);
      return 'finished-now';
    }
    return null; // not finished: only under the claim
  }
}

/**
 * Offers a handed-off run's progress to `status.json`: written (generation-matched) only
 * while the status is this run's `running` and shows less done, and only when it crosses
 * the next 10% (as the lifecycle's progress reporter), so a thousand tasks do not write a
 * thousand times. Best effort: a lost race or a failed write is logged, never thrown.
 */
export async function reportHandedOffProgress(model: ModelName, jobId: string, plan: string, fraction: number, detail: Record<string, unknown>, services: JobServices): Promise<void> {
  const objects = jobObjects(model, { jobId });
  try {
    const run = await readHandOff(services.store, objects);
    if (!run || run.plan !== plan) return;
    const current = await services.store.get(objects.status);
    if (!current) return;
    const status = JSON.parse(current.body) as StatusDocument;
    if (status.status !== 'running' || status.started_at !== run.started_at) return;
    const shown = typeof status.progress === 'number' ? status.progress : 0;
    if (Math.floor(fraction * 10 + 1e-9) <= Math.floor(shown * 10 + 1e-9) && fraction < 1) return;
    if (fraction <= shown) return;
    const now = services.now ?? (() => new Date());
    const next: StatusDocument = { ...status, ...detail, progress: Math.round(fraction * 1e4) / 1e4, updated_at: now().toISOString() };
    await services.store.replaceIf(objects.status, JSON.stringify(next, null, 2) + '\n', JSON_TYPE, current.generation);
  } catch (error) {
    services.log.warn('Could not write progress to status.json; the job goes on.', { model, job_id: jobId, error });
  }
}
