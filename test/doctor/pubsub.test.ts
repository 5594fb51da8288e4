import { PubSub, type ClientConfig } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitStatus, formatOutcome, runChecks, type CheckOutcome } from '../../shared/doctor/check.js';
import { createDoctor } from '../../shared/doctor/doctor.js';
import { GooglePubsubInspector, PeekBacklogReader } from '../../shared/doctor/googlePubsubInspector.js';
import { MonitoringBacklogReader } from '../../shared/doctor/monitoringBacklogReader.js';
import { pubsubChecks } from '../../shared/doctor/pubsubChecks.js';
import { FUNCTION_NAMES } from '../../shared/registry.js';
import { emulatorAuth } from '../../shared/emulatorAuth.js';
import { FakeGoogleApis } from '../support/fakeGoogleApis.js';
import { locatePubsubEmulator, startPubsubEmulator, type PubsubEmulator as RunningPubsubEmulator } from '../../scripts/pubsub/emulator.js';

const found = locatePubsubEmulator();
if ('missing' in found) {
  if (process.env.CI === 'true') throw new Error(`CI needs the Pub/Sub emulator: ${found.missing}`);
  console.warn(`skipping the doctor's Pub/Sub tests: ${found.missing}`);
}

const PROJECT = 'doctor-test';
const topics = Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, `jobs-${fn}`]));

/** The topology of terraform/messaging.tf, in the emulator: issue-10's scripts/pubsub/ helpers can replace this. */
async function createTopology(client: PubSub, except: { topic?: string; deadLetterPolicy?: string; deadLetterSubscription?: string } = {}): Promise<void> {
  for (const fn of FUNCTION_NAMES) {
    const [deadLetter] = await client.createTopic(`${fn}-dead-letter`);
    if (except.deadLetterSubscription !== fn) await deadLetter.createSubscription(`${fn}-dead-letter`);
    // The recorder of dead-lettered jobs (a push subscription to the function): it keeps nothing.
    await deadLetter.createSubscription(`${fn}-dead-letter-push`, { pushConfig: { pushEndpoint: `http://127.0.0.1:9/${fn}-dead-letter` } });
    if (except.topic === fn) continue;
    const [jobs] = await client.createTopic(`jobs-${fn}`);
    await jobs.createSubscription(`${fn}-push`, {
      pushConfig: { pushEndpoint: `http://127.0.0.1:9/${fn}` },
      ...(except.deadLetterPolicy === fn ? {} : { deadLetterPolicy: { deadLetterTopic: deadLetter.name, maxDeliveryAttempts: 5 } }),
    });
  }
}

async function clear(client: PubSub): Promise<void> {
  const [subscriptions] = await client.getSubscriptions();
  await Promise.all(subscriptions.map((s) => s.delete()));
  const [all] = await client.getTopics();
  await Promise.all(all.map((t) => t.delete()));
}

