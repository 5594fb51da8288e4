import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cloudEvent } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { cloudEventHandler } from '../../shared/job/cloudEventHandler.js';
import type { JobServices } from '../../shared/job/lifecycle.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { createLogger } from '../../shared/log.js';
import { createServices } from '../../shared/runtime.js';
import { postCloudEvent, pubsubData } from './pubsubPost.js';

export interface FunctionUnderTest {
  readonly services: JobServices;
  readonly dataDir: string;
  readonly logLines: string[];
  /** Where the function listens (http://127.0.0.1:<port>/). */
  readonly url: string;
  /** POSTs a Pub/Sub CloudEvent (binary mode) whose message.data is `data` (base64 of the job unless `raw`). */
  publish(job: unknown, options?: { raw?: string; messageId?: string }): Promise<{ status: number; messageId: string }>;
  /** POSTs an arbitrary CloudEvent data payload. */
  post(data: unknown, messageId?: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Registers a model's handler with the functions-framework under a fresh name and serves
 * it over real HTTP, with local storage in a temporary folder and the fixture prices.
 */
export async function startFunction(model: ModelDefinition<never>, env: Record<string, string> = {}): Promise<FunctionUnderTest> {
  const dataDir = env.LOCAL_DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'quant-test-'));
  const logLines: string[] = [];
  const logger = createLogger('DEBUG', (line) => logLines.push(line));
  const services = await createServices({ USE_FIXTURE: 'true', LOCAL_DATA_DIR: dataDir, ...env }, logger);
  const name = `${model.name}-${randomUUID()}`;
  cloudEvent(name, cloudEventHandler(model, async () => services));
  const server: Server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  const url = `http://127.0.0.1:${port}/`;
  const post = (data: unknown, messageId: string = randomUUID()) => postCloudEvent(url, data, { id: messageId, topic: `jobs-${model.name}` });

  return {
    services,
    dataDir,
    logLines,
    url,
    post,
    async publish(job, options = {}) {
      const messageId = options.messageId ?? randomUUID();
      const status = await post(pubsubData(job, messageId, options.raw), messageId);
      return { status, messageId };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
