import type { Logger } from '../log.js';

/** What `status.json` adds while a job runs: the share done (0 to 1), when it was measured, and model-specific detail. */
export interface ProgressFields {
  readonly progress: number;
  readonly updated_at: string;
  readonly [detail: string]: unknown;
}

export interface ProgressReporter {
  /** Reports `fraction` done (clamped to 0..1); written only when it crosses the next step, or reaches 1. */
  report(fraction: number, detail?: Record<string, unknown>): void;
  /** Waits for the writes in flight and stops writing: call before the final status. */
  close(): Promise<void>;
}

/**
 * Progress in `status.json` at most every `step` (default 10%), so a job of a million
 * small steps writes ten times, not a million. Writes are serialized; a failed write is
 * logged, not thrown: progress is for people watching, and the job goes on.
 */
export function progressReporter(
  write: (fields: ProgressFields) => Promise<void>,
  { log, now = () => new Date(), step = 0.1 }: { log: Logger; now?: () => Date; step?: number },
): ProgressReporter {
  // Nothing below the first step: a job that ends quickly writes no progress at all.
  let written = 0;
  let closed = false;
  let chain: Promise<void> = Promise.resolve();
  return {
    report(fraction, detail = {}) {
      if (closed) return;
      const progress = Math.min(1, Math.max(0, fraction));
      const mark = progress === 1 ? Math.ceil(1 / step) : Math.floor(progress / step + 1e-9);
      if (mark <= written) return;
      written = mark;
      const fields: ProgressFields = { ...detail, progress: Math.round(progress * 1e4) / 1e4, updated_at: now().toISOString() };
      chain = chain.then(() => write(fields)).catch((error: unknown) => log.warn('Could not write progress to status.json; the job goes on.', { error }));
    },
    async close() {
      closed = true;
      await chain;
    },
  };
}
