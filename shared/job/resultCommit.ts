import type { ObjectBody, ObjectStore } from '../results/objectStore.js';
import type { JobObjects, ResultDocument } from './documents.js';
import { TransientError } from './errors.js';
import { isFinal } from './finality.js';

const JSON_TYPE = 'application/json';

/**
 * Commits a job's `result.json`, the commit point of a run. Over nothing it is a
 * create-only write; over a result that is not final (an `internal` failure, which does
 * not consume the job_id) it is a replace matched to the generation just read. A final
 * result is never replaced, so of any number of writers exactly one final result is
 * written, once.
 * @returns true if this body is now the result; false if a final result was there first.
 */
export async function commitResult(store: ObjectStore, objects: JobObjects, body: ObjectBody): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await store.createOnly(objects.result, body, JSON_TYPE)) !== null) return true;
    const current = await store.get(objects.result);
    if (!current) continue; // replaced and gone between our two calls: try again
    if (isFinal(JSON.parse(current.body) as ResultDocument)) return false;
    if ((await store.replaceIf(objects.result, body, JSON_TYPE, current.generation)) !== null) return true;
  }
  throw new TransientError(`${objects.result} kept changing while this run committed; the delivery will be retried.`);
}
