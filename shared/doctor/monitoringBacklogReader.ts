import * as z from 'zod';
import type { Backlog, BacklogReader } from './pubsubChecks.js';

/** GETs a URL of the Cloud Monitoring API with credentials and returns the parsed JSON body. */
export type MonitoringGet = (url: string) => Promise<unknown>;

const timeSeriesList = z.object({
  timeSeries: z
    .array(
      z.object({
        points: z.array(
          z.object({
            interval: z.object({ endTime: z.string() }),
            value: z.object({ int64Value: z.union([z.string(), z.number()]).optional(), doubleValue: z.number().optional() }),
          }),
        ),
      }),
    )
    .optional(),
});

/** How far back to look for the latest point: Pub/Sub samples every 60 s and metrics lag up to a few minutes. */
const LOOKBACK_MS = 10 * 60_000;

/**
 * Dead-letter backlogs from Cloud Monitoring: `subscription/num_undelivered_messages` and
 * `subscription/oldest_unacked_message_age`, the latest point of each. Exact counts with no
 * side effect on the messages (a peek would count as a delivery and hide them from a
 * consumer for a moment), at the price of a few minutes' lag and monitoring.viewer.
 */
export class MonitoringBacklogReader implements BacklogReader {
  readonly method = 'Cloud Monitoring, up to ~3 min old';

  constructor(
    private readonly projectId: string,
    private readonly get: MonitoringGet,
    private readonly baseUrl = 'https://monitoring.googleapis.com',
    private readonly now: () => number = Date.now,
  ) {}

  async backlog(subscription: string): Promise<Backlog | null> {
    const [messages, age] = await Promise.all([
      this.latest('pubsub.googleapis.com/subscription/num_undelivered_messages', subscription),
      this.latest('pubsub.googleapis.com/subscription/oldest_unacked_message_age', subscription),
    ]);
    if (messages === null) return null;
    return { messages, oldestAgeSeconds: messages > 0 ? age : null, atLeast: false };
  }

  private async latest(metric: string, subscription: string): Promise<number | null> {
    const end = new Date(this.now());
    const start = new Date(end.getTime() - LOOKBACK_MS);
    const query = new URLSearchParams({
      filter: `metric.type = "${metric}" AND resource.type = "pubsub_subscription" AND resource.labels.subscription_id = "${subscription}"`,
      'interval.startTime': start.toISOString(),
      'interval.endTime': end.toISOString(),
    });
    const url = `${this.baseUrl}/v3/projects/${encodeURIComponent(this.projectId)}/timeSeries?${query}`;
    const parsed = timeSeriesList.safeParse(await this.get(url));
    if (!parsed.success) throw new Error(`Cloud Monitoring answered an unexpected timeSeries list for ${metric}: ${parsed.error.issues[0]?.message}`);
    // Points come newest first; take the newest over all series (one per subscription).
    let newest: { at: string; value: number } | null = null;
    for (const series of parsed.data.timeSeries ?? []) {
      const point = series.points[0];
      if (!point) continue;
      const value = Number(point.value.int64Value ?? point.value.doubleValue);
      if (Number.isFinite(value) && (!newest || point.interval.endTime > newest.at)) newest = { at: point.interval.endTime, value };
    }
    return newest?.value ?? null;
  }
}
