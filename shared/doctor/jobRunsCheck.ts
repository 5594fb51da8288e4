import { fail, ok, type Check, type CheckOutcome } from './check.js';
import type { ModelJobStats } from './jobRunStats.js';

/** Job statistics since a moment: BigQuery's job_runs, or the local table. */
export type JobRunsSource = (since: Date) => Promise<ModelJobStats[]>;

const WINDOW_HOURS = 24;

/**
 * The last 24 h of job_runs, one line per model: completed, failed by error code, p50/p95
 * duration. `internal` failures fail the check: they are never the job's fault (a bug or
 * a deployment problem), unlike invalid_job or unknown_symbol.
 */
export function jobRunsCheck(source: JobRunsSource, now: () => Date, logsHint: (model: string) => string): Check {
  return {
    name: 'jobs',
    async run() {
      const since = new Date(now().getTime() - WINDOW_HOURS * 3600_000);
      const stats = await source(since);
      if (stats.length === 0) return [ok('jobs', `no job finished in the last ${WINDOW_HOURS} h`)];
      return stats.map((s): CheckOutcome => {
        const line = describe(s);
        const internal = s.failedByCode.internal ?? 0;
        return internal > 0 ? fail(`jobs ${s.model}`, line, `${internal} internal failure${internal === 1 ? '' : 's'}: read why with ${logsHint(s.model)}`) : ok(`jobs ${s.model}`, line);
      });
    },
  };
}

/** "12 in 24 h: 10 completed, 2 failed (invalid_job 2); p50 1.20 s, p95 3.40 s". */
export function describe(s: ModelJobStats): string {
  const failed = Object.values(s.failedByCode).reduce((a, b) => a + b, 0);
  const codes = Object.entries(s.failedByCode)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  const durations = s.p50Ms === null || s.p95Ms === null ? 'no durations' : `p50 ${seconds(s.p50Ms)}, p95 ${seconds(s.p95Ms)}`;
  return `${s.jobs} in ${WINDOW_HOURS} h: ${s.completed} completed, ${failed} failed${failed > 0 ? ` (${codes})` : ''}; ${durations}`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