describe.skipIf('missing' in found)('doctor: Pub/Sub topology and dead letters (emulator)', () => {
  let emulator: RunningPubsubEmulator;
  let client: PubSub;
  const previous = process.env.PUBSUB_EMULATOR_HOST;

  beforeAll(async () => {
    emulator = await startPubsubEmulator((found as { bin: string }).bin);
    process.env.PUBSUB_EMULATOR_HOST = emulator.host;
    // A fixed token keeps the client from looking for Google credentials (see shared/doctor/doctor.ts).
    client = new PubSub({ projectId: PROJECT, authClient: emulatorAuth() as unknown as NonNullable<ClientConfig['authClient']> });
  });
  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
    if (previous === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
    else process.env.PUBSUB_EMULATOR_HOST = previous;
  });

  async function localDoctor(): Promise<CheckOutcome[]> {
    const d = await createDoctor({ env: { PUBSUB_EMULATOR_HOST: emulator.host, GCP_PROJECT: PROJECT, LOCAL_DATA_DIR: '.local-doctor-test-unused' }, now: () => new Date() });
    try {
      return await runChecks(d.checks.filter((c) => c.name === 'pubsub' || c.name === 'dead letters'));
    } finally {
      await d.close();
    }
  }
  const lineOf = (outcomes: CheckOutcome[], name: string) => formatOutcome(outcomes.find((o) => o.name === name) ?? { status: 'fail', name, detail: 'NO LINE' });

  it('the topology of terraform/messaging.tf passes: each job topic, its push subscription, its dead-letter policy, empty dead letters', async () => {
    await clear(client);
    await createTopology(client);
    const outcomes = await localDoctor();
    expect(exitStatus(outcomes), outcomes.map(formatOutcome).join('\n')).toBe(0);
    for (const fn of FUNCTION_NAMES) {
      expect(lineOf(outcomes, `topic jobs-${fn}`)).toBe(`ok   topic jobs-${fn}: ${fn}-push -> http://127.0.0.1:9/${fn}, dead-letter ${fn}-dead-letter after 5 attempts`);
      expect(lineOf(outcomes, `dead letters ${fn}-dead-letter`)).toBe(`ok   dead letters ${fn}-dead-letter: empty (peeked: pulled without acknowledging)`);
      expect(outcomes.map((o) => o.name)).not.toContain(`dead letters ${fn}-dead-letter-push`);
    }
  });

  it('dead-lettered messages fail with their count and age, and the peek leaves them in place', async () => {
    await clear(client);
    await createTopology(client);
    const deadLetter = client.topic('markowitz-dead-letter');
    for (const id of ['a', 'b', 'c']) await deadLetter.publishMessage({ data: Buffer.from(JSON.stringify({ job_id: id })) });
    const first = await localDoctor();
    expect(lineOf(first, 'dead letters markowitz-dead-letter')).toMatch(
      /^FAIL dead letters markowitz-dead-letter: at least 3 messages waiting, oldest \d+ s \(peeked: pulled without acknowledging\): jobs of markowitz that failed every delivery -> read them with gcloud pubsub subscriptions pull markowitz-dead-letter --limit=10 \(without --auto-ack\), fix the cause .* republish them to jobs-markowitz or acknowledge them$/,
    );
    expect(lineOf(first, 'dead letters blackscholes-dead-letter')).toMatch(/^ok /);
    expect(exitStatus(first)).toBe(1);
    // Handed back at once (ack deadline 0): a second look sees the same three.
    const second = await localDoctor();
    expect(lineOf(second, 'dead letters markowitz-dead-letter')).toMatch(/at least 3 messages waiting/);
  });

  it('a missing topic, a push subscription without dead-letter policy, and a dead-letter topic nobody keeps each fail with what to do', async () => {
    await clear(client);
    await createTopology(client, { topic: 'montecarlo', deadLetterPolicy: 'ingest', deadLetterSubscription: 'blackscholes' });
    const outcomes = await localDoctor();
    expect(exitStatus(outcomes)).toBe(1);
    expect(lineOf(outcomes, 'topic jobs-montecarlo')).toBe(`FAIL topic jobs-montecarlo: does not exist in the emulator at ${emulator.host} (project ${PROJECT}) -> create it in the emulator as terraform/messaging.tf does in the project (topic, push subscription with dead-letter policy, dead-letter topic and subscription)`);
    expect(lineOf(outcomes, 'topic jobs-ingest')).toMatch(/^FAIL topic jobs-ingest: push subscription ingest-push has no dead-letter policy: a job that keeps failing is retried for 7 days, then lost -> create it in the emulator/);
    expect(lineOf(outcomes, 'topic jobs-blackscholes')).toMatch(/^FAIL topic jobs-blackscholes: its dead-letter topic blackscholes-dead-letter has no pull subscription, so dead-lettered jobs are not kept -> create it in the emulator/);
    expect(lineOf(outcomes, 'topic jobs-markowitz')).toMatch(/^ok /);
    expect(lineOf(outcomes, 'dead letters montecarlo')).toBe('skip dead letters montecarlo: no dead-letter subscription found (see the topic line above)');
  });

  it('a topic with only a pull subscription fails: the function never receives its jobs', async () => {
    await clear(client);
    await createTopology(client);
    await client.subscription('blackscholes-push').delete();
    await client.topic('jobs-blackscholes').createSubscription('blackscholes-pull');
    const outcomes = await localDoctor();
    expect(lineOf(outcomes, 'topic jobs-blackscholes')).toMatch(/^FAIL topic jobs-blackscholes: has no push subscription \(1 pull\), so blackscholes never receives its jobs -> /);
  });

  it('with Cloud Monitoring (the cloud path), backlogs come from the latest metric points, without touching the messages', async () => {
    await clear(client);
    await createTopology(client);
    const fake = new FakeGoogleApis();
    const base = await fake.start();
    try {
      const now = Date.parse('2026-06-10T12:00:00Z');
      fake.timeSeries = (filter) => {
        if (!filter.includes('subscription_id = "montecarlo-dead-letter"')) return { timeSeries: [{ points: [{ interval: { endTime: '2026-06-10T11:58:00Z' }, value: { int64Value: '0' } }] }] };
        const age = filter.includes('oldest_unacked_message_age');
        return {
          timeSeries: [
            {
              points: [
                { interval: { endTime: '2026-06-10T11:59:00Z' }, value: { int64Value: age ? '7200' : '4' } },
                { interval: { endTime: '2026-06-10T11:58:00Z' }, value: { int64Value: age ? '7140' : '3' } },
              ],
            },
          ],
        };
      };
      const get = async (url: string) => (await fetch(url)).json();
      const reader = new MonitoringBacklogReader(PROJECT, get, base, () => now);
      const checks = pubsubChecks(topics, new GooglePubsubInspector(client, `project ${PROJECT}`), reader);
      const outcomes = await runChecks(checks);
      expect(lineOf(outcomes, 'dead letters montecarlo-dead-letter')).toMatch(/^FAIL dead letters montecarlo-dead-letter: 4 messages waiting, oldest 2\.0 h \(Cloud Monitoring, up to ~3 min old\): jobs of montecarlo/);
      expect(lineOf(outcomes, 'dead letters ingest-dead-letter')).toBe('ok   dead letters ingest-dead-letter: empty (Cloud Monitoring, up to ~3 min old)');
      const request = fake.requests.find((r) => r.path === `/v3/projects/${PROJECT}/timeSeries`);
      expect(request?.query.get('filter')).toMatch(/^metric\.type = "pubsub\.googleapis\.com\/subscription\/(num_undelivered_messages|oldest_unacked_message_age)" AND resource\.type = "pubsub_subscription" AND resource\.labels\.subscription_id = "/);
      expect(request?.query.get('interval.endTime')).toBe('2026-06-10T12:00:00.000Z');
      expect(request?.query.get('interval.startTime')).toBe('2026-06-10T11:50:00.000Z');
    } finally {
      await fake.close();
    }
  });

  it('a peek of an empty subscription returns at once', async () => {
    await clear(client);
    await createTopology(client);
    const reader = new PeekBacklogReader(client, PROJECT);
    const started = Date.now();
    expect(await reader.backlog('ingest-dead-letter')).toEqual({ messages: 0, oldestAgeSeconds: null, atLeast: false });
    expect(Date.now() - started).toBeLessThan(9000);
    await reader.close();
  });
});
