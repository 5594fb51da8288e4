/** A job's progress as `status.json` reports it while the job runs. */
export interface ProgressWriter {
  /** Notes the fraction done (0 to 1); written when it crosses the next mark, at most once per interval. */
  report(fraction: number): void;
  /** Stops writing and waits for a write in flight: after it, nothing overwrites the final status. */
  close(): Promise<void>;
}

export interface ProgressWriterOptions {
  /** Write when the fraction crosses a multiple of this. @default 0.1 */
  readonly step?: number;
  /** Cloud Storage allows one update per second of an object: at least this long between writes. @default 1000 */
  readonly minIntervalMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Told about a write that failed (progress is best effort: the job goes on). */
  readonly onError?: (error: unknown) => void;
}

/**
 * The one way progress reaches `status.json`: at most one write per `step` of progress (ten
 * a job by default, so the storage cost of a job stays flat whatever its size), never two
 * within `minIntervalMs` (the latest fraction waits, and an older one is dropped), never two
 * at once, and none after `close()`, so that a late progress write cannot overwrite the
 * final status.
 * @param write stores one progress value (the caller builds the status document)
 */
export function progressWriter(write: (fraction: number) => Promise<void>, options: ProgressWriterOptions = {}): ProgressWriter {
  const { step = 0.1, minIntervalMs = 1000, now = Date.now, onError = () => {} } = options;
  let lastMark = 0;
  let lastWriteAt = -Infinity;
  let pending: number | undefined;
  let closed = false;
  let pump: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const drain = async () => {
    while (pending !== undefined && !closed) {
      const wait = lastWriteAt + minIntervalMs - now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, wait);
        });
        wake = undefined;
        continue;
      }
      const fraction = pending;
      pending = undefined;
      lastWriteAt = now();
      try {
        await write(fraction);
      } catch (error) {
        onError(error);
      }
    }
    pump = undefined;
  };

  return {
    report(fraction) {
      if (closed || !(fraction >= 0)) return;
      const clamped = Math.min(1, fraction);
      const mark = Math.floor(clamped / step + 1e-9);
      if (mark <= lastMark) return;
      lastMark = mark;
      pending = clamped;
      pump ??= drain();
    },
    async close() {
      closed = true;
      pending = undefined;
      if (timer !== undefined) clearTimeout(timer);
      wake?.();
      await pump;
    },
  };
}
