import type { ResultDocument } from '../job/documents.js';
import type { ErrorCode } from '../job/errors.js';
import type { ModelName } from '../job/model.js';

/** The message published to `job-events` when a job ends (the contract's "Results"). */
export interface JobEvent {
  readonly job_id: string | null;
  readonly model: ModelName;
  readonly status: 'completed' | 'failed';
  readonly error?: { readonly code: ErrorCode; readonly message: string };
  readonly result_uri: string;
  readonly chart_uri?: string;
  readonly duration_ms: number;
}

/** The message attributes, so that subscribers can filter without decoding the body. */
export type JobEventAttributes = Record<'model' | 'status', string> & { job_id?: string };

/**
 * A job's event, made from its committed result document and nothing else: every delivery
 * of one job (a redelivery finishing an interrupted one, a duplicate) makes the same event.
 * @param resultUri where `result.json` is (a failed document has no `artifacts`)
 */
export function jobEventOf(document: ResultDocument, resultUri: string): JobEvent {
  return {
    job_id: document.job_id,
    model: document.model,
    status: document.status,
    ...(document.status === 'failed' ? { error: document.error } : {}),
    result_uri: document.status === 'completed' ? document.artifacts.result : resultUri,
    ...(document.status === 'completed' && document.artifacts.chart ? { chart_uri: document.artifacts.chart } : {}),
    duration_ms: document.duration_ms,
  };
}

export function jobEventAttributes(event: JobEvent): JobEventAttributes {
  return { model: event.model, status: event.status, ...(event.job_id !== null ? { job_id: event.job_id } : {}) };
}
