// npm run --silent submit -- <function> <job.json | -> [--wait] [--timeout <seconds>]
// Publishes a job to the topic jobs-<function> of the configured project (GCP_PROJECT), or
// of the Pub/Sub emulator when PUBSUB_EMULATOR_HOST is set. With --wait, follows the job
// through job-events (and status.json, for progress and as a fallback), shows progress on
// stderr and prints the result document on stdout. Exit codes as `npm run job`: 0
// completed, 1 failed, 75 not finished in time (look it up later), 2 usage or setup.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import type { ResultDocument, StatusDocument } from '../shared/job/documents.js';
import type { JobEvent } from '../shared/events/jobEvent.js';
import { FUNCTION_NAMES, isFunctionName } from '../shared/registry.js';
import { runningStack } from './stackInfo.js';
import { progressLine } from './submit/progressDisplay.js';

const USAGE = `usage: npm run --silent submit -- <${FUNCTION_NAMES.join('|')}> <job.json | -> [--wait] [--timeout <seconds>]\n`;
const EXIT = { completed: 0, failed: 1, usage: 2, timeout: 75 } as const;
const JOB_ID = /^[A-Za-z0-9_.-]{1,128}$/;

class SubmitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
  }
}

interface Options {
  fn: string;
  source: string;
  wait: boolean;
  timeoutSeconds: number;
}

function parseArgs(argv: readonly string[]): Options {
  const positional: string[] = [];
  let wait = false;
  let timeoutSeconds = 900;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--wait') wait = true;
    else if (arg === '--timeout') {
      timeoutSeconds = Number(argv[++i]);
      if (!(timeoutSeconds > 0)) throw new SubmitError(`--timeout needs a number of seconds, not "${argv[i] ?? ''}".`);
    } else if (arg.startsWith('--') && arg !== '-') throw new SubmitError(`Unknown option "${arg}".`);
    else positional.push(arg);
  }
  const [fn, source, extra] = positional;
  if (!fn) throw new SubmitError('Missing the function name.');
  if (!isFunctionName(fn)) throw new SubmitError(`Unknown function "${fn}": the first argument is one of ${FUNCTION_NAMES.join(', ')}.`);
  if (!source) throw new SubmitError(`Missing the job: give a job file (e.g. fixtures/jobs/${fn}.json) or - for standard input.`);
  if (extra) throw new SubmitError(`Unexpected argument "${extra}".`);
  return { fn, source, wait, timeoutSeconds };
}

