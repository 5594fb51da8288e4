import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ObjectBody, ObjectStore, StoredObject } from './objectStore.js';
import { utf8Chunks } from './textChunks.js';

/** Bodies longer than this (characters) are written in chunks rather than converted to bytes at once. */
const LARGE_BODY = 4 << 20;

/**
 * The bucket as a folder: objects are files under `<root>/<object name>`. Every write goes
 * to a temporary file first, so a crash never leaves half an object; a create-only write
 * is a hard link, which the file system makes atomically or refuses (EEXIST).
 */
export class LocalObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  async createOnly(name: string, body: ObjectBody): Promise<string | null> {
    const target = this.file(name);
    const tmp = await this.writeTemp(target, body);
    try {
      await fs.link(tmp, target);
      return await this.generation(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
      throw error;
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async put(name: string, body: ObjectBody): Promise<void> {
    await this.replace(name, body);
  }

  async replaceIf(name: string, body: ObjectBody, _contentType: string, generation: string): Promise<string | null> {
    const current = await this.get(name);
    if (!current || current.generation !== generation) return null;
    // Not atomic against another process between the read and the rename; locally a
    // second process taking over the same stale claim at the same instant is not a case.
    await this.replace(name, body);
    return await this.generation(this.file(name));
  }

  async exists(name: string): Promise<boolean> {
    try {
      await fs.stat(this.file(name));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  async get(name: string): Promise<StoredObject | null> {
    try {
      const file = this.file(name);
      const generation = await this.generation(file);
      return { body: await fs.readFile(file, 'utf8'), generation };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async names(prefix: string): Promise<string[]> {
    // The folder that holds the prefix's objects, listed recursively; temporary files of writes in flight are not objects.
    const slash = prefix.lastIndexOf('/');
    const folder = prefix.slice(0, slash + 1);
    let entries: string[];
    try {
      entries = await fs.readdir(folder === '' ? this.root : this.file(folder.slice(0, -1)), { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const names: string[] = [];
    for (const entry of entries) {
      const name = folder + entry.split(path.sep).join('/');
      if (!name.startsWith(prefix) || name.endsWith('.tmp')) continue;
      if ((await fs.stat(this.file(name))).isFile()) names.push(name);
    }
    return names;
  }

  async deleteIf(name: string, generation: string): Promise<void> {
    const current = await this.get(name);
    if (current && current.generation === generation) await fs.rm(this.file(name), { force: true });
  }

  /** A `file://` URI: a URI like `gs://...` in the cloud, which a browser or terminal opens as is. */
  uri(name: string): string {
    return pathToFileURL(this.file(name)).href;
  }

  /**
   * A file's generation: its inode and modification time in nanoseconds. Every write goes
   * through a new temporary file, so a rewrite always changes the inode.
   */
  private async generation(file: string): Promise<string> {
    const stat = await fs.stat(file, { bigint: true });
    return `${stat.ino}:${stat.mtimeNs}`;
  }

  private file(name: string): string {
    if (name.split('/').some((part) => part === '..' || part === '')) throw new Error(`Bad object name "${name}"`);
    return path.join(this.root, ...name.split('/'));
  }

  /** Writes the object whole, over whatever is there: a temporary file renamed into place. */
  private async replace(name: string, body: ObjectBody): Promise<void> {
    const target = this.file(name);
    const tmp = await this.writeTemp(target, body);
    await fs.rename(tmp, target);
  }

  private async writeTemp(target: string, body: ObjectBody): Promise<string> {
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.tmp`;
    if (typeof body === 'string' && body.length <= LARGE_BODY) await fs.writeFile(tmp, body);
    else {
      const handle = await fs.open(tmp, 'w');
      try {
        for (const chunk of typeof body === 'string' ? utf8Chunks(body) : body) await handle.writeFile(chunk);
      } finally {
        await handle.close();
      }
    }
    return tmp;
  }
}
