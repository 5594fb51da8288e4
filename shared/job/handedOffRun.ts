import * as z from 'zod';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../results/objectStore.js';
import type { JobObjects, StatusDocument } from './documents.js';
import type { HandedOffRun, ModelName } from './model.js';
import type { StatusWriter } from './statusWriter.js';

/**
 * A run handed off by its model to tasks of its own (Monte Carlo shards over Pub/Sub): the
 * delivery of the job's message plans, records the run here and acknowledges; the task
 * delivery that finds the work complete commits the job (handedOffCommit.ts).
 *
 * `hand-off.json` names the run: its id, when it started (the result's `started_at`, and
 * what tells this run's result from an earlier run's `internal` failure), the model's plan,
 * and whether its tasks were all dispatched. A redelivery of the job's message before the
 * run has a result continues the same run: same plan, same start, and no tasks sent again
 * once a delivery has dispatched them all.
 */

const JSON_TYPE = 'application/json';

const handOffRecordSchema = z
  .object({
    run_id: z.string(),
    started_at: z.string(),
    plan: z.string(),
    dispatched: z.boolean(),
  })
  .strict();
export type HandOffRecord = z.infer<typeof handOffRecordSchema>;

/** The job's handed-off run, or null (none, or unreadable: then a new run starts). */
export async function readHandOff(store: ObjectStore, objects: JobObjects): Promise<HandOffRecord | null> {
  const stored = await store.get(objects.handOff);
  if (!stored) return null;
  const parsed = handOffRecordSchema.safeParse(safeJson(stored.body));
  return parsed.success ? parsed.data : null;
}

/**
 * The handed-off run a delivery of the job's message continues: the recorded one while the
 * job has no result. With a result (an `internal` failure, which a new delivery re-runs) the
 * delivery starts a new run.
 */
export async function resumableHandOff(store: ObjectStore, objects: JobObjects): Promise<HandOffRecord | null> {
  const record = await readHandOff(store, objects);
  return record && !(await store.exists(objects.result)) ? record : null;
}

/** What `handOffRun` throws once the run is handed off; the lifecycle catches it and acknowledges the delivery. */
export class HandOffDone extends Error {
  constructor(readonly record: HandOffRecord) {
    super(`The job's run was handed off (plan ${record.plan}).`);
    this.name = 'HandOffDone';
  }
}

export interface HandOffArguments {
  readonly store: ObjectStore;
  readonly objects: JobObjects;
  readonly jobId: string;
  readonly model: ModelName;
  /** This delivery's run id and start, used unless it continues `previous`. */
  readonly runId: string;
  readonly startedAt: string;
  readonly previous: HandOffRecord | null;
  readonly status: StatusWriter;
  readonly log: Logger;
}

/**
 * Records the run (unless this delivery continues it), marks the job `running` with the
 * run's progress, then dispatches its tasks (unless an earlier delivery of this run did)
 * and records that. In this order: a task that commits the job finds the run recorded, and
 * the final status it writes comes after this `running` (this delivery holds the job's
 * claim, which the commit takes). A crash before the dispatch is recorded leaves the
 * message unacknowledged: its redelivery dispatches again (tasks are idempotent).
 * @throws HandOffDone always, once handed off
 */
export async function handOffRun(run: HandedOffRun, args: HandOffArguments): Promise<never> {
  const { store, objects, previous, log } = args;
  const continued = previous !== null && previous.plan === run.plan;
  const record: HandOffRecord = continued ? previous : { run_id: args.runId, started_at: args.startedAt, plan: run.plan, dispatched: false };
  if (!continued) await store.put(objects.handOff, JSON.stringify(record), JSON_TYPE);
  const running: StatusDocument = {
    job_id: args.jobId,
    model: args.model,
    status: 'running',
    started_at: record.started_at,
    ...run.detail,
    progress: Math.round(run.progress * 1e4) / 1e4,
    updated_at: new Date().toISOString(),
  };
  await args.status.write(running);
  if (record.dispatched) {
    log.info('The job was handed off by an earlier delivery of its message, which dispatched its tasks: nothing to send again.', { plan: record.plan });
    throw new HandOffDone(record);
  }
  await run.dispatch();
  const dispatched = { ...record, dispatched: true };
  await store.put(objects.handOff, JSON.stringify(dispatched), JSON_TYPE);
  log.info('Job handed off to its tasks; the delivery is acknowledged, and the task completing the work commits the job.', { plan: record.plan, continued });
  throw new HandOffDone(dispatched);
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}
