import { PubSub, v1 } from '@google-cloud/pubsub';
import type { Backlog, BacklogReader, PubsubInspector, SubscriptionInfo } from './pubsubChecks.js';

const shortName = (path: string | null | undefined): string => String(path ?? '').split('/').pop() ?? '';

/**
 * Pub/Sub admin calls through @google-cloud/pubsub: against the project, or the emulator
 * when PUBSUB_EMULATOR_HOST is set (the client reads it by itself).
 */
export class GooglePubsubInspector implements PubsubInspector {
  constructor(
    private readonly client: PubSub,
    readonly where: string,
  ) {}

  async topicExists(topic: string): Promise<boolean> {
    const [exists] = await this.client.topic(topic).exists();
    return exists;
  }

  async subscriptionsOf(topic: string): Promise<SubscriptionInfo[]> {
    const [subscriptions] = await this.client.topic(topic).getSubscriptions();
    return Promise.all(
      subscriptions.map(async (subscription) => {
        const [m] = await subscription.getMetadata();
        return {
          name: shortName(m.name ?? subscription.name),
          ...(m.pushConfig?.pushEndpoint ? { pushEndpoint: m.pushConfig.pushEndpoint } : {}),
          ...(m.deadLetterPolicy?.deadLetterTopic ? { deadLetterTopic: shortName(m.deadLetterPolicy.deadLetterTopic) } : {}),
          ...(m.deadLetterPolicy?.maxDeliveryAttempts ? { maxDeliveryAttempts: m.deadLetterPolicy.maxDeliveryAttempts } : {}),
        };
      }),
    );
  }
}

/** Messages one peek looks at: enough to say "at least this many". */
const PEEK_MESSAGES = 1000;

/**
 * The backlog of a subscription seen by pulling without acknowledging, then handing every
 * pulled message straight back (ack deadline 0). Used with the emulator, which has no
 * Cloud Monitoring. The count is a lower bound (one pull returns at most PEEK_MESSAGES,
 * often fewer) and the pull counts as a delivery, which is why the cloud uses metrics.
 */
export class PeekBacklogReader implements BacklogReader {
  readonly method = 'peeked: pulled without acknowledging';
  private readonly subscriber: v1.SubscriberClient;

  constructor(
    client: PubSub,
    private readonly projectId: string,
    private readonly now: () => number = Date.now,
  ) {
    // The high-level client's options carry the emulator's address and plain-text credentials.
    const { port, ...rest } = client.options;
    this.subscriber = new v1.SubscriberClient({ ...rest, ...(port !== undefined ? { port: Number(port) } : {}) });
  }

  async backlog(subscription: string): Promise<Backlog> {
    const path = `projects/${this.projectId}/subscriptions/${subscription}`;
    const [response] = await this.subscriber.pull({ subscription: path, maxMessages: PEEK_MESSAGES, returnImmediately: true }, { timeout: 10_000 });
    const received = response.receivedMessages ?? [];
    const ackIds = received.map((r) => r.ackId).filter((id): id is string => Boolean(id));
    if (ackIds.length > 0) await this.subscriber.modifyAckDeadline({ subscription: path, ackIds, ackDeadlineSeconds: 0 });
    const published = received
      .map((r) => r.message?.publishTime)
      .filter((t) => t?.seconds !== undefined && t.seconds !== null)
      .map((t) => Number(t!.seconds) * 1000 + Math.round(Number(t!.nanos ?? 0) / 1e6));
    const oldest = published.length > 0 ? Math.min(...published) : null;
    return { messages: received.length, oldestAgeSeconds: oldest === null ? null : Math.max(0, (this.now() - oldest) / 1000), atLeast: received.length > 0 };
  }

  close(): Promise<void> {
    return this.subscriber.close();
  }
}
