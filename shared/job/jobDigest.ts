import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { Job, ModelName } from './model.js';

/**
 * What a job_id is bound to: the job it names, in canonical form, and that form's digest.
 * Stored as `jobs/<model>/<job_id>/job.json` beside the result, so that a later delivery
 * under the same id can be told apart from a different job.
 */
export interface JobIdentity {
  readonly model: ModelName;
  readonly job_id: string;
  /** `sha256:<hex>` of `canonicalJson({ model, job, valid })`. */
  readonly digest: string;
  /**
   * The job after validation: `{date}` placeholders expanded, the window's defaults
   * resolved from the publish date, params with their defaults. A job that did not
   * validate is kept as received (after placeholder expansion), marked `valid: false`.
   */
  readonly job: unknown;
  readonly valid: boolean;
}

const storedIdentitySchema = z.object({
  model: z.string(),
  job_id: z.string(),
  digest: z.string(),
  job: z.unknown(),
  valid: z.boolean(),
});

/** The identity of a validated job. */
export function jobIdentity<P>(model: ModelName, job: Job<P>): JobIdentity {
  const canonical = { job_id: job.job_id, symbols: job.symbols, start: job.start, end: job.end, params: job.params };
  return identity(model, job.job_id, canonical, true);
}

/** The identity of a job that failed validation: the document as received. */
export function unvalidatedJobIdentity(model: ModelName, jobId: string, document: unknown): JobIdentity {
  return identity(model, jobId, document, false);
}

