import { parentPort } from 'node:worker_threads';
import { blackscholesModel } from '../models/blackscholes/job.js';
import { parseJob } from './envelope.js';
import { validatedJobDigest } from './jobDigest.js';
import { expandDateTemplates } from './pubsubEvent.js';
import type { IdentityReply, IdentityTask } from './identityThread.js';
import type { ModelDefinition, ModelName } from './model.js';

/**
 * The models whose jobs reach THREAD_BYTES (identityThread.ts's THREAD_MODELS), imported
 * statically: a worker started from TypeScript source (tests) cannot load a module dynamically.
 */
const MODELS: Partial<Record<ModelName, ModelDefinition<unknown>>> = { blackscholes: blackscholesModel as ModelDefinition<unknown> };

// The helper thread of identityThread.ts: one job's digest, from the message's bytes, then it ends.
parentPort?.once('message', (task: IdentityTask) => {
  try {
    const { reply, transfer } = digest(task);
    parentPort?.postMessage(reply, transfer);
  } catch (error) {
    parentPort?.postMessage({ error: (error as Error).message } satisfies IdentityReply);
  }
  parentPort?.close();
});

/**
 * The job's digest as the job's own thread would compute it: the same decoding (UTF-8, JSON,
 * `{date}` placeholders), the same validation, the same canonical text.
 */
function digest(task: IdentityTask): { reply: IdentityReply; transfer: ArrayBuffer[] } {
  const model = MODELS[task.model];
  if (model === undefined) throw new Error(`the identity thread has no ${task.model} model`);
  const publishTime = new Date(task.publishTime);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(task.bytes);
  const document = expandDateTemplates(JSON.parse(text) as Record<string, unknown>, publishTime);
  const job = parseJob(document, model, publishTime.toISOString().slice(0, 10), task.bytes);
  const { digest, text: pieces } = validatedJobDigest(task.model, job);
  // Moved to the job's thread rather than copied: each piece in a buffer of its own.
  const canonical = pieces.map((piece) => (piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength ? piece : new Uint8Array(piece)));
  return { reply: { jobId: job.job_id, digest, canonical }, transfer: canonical.map((piece) => piece.buffer as ArrayBuffer) };
}
