/**
 * npm run doctor: is everything wired and healthy? One line per check, exit 0 when all
 * pass, 1 otherwise; each failure says what to do. Checks the configured project when
 * GCS_BUCKET is set, LOCAL_DATA_DIR and the fixtures otherwise (see README, "Operating").
 */
import { exitStatus, formatOutcome, runChecks } from '../shared/doctor/check.js';
import { createDoctor } from '../shared/doctor/doctor.js';

const doctor = await createDoctor();
let status: 0 | 1 = 1;
try {
  const outcomes = await runChecks(doctor.checks, (outcome) => console.log(formatOutcome(outcome)));
  const failed = outcomes.filter((o) => o.status === 'fail').length;
  console.log(failed === 0 ? `all ${outcomes.length} checks passed` : `${failed} of ${outcomes.length} checks failed`);
  status = exitStatus(outcomes);
} finally {
  await doctor.close();
}
// gRPC clients (Secret Manager, Pub/Sub) may keep channels open after their last call;
// the report is complete (stdout is synchronous for files and pipes), so end here.
process.exit(status);
