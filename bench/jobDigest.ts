/**
 * A 100,000-option Black-Scholes job's digest and job.json: the canonical JSON of the validated
 * job hashed (validatedJobDigest, what the identity thread computes), and the identity with
 * job.json's body (jobIdentity + jobIdentityJson, what the job's thread does without that thread).
 * Run: npm run bench -- jobDigest
 */
import { performance } from 'node:perf_hooks';
import { parseJob } from '../shared/job/envelope.js';
import { jobIdentity, jobIdentityJson, validatedJobDigest } from '../shared/job/jobDigest.js';
import { blackscholesModel } from '../shared/models/blackscholes/job.js';
import { quotedBatch } from './blackscholesBatch.js';
import { median } from './wholeProcess.js';

const N = 100_000;
const RUNS = Number(process.env.DIGEST_BENCH_RUNS ?? 15);

// The job as the job's thread has it: parsed from the message's text, then validated.
const document = JSON.parse(JSON.stringify({ job_id: 'bench-100k', params: { options: quotedBatch(N) } })) as unknown;
const job = parseJob(document, blackscholesModel, '2026-06-03');

function times(f: () => unknown): number[] {
  const out: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    f();
    out.push(performance.now() - t0);
  }
  return out;
}

let bytes = 0;
const digestMs = times(() => {
  const { text } = validatedJobDigest('blackscholes', job);
  bytes = text.reduce((sum, piece) => sum + piece.length, 0);
});
const identityMs = times(() => jobIdentityJson(jobIdentity('blackscholes', job)));

const show = (ms: number[]) => `median ${median(ms).toFixed(1)} ms, best ${Math.min(...ms).toFixed(1)} ms`;
console.log(`Job digest, ${N.toLocaleString()} options (${(bytes / 1e6).toFixed(1)} MB of canonical JSON), ${RUNS} runs, ${process.version}`);
console.log(`  validatedJobDigest:              ${show(digestMs)}`);
console.log(`  jobIdentity + job.json's body:   ${show(identityMs)}`);
console.log(
  'BENCH_JSON ' +
    JSON.stringify({ options: N, canonical_bytes: bytes, digest_ms: median(digestMs), digest_best_ms: Math.min(...digestMs), identity_ms: median(identityMs), identity_best_ms: Math.min(...identityMs) }),
);
