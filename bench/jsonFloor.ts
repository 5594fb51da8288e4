// node --import tsx bench/jsonFloor.ts <job.json> <result.json>
//
// The Black-Scholes job's floor in Node, for bench/blackscholes.ts: what any implementation of
// the same job must at least do on one thread, with the fastest means we have, timed step by
// step:
// - read the job and parse it (V8's JSON.parse);
// - digest it: each of its numbers written as JSON (writeJsonNumber), then SHA-256 of that and
//   of the job's bytes, less than a canonical form costs. The hash of the bytes alone, the
//   least any digest costs, is timed too and reported beside the floor;
// - every number of the result our job wrote, written as JSON (writeJsonNumber, faster than
//   V8's own String()), and the result's bytes copied, as its other text costs at least that;
// - the result written to a file and to stdout, as the command line does.
// The result is parsed, and the output buffers touched, before the timing: the floor neither
// values the options nor builds their objects, and pays no first touch of memory. Nothing here
// validates a field, draws the chart or writes the report: a real job costs more. Prints one
// JSON line of milliseconds on stderr.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_NUMBER_BYTES, writeJsonNumber } from '../shared/results/jsonBytes.js';

const [jobFile, resultFile] = process.argv.slice(2);
const resultBytes = readFileSync(resultFile);
const resultNumbers = numbersOf(JSON.parse(resultBytes.toString('utf8')));
// Room for the numbers' text, touched once before the timing: a job that reuses its buffers
// pays no first touch, and the floor should not either.
const jobNumbers = numbersOf(JSON.parse(readFileSync(jobFile, 'utf8'))).length;
const numberText = new Uint8Array(Math.max(resultNumbers.length, jobNumbers) * (MAX_NUMBER_BYTES + 1)).fill(1);
const resultCopy = Buffer.alloc(resultBytes.length, 1);
const dir = mkdtempSync(path.join(os.tmpdir(), 'json-floor-'));

/** Every number in a parsed document, in order. */
function numbersOf(value: unknown, into: number[] = []): number[] {
  if (typeof value === 'number') into.push(value);
  else if (Array.isArray(value)) for (const item of value) numbersOf(item, into);
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) numbersOf(item, into);
  return into;
}

/** The numbers written as JSON, one after another, into numberText. */
function writeNumbers(numbers: readonly number[]): Uint8Array {
  const out = numberText;
  let at = 0;
  for (let i = 0; i < numbers.length; i++) {
    at = writeJsonNumber(out, at, numbers[i]);
    out[at++] = 0x2c;
  }
  return out.subarray(0, at);
}

const steps: Record<string, number> = {};
let last = performance.now();
const lap = (name: string) => {
  const now = performance.now();
  steps[name] = now - last;
  last = now;
};

const jobBytes = readFileSync(jobFile);
lap('read_job_ms');
const job: unknown = JSON.parse(jobBytes.toString('utf8'));
lap('parse_job_ms');
createHash('sha256').update(writeNumbers(numbersOf(job))).update(jobBytes).digest('hex');
lap('digest_job_ms');
// The least any digest costs: the job's bytes hashed as they are (a canonical text had for the
// price of a copy). Reported beside the floor, not added to it.
createHash('sha256').update(jobBytes).digest('hex');
const hashOnly = performance.now() - last;
last = performance.now();
const written = writeNumbers(resultNumbers).length;
resultBytes.copy(resultCopy);
lap('encode_result_ms');
writeFileSync(path.join(dir, 'result.json'), resultCopy);
writeSync(1, resultCopy);
lap('write_result_ms');

rmSync(dir, { recursive: true, force: true });
const total = Object.values(steps).reduce((a, b) => a + b, 0);
process.stderr.write(`${JSON.stringify({ ...steps, total_ms: total, hash_job_bytes_ms: hashOnly, result_numbers: resultNumbers.length, number_bytes: written })}\n`);