/** Parses a stored `job.json`; null if it is not one (then the binding is unknown). */
export function parseJobIdentity(text: string): JobIdentity | null {
  try {
    const parsed = storedIdentitySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** `job.json`'s body: indented, or compact for a large job. */
export function jobIdentityJson(identity: JobIdentity): string {
  if (largeJobs.has(identity)) {
    // The text kept from the digest serves once (job.json is written once); then it is let go.
    const text = largeJobText.get(identity) ?? canonicalJson(identity.job);
    largeJobText.delete(identity);
    // Compact, like a large result: the same fields in the same order, the job's keys sorted.
    const { model, job_id, digest, valid } = identity;
    return `{"model":${JSON.stringify(model)},"job_id":${JSON.stringify(job_id)},"digest":${JSON.stringify(digest)},"job":${text},"valid":${valid}}\n`;
  }
  try {
    return JSON.stringify(identity, null, 2) + '\n';
  } catch {
    return JSON.stringify({ ...identity, job: null }, null, 2) + '\n'; // too deep to write back: the digest is what counts
  }
}

/**
 * The sentence of an `invalid_job` refusal: names the job_id, the first field where the
 * two jobs differ, and what to do (a new job_id).
 */
export function differentJobMessage(stored: JobIdentity, offered: JobIdentity): string {
  // Between a job that validated and one that did not, a field-by-field difference says little.
  const difference = stored.valid === offered.valid && stored.job !== null ? safeFirstDifference(stored.job, offered.job) : null;
  const where = difference
    ? ` (${difference.path || 'the job'} was ${show(difference.stored)}, this job has ${show(difference.offered)})`
    : stored.valid
      ? ''
      : ' (one that did not validate)';
  return (
    `job_id "${offered.job_id}" already names a different ${offered.model} job${where}; ` +
    `its stored result is kept and this job was not run. Publish this job under a new job_id.`
  );
}

/**
 * JSON with object keys sorted at every depth and no whitespace: equal values give equal
 * text, whatever order the publisher wrote the keys in. Array order is kept (it means
 * something: `symbols`, `weights`, `options`). Undefined members are left out, as
 * JSON.stringify does. Written with an explicit stack, not recursion: a job that did not
 * validate may be nested deeper than the call stack allows, and must still be digested.
 */
export function canonicalJson(value: unknown): string {
  return sortedKeysJson(value) ?? stackCanonicalJson(value);
}

/** canonicalJson written token by token on an explicit stack: any depth, any value. */
function stackCanonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item instanceof Literal) out.push(item.text);
    else if (Array.isArray(item)) {
      stack.push(new Literal(']'));
      for (let i = item.length - 1; i >= 0; i--) {
        stack.push(item[i] === undefined ? null : item[i]);
        if (i > 0) stack.push(new Literal(','));
      }
      stack.push(new Literal('['));
    } else if (typeof item === 'object' && item !== null) {
      const record = item as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      stack.push(new Literal('}'));
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push(record[keys[i]]);
        stack.push(new Literal(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`));
      }
      stack.push(new Literal('{'));
    } else out.push(JSON.stringify(item) ?? 'null');
  }
  return out.join('');
}

/** Deeper than this, sortedKeysJson leaves the value to the stack serializer (JSON.stringify recurses). */
const FAST_DEPTH = 200;

/**
 * canonicalJson by JSON.stringify itself, for a plain JSON value no deeper than FAST_DEPTH:
 * given the sorted list of every key in the value, JSON.stringify writes each object's keys
 * in that order (a property-list replacer), which is the canonical text, in C++ (100,000
 * options: ~0.1 s instead of seconds). Undefined if the value is anything else (deeper, a
 * non-plain object, a function, a key `__proto__`, which a property list would read through
 * the prototype). A large array gets the list of its own keys: each object looks up every key
 * of the list, so 100,000 options look up their 9 keys, not the job's 20 (~30% faster).
 */
function sortedKeysJson(value: unknown): string | undefined {
  const keys = new Set<string>();
  const arrayKeys = new Map<unknown[], Set<string>>();
  if (!collectKeys(value, keys, 0, arrayKeys) || keys.has('__proto__')) return undefined;
  return listedKeysJson(value, [...keys].sort(), 0, arrayKeys);
}

/** From this many elements on, an array is written with a key list of its own. */
const OWN_KEYS_ARRAY = 1000;

/**
 * JSON.stringify(value, keys) for a plain value whose keys are all in `keys`; a large array
 * with the list of its own keys (from collectKeys).
 */
function listedKeysJson(value: unknown, keys: readonly string[], depth: number, arrayKeys: ReadonlyMap<unknown[], Set<string>>): string {
  if (typeof value !== 'object' || value === null || depth >= FAST_DEPTH) return JSON.stringify(value, keys as string[]) ?? 'null';
  if (Array.isArray(value)) {
    const own = arrayKeys.get(value);
    return JSON.stringify(value, own ? [...own].sort() : (keys as string[]));
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  // In the list's (sorted) order, as JSON.stringify writes them; undefined members are left out.
  for (const key of keys) {
    if (!Object.hasOwn(record, key) || record[key] === undefined) continue;
    members.push(`${JSON.stringify(key)}:${listedKeysJson(record[key], keys, depth + 1, arrayKeys)}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * Adds every key in `value` to `keys`, and each large array's own keys to `arrayKeys`; false
 * if the value is not plain JSON no deeper than FAST_DEPTH.
 */
function collectKeys(value: unknown, keys: Set<string>, depth: number, arrayKeys: Map<unknown[], Set<string>>): boolean {
  if (value === null || value === undefined) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return true;
  if (type !== 'object' || depth >= FAST_DEPTH) return false;
  if (Array.isArray(value)) {
    const own = value.length >= OWN_KEYS_ARRAY ? new Set<string>() : keys;
    for (let i = 0; i < value.length; i++) if (!collectKeys(value[i], own, depth + 1, arrayKeys)) return false;
    if (own !== keys) {
      arrayKeys.set(value, own);
      for (const key of own) keys.add(key);
    }
    return true;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    keys.add(key);
    if (!collectKeys(record[key], keys, depth + 1, arrayKeys)) return false;
  }
  return true;
}

/** A piece of canonical JSON text already written out (on the serializer's stack). */
class Literal {
  constructor(readonly text: string) {}
}

function identity(model: ModelName, jobId: string, job: unknown, valid: boolean): JobIdentity {
  // canonicalJson({ model, job, valid }), with the job's text (most of it) written once.
  const jobText = job === undefined ? undefined : canonicalJson(job);
  const whole = jobText === undefined ? canonicalJson({ model, valid }) : `{"job":${jobText},"model":${JSON.stringify(model)},"valid":${valid}}`;
  const digest = createHash('sha256').update(whole).digest('hex');
  if (jobText !== undefined && jobText.length >= LARGE_JOB) {
    // A large job (100,000 options) is not copied: job.json is written from its canonical text.
    const large: JobIdentity = { model, job_id: jobId, digest: `sha256:${digest}`, job, valid };
    largeJobs.add(large);
    largeJobText.set(large, jobText);
    return large;
  }
  return { model, job_id: jobId, digest: `sha256:${digest}`, job: storable(jobText), valid };
}

/** From this many characters of canonical JSON on, job.json is written compact from that text. */
const LARGE_JOB = 1_000_000;
const largeJobs = new WeakSet<JobIdentity>();
const largeJobText = new WeakMap<JobIdentity, string>();

/**
 * The job as `job.json` keeps it, keys sorted; null for a document too deeply nested to
 * write back as JSON (its digest still tells it apart).
 */
function storable(jobText: string | undefined): unknown {
  if (jobText === undefined) return null;
  try {
    const parsed = JSON.parse(jobText) as unknown;
    JSON.stringify({ job: parsed }, null, 2);
    return parsed;
  } catch {
    return null;
  }
}

interface Difference {
  readonly path: string;
  readonly stored: unknown;
  readonly offered: unknown;
}

function safeFirstDifference(stored: unknown, offered: unknown): Difference | null {
  try {
    return firstDifference(stored, offered, '');
  } catch {
    return null; // nested too deeply to walk: the sentence goes without the field
  }
}

function firstDifference(stored: unknown, offered: unknown, path: string): Difference | null {
  if (canonicalJson(stored) === canonicalJson(offered)) return null;
  const bothArrays = Array.isArray(stored) && Array.isArray(offered);
  const bothObjects = isObject(stored) && isObject(offered);
  if (bothArrays && stored.length === offered.length) {
    for (let i = 0; i < stored.length; i++) {
      const d = firstDifference(stored[i], offered[i], `${path}[${i}]`);
      if (d) return d;
    }
  }
  if (bothObjects) {
    for (const key of [...new Set([...Object.keys(stored), ...Object.keys(offered)])].sort()) {
      const d = firstDifference(stored[key], offered[key], path ? `${path}.${key}` : key);
      if (d) return d;
    }
  }
  return { path, stored, offered };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (value === undefined) return 'absent';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
