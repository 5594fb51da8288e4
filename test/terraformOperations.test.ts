/**
 * Checks what operates the deployment: every resource's arguments against the Google
 * provider's schema (as @cdktf/provider-google records it), the alert policies, the job
 * statistics view, and their documentation. terraform cannot run here; the HCL is parsed
 * with @cdktf/hcl2json as in test/terraform.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { jobRunsSinceSql } from '../shared/doctor/jobRunStats.js';
import { CONTRACT_ERROR_CODES, JOB_STATISTICS_VIEW } from '../shared/warehouse/jobStatisticsView.js';
import { TABLES } from '../shared/warehouse/schemas.js';
import { providerVersion, resourceSchema, unknownNames } from './support/providerSchema.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const terraformDir = join(repoRoot, 'terraform');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every resource of terraform/*.tf as [type, name, declaration], and every variable and local. */
const resources: [string, string, Obj][] = [];
const variables: Record<string, Obj> = {};
const locals: Obj = {};

beforeAll(async () => {
  for (const file of readdirSync(terraformDir).filter((f) => f.endsWith('.tf'))) {
    const doc = (await parse(file, readFileSync(join(terraformDir, file), 'utf8'))) as Obj;
    const byType = isObj(doc.resource) ? doc.resource : {};
    for (const [type, byName] of Object.entries(byType)) {
      if (!isObj(byName)) continue;
      for (const [name, decl] of Object.entries(byName)) if (Array.isArray(decl) && isObj(decl[0])) resources.push([type, name, decl[0]]);
    }
    if (isObj(doc.variable)) for (const [name, decl] of Object.entries(doc.variable)) if (Array.isArray(decl) && isObj(decl[0])) variables[name] = decl[0];
    for (const block of Array.isArray(doc.locals) ? doc.locals : []) if (isObj(block)) Object.assign(locals, block);
  }
});

function resource(type: string, name: string): Obj {
  const found = resources.find(([t, n]) => t === type && n === name);
  if (!found) throw new Error(`terraform/ has no resource ${type}.${name}`);
  return found[2];
}

function block(parent: Obj, name: string): Obj {
  const list = parent[name];
  if (!Array.isArray(list) || list.length !== 1 || !isObj(list[0])) throw new Error(`block ${name} must appear exactly once`);
  return list[0];
}

describe('terraform: arguments exist in the Google provider', () => {
  it(`every resource uses only arguments and blocks of hashicorp/google ${providerVersion()} (from @cdktf/provider-google)`, () => {
    expect(resources.length).toBeGreaterThan(20);
    const unknown = resources.flatMap(([type, name, decl]) => unknownNames(decl, resourceSchema(type), `${type}.${name}`));
    expect(unknown).toEqual([]);
  });

  it('the check notices a misspelt argument, a block that does not exist, and one inside a dynamic block', () => {
    const schema = resourceSchema('google_monitoring_alert_policy');
    const decl = {
      display_name: 'x',
      notification_channel: [],
      conditions: [{ display_name: 'c', condition_threshold: [{ filter: 'f', treshold_value: 1, aggregations: [{ alignment_period: '60s' }] }] }],
      documentaton: [{ content: 'x' }],
      dynamic: { conditions: [{ for_each: 'x', content: [{ display_name: 'd', condition_absent: [{ duraton: '60s' }] }] }] },
    } as Obj;
    expect(unknownNames(decl, schema, 'p')).toEqual(['p.notification_channel', 'p.conditions.condition_threshold.treshold_value', 'p.documentaton', 'p.conditions.condition_absent.duraton']);
    expect(() => resourceSchema('google_no_such_thing')).toThrow(/has no resource google_no_such_thing/);
  });
});

describe('terraform: alert policies', () => {
  const POLICIES = ['dead_letter', 'error_rate', 'near_timeout'];

  it('notification_channels is a list of strings, empty by default, used by every policy', () => {
    expect(variables.notification_channels).toMatchObject({ type: '${list(string)}', default: [] });
    for (const name of POLICIES) expect(resource('google_monitoring_alert_policy', name).notification_channels, name).toBe('${var.notification_channels}');
  });

  it.each(POLICIES)('%s: one policy per function, with a threshold condition and documentation for the on-call engineer', (name) => {
    const policy = resource('google_monitoring_alert_policy', name);
    expect(policy.for_each).toBe('${local.functions}');
    expect(String(policy.display_name)).toContain('${each.key}');
    const documentation = block(policy, 'documentation');
    expect(documentation.mime_type).toBe('text/markdown');
    // Every policy's text ends by pointing at the README's Operating section and the doctor.
    expect(String(documentation.content)).toMatch(/\$\{local\.alert_documentation_url\}$/);
    expect(String(locals.alert_documentation_url)).toMatch(/README.*Operating.*npm run doctor/);
    expect(block(block(policy, 'conditions'), 'condition_threshold').comparison).toBe('COMPARISON_GT');
    expect(policy.depends_on).toEqual(['${google_project_service.api}']);
  });

  it('dead_letter fires on one undelivered message in the function\'s dead-letter subscription', () => {
    const condition = block(block(resource('google_monitoring_alert_policy', 'dead_letter'), 'conditions'), 'condition_threshold');
    expect(condition.filter).toBe(
      'resource.type = "pubsub_subscription" AND resource.labels.subscription_id = "${google_pubsub_subscription.dead_letter[each.key].name}" AND metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"',
    );
    expect(condition.threshold_value).toBe(0);
    expect(condition.duration).toBe('0s');
    expect(block(condition, 'aggregations').per_series_aligner).toBe('ALIGN_MAX');
  });

  it('error_rate is the share of 5xx answers among all answers of the function\'s Cloud Run service', () => {
    const condition = block(block(resource('google_monitoring_alert_policy', 'error_rate'), 'conditions'), 'condition_threshold');
    const service = 'resource.type = "cloud_run_revision" AND resource.labels.service_name = "${google_cloudfunctions2_function.function[each.key].name}" AND metric.type = "run.googleapis.com/request_count"';
    expect(condition.filter).toBe(`${service} AND metric.labels.response_code_class = "5xx"`);
    expect(condition.denominator_filter).toBe(service);
    expect(condition.threshold_value).toBe('${var.alert_error_rate}');
    for (const aggregation of [block(condition, 'aggregations'), block(condition, 'denominator_aggregations')]) {
      expect(aggregation).toMatchObject({ per_series_aligner: 'ALIGN_DELTA', cross_series_reducer: 'REDUCE_SUM', group_by_fields: ['resource.labels.service_name'] });
    }
    expect(variables.alert_error_rate.default).toBe(0.1);
  });

  it('near_timeout compares the p99 run time in ms with the function\'s own timeout_seconds', () => {
    const condition = block(block(resource('google_monitoring_alert_policy', 'near_timeout'), 'conditions'), 'condition_threshold');
    expect(String(condition.filter)).toContain('metric.type = "run.googleapis.com/request_latencies"');
    expect(String(condition.filter)).toContain('resource.labels.service_name = "${google_cloudfunctions2_function.function[each.key].name}"');
    expect(condition.threshold_value).toBe('${each.value.timeout_seconds * 1000 * var.alert_timeout_fraction}');
    expect(block(condition, 'aggregations').per_series_aligner).toBe('ALIGN_PERCENTILE_99');
    expect(variables.alert_timeout_fraction.default).toBe(0.8);
  });

  it('the Cloud Monitoring API is enabled', () => {
    expect(String(locals.required_apis)).toContain('monitoring.googleapis.com');
  });
});

