import { describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../shared/job/documents.js';
import { StatusWriter } from '../../shared/job/statusWriter.js';
import { bodyText, type ObjectStore } from '../../shared/results/objectStore.js';

/** A store that records each put with its time, and refuses the ones `refuse` picks. */
function recordingStore(refuse: (body: string) => boolean = () => false) {
  const puts: { at: number; status: StatusDocument }[] = [];
  const store: ObjectStore = {
    updateIntervalMs: 200,
    async put(_name, body) {
      if (refuse(bodyText(body))) throw new Error('429 rateLimitExceeded');
      puts.push({ at: performance.now(), status: JSON.parse(bodyText(body)) as StatusDocument });
    },
    createOnly: () => Promise.reject(new Error('unused')),
    replaceIf: () => Promise.reject(new Error('unused')),
    get: () => Promise.reject(new Error('unused')),
    exists: () => Promise.reject(new Error('unused')),
    names: () => Promise.reject(new Error('unused')),
    deleteIf: () => Promise.reject(new Error('unused')),
    uri: (name) => name,
  };
  return { store, puts };
}

const running = (progress?: number): StatusDocument => ({ job_id: 'j', model: 'montecarlo', status: 'running', started_at: '2024-01-01T00:00:00.000Z', ...(progress !== undefined ? { progress } : {}) }) as StatusDocument;
const completed: StatusDocument = { job_id: 'j', model: 'montecarlo', status: 'completed', started_at: '2024-01-01T00:00:00.000Z', finished_at: '2024-01-01T00:00:01.000Z', duration_ms: 1000 };
// Timers fire on the event loop's cached clock: allow a few ms against performance.now().
const gaps = (puts: { at: number }[]) => puts.slice(1).map((p, i) => p.at - puts[i]!.at);

describe('StatusWriter: status.json at most once per the store interval', () => {
  it('a final status right after `running` waits out the store interval (Cloud Storage: 1 s; here 200 ms), then is written', async () => {
    const { store, puts } = recordingStore();
    const writer = new StatusWriter(store, 'jobs/m/j/status.json');
    await writer.write(running());
    await writer.write(completed);
    expect(puts.map((p) => p.status.status)).toEqual(['running', 'completed']);
    expect(gaps(puts)[0]).toBeGreaterThanOrEqual(195);
  });

  it('progress updates offered faster than the interval are coalesced: only the latest is written', async () => {
    const { store, puts } = recordingStore();
    const writer = new StatusWriter(store, 'jobs/m/j/status.json');
    await writer.write(running());
    for (let tenth = 1; tenth <= 5; tenth++) writer.offer(running(tenth / 10)); // five updates within a few ms
    await new Promise((r) => setTimeout(r, 350));
    expect(puts.map((p) => (p.status as { progress?: number }).progress)).toEqual([undefined, 0.5]);
    expect(gaps(puts)[0]).toBeGreaterThanOrEqual(195);
  });

  it('a final write supersedes a progress update still waiting, and keeps the interval', async () => {
    const { store, puts } = recordingStore();
    const writer = new StatusWriter(store, 'jobs/m/j/status.json');
    await writer.write(running());
    writer.offer(running(0.9));
    await writer.write(completed);
    await new Promise((r) => setTimeout(r, 250));
    expect(puts.map((p) => p.status.status)).toEqual(['running', 'completed']);
    expect(Math.min(...gaps(puts))).toBeGreaterThanOrEqual(195);
  });

  it('`running` is written only once the job has run for one interval; a faster job writes its final status alone, at once', async () => {
    const fast = recordingStore();
    const quick = new StatusWriter(fast.store, 'jobs/m/fast/status.json');
    const t0 = performance.now();
    await quick.start(running());
    await quick.write(completed);
    expect(performance.now() - t0).toBeLessThan(150);
    await new Promise((r) => setTimeout(r, 250));
    expect(fast.puts.map((p) => p.status.status)).toEqual(['completed']);

    const slow = recordingStore();
    const long = new StatusWriter(slow.store, 'jobs/m/slow/status.json');
    await long.start(running());
    await new Promise((r) => setTimeout(r, 260));
    expect(slow.puts.map((p) => p.status.status)).toEqual(['running']);
    await long.write(completed);
    expect(slow.puts.map((p) => p.status.status)).toEqual(['running', 'completed']);
    expect(gaps(slow.puts)[0]).toBeGreaterThanOrEqual(195);
  });

  it('without a rate limit (the local folder) `running` is written at once', async () => {
    const { store, puts } = recordingStore();
    const writer = new StatusWriter(store, 'jobs/m/local/status.json', { intervalMs: 0 });
    await writer.start(running());
    expect(puts.map((p) => p.status.status)).toEqual(['running']);
  });

  it('a progress update that fails is dropped (the next one is written); a final one that fails throws', async () => {
    const { store, puts } = recordingStore((body) => body.includes('"progress": 0.1') || body.includes('completed'));
    const writer = new StatusWriter(store, 'jobs/m/j/status.json', { intervalMs: 20 });
    writer.offer(running(0.1));
    await new Promise((r) => setTimeout(r, 40));
    writer.offer(running(0.2));
    await new Promise((r) => setTimeout(r, 40));
    expect(puts.map((p) => (p.status as { progress?: number }).progress)).toEqual([0.2]);
    await expect(writer.write(completed)).rejects.toThrow(/429/);
  });
});
