/**
 * Checks terraform/ against the code: every function, table, environment variable and
 * secret the code defines must be deployed as the code expects. terraform cannot run here,
 * so the HCL is parsed with @cdktf/hcl2json and expressions are compared as text (the
 * wiring) while literal values (settings, defaults) are compared as data.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../shared/config.js';
import { parseJob } from '../shared/job/envelope.js';
import { decodePubsubEvent } from '../shared/job/pubsubEvent.js';
import { ingestModel } from '../shared/ingest/job.js';
import { OHLCV_TABLE } from '../shared/ingest/ohlcvRow.js';
import { PRICE_TABLES, PRICES_VIEW, TABLES } from '../shared/warehouse/schemas.js';
import { isDeadLetterEvent } from '../shared/job/deadLetter.js';
import { DELIVERY } from '../scripts/pubsub/topology.js';
import { TERRAFORM_SCHEMAS_DIR, terraformSchemaFiles, terraformViewFiles } from '../scripts/terraformSchemas.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const terraformDir = join(repoRoot, 'terraform');

// The contract's four functions and every folder under functions/ (each one a deployed function).
const CONTRACT_FUNCTIONS = ['blackscholes', 'montecarlo', 'markowitz', 'ingest'];
const functionsDir = join(repoRoot, 'functions');
const codeFunctions = [
  ...new Set([
    ...CONTRACT_FUNCTIONS,
    ...(existsSync(functionsDir) ? readdirSync(functionsDir).filter((d) => statSync(join(functionsDir, d)).isDirectory()) : []),
  ]),
].sort();

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** All *.tf files merged the way Terraform merges a module's files. */
interface Module {
  resources: Record<string, Record<string, Obj>>;
  data: Record<string, Record<string, Obj>>;
  locals: Obj;
  variables: Record<string, Obj>;
  outputs: Record<string, Obj>;
  texts: Record<string, string>;
}

function single(list: Json, what: string): Obj {
  if (!Array.isArray(list) || list.length !== 1 || !isObj(list[0])) throw new Error(`${what} must be declared exactly once`);
  return list[0];
}

async function loadModule(): Promise<Module> {
  const mod: Module = { resources: {}, data: {}, locals: {}, variables: {}, outputs: {}, texts: {} };
  const files = readdirSync(terraformDir).filter((f) => f.endsWith('.tf')).sort();
  for (const file of files) {
    const text = readFileSync(join(terraformDir, file), 'utf8');
    mod.texts[file] = text;
    const doc = (await parse(file, text)) as Obj;
    for (const [kind, target] of [['resource', mod.resources], ['data', mod.data]] as const) {
      const byType = doc[kind];
      if (!isObj(byType)) continue;
      for (const [type, byName] of Object.entries(byType)) {
        if (!isObj(byName)) continue;
        target[type] ??= {};
        for (const [name, decl] of Object.entries(byName)) {
          if (target[type][name]) throw new Error(`${kind} ${type}.${name} is declared twice`);
          target[type][name] = single(decl, `${kind} ${type}.${name}`);
        }
      }
    }
    for (const block of Array.isArray(doc.locals) ? doc.locals : []) {
      if (!isObj(block)) continue;
      for (const [k, v] of Object.entries(block)) {
        if (k in mod.locals) throw new Error(`local.${k} is declared twice`);
        mod.locals[k] = v;
      }
    }
    for (const [kind, target] of [['variable', mod.variables], ['output', mod.outputs]] as const) {
      const byName = doc[kind];
      if (!isObj(byName)) continue;
      for (const [name, decl] of Object.entries(byName)) target[name] = single(decl, `${kind} ${name}`);
    }
  }
  return mod;
}

let tf: Module;
beforeAll(async () => {
  tf = await loadModule();
});

function resource(type: string, name: string): Obj {
  const r = tf.resources[type]?.[name];
  if (!r) throw new Error(`terraform/ has no resource ${type}.${name}`);
  return r;
}

/** The one nested block `name` of `parent` (hcl2json makes every block a list). */
function block(parent: Obj, name: string): Obj {
  return single(parent[name] ?? null, `block ${name}`);
}

function obj(v: Json | undefined, what: string): Obj {
  if (!isObj(v)) throw new Error(`${what} is not an object literal`);
  return v;
}

/** Every string anywhere in a parsed value, with a path for messages. */
function* strings(v: Json, path: string): Generator<[string, string]> {
  if (typeof v === 'string') yield [path, v];
  else if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* strings(x, `${path}[${i}]`);
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) yield* strings(x, `${path}.${k}`);
}

function allStrings(): [string, string][] {
  const out: [string, string][] = [];
  for (const [kind, byType] of [['resource', tf.resources], ['data', tf.data]] as const) {
    for (const [type, byName] of Object.entries(byType)) for (const [name, r] of Object.entries(byName)) out.push(...strings(r, `${kind}.${type}.${name}`));
  }
  out.push(...strings(tf.locals, 'locals'));
  for (const [name, v] of Object.entries(tf.variables)) out.push(...strings(v, `variable.${name}`));
  return out;
}

const functionSettings = (): Obj => obj(tf.locals.function_settings, 'local.function_settings');
const settingsOf = (fn: string): Obj => obj(functionSettings()[fn], `local.function_settings.${fn}`);

