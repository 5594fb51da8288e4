import type { ResultDocument } from './documents.js';
import type { ErrorCode } from './errors.js';

/**
 * The failures that are the job's own fault: the same job would fail the same way again,
 * so they are its final answer and consume its job_id, like a completed result.
 * `internal` (a bug, a missing or rejected secret, a missing table, a permission) is
 * ours: the same job published again after the fix runs.
 */
export const FINAL_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['invalid_job', 'unknown_symbol', 'insufficient_data']);

/** Whether a result document is the job's final answer (completed, or failed by its own fault). */
export function isFinal(document: ResultDocument): boolean {
  return document.status === 'completed' || FINAL_ERROR_CODES.has(document.error.code);
}
