/**
 * What a write stores: a text (written as UTF-8), or the object's bytes as chunks in order
 * (a 44 MB Black-Scholes result, which is never held as one string). Either way the object
 * appears whole or not at all.
 */
export type ObjectBody = string | readonly Uint8Array[];

/** The text a body spells (its chunks' UTF-8 decoded as one): what reading the object back gives. */
export function bodyText(body: ObjectBody): string {
  return typeof body === 'string' ? body : Buffer.concat(body).toString('utf8');
}

/** An object as read back, with the generation that a conditional write can match. */
export interface StoredObject {
  readonly body: string;
  readonly generation: string;
}

/**
 * The artifacts bucket: Cloud Storage in the cloud, a folder locally. Object names are
 * bucket-relative (`jobs/<model>/<job_id>/result.json`). Faults that may pass are thrown
 * as `TransientError`.
 */
export interface ObjectStore {
  /**
   * The least time between two writes to one object that the store accepts without
   * throttling (Cloud Storage: about one update per second per object); 0 or absent: none.
   */
  readonly updateIntervalMs?: number;
  /**
   * Writes the object only if it does not exist yet: its new generation, or null if it existed
   * before this call (nothing written). A retried write that was stored counts as written.
   */
  createOnly(name: string, body: ObjectBody, contentType: string): Promise<string | null>;
  /** Writes or overwrites the object (a large job's job.json as the chunks of its canonical text). */
  put(name: string, body: ObjectBody, contentType: string): Promise<void>;
  /** Replaces the object only if it is still at `generation`: its new generation, or null if it had changed. */
  replaceIf(name: string, body: ObjectBody, contentType: string, generation: string): Promise<string | null>;
  /** Whether the object exists: one metadata request, whatever the object's size. */
  exists(name: string): Promise<boolean>;
  /** The object, or `null` if there is none. */
  get(name: string): Promise<StoredObject | null>;
  /**
   * The names of the objects whose names start with `prefix`, in no particular order: one
   * listing (paged by the store), no object read. Monte Carlo shards count the partial
   * states stored so far with it.
   */
  names(prefix: string): Promise<string[]>;
  /** Deletes the object if it is still at `generation` (a no-op if it is gone or changed). */
  deleteIf(name: string, generation: string): Promise<void>;
  /** Where a person or a notebook finds the object (`gs://...` or a file path). */
  uri(name: string): string;
}
