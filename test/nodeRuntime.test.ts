/**
 * The Node.js runtime the functions deploy on must be one Cloud Run functions still accepts:
 * checked against the published schedule kept in terraform/node-runtimes.json, with today's
 * date, 90 days ahead (time to move before the decommission date). How to move: README.md, Deploy.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { describe, expect, it } from 'vitest';
import { deployedRuntimes, nodeMajor, runtimeProblem, runtimeSchedule, terraformDir } from '../scripts/nodeRuntime.mjs';

const schedule = runtimeSchedule();
const root = path.resolve(terraformDir, '..');
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);

describe('the runtime schedule table', () => {
  it('names its source and holds valid dates, deprecation before decommission', () => {
    expect(schedule.source).toMatch(/Cloud Run functions runtime support schedule/);
    expect(schedule.url).toMatch(/^https:\/\/[\w.]*cloud\.google\.com\//);
    expect(Object.keys(schedule.runtimes).length).toBeGreaterThan(0);
    for (const [runtime, dates] of Object.entries(schedule.runtimes)) {
      nodeMajor(runtime);
      for (const d of [dates.deprecation, dates.decommission]) expect(new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10), runtime).toBe(d);
      expect(dates.deprecation < dates.decommission, runtime).toBe(true);
    }
    // The published dates of the runtimes this repo has deployed on or may move to.
    expect(schedule.runtimes.nodejs20.decommission).toBe('2026-10-30');
    expect(schedule.runtimes.nodejs22.decommission).toBe('2027-10-31');
    expect(schedule.runtimes.nodejs24.decommission).toBe('2028-10-31');
  });

  it('flags a runtime past, or within 90 days of, its decommission date, and one missing from the table', () => {
    expect(runtimeProblem('nodejs20', schedule, day('2026-12-01'))).toMatch(/nodejs20 was decommissioned on 2026-10-30/);
    expect(runtimeProblem('nodejs20', schedule, day('2026-10-30'))).toMatch(/decommissioned/);
    expect(runtimeProblem('nodejs22', schedule, day('2027-08-02'))).toMatch(/2027-10-31, 90 days after 2027-08-02/);
    expect(runtimeProblem('nodejs22', schedule, day('2027-08-01'))).toBeUndefined();
    expect(runtimeProblem('nodejs24', schedule, day('2026-12-01'))).toBeUndefined();
    expect(runtimeProblem('nodejs99', schedule, day('2026-12-01'))).toMatch(/not in terraform\/node-runtimes\.json/);
  });
});

describe('the deployed runtime', () => {
  it('every function deploys on a runtime supported today and for 90 days more', async () => {
    const runtimes = await deployedRuntimes();
    const example = (await parse('terraform.tfvars.example', readFileSync(path.join(terraformDir, 'terraform.tfvars.example'), 'utf8'))) as {
      node_runtime?: string;
      function_overrides?: Record<string, { runtime?: string }>;
    };
    const all = [...Object.values(runtimes), example.node_runtime, ...Object.values(example.function_overrides ?? {}).map((o) => o.runtime)];
    const today = new Date();
    for (const runtime of new Set(all.filter((r): r is string => r !== undefined))) {
      expect(runtimeProblem(runtime, schedule, today), `${runtime}: move to the next runtime (README.md, Deploy)`).toBeUndefined();
    }
  });

  it('is read from Terraform as Terraform applies it: default, then terraform.tfvars, then the function override', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'runtime-tf-'));
    for (const file of ['variables.tf', 'functions.tf', 'node-runtimes.json']) cpSync(path.join(terraformDir, file), path.join(dir, file));
    const functions = Object.keys(await deployedRuntimes(dir));
    expect(functions.sort()).toEqual(['blackscholes', 'ingest', 'markowitz', 'montecarlo']);
    const fallback = (await deployedRuntimes(dir)).blackscholes;
    expect(new Set(Object.values(await deployedRuntimes(dir)))).toEqual(new Set([fallback]));

    writeFileSync(path.join(dir, 'terraform.tfvars'), 'project = "p"\nnode_runtime = "nodejs22"\nfunction_overrides = {\n  montecarlo = {\n    runtime = "nodejs24"\n  }\n}\n');
    expect(await deployedRuntimes(dir)).toEqual({ blackscholes: 'nodejs22', ingest: 'nodejs22', markowitz: 'nodejs22', montecarlo: 'nodejs24' });
  });

  it('package.json engines lists the Node major of every deployed runtime', async () => {
    const engines = String(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node);
    const listed = engines.split('||').map((r) => r.trim());
    for (const runtime of Object.values(await deployedRuntimes())) expect(listed, runtime).toContain(`${nodeMajor(runtime)}.x`);
  });

  // .ci/run sets EXPECT_NODE_MAJOR for each pass, so that a pass meant for the deployed major
  // cannot silently run on the local Node.
  it.runIf(process.env.EXPECT_NODE_MAJOR !== undefined)('runs on the Node major this pass was started for', () => {
    expect(Number(process.versions.node.split('.')[0])).toBe(Number(process.env.EXPECT_NODE_MAJOR));
  });
});
