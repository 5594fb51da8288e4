import type { StatusDocument } from '../../shared/job/documents.js';

/**
 * One line about a job being followed: on a terminal (`columns` given) a progress bar that
 * the caller redraws in place; otherwise a plain line, printed when it changes (a log, a
 * CI job), which is why the plain line carries no elapsed time.
 * @param status the job's status.json so far, or null before the function has picked it up
 */
export function progressLine(fn: string, jobId: string, status: Partial<StatusDocument> | null, elapsedSeconds: number, columns?: number): string {
  const state = status?.status ?? 'queued';
  const fraction = state === 'completed' || state === 'failed' ? 1 : status?.progress;
  const percent = fraction === undefined ? '' : ` ${Math.floor(fraction * 100)}%`;
  if (columns === undefined) return `${fn} ${jobId}: ${state}${percent}`;
  const label = `${fn} ${jobId} ${state}${percent} ${Math.round(elapsedSeconds)}s`;
  const width = Math.max(10, Math.min(40, columns - label.length - 4));
  const filled = fraction === undefined ? 0 : Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${label}`.slice(0, Math.max(0, columns - 1));
}