async function readJob(source: string): Promise<{ body: string; jobId: string }> {
  let body: string;
  try {
    body = source === '-' ? await readStdin() : await fs.readFile(source, 'utf8');
  } catch (error) {
    throw new SubmitError(`Cannot read the job file ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let job: unknown;
  try {
    job = JSON.parse(body);
  } catch (error) {
    throw new SubmitError(`The job ${source === '-' ? 'on standard input' : `file ${source}`} is not JSON: ${(error as Error).message}`);
  }
  const jobId = (job as { job_id?: unknown } | null)?.job_id;
  // The function validates everything else; the job_id is what we follow the job by.
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
    throw new SubmitError('The job needs a job_id of 1-128 characters of [A-Za-z0-9_.-]: it names the job and is how submit follows it.');
  }
  return { body, jobId };
}

/** The project: GCP_PROJECT, else the client's own default (gcloud / ADC); the emulator needs none. */
async function resolveProject(pubsub: PubSub): Promise<string> {
  if (process.env.GCP_PROJECT) return process.env.GCP_PROJECT;
  if (process.env.PUBSUB_EMULATOR_HOST) return 'local-project';
  try {
    const project = await pubsub.getClientConfig().then((c) => c.projectId ?? pubsub.projectId);
    if (project && !project.includes('{{')) return project;
  } catch {
    // fall through to the error below
  }
  throw new SubmitError(
    'No Google Cloud project configured: set GCP_PROJECT=<project id> (or `gcloud config set project <id>` with application default credentials), or PUBSUB_EMULATOR_HOST for a local stack (npm run stack).',
  );
}

/** A Pub/Sub client error as one sentence saying what to do. */
function explain(error: unknown, what: string, project: string): SubmitError {
  const { code, message } = error as { code?: number; message?: string };
  const text = message ?? String(error);
  if (code === 5) return new SubmitError(`${what}: not found in project ${project}. Deployed: terraform apply creates it; locally: is npm run stack running (PUBSUB_EMULATOR_HOST=${process.env.PUBSUB_EMULATOR_HOST ?? 'unset'})?`);
  if (code === 7) return new SubmitError(`${what}: permission denied in project ${project}. The caller needs roles/pubsub.publisher on the job topic (and roles/pubsub.editor on job-events to --wait); see the README's Deploy section.`);
  if (code === 16 || /default credentials/i.test(text)) return new SubmitError(`${what}: no Google credentials. Run gcloud auth application-default login, or set PUBSUB_EMULATOR_HOST for a local stack.`);
  if (code === 14 || /ECONNREFUSED|UNAVAILABLE/.test(text)) return new SubmitError(`${what}: Pub/Sub is unreachable (${text.split('\n')[0]}). Locally: start npm run stack, or check PUBSUB_EMULATOR_HOST.`);
  return new SubmitError(`${what}: ${text.split('\n')[0]}`, EXIT.failed);
}

/** Where status.json and result.json can be read: the bucket (GCS_BUCKET) or the local folder of the stack. */
async function jobFolderReader(fn: string, jobId: string): Promise<((name: string) => Promise<string | null>) | null> {
  const object = (name: string) => `jobs/${fn}/${jobId}/${name}`;
  if (process.env.GCS_BUCKET) {
    const { Storage } = await import('@google-cloud/storage');
    const bucket = new Storage(process.env.GCP_PROJECT ? { projectId: process.env.GCP_PROJECT } : {}).bucket(process.env.GCS_BUCKET);
    return async (name) => {
      try {
        const [contents] = await bucket.file(object(name)).download();
        return contents.toString('utf8');
      } catch (error) {
        if ((error as { code?: number }).code === 404) return null;
        throw error;
      }
    };
  }
  if (process.env.PUBSUB_EMULATOR_HOST) {
    const root = path.resolve(process.env.LOCAL_DATA_DIR ?? '.local', 'bucket');
    return (name) => fs.readFile(path.join(root, object(name)), 'utf8').catch(() => null);
  }
  return null;
}

async function readUri(uri: string): Promise<string> {
  if (uri.startsWith('file://')) return fs.readFile(fileURLToPath(uri), 'utf8');
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`cannot read ${uri}`);
  const { Storage } = await import('@google-cloud/storage');
  const [contents] = await new Storage(process.env.GCP_PROJECT ? { projectId: process.env.GCP_PROJECT } : {}).bucket(match[1]!).file(match[2]!).download();
  return contents.toString('utf8');
}

function lookupHint(fn: string, jobId: string): string {
  const bucket = process.env.GCS_BUCKET ?? '<bucket: terraform output -raw artifacts_bucket>';
  if (process.env.PUBSUB_EMULATOR_HOST && !process.env.GCS_BUCKET) {
    return `Look it up later: cat ${path.join(process.env.LOCAL_DATA_DIR ?? '.local', 'bucket', 'jobs', fn, jobId)}/status.json (then result.json).`;
  }
  return `Look it up later: gcloud storage cat gs://${bucket}/jobs/${fn}/${jobId}/status.json (then result.json), or bq query --use_legacy_sql=false 'SELECT * FROM curated.job_runs WHERE job_id = "${jobId}"'.`;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const { body, jobId } = await readJob(options.source);
  // Neither a project nor an emulator named: a stack running here (npm run stack) is the target.
  if (!process.env.PUBSUB_EMULATOR_HOST && !process.env.GCP_PROJECT) {
    const stack = runningStack(process.env.LOCAL_DATA_DIR ?? '.local');
    if (stack) {
      process.env.PUBSUB_EMULATOR_HOST = stack.emulator_host;
      process.env.GCP_PROJECT = stack.project;
      process.env.LOCAL_DATA_DIR = stack.local_data_dir;
      process.stderr.write(`Submitting to the local stack (npm run stack, emulator ${stack.emulator_host}); set GCP_PROJECT to submit to Google Cloud.\n`);
    }
  }
  // The emulator needs no credentials: no Google metadata server to look for (and warn about).
  if (process.env.PUBSUB_EMULATOR_HOST) process.env.METADATA_SERVER_DETECTION ??= 'none';
  const { PubSub: Client } = await import('@google-cloud/pubsub');
  const bootstrap = new Client(process.env.GCP_PROJECT ? { projectId: process.env.GCP_PROJECT } : {});
  const project = await resolveProject(bootstrap);
  const pubsub = bootstrap.projectId === project ? bootstrap : new Client({ projectId: project });
  const jobTopic = `jobs-${options.fn}`;
  const eventsTopic = process.env.JOB_EVENTS_TOPIC ?? 'job-events';
  const started = Date.now();

  let subscription: Subscription | undefined;
  try {
    if (options.wait) {
      // Subscribed before publishing, so that the event cannot be missed; filtered to this job.
      const name = `submit-${jobId.slice(0, 80).replace(/[^A-Za-z0-9_.-]/g, '_')}-${randomUUID().slice(0, 8)}`;
      try {
        [subscription] = await pubsub.topic(eventsTopic).createSubscription(name, {
          filter: `attributes.job_id = "${jobId}"`,
          ackDeadlineSeconds: 60,
          expirationPolicy: { ttl: { seconds: 86_400 } },
        });
      } catch (error) {
        const explained = explain(error, `Subscribing to ${eventsTopic}`, project);
        process.stderr.write(`${explained.message}\nFalling back to status.json for this job.\n`);
      }
    }
    let messageId: string;
    const publishedAt = Date.now();
    try {
      messageId = await pubsub.topic(jobTopic, { batching: { maxMessages: 1 } }).publishMessage({ data: Buffer.from(body, 'utf8') });
    } catch (error) {
      throw explain(error, `Publishing to topic ${jobTopic}`, project);
    }
    process.stderr.write(`Published job ${jobId} to ${jobTopic} in ${project}${process.env.PUBSUB_EMULATOR_HOST ? ` (emulator ${process.env.PUBSUB_EMULATOR_HOST})` : ''}, message ${messageId}.\n`);
    if (!options.wait) {
      process.stdout.write(JSON.stringify({ job_id: jobId, topic: jobTopic, project, message_id: messageId }) + '\n');
      return EXIT.completed;
    }
    const document = await follow(options, { jobId, body, messageId, publishedAt }, subscription, started);
    if (!document) {
      process.stderr.write(`Job ${jobId} has not finished after ${options.timeoutSeconds} s (it may still be running). ${lookupHint(options.fn, jobId)}\n`);
      return EXIT.timeout;
    }
    process.stdout.write(JSON.stringify(document, null, 2) + '\n');
    return document.status === 'completed' ? EXIT.completed : EXIT.failed;
  } finally {
    if (subscription) {
      await subscription.close().catch(() => undefined);
      await subscription.delete().catch(() => undefined);
    }
    await pubsub.close().catch(() => undefined);
    if (bootstrap !== pubsub) await bootstrap.close().catch(() => undefined);
  }
}

/**
 * Waits for the job's event (or, without a subscription, or for a job that had already
 * finished and so publishes nothing new, for its result.json), showing progress from
 * status.json. Null on timeout.
 */
async function follow(
  options: Options,
  submitted: { jobId: string; body: string; messageId: string; publishedAt: number },
  subscription: Subscription | undefined,
  started: number,
): Promise<ResultDocument | null> {
  const { jobId } = submitted;
  const read = await jobFolderReader(options.fn, jobId);
  const answerOf = read ? storedAnswerReader(options.fn, submitted, read) : undefined;
  if (!subscription && !read) {
    throw new SubmitError('Cannot follow the job: no subscription to job-events and no bucket to read status.json from (set GCS_BUCKET, from terraform output -raw artifacts_bucket).');
  }
  const tty = process.stderr.isTTY === true;
  let lastLine = '';
  const show = (status: Partial<StatusDocument> | null) => {
    const line = progressLine(options.fn, jobId, status, (Date.now() - started) / 1000, tty ? (process.stderr.columns ?? 80) : undefined);
    if (tty) process.stderr.write(`\r${line}\u001b[K`);
    else if (line !== lastLine) process.stderr.write(line + '\n');
    lastLine = line;
  };
  const deadline = started + options.timeoutSeconds * 1000;

  let event: JobEvent | undefined;
  let finishedBy: string | undefined;
  const onMessage = (message: Message) => {
    message.ack();
    const data = JSON.parse(message.data.toString('utf8')) as JobEvent;
    if (data.job_id === jobId) event = data;
  };
  subscription?.on('message', onMessage);
  subscription?.on('error', (error) => process.stderr.write(`\njob-events subscription error: ${(error as Error).message}\n`));

  try {
    show(null);
    while (Date.now() < deadline) {
      if (event) {
        show({ status: event.status, progress: 1 });
        finishedBy = `announced on job-events in ${event.duration_ms.toFixed(0)} ms of work`;
        return JSON.parse(await readUri(event.result_uri)) as ResultDocument;
      }
      if (read) {
        const status = await read('status.json').then((s) => (s ? (JSON.parse(s) as StatusDocument) : null)).catch(() => null);
        show(status);
        const answer = await answerOf!(status);
        if (answer) {
          finishedBy = answer.how;
          return answer.document;
        }
      }
      await new Promise((r) => setTimeout(r, read ? 1000 : 250));
    }
    return null;
  } finally {
    if (tty) process.stderr.write('\n');
    if (finishedBy) process.stderr.write(`Job ${jobId} ${event?.status ?? 'finished'} (${finishedBy}).\n`);
  }
}

/**
 * The answer to this submission found in the job's folder, without an event: a refusal of
 * this message (another job under the id: `refused/<message id>.json`), a result committed
 * after we published, or, for a job that had already finished (which publishes no new
 * event), the stored result when `job.json` says it is this very job (same digest as the
 * function computes).
 */
function storedAnswerReader(
  fn: string,
  submitted: { jobId: string; body: string; messageId: string; publishedAt: number },
  read: (name: string) => Promise<string | null>,
): (status: StatusDocument | null) => Promise<{ document: ResultDocument; how: string } | null> {
  let ours: Promise<string | null> | undefined;
  return async (status) => {
    const refusal = await read(`refused/${submitted.messageId.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
    if (refusal) return { document: JSON.parse(refusal) as ResultDocument, how: 'refused: the job_id names another job' };
    if (!status || status.status === 'running') return null;
    const text = await read('result.json');
    if (!text) return null;
    const result = JSON.parse(text) as ResultDocument;
    // Clocks of this machine and the function's may differ by a little: 2 s of slack.
    const afterPublishing = Date.parse(result.finished_at) >= submitted.publishedAt - 2000;
    ours ??= submittedDigest(fn, submitted.body);
    const bound = await read('job.json');
    const digest = bound ? (JSON.parse(bound) as { digest?: string }).digest : undefined;
    // Another job holds the id: our answer is the refusal, still to come.
    if (digest !== undefined && (await ours) !== null && digest !== (await ours)) return null;
    if (afterPublishing) return { document: result, how: 'seen in status.json' };
    if (result.status === 'failed' && result.error.code === 'internal') return null; // does not consume the id: it runs again
    if (digest !== undefined && digest === (await ours)) return { document: result, how: 'already finished before: the same job' };
    return null;
  };
}

/** The digest the function gives this job (`job.json`), or null if it cannot be computed here. */
async function submittedDigest(fn: string, body: string): Promise<string | null> {
  if (!isFunctionName(fn)) return null;
  const [{ MODEL_LOADERS }, { parseJob }, { jobIdentity, unvalidatedJobIdentity }] = await Promise.all([
    import('../shared/registry.js'),
    import('../shared/job/envelope.js'),
    import('../shared/job/jobDigest.js'),
  ]);
  const model = await MODEL_LOADERS[fn]();
  const document = JSON.parse(body) as { job_id: string };
  try {
    return jobIdentity(model.name, parseJob(document, model, new Date().toISOString().slice(0, 10))).digest;
  } catch {
    return unvalidatedJobIdentity(model.name, document.job_id, document).digest;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof SubmitError) {
      process.stderr.write(`${error.message}\n${error.exitCode === EXIT.usage && /^(Missing|Unknown|Unexpected|--timeout)/.test(error.message) ? USAGE : ''}`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`Error: ${(error as Error).message}\n`);
    process.exit(EXIT.failed);
  },
);
