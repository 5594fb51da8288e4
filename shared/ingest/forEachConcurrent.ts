/**
 * Runs `work` on every item with at most `limit` running at once, in item order. Once
 * `stop()` returns true no further item starts; the running ones finish. Resolves when all
 * started work has settled (`work` is expected to handle its own errors).
 */
export async function forEachConcurrent<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop()) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