describe('terraform: the job statistics view', () => {
  const sql = readFileSync(join(terraformDir, 'views', 'job_statistics.sql'), 'utf8');
  const code = sql.replace(/--.*$/gm, '');

  it('is a standard-SQL view in the curated dataset over the job_runs table Terraform creates', () => {
    const view = resource('google_bigquery_table', 'job_statistics');
    expect(view.dataset_id).toBe('${google_bigquery_dataset.dataset["curated"].dataset_id}');
    const definition = block(view, 'view');
    expect(definition.use_legacy_sql).toBe(false);
    expect(String(definition.query)).toMatch(/^\$\{templatefile\("\$\{path\.module\}\/views\/job_statistics\.sql", \{/);
    expect(String(definition.query)).toContain('job_runs = "${var.project}.${google_bigquery_dataset.dataset["curated"].dataset_id}.${google_bigquery_table.table["job_runs"].table_id}"');
    // templatefile would fail on any other placeholder.
    expect([...code.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1])).toEqual(['job_runs']);
    expect(code).not.toContain('%{');
  });

  it('keeps one run per (model, job_id), the latest finished_at, with the same rule as the doctor', () => {
    const rule = "ROW_NUMBER() OVER (PARTITION BY model, job_id, IF(job_id = '', started_at, NULL) ORDER BY finished_at DESC)";
    expect(code).toContain(`${rule} AS recency`);
    expect(code).toMatch(/WHERE recency = 1/);
    expect(jobRunsSinceSql('p.d.job_runs', 24)).toContain(rule);
  });

  it('has per model and day: jobs, completed, failed by each error code of the contract, p50/p95/max duration', () => {
    const output = code.slice(code.lastIndexOf('SELECT'));
    const columns = [...output.matchAll(/\bAS (\w+)/g)].map((m) => m[1]);
    // model and day are selected as such; every other column is named with AS, in the order of JOB_STATISTICS_VIEW.
    expect(output).toMatch(/^SELECT\s+model,\s+day,/);
    expect(['model', 'day', ...columns]).toEqual(JOB_STATISTICS_VIEW.columns.map((c) => c.name));
    expect(CONTRACT_ERROR_CODES).toEqual(['invalid_job', 'unknown_symbol', 'insufficient_data', 'internal']);
    for (const code_ of CONTRACT_ERROR_CODES) expect(output).toContain(`COUNTIF(status = 'failed' AND error_code = '${code_}') AS failed_${code_}`);
    expect(code).toContain('PERCENTILE_CONT(duration_ms, 0.5) OVER (PARTITION BY model, DATE(finished_at)) AS p50');
    expect(code).toContain('PERCENTILE_CONT(duration_ms, 0.95) OVER (PARTITION BY model, DATE(finished_at)) AS p95');
    expect(output).toMatch(/MAX\(duration_ms\) AS max_duration_ms\s+FROM with_percentiles\s+GROUP BY model, day\s*$/);
  });

  it('reads only columns job_runs has', () => {
    const known = new Set(TABLES.job_runs.columns.map((c) => c.name));
    const inner = /SELECT ([^(]*?),\s*ROW_NUMBER/.exec(code)?.[1] ?? '';
    const read = inner.split(',').map((c) => c.trim());
    expect(read.length).toBeGreaterThan(4);
    for (const column of read) expect(known.has(column), column).toBe(true);
  });
});

describe('terraform: documentation of operations', () => {
  const readme = readFileSync(join(terraformDir, 'README.md'), 'utf8');

  it('terraform/README.md lists every input variable, the alerts and the view', () => {
    for (const name of Object.keys(variables)) expect(readme, name).toContain(`| \`${name}\` |`);
    for (const name of ['alerts.tf', 'job_statistics.tf', 'job_statistics']) expect(readme).toContain(name);
  });
});
