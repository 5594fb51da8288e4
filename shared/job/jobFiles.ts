import type { ObjectStore } from '../results/objectStore.js';
import { jobObjects } from './documents.js';
import type { JobFiles, ModelName } from './model.js';

const JSON_TYPE = 'application/json';

/**
 * The objects of a job's folder (`jobs/<model>/<job_id>/<name>`) for a model that keeps
 * state there (JSON bodies, create-only or read). Names are relative paths of
 * `[A-Za-z0-9_.-]` segments, never `.` or `..`.
 */
export function jobFolderFiles(store: ObjectStore, model: ModelName, jobId: string): JobFiles {
  const folder = jobObjects(model, { jobId }).result.replace(/result\.json$/, '');
  const named = (name: string) => {
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(name) || name.split('/').some((s) => /^\.+$/.test(s))) throw new Error(`Bad job file name ${JSON.stringify(name)}.`);
    return folder + name;
  };
  return {
    names: async (prefix) => (await store.names(named(prefix.replace(/\/$/, '')) + (prefix.endsWith('/') ? '/' : ''))).map((name) => name.slice(folder.length)),
    createOnly: async (name, body) => (await store.createOnly(named(name), body, JSON_TYPE)) !== null,
    read: async (name) => (await store.get(named(name)))?.body ?? null,
  };
}
