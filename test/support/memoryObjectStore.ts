import { bodyText, type ObjectBody, type ObjectStore, type StoredObject } from '../../shared/results/objectStore.js';

/** An operation on the store, as a fault hook sees it (before it happens). */
export interface StoreOperation {
  readonly op: 'createOnly' | 'put' | 'replaceIf' | 'exists' | 'get' | 'names' | 'deleteIf';
  readonly name: string;
}

/**
 * A bucket in memory for protocol tests: every operation atomic (as Cloud Storage's
 * preconditions are), generations counting up, and a hook that runs before each operation
 * and may throw (a crash, a fault) or wait (to line deliveries up). `writes` counts the
 * writes that stored something, by name.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, StoredObject>();
  readonly writes = new Map<string, number>();
  private generation = 0;

  constructor(public hook: (operation: StoreOperation) => void | Promise<void> = () => {}) {}

  async createOnly(name: string, body: ObjectBody): Promise<string | null> {
    await this.hook({ op: 'createOnly', name });
    if (this.objects.has(name)) return null;
    return this.store(name, body);
  }

  async put(name: string, body: ObjectBody): Promise<void> {
    await this.hook({ op: 'put', name });
    this.store(name, body);
  }

  async replaceIf(name: string, body: ObjectBody, _contentType: string, generation: string): Promise<string | null> {
    await this.hook({ op: 'replaceIf', name });
    if (this.objects.get(name)?.generation !== generation) return null;
    return this.store(name, body);
  }

  async exists(name: string): Promise<boolean> {
    await this.hook({ op: 'exists', name });
    return this.objects.has(name);
  }

  async get(name: string): Promise<StoredObject | null> {
    await this.hook({ op: 'get', name });
    return this.objects.get(name) ?? null;
  }

  async names(prefix: string): Promise<string[]> {
    await this.hook({ op: 'names', name: prefix });
    return [...this.objects.keys()].filter((name) => name.startsWith(prefix));
  }

  async deleteIf(name: string, generation: string): Promise<void> {
    await this.hook({ op: 'deleteIf', name });
    if (this.objects.get(name)?.generation === generation) this.objects.delete(name);
  }

  uri(name: string): string {
    return `memory://${name}`;
  }

  /** The body of `name`, parsed as JSON. */
  json<T = Record<string, unknown>>(name: string): T | undefined {
    const stored = this.objects.get(name);
    return stored ? (JSON.parse(stored.body) as T) : undefined;
  }

  private store(name: string, body: ObjectBody): string {
    const generation = String(++this.generation);
    // A body given as chunks (a large result) is kept as the text its bytes spell, as read back.
    this.objects.set(name, { body: bodyText(body), generation });
    this.writes.set(name, (this.writes.get(name) ?? 0) + 1);
    return generation;
  }
}
