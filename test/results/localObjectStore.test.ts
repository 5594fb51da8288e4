import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../shared/results/localObjectStore.js';

describe('LocalObjectStore.names', () => {
  it('lists the objects under a prefix, in sub-folders too, leaving out writes in flight and objects beside it', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'local-store-'));
    const store = new LocalObjectStore(root);
    for (const name of ['jobs/m/a/shards/f/0.json', 'jobs/m/a/shards/f/1.json', 'jobs/m/a/shards/f/deep/2.json', 'jobs/m/a/status.json', 'jobs/m/ab/x.json']) await store.put(name, '{}');
    writeFileSync(path.join(root, 'jobs/m/a/shards/f/3.json.0000.tmp'), '{'); // another process's write, not yet an object
    expect((await store.names('jobs/m/a/shards/f/')).sort()).toEqual(['jobs/m/a/shards/f/0.json', 'jobs/m/a/shards/f/1.json', 'jobs/m/a/shards/f/deep/2.json']);
    expect((await store.names('jobs/m/a')).sort()).toEqual(['jobs/m/a/shards/f/0.json', 'jobs/m/a/shards/f/1.json', 'jobs/m/a/shards/f/deep/2.json', 'jobs/m/a/status.json', 'jobs/m/ab/x.json']);
    expect(await store.names('jobs/none/')).toEqual([]);
  });
});
