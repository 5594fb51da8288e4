import type { ErrorCode } from './errors.js';
import type { ModelName } from './model.js';
import type { ObjectBody } from '../results/objectStore.js';

/** The result document of a completed job (the job contract's "Results"). */
export interface CompletedDocument {
  readonly job_id: string;
  readonly model: ModelName;
  readonly status: 'completed';
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
  readonly inputs: Record<string, unknown>;
  readonly result: Record<string, unknown>;
  /** Where the job's objects are; `report` is report.html (chart, key numbers, inputs). */
  readonly artifacts: { readonly result: string; readonly chart?: string; readonly report?: string };
}

/** The result document of a failed job. `job_id` is null when the message had no usable one. */
export interface FailedDocument {
  readonly job_id: string | null;
  readonly model: ModelName;
  readonly status: 'failed';
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

export type ResultDocument = CompletedDocument | FailedDocument;

/** What `status.json` says while and after a job runs. */
export interface StatusDocument {
  readonly job_id: string | null;
  readonly model: ModelName;
  readonly status: 'running' | 'completed' | 'failed';
  readonly started_at: string;
  /** While running, for work longer than a few seconds: the fraction done (0 to 1), written at most every 10%. */
  readonly progress?: number;
  /** When `progress` was written. */
  readonly updated_at?: string;
  readonly finished_at?: string;
  readonly duration_ms?: number;
  readonly error?: { readonly code: ErrorCode; readonly message: string };
  /**
   * Set when the job's message reached its dead-letter topic: `failed` without a
   * `result.json`, so a replay of the message runs the job.
   */
  readonly dead_lettered?: true;
  /** While running: the model's detail beside `progress` (e.g. symbols done and in all). */
  readonly [detail: string]: unknown;
}

/** Where a job's objects live in the bucket. */
export interface JobObjects {
  /** The message id the objects are filed under, when the message had no usable job_id. */
  readonly rejectedMessageId?: string;
  readonly result: string;
  readonly status: string;
  readonly chart: string;
  readonly claim: string;
  readonly report: string;
  /** The job the job_id names (`JobIdentity`): what a later delivery under the id is compared with. */
  readonly job: string;
  /** The run a model handed off to its own tasks (handedOffRun.ts): when it started, its plan. */
  readonly handOff: string;
}

/**
 * `jobs/<model>/<job_id>/...`; a message with no usable job_id is filed under
 * `jobs/<model>/_rejected/<message id>/` (the message id is stable across redeliveries).
 */
export function jobObjects(model: ModelName, key: { jobId: string } | { messageId: string }): JobObjects {
  const files = (folder: string) => ({
    result: `${folder}/result.json`,
    status: `${folder}/status.json`,
    chart: `${folder}/chart.svg`,
    claim: `${folder}/claim.json`,
    report: `${folder}/report.html`,
    job: `${folder}/job.json`,
    handOff: `${folder}/hand-off.json`,
  });
  if ('jobId' in key) return files(`jobs/${model}/${key.jobId}`);
  const rejectedMessageId = safeSegment(key.messageId);
  return { rejectedMessageId, ...files(`jobs/${model}/_rejected/${rejectedMessageId}`) };
}

/**
 * Where the refusal of a delivery is recorded: `jobs/<model>/<job_id>/refused/<message id>.json`,
 * beside the job it did not replace, so a caller who published it can find its answer by
 * the message id the publish returned.
 */
export function refusalObject(model: ModelName, jobId: string, messageId: string): string {
  return `jobs/${model}/${jobId}/refused/${safeSegment(messageId)}.json`;
}

function safeSegment(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128);
  return cleaned === '' || /^\.+$/.test(cleaned) ? 'unknown' : cleaned;
}

/**
 * A result document as JSON: indented for a person to read, unless it is large (a batch of
 * 100,000 options), where indentation doubles the size and the time to write it.
 */
export function resultJson(document: ResultDocument): string {
  const cached = encoded.get(document);
  if (cached !== undefined) return cached;
  const resultText = resultTexts.get(document);
  const compact = resultText !== undefined ? splicedJson(document, typeof resultText === 'string' ? resultText : Buffer.concat(resultText).toString('utf8')) : JSON.stringify(document);
  const json = (compact.length < 1_000_000 ? JSON.stringify(document, null, 2) : compact) + '\n';
  encoded.set(document, json);
  return json;
}

/**
 * The result document as its stored body: `resultJson(document)`'s bytes, as chunks when the
 * model gave its result's JSON as chunks (a large batch: the document is then never one
 * string, only its head and tail are encoded here, and a large result is always compact).
 */
export function resultBody(document: ResultDocument): ObjectBody {
  const resultText = resultTexts.get(document);
  if (resultText === undefined || typeof resultText === 'string') return resultJson(document);
  const [head, tail] = splicedJson(document, RESULT_MARK).split(RESULT_MARK) as [string, string];
  return [Buffer.from(head, 'utf8'), ...resultText, Buffer.from(`${tail}\n`, 'utf8')];
}

/** Stands for the result's text while the rest of the document is encoded around it (no JSON text holds a raw NUL). */
const RESULT_MARK = '\u0000result\u0000';

/**
 * Records `JSON.stringify(document.result)` as the model wrote it (ModelOutput.resultText): a
 * text, or its UTF-8 bytes in chunks; resultJson and resultBody write it in place of
 * encoding the result again.
 */
export function withResultText(document: CompletedDocument, resultText: string | readonly Uint8Array[]): void {
  resultTexts.set(document, resultText);
}

/** Documents are not changed once built (their fields are readonly), so their JSON can be kept with them. */
const encoded = new WeakMap<ResultDocument, string>();
const resultTexts = new WeakMap<ResultDocument, string | readonly Uint8Array[]>();

/**
 * `JSON.stringify(document)` with `result` written as `resultText`: a result document's
 * members are plain JSON values (no toJSON, no undefined), whose text is their JSON in
 * key order, ','-separated.
 */
function splicedJson(document: ResultDocument, resultText: string): string {
  const members: string[] = [];
  for (const [key, value] of Object.entries(document)) {
    if (value === undefined) continue; // left out, as JSON.stringify does
    members.push(`${JSON.stringify(key)}:${key === 'result' ? resultText : JSON.stringify(value)}`);
  }
  return `{${members.join(',')}}`;
}
