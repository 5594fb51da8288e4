import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '../results/objectStore.js';
import { fail, ok, type Check } from './check.js';

/**
 * The artifacts bucket (or LOCAL_DATA_DIR's folder) is reachable and writable: a probe
 * object is created, read back and removed, with the same create-only write and
 * generation-matched delete the job lifecycle uses.
 * @param where what to call the bucket in the report (gs://name or a folder)
 * @param fix what to do when it is not writable
 */
export function bucketCheck(store: ObjectStore, where: string, fix: string): Check {
  const name = 'bucket';
  return {
    name,
    async run() {
      const probe = `doctor/probe-${randomUUID()}.txt`;
      const body = `written by npm run doctor at ${new Date().toISOString()}`;
      let generation: string | null;
      try {
        generation = await store.createOnly(probe, body, 'text/plain');
      } catch (error) {
        return [fail(name, `${where} is not writable: ${message(error)}`, fix)];
      }
      if (generation === null) return [fail(name, `${where}: the probe ${probe} already existed`, 'run the doctor again')];
      try {
        const read = await store.get(probe);
        if (read?.body !== body) return [fail(name, `${where}: the probe read back differs from what was written`, fix)];
      } finally {
        await store.deleteIf(probe, generation);
      }
      if (await store.get(probe)) return [fail(name, `${where}: the probe ${probe} could not be removed`, `delete it by hand; ${fix}`)];
      return [ok(name, `${where} reachable and writable (probe object written, read back, removed)`)];
    },
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
