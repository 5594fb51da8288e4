import { describe, expect, it } from 'vitest';
import { jobFolderFiles } from '../../shared/job/jobFiles.js';
import { MemoryObjectStore } from '../support/memoryObjectStore.js';

describe('a job folder', () => {
  it('writes create-only, reads, and lists names relative to the folder, nothing of a neighbouring job', async () => {
    const store = new MemoryObjectStore();
    const files = jobFolderFiles(store, 'montecarlo', 'j1');
    expect(await files.createOnly('shards/f/0.json', '{"a":1}')).toBe(true);
    expect(await files.createOnly('shards/f/0.json', '{"a":2}')).toBe(false);
    await files.createOnly('shards/f/1.json', '{}');
    await jobFolderFiles(store, 'montecarlo', 'j10').createOnly('shards/f/2.json', '{}');
    expect(await files.read('shards/f/0.json')).toBe('{"a":1}');
    expect(store.objects.has('jobs/montecarlo/j1/shards/f/0.json')).toBe(true);
    expect((await files.names('shards/f/')).sort()).toEqual(['shards/f/0.json', 'shards/f/1.json']);
    expect(await files.names('shards/g/')).toEqual([]);
  });

  it('refuses names that would leave the folder', async () => {
    const files = jobFolderFiles(new MemoryObjectStore(), 'montecarlo', 'j1');
    await expect(files.names('../j2/')).rejects.toThrow(/Bad job file name/);
    await expect(files.read('shards/../../x')).rejects.toThrow(/Bad job file name/);
  });
});
