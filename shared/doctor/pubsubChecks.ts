import { fail, ok, skip, type Check, type CheckOutcome } from './check.js';

/** A subscription as the doctor needs it; topic and subscription names are short ids. */
export interface SubscriptionInfo {
  readonly name: string;
  readonly pushEndpoint?: string;
  readonly deadLetterTopic?: string;
  readonly maxDeliveryAttempts?: number;
}

/** Reads the Pub/Sub topology: the project's, or the emulator's. */
export interface PubsubInspector {
  /** Where the topics live, for the report. */
  readonly where: string;
  topicExists(topic: string): Promise<boolean>;
  subscriptionsOf(topic: string): Promise<SubscriptionInfo[]>;
}

/** Messages waiting in a subscription and the age of the oldest, as far as the reader can tell. */
export interface Backlog {
  readonly messages: number;
  readonly oldestAgeSeconds: number | null;
  /** True when `messages` is a lower bound (a peek sees at most one pull's worth). */
  readonly atLeast: boolean;
}

/** How dead-letter backlogs are measured: Cloud Monitoring's metrics, or a pull that acknowledges nothing. */
export interface BacklogReader {
  /** Said in the report, so the reader knows how fresh and how exact the number is. */
  readonly method: string;
  /** The backlog, or null when there is no measurement (no recent metric point). */
  backlog(subscription: string): Promise<Backlog | null>;
}

/**
 * Two checks sharing what they find: every `jobs-<fn>` topic has a push subscription with
 * a dead-letter policy (and its dead-letter topic has a subscription keeping messages),
 * then each of those dead-letter subscriptions is empty.
 * @param topics function name to its job topic (`jobs-<fn>`)
 * @param fix what to do about a missing or incomplete topology
 */
export function pubsubChecks(
  topics: Readonly<Record<string, string>>,
  inspector: PubsubInspector,
  backlogs: BacklogReader,
  fix = 'run terraform apply (terraform/messaging.tf creates it)',
): Check[] {
  const deadLetterSubscriptions = new Map<string, string[]>();

  const topology: Check = {
    name: 'pubsub',
    async run() {
      const outcomes: CheckOutcome[] = [];
      for (const [fn, topic] of Object.entries(topics)) {
        const name = `topic ${topic}`;
        if (!(await inspector.topicExists(topic))) {
          outcomes.push(fail(name, `does not exist in ${inspector.where}`, fix));
          continue;
        }
        const subscriptions = await inspector.subscriptionsOf(topic);
        const push = subscriptions.filter((s) => s.pushEndpoint);
        if (push.length === 0) {
          outcomes.push(fail(name, `has no push subscription (${subscriptions.length} pull), so ${fn} never receives its jobs`, fix));
          continue;
        }
        const withoutPolicy = push.filter((s) => !s.deadLetterTopic);
        if (withoutPolicy.length > 0) {
          outcomes.push(fail(name, `push subscription ${withoutPolicy.map((s) => s.name).join(', ')} has no dead-letter policy: a job that keeps failing is retried for 7 days, then lost`, fix));
          continue;
        }
        const problems: string[] = [];
        const kept: string[] = [];
        for (const deadLetterTopic of new Set(push.map((s) => s.deadLetterTopic as string))) {
          if (!(await inspector.topicExists(deadLetterTopic))) {
            problems.push(`its dead-letter topic ${deadLetterTopic} does not exist`);
            continue;
          }
          // A pull subscription keeps dead letters; a push one (a recorder of dead-lettered jobs) hands them on.
          const holders = (await inspector.subscriptionsOf(deadLetterTopic)).filter((s) => !s.pushEndpoint);
          if (holders.length === 0) problems.push(`its dead-letter topic ${deadLetterTopic} has no pull subscription, so dead-lettered jobs are not kept`);
          kept.push(...holders.map((s) => s.name));
        }
        deadLetterSubscriptions.set(fn, kept);
        if (problems.length > 0) outcomes.push(fail(name, problems.join('; '), fix));
        else {
          const described = push.map((s) => `${s.name} -> ${s.pushEndpoint}, dead-letter ${s.deadLetterTopic} after ${s.maxDeliveryAttempts ?? '?'} attempts`).join('; ');
          outcomes.push(ok(name, described));
        }
      }
      return outcomes;
    },
  };

  const backlog: Check = {
    name: 'dead letters',
    async run() {
      const outcomes: CheckOutcome[] = [];
      for (const fn of Object.keys(topics)) {
        const subscriptions = deadLetterSubscriptions.get(fn);
        if (!subscriptions || subscriptions.length === 0) {
          outcomes.push(skip(`dead letters ${fn}`, 'no dead-letter subscription found (see the topic line above)'));
          continue;
        }
        for (const subscription of subscriptions) {
          const name = `dead letters ${subscription}`;
          const measured = await backlogs.backlog(subscription);
          if (!measured) outcomes.push(ok(name, `no measurement in the last 10 minutes (${backlogs.method}); a subscription with no traffic may report none`));
          else if (measured.messages === 0) outcomes.push(ok(name, `empty (${backlogs.method})`));
          else {
            const count = `${measured.atLeast ? 'at least ' : ''}${measured.messages} message${measured.messages === 1 ? '' : 's'} waiting`;
            const age = measured.oldestAgeSeconds === null ? '' : `, oldest ${formatAge(measured.oldestAgeSeconds)}`;
            outcomes.push(
              fail(
                name,
                `${count}${age} (${backlogs.method}): jobs of ${fn} that failed every delivery`,
                `read them with gcloud pubsub subscriptions pull ${subscription} --limit=10 (without --auto-ack), fix the cause (the function's logs say why), then republish them to ${topics[fn]} or acknowledge them`,
              ),
            );
          }
        }
      }
      return outcomes;
    },
  };

  return [topology, backlog];
}

/** 95 -> "95 s", 4000 -> "1.1 h", 200000 -> "2.3 d". */
export function formatAge(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}
