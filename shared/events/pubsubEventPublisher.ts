import type { GoogleAuth } from 'google-auth-library';
import { httpRequest } from '../httpRequest.js';
import { TransientError } from '../job/errors.js';
import type { EventPublisher } from './eventPublisher.js';
import { jobEventAttributes, type JobEvent } from './jobEvent.js';

export interface PubsubEventPublisherOptions {
  /** The topic's name (`job-events`, with the deployment's name_prefix). */
  readonly topic: string;
  readonly projectId?: string;
  /** `host:port` of the Pub/Sub emulator (PUBSUB_EMULATOR_HOST): plain HTTP, no credentials. */
  readonly emulatorHost?: string;
}

/**
 * `job-events` in Pub/Sub, through its REST API (`topics.publish`) with google-auth-library,
 * which the BigQuery client loads anyway: a function does not load the gRPC Pub/Sub client
 * (and its cold start) to send one small message a job. The emulator answers the same API.
 */
export class PubsubEventPublisher implements EventPublisher {
  private auth?: Promise<GoogleAuth>;

  constructor(private readonly options: PubsubEventPublisherOptions) {}

  async publish(event: JobEvent): Promise<void> {
    const body = { messages: [{ data: Buffer.from(JSON.stringify(event), 'utf8').toString('base64'), attributes: jobEventAttributes(event) }] };
    const { emulatorHost } = this.options;
    let status: number;
    let text: string;
    try {
      if (emulatorHost) {
        const project = this.options.projectId ?? 'local-project';
        const response = await httpRequest('POST', `http://${emulatorHost}/v1/${topicPath(project, this.options.topic)}:publish`, {
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify(body), 'utf8'),
          timeoutMs: 30_000,
        });
        status = response.status;
        text = response.body.toString('utf8');
      } else {
        this.auth ??= import('google-auth-library').then(({ GoogleAuth: Auth }) => new Auth({ scopes: ['https://www.googleapis.com/auth/pubsub'] }));
        const auth = await this.auth;
        const project = this.options.projectId ?? (await auth.getProjectId());
        const client = await auth.getClient();
        const response = await client.request({
          url: `https://pubsub.googleapis.com/v1/${topicPath(project, this.options.topic)}:publish`,
          method: 'POST',
          data: body,
          timeout: 30_000,
          validateStatus: () => true,
          responseType: 'text',
        });
        status = response.status;
        text = String(response.data);
      }
    } catch (error) {
      throw new TransientError(`Publishing the job event to ${this.options.topic} failed: ${(error as Error).message}`);
    }
    if (status >= 200 && status < 300) return;
    // A missing topic or a missing role is a deployment fault: it is retried too (the result
    // is committed; the event goes out once the topic or role is fixed), and said plainly.
    const why = status === 404 ? 'the topic does not exist' : status === 403 ? 'the function account lacks roles/pubsub.publisher on it' : `HTTP ${status}`;
    throw new TransientError(`Publishing the job event to ${this.options.topic} failed: ${why} (${errorMessage(text)}).`);
  }
}

function topicPath(project: string, topic: string): string {
  return `projects/${encodeURIComponent(project)}/topics/${encodeURIComponent(topic)}`;
}

function errorMessage(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
