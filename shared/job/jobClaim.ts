import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../results/objectStore.js';

/** A claim this run holds on a job: renewed by a heartbeat until released. */
export interface HeldClaim {
  readonly runId: string;
  /** Stops the heartbeat and deletes the claim (if it is still ours). */
  release(): Promise<void>;
}

/** What `claim.json` holds. */
interface ClaimBody {
  readonly run_id: string;
  readonly expires_at: string;
}

const JSON_TYPE = 'application/json';

/**
 * Claims a job with a short lease (`claim.json`, create-only) and keeps it alive with a
 * heartbeat every quarter lease while the job runs. A run that dies (kill -9, out of
 * memory) stops renewing, so a redelivery takes the job over within one lease of the crash,
 * instead of after a lease sized for the longest job.
 *
 * Returns null when another run holds a live claim (the caller throws so Pub/Sub retries).
 * A claim whose lease ran out is taken over with a generation-matched write.
 */
export async function claimJob(store: ObjectStore, object: string, leaseMs: number, now: () => Date, log: Logger): Promise<HeldClaim | null> {
  const runId = randomUUID();
  const body = (): string => JSON.stringify({ run_id: runId, expires_at: new Date(now().getTime() + leaseMs).toISOString() } satisfies ClaimBody);
  const generation = await acquire(store, object, body, now);
  return generation === null ? null : heartbeat(store, object, runId, generation, body, leaseMs, log);
}

async function acquire(store: ObjectStore, object: string, body: () => string, now: () => Date): Promise<string | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const created = await store.createOnly(object, body(), JSON_TYPE);
    if (created !== null) return created;
    const held = await store.get(object);
    if (!held) continue; // released between our two calls: try again
    if (leaseExpiry(held.body) > now().getTime()) return null;
    // The holder died without releasing (its lease ran out): take over, unless someone else just did.
    return store.replaceIf(object, body(), JSON_TYPE, held.generation);
  }
  return null;
}

/** When a stored claim's lease ends (ms since the epoch); an unreadable claim counts as expired. */
function leaseExpiry(text: string): number {
  try {
    const expires = Date.parse(String((JSON.parse(text) as Partial<ClaimBody>).expires_at));
    return Number.isFinite(expires) ? expires : 0;
  } catch {
    return 0;
  }
}

function heartbeat(store: ObjectStore, object: string, runId: string, first: string, body: () => string, leaseMs: number, log: Logger): HeldClaim {
  let generation: string | null = first;
  let renewing: Promise<void> = Promise.resolve();
  const renew = async (): Promise<void> => {
    if (generation === null) return;
    try {
      const next = await store.replaceIf(object, body(), JSON_TYPE, generation);
      if (next === null) log.warn('The job claim was taken over by another delivery (this run was too slow to renew it); the create-only commit keeps one result.', { run_id: runId });
      generation = next;
    } catch (error) {
      // A missed beat is harmless while the lease lasts; the next beat tries again.
      log.warn('Could not renew the job claim; retrying at the next heartbeat.', { run_id: runId, error });
    }
  };
  // unref: a pending beat never keeps a finished process alive.
  const timer = setInterval(() => (renewing = renew()), Math.max(250, Math.floor(leaseMs / 4)));
  timer.unref();
  return {
    runId,
    async release() {
      clearInterval(timer);
      await renewing;
      const held = generation;
      generation = null;
      if (held === null) return;
      await store.deleteIf(object, held).catch((error: unknown) => {
        log.warn('Could not release the job claim; it expires by itself.', { run_id: runId, error });
      });
    },
  };
}
