import { httpStatus } from '../cloudErrors.js';

/** How one check ended: `ok`, `fail` (exit status 1) or `skip` (does not apply here, with the reason). */
export type CheckStatus = 'ok' | 'fail' | 'skip';

/** One line of the doctor's report. `fix` (what to do) is required on a failure. */
export interface CheckOutcome {
  readonly status: CheckStatus;
  readonly name: string;
  readonly detail: string;
  readonly fix?: string;
}

/** A named check; it may return several outcomes (one per table, per function...). */
export interface Check {
  readonly name: string;
  run(): Promise<readonly CheckOutcome[]>;
}

export const ok = (name: string, detail: string): CheckOutcome => ({ status: 'ok', name, detail });
export const fail = (name: string, detail: string, fix: string): CheckOutcome => ({ status: 'fail', name, detail, fix });
export const skip = (name: string, detail: string): CheckOutcome => ({ status: 'skip', name, detail });

/**
 * Runs the checks one after another (their output reads top to bottom), turning an
 * exception into a failure of that check: a doctor never crashes on the thing it diagnoses.
 * @param onOutcome called with each outcome as soon as it is known
 * @returns every outcome, in order
 */
export async function runChecks(checks: readonly Check[], onOutcome: (outcome: CheckOutcome) => void = () => {}): Promise<CheckOutcome[]> {
  const all: CheckOutcome[] = [];
  for (const check of checks) {
    let outcomes: readonly CheckOutcome[];
    try {
      outcomes = await check.run();
    } catch (error) {
      const status = httpStatus(error);
      const reason = `${status ? `HTTP ${status}: ` : ''}${error instanceof Error ? error.message : String(error)}`;
      outcomes = [fail(check.name, `could not be checked: ${oneLine(reason)}`, 'fix what the error says and run the doctor again (against a project: check gcloud auth application-default login, GCP_PROJECT and your roles)')];
    }
    for (const outcome of outcomes) {
      all.push(outcome);
      onOutcome(outcome);
    }
  }
  return all;
}

/** One report line: `ok   name: detail`, `FAIL name: detail -> fix`. */
export function formatOutcome(outcome: CheckOutcome): string {
  const label = { ok: 'ok  ', fail: 'FAIL', skip: 'skip' }[outcome.status];
  const fix = outcome.status === 'fail' && outcome.fix ? ` -> ${outcome.fix}` : '';
  return `${label} ${outcome.name}: ${oneLine(outcome.detail)}${fix}`;
}

/** The exit status of a report: 0 when nothing failed. */
export function exitStatus(outcomes: readonly CheckOutcome[]): 0 | 1 {
  return outcomes.some((o) => o.status === 'fail') ? 1 : 0;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
