/**
 * A 100,000-option Black-Scholes job's digest and job.json: the canonical JSON of the validated
 * job hashed (validatedJobDigest, what the identity thread computes), and the identity with
 * job.json's body (jobIdentity + jobIdentityBody, what the job's thread does without that
 * thread; jobIdentityJson, the same body as one string, for comparison). CPU time of this
 * thread (process.cpuUsage, which counts the garbage collector's helper threads too) beside
 * wall time: on a shared machine the CPU time is the steadier number.
 * Run: npm run bench -- jobDigest
 */
import { performance } from 'node:perf_hooks';
import { parseJob } from '../shared/job/envelope.js';
import { jobIdentity, jobIdentityBody, jobIdentityJson, validatedJobDigest } from '../shared/job/jobDigest.js';
import { blackscholesModel } from '../shared/models/blackscholes/job.js';
import { quotedBatch } from './blackscholesBatch.js';
import { median } from './wholeProcess.js';

const N = 100_000;
const RUNS = Number(process.env.DIGEST_BENCH_RUNS ?? 15);

// The job as the job's thread has it: parsed from the message's text, then validated.
const document = JSON.parse(JSON.stringify({ job_id: 'bench-100k', params: { options: quotedBatch(N) } })) as unknown;
const job = parseJob(document, blackscholesModel, '2026-06-03');

/** Wall and CPU milliseconds of each run. */
function times(f: () => unknown): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall, cpu };
}

let bytes = 0;
const digestMs = times(() => {
  const { text } = validatedJobDigest('blackscholes', job);
  bytes = text.reduce((sum, piece) => sum + piece.length, 0);
});
const bodyMs = times(() => jobIdentityBody(jobIdentity('blackscholes', job)));
const textMs = times(() => jobIdentityJson(jobIdentity('blackscholes', job)));

const show = ({ wall, cpu }: { wall: number[]; cpu: number[] }) =>
  `CPU median ${median(cpu).toFixed(1)} ms (best ${Math.min(...cpu).toFixed(1)}), wall median ${median(wall).toFixed(1)} ms (best ${Math.min(...wall).toFixed(1)})`;
console.log(`Job digest, ${N.toLocaleString()} options (${(bytes / 1e6).toFixed(1)} MB of canonical JSON), ${RUNS} runs, ${process.version}`);
console.log(`  validatedJobDigest:                ${show(digestMs)}`);
console.log(`  jobIdentity + jobIdentityBody:     ${show(bodyMs)}`);
console.log(`  jobIdentity + jobIdentityJson:     ${show(textMs)}`);
console.log(
  'BENCH_JSON ' +
    JSON.stringify({
      options: N,
      canonical_bytes: bytes,
      digest_cpu_ms: median(digestMs.cpu),
      digest_wall_ms: median(digestMs.wall),
      identity_body_cpu_ms: median(bodyMs.cpu),
      identity_body_wall_ms: median(bodyMs.wall),
      identity_text_cpu_ms: median(textMs.cpu),
      identity_text_wall_ms: median(textMs.wall),
    }),
);
