import { GoogleAuth } from 'google-auth-library';
import { TransientError } from '../job/errors.js';
import type { Publisher } from './publisher.js';

/**
 * Publishes through Pub/Sub's REST API (`projects.topics.publish`), with the runtime's
 * credentials; on the emulator (`emulatorHost`, as PUBSUB_EMULATOR_HOST) without any. Any
 * failure is transient: the delivery that publishes is retried and publishes again, and a
 * message published twice is harmless to its readers (create-only results).
 */
export class PubsubRestPublisher implements Publisher {
  private auth: GoogleAuth | undefined;

  constructor(
    private readonly project: string,
    private readonly emulatorHost?: string,
  ) {}

  async publish(topic: string, data: string, attributes: Readonly<Record<string, string>>): Promise<void> {
    const base = this.emulatorHost ? `http://${this.emulatorHost}` : 'https://pubsub.googleapis.com';
    const url = `${base}/v1/projects/${encodeURIComponent(this.project)}/topics/${encodeURIComponent(topic)}:publish`;
    const body = JSON.stringify({ messages: [{ data: Buffer.from(data, 'utf8').toString('base64'), attributes }] });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!this.emulatorHost) {
      this.auth ??= new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/pubsub'] });
      const token = await this.auth.getAccessToken().catch((error: unknown) => {
        throw new TransientError(`Pub/Sub: no access token to publish to ${topic}: ${(error as Error).message}`);
      });
      if (token) headers.authorization = `Bearer ${token}`;
    }
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      throw new TransientError(`Pub/Sub: publishing to ${topic} failed: ${(error as Error).message}`);
    }
    if (!response.ok) throw new TransientError(`Pub/Sub: publishing to ${topic} answered HTTP ${response.status}.`);
  }
}
