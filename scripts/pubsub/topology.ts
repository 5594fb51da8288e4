import type { PubSub } from '@google-cloud/pubsub';

/**
 * The Pub/Sub settings of terraform/messaging.tf, as values (test/terraform.test.ts holds
 * the two equal): what production delivers with, and what the emulator is configured with.
 */
export const DELIVERY = {
  /** The push subscription's acknowledgement deadline: the longest a run may take to answer. */
  ackDeadlineSeconds: 600,
  messageRetentionSeconds: 604_800,
  /** Redelivery backoff after a non-2xx answer (or a dropped connection). */
  retry: { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 },
  /** Deliveries (the first included) before the message goes to the dead-letter topic: var.max_delivery_attempts' default. */
  maxDeliveryAttempts: 5,
} as const;

export interface RetryPolicySeconds {
  readonly minimumBackoffSeconds: number;
  readonly maximumBackoffSeconds: number;
}

/** Names as in terraform/messaging.tf (with the same optional prefix). */
export function topologyNames(fn: string, prefix = '') {
  return {
    jobTopic: `jobs-${fn}`,
    jobPush: `${prefix}${fn}-push`,
    deadLetterTopic: `${prefix}${fn}-dead-letter`,
    /** Keeps dead-lettered messages for inspection or replay. */
    deadLetterKept: `${prefix}${fn}-dead-letter`,
    /** Pushes dead-lettered messages back to the function, which records the job as failed. */
    deadLetterPush: `${prefix}${fn}-dead-letter-push`,
  };
}

/**
 * A push endpoint: the function's URL and the topic's path, from which the
 * functions-framework takes the CloudEvent's source (a dead-letter topic's path is how a
 * function knows a message is a dead-letter record).
 */
export function pushEndpoint(functionUrl: string, project: string, topic: string): string {
  return `${functionUrl.replace(/\/$/, '')}/projects/${project}/topics/${topic}`;
}

/**
 * Creates, for each function, what terraform/messaging.tf creates: the job topic, its
 * dead-letter topic, the push subscription to the function (acknowledgement deadline,
 * retry policy, dead-letter policy), the subscription that keeps dead-lettered messages and
 * the push subscription that brings them back to the function.
 * @param retry the redelivery backoff; Terraform's by default (a test may shorten it: the
 *   values deployed are held equal to DELIVERY by test/terraform.test.ts).
 */
export async function createJobTopology(
  pubsub: PubSub,
  options: { project: string; functions: Record<string, string>; retry?: RetryPolicySeconds; prefix?: string },
): Promise<void> {
  const retry = options.retry ?? DELIVERY.retry;
  const retryPolicy = { minimumBackoff: duration(retry.minimumBackoffSeconds), maximumBackoff: duration(retry.maximumBackoffSeconds) };
  const messageRetentionDuration = duration(DELIVERY.messageRetentionSeconds);
  for (const [fn, url] of Object.entries(options.functions)) {
    const names = topologyNames(fn, options.prefix);
    const [jobTopic] = await pubsub.createTopic(names.jobTopic);
    const [deadLetterTopic] = await pubsub.createTopic(names.deadLetterTopic);
    await deadLetterTopic.createSubscription(names.deadLetterKept, { ackDeadlineSeconds: 60, messageRetentionDuration });
    await deadLetterTopic.createSubscription(names.deadLetterPush, {
      ackDeadlineSeconds: DELIVERY.ackDeadlineSeconds,
      messageRetentionDuration,
      pushConfig: { pushEndpoint: pushEndpoint(url, options.project, names.deadLetterTopic) },
      retryPolicy,
    });
    await jobTopic.createSubscription(names.jobPush, {
      ackDeadlineSeconds: DELIVERY.ackDeadlineSeconds,
      messageRetentionDuration,
      pushConfig: { pushEndpoint: pushEndpoint(url, options.project, names.jobTopic) },
      retryPolicy,
      deadLetterPolicy: { deadLetterTopic: deadLetterTopic.name, maxDeliveryAttempts: DELIVERY.maxDeliveryAttempts },
    });
  }
}

function duration(seconds: number): { seconds: number; nanos: number } {
  const whole = Math.floor(seconds);
  return { seconds: whole, nanos: Math.round((seconds - whole) * 1e9) };
}

/**
 * What terraform/montecarloShards.tf creates: the Monte Carlo shard-task topic, pushed to
 * the montecarlo function with the job topics' delivery settings, and its dead-letter topic
 * with a subscription that keeps what could not be delivered and one that pushes it back to
 * the function (which fails the task's job, naming the shard).
 */
export async function createMontecarloShardTopology(
  pubsub: PubSub,
  options: { project: string; functionUrl: string; retry?: RetryPolicySeconds; prefix?: string },
): Promise<string> {
  const retry = options.retry ?? DELIVERY.retry;
  const messageRetentionDuration = duration(DELIVERY.messageRetentionSeconds);
  const topicName = `${options.prefix ?? ''}montecarlo-shards`;
  const [topic] = await pubsub.createTopic(topicName);
  const [deadLetter] = await pubsub.createTopic(`${topicName}-dead-letter`);
  await deadLetter.createSubscription(`${topicName}-dead-letter`, { ackDeadlineSeconds: 60, messageRetentionDuration });
  await deadLetter.createSubscription(`${topicName}-dead-letter-push`, {
    ackDeadlineSeconds: DELIVERY.ackDeadlineSeconds,
    messageRetentionDuration,
    pushConfig: { pushEndpoint: pushEndpoint(options.functionUrl, options.project, `${topicName}-dead-letter`) },
    retryPolicy: { minimumBackoff: duration(retry.minimumBackoffSeconds), maximumBackoff: duration(retry.maximumBackoffSeconds) },
  });
  await topic.createSubscription(`${topicName}-push`, {
    ackDeadlineSeconds: DELIVERY.ackDeadlineSeconds,
    messageRetentionDuration,
    pushConfig: { pushEndpoint: pushEndpoint(options.functionUrl, options.project, topicName) },
    retryPolicy: { minimumBackoff: duration(retry.minimumBackoffSeconds), maximumBackoff: duration(retry.maximumBackoffSeconds) },
    deadLetterPolicy: { deadLetterTopic: deadLetter.name, maxDeliveryAttempts: DELIVERY.maxDeliveryAttempts },
  });
  return topicName;
}
