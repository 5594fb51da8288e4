import * as z from 'zod';
import { JobError } from './errors.js';
import { fastParse, NOT_SURE } from './fastParse.js';
import type { Job, ModelDefinition } from './model.js';
import { functionOwningKeys } from './paramKeys.js';
import { isPresented } from './presentedValue.js';

/** 1-128 characters of `[A-Za-z0-9_.-]`, and not only dots: `.` and `..` would name the folder above the job's. */
export const JOB_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9_.-]{1,128}$/;
const SYMBOL_PATTERN = /^[A-Za-z0-9^=._/-]{1,32}$/;
/** More symbols than this is not a job one function instance should take. */
export const MAX_SYMBOLS = 2000;

const isoDate = z.string().superRefine((value, ctx) => {
  const problem = calendarDateProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * Why a string is not an ISO calendar date (YYYY-MM-DD, year 1000-9999), or undefined if
 * it is one. Total: no input makes it throw (a `Date` of "2024-13-01" is invalid and its
 * toISOString throws).
 */
export function calendarDateProblem(value: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return `"${value.slice(0, 40)}" is not an ISO date YYYY-MM-DD`;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1000) return `"${value}" has a year before 1000`;
  if (month < 1 || month > 12) return `"${value}" is not a calendar date (month ${match[2]})`;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day < 1 || day > days) return `"${value}" is not a calendar date (day ${match[3]} of a ${days}-day month)`;
  return undefined;
}

const envelopeSchema = z
  .object({
    job_id: z.string().regex(JOB_ID_PATTERN, 'must be 1-128 characters of A-Z, a-z, 0-9, "_", "." or "-", and not only dots (it names a folder)'),
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
 * @param source the bytes `document` was parsed from, if known: where they cannot spell a key
 *   `__proto__` (mayHoldPrototypeKey), the document is not walked for one.
 */
export function parseJob<P>(document: unknown, model: ModelDefinition<P>, today: string, source?: Uint8Array): Job<P> {
  const prototypeKey = source !== undefined && !mayHoldPrototypeKey(source) ? undefined : findPrototypeKey(document);
  if (prototypeKey !== undefined) {
    throw new JobError('invalid_job', `${prototypeKey || 'the job'} has a key "__proto__", which no job has (and which parsing would silently drop); remove it.`);
  }
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
  // Members already read and validated (presentedValue.ts) are kept as they are; the others
  // are checked, a large params (100,000 options) by the validator compiled from the schema;
  // whatever it cannot vouch for is parsed by zod, whose message names the field at fault.
  const presented = Object.entries(params).filter(([, value]) => isPresented(value));
  const checked = presented.length === 0 ? params : Object.fromEntries(Object.entries(params).filter(([, value]) => !isPresented(value)));
  const fast = fastParse(model.params, checked);
  const parsedParams = fast !== NOT_SURE ? { success: true as const, data: fast } : model.params.safeParse(checked);
  if (!parsedParams.success) throw new JobError('invalid_job', describeParamsIssues(parsedParams.error, model.name));
  const validated = presented.length === 0 ? parsedParams.data : ({ ...parsedParams.data, ...Object.fromEntries(presented) } as P);
  return { job_id, symbols, start, end, params: validated };
}

/** The job_id of a document that may be invalid otherwise, if it has a usable one. */
export function salvageJobId(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const id = (document as Record<string, unknown>).job_id;
  return typeof id === 'string' && JOB_ID_PATTERN.test(id) ? id : undefined;
}

/** As describeIssues under `params`; unknown keys that are another function's say which one. */
function describeParamsIssues(error: z.ZodError, functionName: string): string {
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
    const owner = functionOwningKeys(issue.keys, functionName);
    if (owner !== undefined) {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      return `Unknown key${issue.keys.length > 1 ? 's' : ''} ${keys} in params: ${issue.keys.length > 1 ? 'they are' : 'it is'} ${owner}'s, not ${functionName}'s; publish this job to jobs-${owner}.`;
    }
  }
  return describeIssues(error, ['params']);
}

const PROTOTYPE_KEY = Buffer.from('__proto__');
const UNICODE_ESCAPE = Buffer.from('\\u');

/**
 * Whether the JSON text in `bytes` (UTF-8) could parse to a document with a key "__proto__":
 * only if it spells `__proto__`, or has a `\u` escape, which could spell any of its letters
 * (no other escape, and no byte of a multi-byte character, is an ASCII letter or `_`). Two
 * memchr-speed searches of a 16 MB job (a few ms) spare the walk over its 100,000 options.
 * @param source the exact bytes the document was parsed from
 */
export function mayHoldPrototypeKey(source: Uint8Array): boolean {
  const bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  return bytes.includes(PROTOTYPE_KEY) || bytes.includes(UNICODE_ESCAPE);
}

/**
 * The path of the first own key named `__proto__` in a parsed JSON document ('' for the
 * top level). Iterative: a job may nest deeper than the call stack. Only objects are visited
 * and a path is spelled out only for the one found (100,000 options: ~10 ms, not ~300 ms of
 * path strings for every field).
 */
function findPrototypeKey(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const pending: Visit[] = [{ value: document, parent: null, key: '' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const value = next.value;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        const item: unknown = value[i];
        if (typeof item === 'object' && item !== null && !isPresented(item)) pending.push({ value: item, parent: next, key: i });
      }
      continue;
    }
    if (Object.hasOwn(value, '__proto__')) return visitPath(next);
    const record = value as Record<string, unknown>;
    // for-in allocates no key list (an option's eight keys, 100,000 times); pending is a stack,
    // so objects are pushed last key first to be visited in key order.
    const start = pending.length;
    for (const key in record) {
      const item = record[key];
      // A presented value was read by a reader that takes no key but its fields.
      if (typeof item === 'object' && item !== null && Object.hasOwn(record, key) && !isPresented(item)) pending.push({ value: item, parent: next, key });
    }
    reverseFrom(pending, start);
  }
  return undefined;
}

function reverseFrom(items: unknown[], start: number): void {
  for (let i = start, j = items.length - 1; i < j; i++, j--) [items[i], items[j]] = [items[j], items[i]];
}

/** An object or array findPrototypeKey is to look into, and where it sits in the document. */
interface Visit {
  readonly value: object;
  readonly parent: Visit | null;
  /** Its key in the parent (an index in an array); '' for the document itself. */
  readonly key: string | number;
}

/** `params.options[2]`-style path of a visited value. */
function visitPath(visit: Visit): string {
  const parts: (string | number)[] = [];
  for (let v: Visit | null = visit; v !== null && v.parent !== null; v = v.parent) parts.push(v.key);
  return fieldPath(parts.reverse());
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
