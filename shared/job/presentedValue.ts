/**
 * A member of a job's `params` that reached the job already read and validated, standing in
 * for the JSON value it was read from: a large Black-Scholes batch whose 100,000 options the
 * command line read from the job's bytes into columns (presentedOptions.ts) rather than
 * parsing them into objects, which cost more than everything else the job's thread does.
 *
 * Only code makes one, never JSON, and only for a value its member's schema accepts as it is
 * (the schema's output equals its input: no default, no transform), checked with the schema
 * when it is made. So the lifecycle validates the other members and keeps this one
 * (envelope.ts), the canonical writer writes its text (canonicalJson.ts), and the model reads
 * it in its own form; anything else that meets it reads it as JSON (`toJSON`) and sees the
 * value it stands for.
 */
export interface PresentedValue {
  readonly [PRESENTED]: true;
  /** canonicalJson of the value it stands for, as UTF-8 pieces handed to `write` in order. */
  writeCanonical(write: (piece: Buffer) => void): void;
  /** The JSON value it stands for, built when asked (a rare path: a refusal's field-by-field comparison). */
  toJSON(): unknown;
}

export const PRESENTED: unique symbol = Symbol('presented value');

export function isPresented(value: unknown): value is PresentedValue {
  return typeof value === 'object' && value !== null && (value as Partial<PresentedValue>)[PRESENTED] === true;
}

/** A value with any presented member replaced by the value it stands for (one level: where params hold them). */
export function withoutPresented(value: unknown): unknown {
  return isPresented(value) ? value.toJSON() : value;
}

/** Whether a job document's params hold a presented value (where the command line puts them). */
export function holdsPresented(document: unknown): boolean {
  const params = typeof document === 'object' && document !== null ? (document as { params?: unknown }).params : undefined;
  return typeof params === 'object' && params !== null && Object.values(params).some(isPresented);
}
