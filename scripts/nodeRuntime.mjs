// The Cloud Run functions Node.js runtime each function deploys on, read from the Terraform
// that deploys it, so that one setting drives the build (esbuild target and the deployed
// package.json's engines, scripts/build.mjs), CI (.ci/run tests on each deployed major) and
// the decommission test (test/nodeRuntime.test.ts). Terraform's own precedence, lowest first:
// var.node_runtime (variables.tf default, then terraform.tfvars), function_settings.<fn>.runtime
// (functions.tf), function_overrides.<fn>.runtime (terraform.tfvars).
//
// `node scripts/nodeRuntime.mjs majors` prints the deployed Node majors, one per line.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

export const terraformDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'terraform');

/** terraform/node-runtimes.json: the published schedule, with its source. */
export function runtimeSchedule(dir = terraformDir) {
  return JSON.parse(readFileSync(path.join(dir, 'node-runtimes.json'), 'utf8'));
}

/** 24 for "nodejs24"; throws on anything else (an expression is not followed here). */
export function nodeMajor(runtime) {
  const m = typeof runtime === 'string' ? /^nodejs(\d+)$/.exec(runtime) : null;
  if (!m) throw new Error(`not a Node.js runtime id: ${JSON.stringify(runtime)} (expected a literal like "nodejs24")`);
  return Number(m[1]);
}

const DAY_MS = 86_400_000;

/**
 * Why `runtime` must not be deployed on `today` (a Date), or undefined if it may: unknown to
 * the schedule, past its decommission date, or within `marginDays` of it.
 */
export function runtimeProblem(runtime, schedule, today, marginDays = 90) {
  const dates = schedule.runtimes[runtime];
  if (!dates) return `${runtime} is not in terraform/node-runtimes.json (${Object.keys(schedule.runtimes).join(', ')})`;
  const decommission = Date.parse(`${dates.decommission}T00:00:00Z`);
  const day = today.toISOString().slice(0, 10);
  if (today.getTime() >= decommission) return `${runtime} was decommissioned on ${dates.decommission} (today is ${day})`;
  const left = Math.ceil((decommission - today.getTime()) / DAY_MS);
  if (left <= marginDays) return `${runtime} is decommissioned on ${dates.decommission}, ${left} days after ${day}: within ${marginDays} days`;
  return undefined;
}

async function hcl(file) {
  return existsSync(file) ? parse(path.basename(file), readFileSync(file, 'utf8')) : {};
}

/** { <function>: <runtime id> } as `terraform apply` in `dir` would deploy them. */
export async function deployedRuntimes(dir = terraformDir) {
  const variables = await hcl(path.join(dir, 'variables.tf'));
  const functions = await hcl(path.join(dir, 'functions.tf'));
  const tfvars = await hcl(path.join(dir, 'terraform.tfvars'));
  const fallback = tfvars.node_runtime ?? variables.variable?.node_runtime?.[0]?.default;
  const settings = (functions.locals ?? []).find((block) => block.function_settings)?.function_settings;
  if (!settings) throw new Error(`${dir}/functions.tf has no local.function_settings`);
  const runtimes = {};
  for (const [fn, s] of Object.entries(settings)) {
    const runtime = tfvars.function_overrides?.[fn]?.runtime ?? s.runtime ?? fallback;
    nodeMajor(runtime);
    runtimes[fn] = runtime;
  }
  return runtimes;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2] !== 'majors') {
    process.stderr.write('usage: node scripts/nodeRuntime.mjs majors\n');
    process.exit(2);
  }
  const majors = [...new Set(Object.values(await deployedRuntimes()).map(nodeMajor))].sort((a, b) => a - b);
  process.stdout.write(majors.map((m) => `${m}\n`).join(''));
}
