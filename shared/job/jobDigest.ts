import { createHash } from 'node:crypto';
import * as z from 'zod';
import { bodyText, type ObjectBody } from '../results/objectStore.js';
import { canonicalJson, writeCanonicalJsonBytes } from './canonicalJson.js';
import type { Job, ModelName } from './model.js';
import { withoutPresented } from './presentedValue.js';

export { canonicalJson } from './canonicalJson.js';

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
  return identity(model, job.job_id, validatedForm(job), true);
}

/** What is digested of a validated job. */
function validatedForm<P>(job: Job<P>): unknown {
  return { job_id: job.job_id, symbols: job.symbols, start: job.start, end: job.end, params: job.params };
}

/**
 * The digest of a validated job and its canonical text as UTF-8 pieces: what
 * identityWorker.ts computes on a helper thread, for jobIdentityFrom on the job's own thread.
 */
export function validatedJobDigest<P>(model: ModelName, job: Job<P>): { digest: string; text: Buffer[] } {
  const { digest, chunks } = digestParts(model, validatedForm(job), true);
  return { digest, text: chunks };
}

/**
 * The identity jobIdentity(model, job) gives, from the digest and canonical text that
 * validatedJobDigest gave for the same job (on another thread, from the same message).
 */
export function jobIdentityFrom<P>(model: ModelName, job: Job<P>, digest: string, text: readonly Uint8Array[]): JobIdentity {
  return identityOf(model, job.job_id, validatedForm(job), true, digest, text);
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

/**
 * `job.json`'s body for the store: indented text, or for a large job compact, as the UTF-8
 * chunks its digest was taken of between a head and a tail (a 16 MB job is never one string).
 */
export function jobIdentityBody(identity: JobIdentity): ObjectBody {
  if (largeJobs.has(identity)) {
    // The text kept from the digest serves once (job.json is written once); then it is let go.
    const text = largeJobText.get(identity) ?? canonicalPieces(identity.job);
    largeJobText.delete(identity);
    // Compact, like a large result: the same fields in the same order, the job's keys sorted.
    const { model, job_id, digest, valid } = identity;
    const head = Buffer.from(`{"model":${JSON.stringify(model)},"job_id":${JSON.stringify(job_id)},"digest":${JSON.stringify(digest)},"job":`, 'utf8');
    return [head, ...text, Buffer.from(`,"valid":${valid}}\n`, 'utf8')];
  }
  try {
    return JSON.stringify(identity, null, 2) + '\n';
  } catch {
    return JSON.stringify({ ...identity, job: null }, null, 2) + '\n'; // too deep to write back: the digest is what counts
  }
}

/** `job.json`'s body as one text: jobIdentityBody's. */
export function jobIdentityJson(identity: JobIdentity): string {
  return bodyText(jobIdentityBody(identity));
}

function canonicalPieces(value: unknown): Buffer[] {
  const pieces: Buffer[] = [];
  writeCanonicalJsonBytes(value, (piece) => pieces.push(piece));
  return pieces;
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

function identity(model: ModelName, jobId: string, job: unknown, valid: boolean): JobIdentity {
  if (job === undefined) {
    const digest = createHash('sha256').update(canonicalJson({ model, valid })).digest('hex');
    return { model, job_id: jobId, digest: `sha256:${digest}`, job: null, valid };
  }
  const { digest, chunks } = digestParts(model, job, valid);
  return identityOf(model, jobId, job, valid, digest, chunks);
}

/**
 * canonicalJson({ model, job, valid }) hashed as the job's text (most of it) is written: in
 * UTF-8 pieces of 64 KB, each hashed as it fills and kept for job.json.
 */
function digestParts(model: ModelName, job: unknown, valid: boolean): { digest: string; chunks: Buffer[] } {
  const hash = createHash('sha256').update('{"job":');
  const chunks: Buffer[] = [];
  writeCanonicalJsonBytes(job, (piece) => {
    hash.update(piece);
    chunks.push(piece);
  });
  const digest = hash.update(`,"model":${JSON.stringify(model)},"valid":${valid}}`).digest('hex');
  return { digest: `sha256:${digest}`, chunks };
}

/** The identity of `job` (defined), given its digest and canonical text. */
function identityOf(model: ModelName, jobId: string, job: unknown, valid: boolean, digest: string, text: readonly Uint8Array[]): JobIdentity {
  let length = 0;
  for (const piece of text) length += piece.length;
  if (length >= LARGE_JOB) {
    // A large job (100,000 options) is not copied: job.json is written from its canonical text.
    const large: JobIdentity = { model, job_id: jobId, digest, job, valid };
    largeJobs.add(large);
    largeJobText.set(large, text);
    return large;
  }
  return { model, job_id: jobId, digest, job: storable(Buffer.concat(text).toString('utf8')), valid };
}

/** From this many bytes of canonical JSON on, job.json is written compact from that text. */
const LARGE_JOB = 1_000_000;
const largeJobs = new WeakSet<JobIdentity>();
/** A large job's canonical text as UTF-8 pieces, kept from its digest until job.json is written. */
const largeJobText = new WeakMap<JobIdentity, readonly Uint8Array[]>();

/**
 * The job as `job.json` keeps it, keys sorted; null for a document too deeply nested to
 * write back as JSON (its digest still tells it apart).
 */
function storable(jobText: string): unknown {
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

/**
 * The first place, in canonical order, where the two values' canonical texts differ; null if
 * they are the same. Arrays of one length and objects are walked member by member rather than
 * written whole at each level (two batches of 100,000 options: one pass, not one a level).
 */
function firstDifference(storedValue: unknown, offeredValue: unknown, path: string): Difference | null {
  // A presented value (a batch read into columns) is compared as the JSON it stands for.
  const [stored, offered] = [withoutPresented(storedValue), withoutPresented(offeredValue)];
  if (Array.isArray(stored) && Array.isArray(offered) && stored.length === offered.length) {
    for (let i = 0; i < stored.length; i++) {
      const d = firstDifference(stored[i], offered[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null; // an element's text is the array's text for it (undefined included: `null`)
  }
  if (isObject(stored) && isObject(offered)) {
    const storedKeys = new Set(Object.keys(stored));
    const offeredKeys = new Set(Object.keys(offered));
    const keys = [...new Set([...storedKeys, ...offeredKeys])].sort();
    // Own members only, as the canonical text has them (not `toString` from the prototype).
    const member = (record: Record<string, unknown>, own: Set<string>, key: string) => (own.has(key) ? record[key] : undefined);
    for (const key of keys) {
      const d = firstDifference(member(stored, storedKeys, key), member(offered, offeredKeys, key), path ? `${path}.${key}` : key);
      if (d) return d;
    }
    // Every member has the same text alone (undefined written `null`); the objects' texts still
    // differ where a member is written in one and left out of the other.
    return keys.some((key) => (member(stored, storedKeys, key) === undefined) !== (member(offered, offeredKeys, key) === undefined)) ? { path, stored, offered } : null;
  }
  return canonicalJson(stored) === canonicalJson(offered) ? null : { path, stored, offered };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (value === undefined) return 'absent';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
