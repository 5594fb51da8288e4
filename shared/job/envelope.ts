import * as z from 'zod';
import { JobError } from './errors.js';
import { fastParse, NOT_SURE } from './fastParse.js';
import type { Job, ModelDefinition } from './model.js';

export const JOB_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
const SYMBOL_PATTERN = /^[A-Za-z0-9^=._/-]{1,32}$/;
/** More symbols than this is not a job one function instance should take. */
export const MAX_SYMBOLS = 2000;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be an ISO date YYYY-MM-DD')
  .refine((s) => new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'is not a calendar date');

const envelopeSchema = z
  .object({
    job_id: z.string().regex(JOB_ID_PATTERN, 'must be 1-128 characters of A-Z, a-z, 0-9, "_", "." or "-"'),
    symbols: z.array(z.string().regex(SYMBOL_PATTERN, 'must be a ticker of 1-32 letters, digits or ^=._/-')).max(MAX_SYMBOLS).optional(),
    start: isoDate.optional(),
    end: isoDate.optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/**
 * Validates a decoded job document against the contract's envelope and the model's
 * params. Throws JobError `invalid_job` with a sentence naming the field at fault.
 * Without `end` the window ends today (UTC); without `start` it starts one year before `end`.
 * @param today the date the defaults count from (YYYY-MM-DD).
 */
export function parseJob<P>(document: unknown, model: ModelDefinition<P>, today: string): Job<P> {
  const envelope = envelopeSchema.safeParse(document);
  if (!envelope.success) throw new JobError('invalid_job', describeIssues(envelope.error));
  const { job_id, symbols = [], params = {} } = envelope.data;
  const duplicate = symbols.find((s, i) => symbols.indexOf(s) !== i);
  if (duplicate) throw new JobError('invalid_job', `symbols lists "${duplicate}" more than once; list each symbol once.`);
  if (symbols.length === 0 && !model.symbolsOptional) {
    throw new JobError('invalid_job', `symbols is required by ${model.name} jobs: list at least one symbol.`);
  }
  const end = envelope.data.end ?? today;
  const start = envelope.data.start ?? oneYearBefore(end);
  if (start > end) throw new JobError('invalid_job', `start (${start}) is after end (${end}); the window is inclusive and must not be empty.`);
  // A large params (100,000 options) is checked by the validator compiled from the schema;
  // whatever it cannot vouch for is parsed by zod, whose message names the field at fault.
  const fast = fastParse(model.params, params);
  if (fast !== NOT_SURE) return { job_id, symbols, start, end, params: fast };
  const parsedParams = model.params.safeParse(params);
  if (!parsedParams.success) throw new JobError('invalid_job', describeIssues(parsedParams.error, ['params']));
  return { job_id, symbols, start, end, params: parsedParams.data };
}

/** The job_id of a document that may be invalid otherwise, if it has a usable one. */
export function salvageJobId(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const id = (document as Record<string, unknown>).job_id;
  return typeof id === 'string' && JOB_ID_PATTERN.test(id) ? id : undefined;
}

/** One sentence naming the field of the first problem zod found, e.g. `params.options[2].strike: ...`. */
export function describeIssues(error: z.ZodError, prefix: (string | number)[] = []): string {
  const issue = error.issues[0];
  const path = fieldPath([...prefix, ...(issue.path as (string | number)[])]);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    const where = path ? `in ${path}` : 'at the top level of the job';
    return `Unknown key${issue.keys.length > 1 ? 's' : ''} ${keys} ${where}: check the spelling against the job contract.`;
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return `${path || 'the job'}: ${message}.`.replace(/\.\.$/, '.');
}

function fieldPath(parts: (string | number)[]): string {
  return parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function oneYearBefore(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() - 1);
  return d.toISOString().slice(0, 10);
}
