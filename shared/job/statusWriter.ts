import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../results/objectStore.js';
import type { StatusDocument } from './documents.js';

export interface StatusWriterOptions {
  /** Least time between two writes of the object, ms. @default the store's `updateIntervalMs`, else 0 */
  readonly intervalMs?: number;
  /** Where a dropped progress update is reported. */
  readonly log?: Logger;
}

/**
 * Writes one job's `status.json` no more often than the store accepts updates to one object
 * (Cloud Storage: about once a second; faster updates are answered 429).
 *
 * `start()` announces `running`. With a rate limit it is written only once the job has run
 * for one interval: a job that ends sooner goes straight to its final status, with one write
 * and no wait (to a reader, a job's first second without status.json looks like a delivery
 * a second later). `write()` is for the states that must land (`completed`, `failed`): it
 * waits out the rest of the interval since the last write, then writes, and throws if the
 * write fails. `offer()` is for progress updates, which may be coalesced: written at once if
 * the interval allows, else the latest one offered is written when it ends; a failed
 * progress write is logged and dropped. A `write()` supersedes any update still waiting.
 */
export class StatusWriter {
  private readonly intervalMs: number;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<unknown> = Promise.resolve();
  private pending: StatusDocument | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly objectName: string,
    private readonly options: StatusWriterOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? store.updateIntervalMs ?? 0;
  }

  /** Announces `running`: written now without a rate limit, else once the job has run for one interval (unless superseded). */
  async start(status: StatusDocument): Promise<void> {
    if (this.intervalMs <= 0) return this.write(status);
    this.pending = status;
    this.timer = setTimeout(() => void this.flushPending(), this.intervalMs);
    this.timer.unref();
  }

  /** Writes `status` as soon as the interval allows; resolves once it is stored. */
  async write(status: StatusDocument): Promise<void> {
    this.cancelPending();
    await this.inFlight.catch(() => undefined);
    const wait = this.lastWriteAt + this.intervalMs - performance.now();
    if (wait > 0) await sleep(Math.ceil(wait));
    const writing = this.send(status);
    this.inFlight = writing;
    await writing;
  }

  /** Offers a progress update: written now, coalesced with later ones, or dropped on failure. */
  offer(status: StatusDocument): void {
    this.pending = status;
    if (this.timer) return;
    const wait = Math.max(0, this.lastWriteAt + this.intervalMs - performance.now());
    this.timer = setTimeout(() => void this.flushPending(), Math.ceil(wait));
    this.timer.unref();
  }

  private async flushPending(): Promise<void> {
    this.timer = undefined;
    await this.inFlight.catch(() => undefined);
    const status = this.pending;
    if (!status) return;
    const wait = this.lastWriteAt + this.intervalMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => void this.flushPending(), Math.ceil(wait));
      this.timer.unref();
      return;
    }
    this.pending = undefined;
    const writing = this.send(status).catch((error: unknown) => {
      this.options.log?.warn('A progress update of status.json was not written; the next one will be.', { error });
    });
    this.inFlight = writing;
    await writing;
  }

  private cancelPending(): void {
    this.pending = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async send(status: StatusDocument): Promise<void> {
    try {
      await this.store.put(this.objectName, JSON.stringify(status, null, 2) + '\n', 'application/json');
    } finally {
      this.lastWriteAt = performance.now();
    }
  }
}
