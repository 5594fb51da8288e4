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

export interface FunctionUnderTest {
  readonly services: JobServices;
  readonly dataDir: string;
  readonly logLines: string[];
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

  const post = async (data: unknown, messageId: string = randomUUID()): Promise<number> => {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-id': messageId,
        'ce-specversion': '1.0',
        'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
        'ce-source': `//pubsub.googleapis.com/projects/test/topics/jobs-${model.name}`,
        'ce-time': new Date().toISOString(),
      },
      body: JSON.stringify(data),
    });
    await response.text();
    return response.status;
  };

  return {
    services,
    dataDir,
    logLines,
    post,
    async publish(job, options = {}) {
      const messageId = options.messageId ?? randomUUID();
      const encoded = options.raw ?? Buffer.from(JSON.stringify(job), 'utf8').toString('base64');
      const status = await post({ message: { data: encoded, messageId, publishTime: new Date().toISOString() }, subscription: 'projects/test/subscriptions/s' }, messageId);
      return { status, messageId };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