describe('terraform: one deployment per function of the code', () => {
  it('function_settings has exactly the functions of the code, and local.functions is built from it', () => {
    expect(Object.keys(functionSettings()).sort()).toEqual(codeFunctions);
    expect(String(tf.locals.functions)).toMatch(/for\s+\w+,\s*\w+\s+in\s+local\.function_settings\s*:/);
  });

  it('function_overrides accepts exactly the function names: its validation refers to function_settings, not a copy of the names', () => {
    const validations = tf.variables.function_overrides.validation as Obj[];
    const names = validations.map((v) => String(v.condition)).find((c) => c.includes('keys(var.function_overrides)'));
    expect(names, 'a validation of the override keys').toBeTruthy();
    expect(names).toMatch(/contains\(keys\(local\.function_settings\),\s*\w+\)/);
    // A validation that refers to anything but its own variable needs Terraform 1.9.
    expect(tf.texts['versions.tf']).toMatch(/required_version\s*=\s*">=\s*1\.(9|[1-9]\d)/);
  });

  it.each(codeFunctions)('%s: job topic named as in the contract', (fn) => {
    expect(settingsOf(fn).topic).toBe(`jobs-${fn}`);
    const topic = resource('google_pubsub_topic', 'jobs');
    expect(topic.for_each).toBe('${local.functions}');
    expect(topic.name).toBe('${each.value.topic}');
  });

  it('each function is deployed from its dist folder with entry point = its name, on its runtime setting', () => {
    const archive = tf.data.archive_file?.source;
    expect(archive?.for_each).toBe('${local.functions}');
    expect(archive?.source_dir).toBe('${path.module}/../dist/${each.key}');
    const object = resource('google_storage_bucket_object', 'source');
    expect(object.for_each).toBe('${local.functions}');
    expect(object.source).toBe('${data.archive_file.source[each.key].output_path}');
    // A content-addressed name is what makes a code change redeploy.
    expect(object.name).toContain('${data.archive_file.source[each.key].output_md5}');

    const fn = resource('google_cloudfunctions2_function', 'function');
    expect(fn.for_each).toBe('${local.functions}');
    const build = block(fn, 'build_config');
    expect(build.entry_point).toBe('${each.key}');
    expect(build.runtime).toBe('${each.value.runtime}');
    const storage = block(block(build, 'source'), 'storage_source');
    expect(storage.object).toBe('${google_storage_bucket_object.source[each.key].name}');
    expect(storage.bucket).toBe(object.bucket);
  });

  it('the runtime is one setting (var.node_runtime, default nodejs24), overridable per function like the others', () => {
    expect(tf.variables.node_runtime.default).toBe('nodejs24');
    // The default comes first in the merge: function_settings and then function_overrides win over it.
    expect(String(tf.locals.functions)).toMatch(/merge\(\s*\{\s*runtime\s*=\s*var\.node_runtime\s*\},\s*settings,\s*\{\s*for key, value in try\(var\.function_overrides\[name\]/);
    expect(String(tf.variables.function_overrides.type)).toMatch(/\bruntime\s*=\s*optional\(string\)/);
    // The committed settings pin no function to another runtime (scripts/nodeRuntime.mjs reads literals only).
    for (const fn of codeFunctions) if ('runtime' in settingsOf(fn)) expect(String(settingsOf(fn).runtime), fn).toMatch(/^nodejs\d+$/);
  });

  it('the plan fails on a runtime missing from the schedule, decommissioned, or not the one the bundle was built for', () => {
    expect(String(tf.locals.node_runtimes)).toBe('${jsondecode(file("${path.module}/node-runtimes.json")).runtimes}');
    const conditions = (block(resource('google_cloudfunctions2_function', 'function'), 'lifecycle').precondition as Obj[]).map((p) => String(p.condition));
    expect(conditions).toContain('${contains(keys(local.node_runtimes), each.value.runtime)}');
    expect(conditions).toContain('${try(timecmp(plantimestamp(), "${local.node_runtimes[each.value.runtime].decommission}T00:00:00Z") < 0, true)}');
    expect(conditions).toContain('${try(jsondecode(file("${path.module}/../dist/${each.key}/package.json")).engines.node == "${trimprefix(each.value.runtime, "nodejs")}.x", false)}');
    // And warns (a check block) within 90 days (2160 h) of the decommission date.
    expect(String(tf.locals.runtimes_ending_soon)).toContain('timecmp(timeadd(plantimestamp(), "2160h"), "${local.node_runtimes[f.runtime].decommission}T00:00:00Z") >= 0');
    expect(tf.texts['functions.tf']).toMatch(/check "node_runtime_support" \{\s*assert \{\s*condition\s*=\s*length\(local\.runtimes_ending_soon\) == 0/);
  });

  it('each function runs as its own service account', () => {
    const sa = resource('google_service_account', 'function');
    expect(sa.for_each).toBe('${local.functions}');
    expect(String(sa.account_id)).toContain('${each.key}');
    const service = block(resource('google_cloudfunctions2_function', 'function'), 'service_config');
    expect(service.service_account_email).toBe('${google_service_account.function[each.key].email}');
  });

  it.each(codeFunctions)('%s: settings are complete and the timeout fits the push acknowledgement deadline', (fn) => {
    const s = settingsOf(fn);
    for (const key of ['memory', 'cpu', 'timeout_seconds', 'min_instances', 'max_instances', 'raw_dataset_role', 'secrets', 'env']) {
      expect(s, `${fn}.${key}`).toHaveProperty(key);
    }
    const ackDeadline = Number(resource('google_pubsub_subscription', 'push').ack_deadline_seconds);
    // Pub/Sub redelivers a push that is not answered within the deadline: a run must end first.
    expect(Number(s.timeout_seconds)).toBeLessThan(ackDeadline);
    expect(ackDeadline).toBeLessThanOrEqual(600);
  });

  it.each(codeFunctions)("%s: Pub/Sub's first 5 attempts outlast a crashed run's job lease, so a later attempt takes the job over", (fn) => {
    const env = obj(settingsOf(fn).env, `${fn}.env`);
    // The lease is renewed by a heartbeat while a run lives; after a crash it runs out within one lease.
    const lease = configSchema.shape.JOB_LEASE_SECONDS.parse(env.JOB_LEASE_SECONDS);
    const retry = block(resource('google_pubsub_subscription', 'push'), 'retry_policy');
    const attempts = Number(tf.variables.max_delivery_attempts.default);
    const waited = backoffsBefore(attempts, seconds(retry.minimum_backoff), seconds(retry.maximum_backoff));
    // A margin of one heartbeat (a quarter lease) for the crash to land just after a renewal.
    expect(waited).toBeGreaterThan(lease * 1.25);
    // And the lease bounds how long a crash strands a job: about a minute.
    expect(lease).toBeLessThanOrEqual(120);
  });

  it('montecarlo gets more CPU and memory than the other models', () => {
    const cpu = (fn: string) => Number(settingsOf(fn).cpu);
    const gib = (fn: string) => {
      const m = String(settingsOf(fn).memory).match(/^(\d+)(Mi|Gi)$/);
      if (!m) throw new Error(`memory of ${fn} is not <n>Mi or <n>Gi`);
      return Number(m[1]) / (m[2] === 'Mi' ? 1024 : 1);
    };
    for (const other of codeFunctions.filter((f) => f !== 'montecarlo')) {
      expect(cpu('montecarlo')).toBeGreaterThan(cpu(other));
      expect(gib('montecarlo')).toBeGreaterThan(gib(other));
    }
    expect(obj(settingsOf('montecarlo').env, 'montecarlo env').MC_THREADS).toBe(String(settingsOf('montecarlo').cpu));
  });
});

describe('terraform: delivery with retries and dead-lettering', () => {
  it('each function has a push subscription on its topic to its URL, authenticated, with a bounded dead-letter policy', () => {
    const push = resource('google_pubsub_subscription', 'push');
    expect(push.for_each).toBe('${local.functions}');
    expect(push.topic).toBe('${google_pubsub_topic.jobs[each.key].id}');
    const config = block(push, 'push_config');
    expect(String(config.push_endpoint)).toMatch(/^\$\{google_cloudfunctions2_function\.function\[each\.key\]\.service_config\[0\]\.uri\}/);
    // The functions-framework needs the wrapped body ({ message, subscription }) to build the CloudEvent.
    expect(config).not.toHaveProperty('no_wrapper');
    expect(block(config, 'oidc_token').service_account_email).toBe('${google_service_account.pubsub_invoker.email}');

    const deadLetter = block(push, 'dead_letter_policy');
    expect(deadLetter.dead_letter_topic).toBe('${google_pubsub_topic.dead_letter[each.key].id}');
    expect(deadLetter.max_delivery_attempts).toBe('${var.max_delivery_attempts}');
    const attempts = tf.variables.max_delivery_attempts.default;
    expect(typeof attempts).toBe('number');
    // Pub/Sub's own bounds for a dead-letter policy.
    expect(attempts as number).toBeGreaterThanOrEqual(5);
    expect(attempts as number).toBeLessThanOrEqual(100);
    expect(block(push, 'retry_policy').maximum_backoff).toBeTruthy();
  });

  it('the settings are those the emulator suite and `npm run stack` create (scripts/pubsub/topology.ts)', () => {
    const push = resource('google_pubsub_subscription', 'push');
    const retry = block(push, 'retry_policy');
    expect(Number(push.ack_deadline_seconds)).toBe(DELIVERY.ackDeadlineSeconds);
    expect(seconds(push.message_retention_duration)).toBe(DELIVERY.messageRetentionSeconds);
    expect({ minimumBackoffSeconds: seconds(retry.minimum_backoff), maximumBackoffSeconds: seconds(retry.maximum_backoff) }).toEqual(DELIVERY.retry);
    expect(tf.variables.max_delivery_attempts.default).toBe(DELIVERY.maxDeliveryAttempts);
    expect(String(block(push, 'push_config').push_endpoint)).toMatch(/\/projects\/\$\{var\.project\}\/topics\/\$\{google_pubsub_topic\.jobs\[each\.key\]\.name\}$/);
    expect(tf.texts['messaging.tf']).toContain('name = "${local.prefix}${each.key}-dead-letter"');
  });

  it('each dead-letter topic pushes back to its function on the dead-letter path, which records the job as failed', () => {
    const push = resource('google_pubsub_subscription', 'dead_letter_push');
    expect(push.for_each).toBe('${local.functions}');
    expect(push.topic).toBe('${google_pubsub_topic.dead_letter[each.key].id}');
    expect(String(push.name)).toBe('${local.prefix}${each.key}-dead-letter-push');
    const config = block(push, 'push_config');
    // The path's topic ends in -dead-letter: that is how the function tells a dead-letter record from a job (shared/job/deadLetter.ts).
    expect(String(config.push_endpoint)).toBe('${google_cloudfunctions2_function.function[each.key].service_config[0].uri}/projects/${var.project}/topics/${google_pubsub_topic.dead_letter[each.key].name}');
    expect(isDeadLetterEvent('//pubsub.googleapis.com/projects/p/topics/quant-montecarlo-dead-letter')).toBe(true);
    expect(isDeadLetterEvent('//pubsub.googleapis.com/projects/p/topics/jobs-montecarlo')).toBe(false);
    expect(block(config, 'oidc_token').service_account_email).toBe('${google_service_account.pubsub_invoker.email}');
    // No dead-letter policy of its own: a record that cannot be written is retried, never lost.
    expect(push).not.toHaveProperty('dead_letter_policy');
    expect(block(push, 'retry_policy').minimum_backoff).toBeTruthy();
  });

  it('dead-lettered Monte Carlo shard tasks are pushed back to the montecarlo function on the dead-letter path, which fails their job naming the shard', () => {
    const push = resource('google_pubsub_subscription', 'montecarlo_shards_dead_letter_push');
    expect(push.topic).toBe('${google_pubsub_topic.montecarlo_shards_dead_letter.id}');
    expect(String(push.name)).toBe('${local.montecarlo_shard_topic}-dead-letter-push');
    const config = block(push, 'push_config');
    expect(String(config.push_endpoint)).toBe('${google_cloudfunctions2_function.function["montecarlo"].service_config[0].uri}/projects/${var.project}/topics/${google_pubsub_topic.montecarlo_shards_dead_letter.name}');
    expect(isDeadLetterEvent('//pubsub.googleapis.com/projects/p/topics/quant-montecarlo-shards-dead-letter')).toBe(true);
    expect(block(config, 'oidc_token').service_account_email).toBe('${google_service_account.pubsub_invoker.email}');
    expect(push).not.toHaveProperty('dead_letter_policy');
    expect(Number(push.ack_deadline_seconds)).toBe(DELIVERY.ackDeadlineSeconds);
  });

  it('a Cloud Functions event trigger is not used (its Eventarc subscription cannot dead-letter)', () => {
    expect(resource('google_cloudfunctions2_function', 'function')).not.toHaveProperty('event_trigger');
  });

  it('each dead-letter topic has a subscription that keeps the messages, and the Pub/Sub agent may use both ends', () => {
    expect(resource('google_pubsub_topic', 'dead_letter').for_each).toBe('${local.functions}');
    const kept = resource('google_pubsub_subscription', 'dead_letter');
    expect(kept.for_each).toBe('${local.functions}');
    expect(kept.topic).toBe('${google_pubsub_topic.dead_letter[each.key].id}');

    expect(String(tf.locals.pubsub_service_agent)).toMatch(/^serviceAccount:service-\$\{data\.google_project\.this\.number\}@gcp-sa-pubsub\.iam\.gserviceaccount\.com$/);
    const publisher = resource('google_pubsub_topic_iam_member', 'dead_letter_publisher');
    expect(publisher).toMatchObject({ for_each: '${local.functions}', topic: '${google_pubsub_topic.dead_letter[each.key].name}', role: 'roles/pubsub.publisher', member: '${local.pubsub_service_agent}' });
    const subscriber = resource('google_pubsub_subscription_iam_member', 'dead_letter_subscriber');
    expect(subscriber).toMatchObject({ for_each: '${local.functions}', subscription: '${google_pubsub_subscription.push[each.key].name}', role: 'roles/pubsub.subscriber', member: '${local.pubsub_service_agent}' });
  });

  it('job-events: one topic, named as the code defaults, given to every function as JOB_EVENTS_TOPIC; only the function accounts may publish on it', () => {
    const topic = resource('google_pubsub_topic', 'job_events');
    expect(topic.name).toBe('${var.job_events_topic}');
    expect(topic.for_each).toBeUndefined();
    expect(tf.variables.job_events_topic!.default).toBe(configSchema.shape.JOB_EVENTS_TOPIC.parse(undefined));
    expect(obj(tf.locals.common_env, 'local.common_env').JOB_EVENTS_TOPIC).toBe('${google_pubsub_topic.job_events.name}');
    expect(obj(tf.locals.common_env, 'local.common_env').JOB_EVENTS).toBe('pubsub');
    expect(resource('google_pubsub_topic_iam_member', 'job_events_publisher')).toMatchObject({
      for_each: '${local.functions}', topic: '${google_pubsub_topic.job_events.name}', role: 'roles/pubsub.publisher', member: '${google_service_account.function[each.key].member}',
    });
    // No other grant on the topic: not the push identity, not the Pub/Sub agent, not a binding.
    const onTopic = Object.entries(tf.resources).flatMap(([type, byName]) => Object.entries(byName).filter(([, r]) => JSON.stringify(r).includes('google_pubsub_topic.job_events')).map(([name]) => `${type}.${name}`));
    expect(onTopic.filter((r) => /iam/.test(r))).toEqual(['google_pubsub_topic_iam_member.job_events_publisher']);
    expect(tf.outputs).toHaveProperty('job_events_topic');
  });

  it('only the push identity may invoke the functions', () => {
    const invoker = resource('google_cloud_run_service_iam_member', 'pubsub_invoker');
    expect(invoker).toMatchObject({ for_each: '${local.functions}', role: 'roles/run.invoker', member: '${google_service_account.pubsub_invoker.member}' });
    for (const [path, s] of allStrings()) expect(s, path).not.toMatch(/allUsers|allAuthenticatedUsers/);
  });
});

describe('terraform: environment and secrets match shared/config.ts', () => {
  // Set by the platform on 2nd gen functions; declared only to avoid a permanent plan diff.
  const PLATFORM_VARIABLES = ['LOG_EXECUTION_ID'];
  const known = new Set([...Object.keys(configSchema.shape), ...PLATFORM_VARIABLES]);

  it("BQ_LOCATION's default is the datasets' default location (var.region's default)", () => {
    expect(configSchema.parse({}).BQ_LOCATION).toBe(obj(tf.variables.region, 'variable region').default);
    expect(String(resource('google_bigquery_dataset', 'dataset').location)).toBe('${coalesce(var.bigquery_location, var.region)}');
  });

  it('every environment variable set is one the code reads, and the deployed essentials are set', () => {
    const common = obj(tf.locals.common_env, 'local.common_env');
    const service = block(resource('google_cloudfunctions2_function', 'function'), 'service_config');
    expect(service.environment_variables).toBe('${merge(local.common_env, each.value.env)}');
    const keys = [...Object.keys(common), ...codeFunctions.flatMap((fn) => Object.keys(obj(settingsOf(fn).env, `${fn}.env`)))];
    for (const key of keys) expect(known.has(key), `${key} is not read by shared/config.ts`).toBe(true);
    for (const key of ['GCP_PROJECT', 'GCS_BUCKET', 'BQ_DATASET_RAW', 'BQ_DATASET_CURATED', 'BQ_LOCATION', 'LOG_LEVEL']) expect(common).toHaveProperty(key);
    // The functions look their BigQuery jobs up where the datasets are.
    expect(common.BQ_LOCATION).toBe('${google_bigquery_dataset.dataset["curated"].location}');
    // Deployed functions must use the real stores, never the local fixtures.
    for (const key of ['USE_FIXTURE', 'FIXTURE_PRICES', 'LOCAL_DATA_DIR']) expect(keys).not.toContain(key);
  });

  it('only ingest mounts secrets: exactly the two vendor keys, as environment variables of the same name', () => {
    const withSecrets = codeFunctions.filter((fn) => (settingsOf(fn).secrets as Json[]).length > 0);
    expect(withSecrets).toEqual(['ingest']);
    expect([...(settingsOf('ingest').secrets as string[])].sort()).toEqual(['EODHD_API_KEY', 'TWELVE_DATA_API_KEY']);
    expect([...(tf.locals.vendor_secrets as string[])].sort()).toEqual(['EODHD_API_KEY', 'TWELVE_DATA_API_KEY']);
    expect(resource('google_secret_manager_secret', 'vendor').for_each).toBe('${toset(local.vendor_secrets)}');
    // Overrides must not be a way to hand secrets to another function.
    expect(String(tf.variables.function_overrides.type)).not.toMatch(/secret/);

    const service = block(resource('google_cloudfunctions2_function', 'function'), 'service_config');
    const mount = single(obj(service.dynamic, 'dynamic blocks').secret_environment_variables, 'dynamic secret_environment_variables');
    expect(mount.for_each).toBe('${toset(each.value.secrets)}');
    const content = single(mount.content, 'secret_environment_variables content');
    expect(content.key).toBe('${secret_environment_variables.value}');
    expect(content.secret).toBe('${google_secret_manager_secret.vendor[secret_environment_variables.value].secret_id}');
  });

  it('secretAccessor is granted only per secret, to the functions listing that secret (ingest)', () => {
    const grants = allStrings().filter(([, s]) => s.includes('roles/secretmanager'));
    expect(grants.map(([path]) => path)).toEqual(['resource.google_secret_manager_secret_iam_member.accessor.role']);
    const accessor = resource('google_secret_manager_secret_iam_member', 'accessor');
    expect(accessor).toMatchObject({
      for_each: '${local.secret_grants}',
      role: 'roles/secretmanager.secretAccessor',
      secret_id: '${google_secret_manager_secret.vendor[each.value.secret].secret_id}',
      member: '${google_service_account.function[each.value.function].member}',
    });
    // The grants come from the functions' own secret lists, nothing else.
    expect(String(tf.locals.secret_grants)).toMatch(/for\s+(\w+),\s*(\w+)\s+in\s+local\.functions\s*:\s*\[\s*for\s+\w+\s+in\s+\2\.secrets\b/);
  });
});

describe('terraform: IAM', () => {
  it('grants no primitive role anywhere', () => {
    for (const [path, s] of allStrings()) expect(s, path).not.toMatch(/roles\/(owner|editor|viewer)\b/);
  });

  it('uses only additive IAM members (no authoritative bindings or policies that would drop others\' grants)', () => {
    const authoritative = Object.keys(tf.resources).filter((t) => /_iam_(binding|policy)$/.test(t));
    expect(authoritative).toEqual([]);
  });

  it('gives every function the storage and warehouse access the code needs, raw write only to ingest', () => {
    expect(resource('google_storage_bucket_iam_member', 'artifacts_user')).toMatchObject({
      for_each: '${local.functions}', bucket: '${google_storage_bucket.artifacts.name}', role: 'roles/storage.objectUser',
    });
    expect(resource('google_bigquery_dataset_iam_member', 'curated_editor')).toMatchObject({
      for_each: '${local.functions}', dataset_id: '${google_bigquery_dataset.dataset["curated"].dataset_id}', role: 'roles/bigquery.dataEditor',
    });
    expect(resource('google_bigquery_dataset_iam_member', 'raw_access')).toMatchObject({
      for_each: '${local.functions}', dataset_id: '${google_bigquery_dataset.dataset["raw"].dataset_id}', role: '${each.value.raw_dataset_role}',
    });
    expect(resource('google_project_iam_member', 'bigquery_job_user')).toMatchObject({ for_each: '${local.functions}', role: 'roles/bigquery.jobUser' });
    for (const fn of codeFunctions) {
      expect(settingsOf(fn).raw_dataset_role, fn).toBe(fn === 'ingest' ? 'roles/bigquery.dataEditor' : 'roles/bigquery.dataViewer');
    }
  });
});

describe('terraform: warehouse tables match shared/warehouse/schemas.ts', () => {
  it('the price tables are unpartitioned and clustered on (symbol, date), the order of their reads and pruned MERGEs', () => {
    for (const name of ['eq_ohlcv', 'fx_ohlcv', 'crypto_ohlcv', 'corporate_actions'] as const) {
      expect(TABLES[name].partitionBy, name).toBeNull();
      expect(TABLES[name].clusterBy, name).toEqual(['symbol', 'date']);
    }
  });

  it('warehouse.tf creates the de-duplicated views of views.json over their tables, in standard SQL', () => {
    expect(String(tf.locals.deduped_views)).toBe('${jsondecode(file("${path.module}/schemas/views.json"))}');
    const view = resource('google_bigquery_table', 'deduped_view');
    expect(view).toMatchObject({ for_each: '${local.deduped_views}', table_id: '${each.key}', dataset_id: '${google_bigquery_dataset.dataset[each.value.dataset].dataset_id}' });
    expect(block(view, 'view')).toEqual({
      query: '${replace(each.value.query, "{table}", "${var.project}.${google_bigquery_dataset.dataset[each.value.dataset].dataset_id}.${each.value.table}")}',
      use_legacy_sql: false,
    });
    const views = JSON.parse(readFileSync(join(terraformDir, 'schemas', 'views.json'), 'utf8')) as Obj;
    expect(Object.keys(views).sort()).toEqual(['job_runs_deduped', 'model_metrics_deduped']);
  });

  it('the committed schema files are what scripts/terraformSchemas.ts generates from TABLES now', () => {
    const expected = terraformSchemaFiles(TABLES);
    const onDisk = readdirSync(TERRAFORM_SCHEMAS_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(onDisk, 'run: npx tsx scripts/terraformSchemas.ts').toEqual(Object.keys(expected).sort());
    for (const [file, content] of Object.entries(expected)) {
      expect(readFileSync(join(TERRAFORM_SCHEMAS_DIR, file), 'utf8'), `${file} is stale; run: npx tsx scripts/terraformSchemas.ts`).toBe(content);
    }
  });

  const settings = (): Obj => JSON.parse(readFileSync(join(terraformDir, 'schemas', 'tables.json'), 'utf8')) as Obj;

  it.each(Object.values(TABLES).map((t) => [t.name, t] as const))('%s: same columns, types, modes, partitioning and clustering', (name, table) => {
    const columns = JSON.parse(readFileSync(join(terraformDir, 'schemas', `${name}.json`), 'utf8')) as { name: string; type: string; mode: string }[];
    expect(columns.map((c) => [c.name, c.type, c.mode])).toEqual(table.columns.map((c) => [c.name, c.type, c.mode]));
    const s = obj(settings()[name], `tables.json ${name}`);
    expect(s.dataset).toBe(table.dataset);
    expect(s.partition_field).toBe(table.partitionBy);
    expect(s.clustering).toEqual([...table.clusterBy]);
    // BigQuery's own rules: day partitioning on a DATE/TIMESTAMP column, at most 4 clustering columns that exist.
    if (table.partitionBy !== null) expect(columns.find((c) => c.name === table.partitionBy)?.type).toMatch(/^(DATE|TIMESTAMP)$/);
    expect(table.clusterBy.length).toBeLessThanOrEqual(4);
    for (const c of table.clusterBy) expect(columns.map((x) => x.name)).toContain(c);
  });

  it('warehouse.tf creates every table of tables.json from its schema file, partitioned and clustered as listed', () => {
    expect(String(tf.locals.tables)).toBe('${jsondecode(file("${path.module}/schemas/tables.json"))}');
    const table = resource('google_bigquery_table', 'table');
    expect(table).toMatchObject({
      for_each: '${local.tables}',
      table_id: '${each.key}',
      schema: '${file("${path.module}/schemas/${each.key}.json")}',
      clustering: '${each.value.clustering}',
      dataset_id: '${google_bigquery_dataset.dataset[each.value.dataset].dataset_id}',
    });
    const partitioning = obj(table.dynamic, 'dynamic blocks').time_partitioning;
    const dynamicPartitioning = single(partitioning ?? null, 'dynamic time_partitioning');
    expect(dynamicPartitioning.for_each).toBe('${each.value.partition_field == null ? [] : [each.value.partition_field]}');
    expect(single(dynamicPartitioning.content ?? null, 'time_partitioning content')).toEqual({ type: 'DAY', field: '${time_partitioning.value}' });
    const datasets = obj(tf.locals.datasets, 'local.datasets');
    for (const t of Object.values(TABLES)) expect(datasets, `dataset of ${t.name}`).toHaveProperty(t.dataset);
    // Dataset ids default to the code's defaults (BQ_DATASET_RAW / BQ_DATASET_CURATED).
    expect(tf.variables.dataset_raw.default).toBe(configSchema.shape.BQ_DATASET_RAW.parse(undefined));
    expect(tf.variables.dataset_curated.default).toBe(configSchema.shape.BQ_DATASET_CURATED.parse(undefined));
  });
});

describe('terraform: buckets', () => {
  it('the artifacts bucket is private, unversioned and expires objects', () => {
    const bucket = resource('google_storage_bucket', 'artifacts');
    expect(bucket.uniform_bucket_level_access).toBe(true);
    expect(bucket.public_access_prevention).toBe('enforced');
    expect(block(bucket, 'versioning').enabled).toBe(false);
    const rule = single(obj(bucket.dynamic, 'artifacts dynamic blocks').lifecycle_rule, 'lifecycle_rule');
    const content = single(rule.content, 'lifecycle_rule content');
    expect(block(content, 'action').type).toBe('Delete');
    expect(block(content, 'condition').age).toBe('${lifecycle_rule.value}');
    expect(tf.variables.artifact_retention_days.default as number).toBeGreaterThan(0);
  });
});

// --- The daily ingest job -------------------------------------------------------------

/** The Pub/Sub CloudEvent data Cloud Scheduler's message arrives as (through the push subscription). */
function scheduledMessage(body: string, publishTime: Date): unknown {
  return { message: { data: Buffer.from(body, 'utf8').toString('base64'), messageId: '1', publishTime: publishTime.toISOString(), attributes: {} } };
}

/** The text of the balanced (...) starting at `open`. */
function balanced(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(' || text[i] === '{' || text[i] === '[') depth++;
    if (text[i] === ')' || text[i] === '}' || text[i] === ']') depth--;
    if (depth === 0) return text.slice(open + 1, i);
  }
  throw new Error('unbalanced expression');
}

/** Evaluates the body template's literals and references to the loop variables. */
function resolveTemplate(v: Json, keyVar: string, valueVar: string, key: string, schedule: Obj): Json {
  if (typeof v === 'string') {
    const whole = v.match(new RegExp(`^\\$\\{${valueVar}\\.(\\w+)\\}$`));
    if (whole) {
      if (!(whole[1] in schedule)) throw new Error(`the body reads ${valueVar}.${whole[1]}, which ingest_schedules does not have`);
      return schedule[whole[1]];
    }
    const out = v
      .replace(new RegExp(`\\$\\{${keyVar}\\}`, 'g'), key)
      .replace(new RegExp(`\\$\\{${valueVar}\\.(\\w+)\\}`, 'g'), (_, f: string) => {
        if (!(f in schedule)) throw new Error(`the body reads ${valueVar}.${f}, which ingest_schedules does not have`);
        return String(schedule[f]);
      });
    if (out.includes('${')) throw new Error(`cannot evaluate ${v}`);
    return out;
  }
  if (Array.isArray(v)) return v.map((x) => resolveTemplate(x, keyVar, valueVar, key, schedule));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveTemplate(x, keyVar, valueVar, key, schedule)]));
  return v;
}

describe('terraform: daily ingest schedule', () => {
  it('publishes to the ingest topic the body built for its schedule', () => {
    const job = resource('google_cloud_scheduler_job', 'ingest');
    expect(job.for_each).toBe('${var.ingest_schedules}');
    const target = block(job, 'pubsub_target');
    expect(target.topic_name).toBe('${google_pubsub_topic.jobs["ingest"].id}');
    expect(target.data).toBe('${base64encode(local.ingest_job_bodies[each.key])}');
  });

  async function scheduleSets(): Promise<[string, Obj][]> {
    // optional(type, default) attributes of the variable's type, applied as Terraform would.
    const defaults = Object.fromEntries(
      [...String(tf.variables.ingest_schedules.type).matchAll(/(\w+)\s*=\s*optional\([^,()]+,\s*([^)]+)\)/g)].map((m) => [m[1], JSON.parse(m[2]) as Json]),
    );
    const example = (await parse('terraform.tfvars.example', readFileSync(join(terraformDir, 'terraform.tfvars.example'), 'utf8'))) as Obj;
    const sets: [string, Obj][] = [];
    for (const [label, value] of [['variable default', tf.variables.ingest_schedules.default], ['terraform.tfvars.example', example.ingest_schedules]] as const) {
      for (const [key, schedule] of Object.entries(obj(value, label))) sets.push([`${label}: ${key}`, { ...defaults, ...obj(schedule, key), __key: key }]);
    }
    return sets;
  }

  it('every configured schedule yields, after date expansion, a job the contract accepts and a new job_id each day', async () => {
    const expression = String(tf.locals.ingest_job_bodies);
    const loop = expression.match(/for\s+(\w+),\s*(\w+)\s+in\s+var\.ingest_schedules\s*:/);
    expect(loop, 'ingest_job_bodies iterates var.ingest_schedules').toBeTruthy();
    const at = expression.indexOf('jsonencode(');
    expect(at).toBeGreaterThan(0);
    const template = (await parse('body.tf', `body = ${balanced(expression, at + 'jsonencode'.length)}`)) as Obj;

    const sets = await scheduleSets();
    expect(sets.length).toBeGreaterThan(0);
    for (const [label, schedule] of sets) {
      const key = String(schedule.__key);
      const body = JSON.stringify(resolveTemplate(template.body, loop![1], loop![2], key, schedule));
      // The same path a delivered message takes: decode, expand {date}, validate as an ingest job.
      const runOn = (publishTime: Date) => {
        const { document } = decodePubsubEvent(scheduledMessage(body, publishTime));
        return parseJob(document, ingestModel, publishTime.toISOString().slice(0, 10));
      };
      const day1 = runOn(new Date('2024-06-03T23:00:05Z'));
      const day2 = runOn(new Date('2024-06-04T23:00:04Z'));
      // A fixed job_id would be skipped as already completed from the second day on.
      expect(day2.job_id, label).not.toBe(day1.job_id);
      expect(day1.end, label).toBe('2024-06-03');
      expect(day1.start <= day1.end, label).toBe(true);
      expect(day1.symbols, label).toEqual(schedule.symbols);
      expect(day1.params.source, label).toBe(schedule.source);
      expect(day1.params.asset_class, label).toBe(schedule.asset_class);
    }
  });
});

describe('terraform: module hygiene', () => {
  it('every variable has a description and a type, and every var.* used is declared', () => {
    for (const [name, v] of Object.entries(tf.variables)) {
      expect(v.description, `variable ${name}`).toBeTruthy();
      expect(v.type, `variable ${name}`).toBeTruthy();
    }
    const used = new Set(Object.values(tf.texts).flatMap((t) => [...t.matchAll(/\bvar\.(\w+)/g)].map((m) => m[1])));
    for (const name of used) expect(tf.variables, `var.${name}`).toHaveProperty(name);
  });

  it('terraform.tfvars.example sets only declared variables', async () => {
    const example = (await parse('terraform.tfvars.example', readFileSync(join(terraformDir, 'terraform.tfvars.example'), 'utf8'))) as Obj;
    for (const name of Object.keys(example)) expect(tf.variables, name).toHaveProperty(name);
    for (const name of Object.keys(obj(example.function_overrides ?? {}, 'function_overrides'))) expect(codeFunctions).toContain(name);
  });

  it('outputs the topics, buckets, datasets and function URIs', () => {
    for (const name of ['topics', 'dead_letter_topics', 'artifacts_bucket', 'datasets', 'function_uris']) expect(tf.outputs, name).toHaveProperty(name);
  });

  it('holds no absolute path of a machine', () => {
    for (const [file, text] of Object.entries(tf.texts)) expect(text, file).not.toMatch(/(^|["\s])\/(home|Users|work|tmp)\//m);
  });
});

describe('terraform: the prices view matches shared/warehouse/schemas.ts', () => {
  const file = `${PRICES_VIEW.name}.sql.tftpl`;

  it('the committed view SQL is what scripts/terraformSchemas.ts generates from PRICES_VIEW now', () => {
    const expected = terraformViewFiles();
    expect(Object.keys(expected)).toEqual([file]);
    expect(readFileSync(join(TERRAFORM_SCHEMAS_DIR, file), 'utf8'), `${file} is stale; run: npx tsx scripts/terraformSchemas.ts`).toBe(expected[file]);
  });

  it('the SQL reads each price table of the raw dataset with its asset class and the view\'s columns, in order', () => {
    const sql = readFileSync(join(TERRAFORM_SCHEMAS_DIR, file), 'utf8');
    const branches = sql.trim().split('\nUNION ALL\n');
    expect(branches).toHaveLength(Object.keys(PRICE_TABLES).length);
    const columns = PRICES_VIEW.columns.map((c) => c.name);
    Object.entries(PRICE_TABLES).forEach(([assetClass, table], i) => {
      const match = /^SELECT '(\w+)' AS asset_class, (.+) FROM `\$\{project\}\.\$\{dataset\}\.(\w+)`$/.exec(branches[i]);
      expect(match, branches[i]).not.toBeNull();
      expect(match![1]).toBe(assetClass);
      expect(['asset_class', ...match![2].split(', ')]).toEqual(columns);
      expect(match![3]).toBe(table);
      expect(TABLES[table].dataset).toBe(PRICES_VIEW.dataset);
      // The view's columns are the table's (after asset_class), so a table change reaches the view.
      expect(columns.slice(1)).toEqual(TABLES[table].columns.map((c) => c.name));
    });
  });

  it('ingest loads each asset class into the table the view reads it from', () => {
    expect(OHLCV_TABLE).toEqual(PRICE_TABLES);
  });

  it('pricesView.tf creates the view in the raw dataset from that template, standard SQL, after the tables', () => {
    const view = resource('google_bigquery_table', 'prices_view');
    expect(view).toMatchObject({
      dataset_id: `\${google_bigquery_dataset.dataset["${PRICES_VIEW.dataset}"].dataset_id}`,
      table_id: PRICES_VIEW.name,
      description: PRICES_VIEW.description,
      depends_on: ['${google_bigquery_table.table}'],
    });
    expect(view).not.toHaveProperty('schema');
    expect(view).not.toHaveProperty('time_partitioning');
    const definition = block(view, 'view');
    expect(definition.use_legacy_sql).toBe(false);
    expect(String(definition.query).replace(/\s+/g, ' ')).toBe(
      `\${templatefile("\${path.module}/schemas/${file}", { project = var.project dataset = google_bigquery_dataset.dataset["raw"].dataset_id })}`,
    );
  });
});

/** A Terraform duration ("10s") in seconds. */
function seconds(value: Json | undefined): number {
  const m = String(value).match(/^(\d+(?:\.\d+)?)s$/);
  if (!m) throw new Error(`${String(value)} is not a duration in seconds`);
  return Number(m[1]);
}

/** Pub/Sub's exponential redelivery backoff summed over the waits before attempts 2..n. */
function backoffsBefore(attempts: number, minimum: number, maximum: number): number {
  let total = 0;
  for (let k = 0; k < attempts - 1; k++) total += Math.min(maximum, minimum * 2 ** k);
  return total;
}
