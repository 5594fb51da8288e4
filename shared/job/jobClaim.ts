import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../results/objectStore.js';

/** A claim this run holds on a job: renewed by a heartbeat until released. */
export interface HeldClaim {
  /**
   * Stops the heartbeat and deletes the claim (if it is still ours).
   * @param resultStands whether a final result now guards the job (see releaseClaim).
   */
  release(resultStands: boolean): Promise<void>;
}

/** What `claim.json` holds. */
interface ClaimBody {
  readonly run_id: string;
  readonly expires_at: string;
}

const JSON_TYPE = 'application/json';

/**
 * Claims a job with a short lease (`claim.json`, create-only, carrying this run's id) and
 * keeps it alive with a heartbeat every quarter lease while the job runs. A run that dies
 * (kill -9, out of memory) stops renewing, so a redelivery takes the job over within one
 * lease of the crash, instead of after a lease sized for the longest job.
 *
 * Returns null when another run holds a live claim (the caller throws so Pub/Sub retries).
 * A claim whose lease ran out is taken over with a generation-matched write; a claim that
 * carries this run's id is ours (a write whose reply was lost).
 */
export async function claimJob(store: ObjectStore, object: string, leaseMs: number, now: () => Date, log: Logger, runId: string): Promise<HeldClaim | null> {
  const body = (): string => JSON.stringify({ run_id: runId, expires_at: new Date(now().getTime() + leaseMs).toISOString() } satisfies ClaimBody);
  const generation = await acquire(store, object, body, now, runId);
  return generation === null ? null : heartbeat(store, object, runId, generation, body, leaseMs, log);
}

async function acquire(store: ObjectStore, object: string, body: () => string, now: () => Date, runId: string): Promise<string | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const created = await store.createOnly(object, body(), JSON_TYPE);
    if (created !== null) return created;
    const held = await store.get(object);
    if (!held) continue; // released between our two calls: try again
    const holder = claimHolder(held.body);
    if (holder.runId === runId) return held.generation; // our own write, its reply lost
    if (Number.isFinite(holder.expiresAt) && holder.expiresAt > now().getTime()) return null;
    // The holder died without releasing (its lease ran out): take over, unless someone else just did.
    return store.replaceIf(object, body(), JSON_TYPE, held.generation);
  }
  return null;
}

function heartbeat(store: ObjectStore, object: string, runId: string, first: string, body: () => string, leaseMs: number, log: Logger): HeldClaim {
  let generation: string | null = first;
  let writtenAt = performance.now();
  let renewing: Promise<void> = Promise.resolve();
  const renew = async (): Promise<void> => {
    if (generation === null) return;
    try {
      const next = await store.replaceIf(object, body(), JSON_TYPE, generation);
      if (next === null) log.warn('The job claim was taken over by another delivery (this run was too slow to renew it); the commit keeps one final result.', { run_id: runId });
      else writtenAt = performance.now();
      generation = next;
    } catch (error) {
      // A missed beat is harmless while the lease lasts; the next beat tries again.
      log.warn('Could not renew the job claim; retrying at the next heartbeat.', { run_id: runId, error });
    }
  };
  // Never faster than the store accepts updates of one object; unref: a pending beat never
  // keeps a finished process alive.
  const timer = setInterval(() => (renewing = renew()), Math.max(250, store.updateIntervalMs ?? 0, Math.floor(leaseMs / 4)));
  timer.unref();
  return {
    async release(resultStands) {
      clearInterval(timer);
      await renewing;
      const held = generation;
      generation = null;
      if (held !== null) await releaseClaim(store, object, { generation: held, writtenAt }, resultStands);
    },
  };
}

/**
 * Deletes a claim this run wrote. A store that throttles updates of one object (Cloud
 * Storage: about one a second) would answer a delete sooner than that with a 429. Once a
 * final result exists the claim guards nothing (every delivery answers from result.json
 * first), so a claim that young is left to expire (the bucket's retention rule removes it
 * with the job's folder); without a final result (none, or an `internal` failure) the
 * delete waits out the interval, so that the redelivery or re-run finds the job free.
 */
async function releaseClaim(store: ObjectStore, object: string, claim: { generation: string; writtenAt: number }, resultStands: boolean): Promise<void> {
  const early = (store.updateIntervalMs ?? 0) - (performance.now() - claim.writtenAt);
  if (early > 0) {
    if (resultStands) return;
    await sleep(Math.ceil(early));
  }
  await store.deleteIf(object, claim.generation);
}

/**
 * Releases the claim of a run whose claim write failed (perhaps after being stored): read
 * back, deleted only if it carries this run's id.
 */
export async function releaseUnheldClaim(store: ObjectStore, object: string, runId: string): Promise<void> {
  const held = await store.get(object);
  if (held && claimHolder(held.body).runId === runId) await store.deleteIf(object, held.generation);
}

function claimHolder(body: string): { runId: string | undefined; expiresAt: number } {
  try {
    const parsed = JSON.parse(body) as { run_id?: unknown; expires_at?: unknown };
    return { runId: typeof parsed.run_id === 'string' ? parsed.run_id : undefined, expiresAt: Date.parse(String(parsed.expires_at ?? '')) };
  } catch {
    return { runId: undefined, expiresAt: Number.NaN }; // unreadable: treated as expired, so it is taken over
  }
}
