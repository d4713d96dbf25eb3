/**
 * Where archives go: a flat namespace of keys (`a/b/c`, `/`-separated, no `..`) holding
 * immutable-ish byte objects, the shape of S3, GCS or Azure blobs, so that an S3 client
 * can implement `ObjectStore` without the archiver changing. `DirectoryObjectStore`, the
 * default, keeps each object in a file under a root directory.
 */
import { type Dirent, mkdirSync, readdirSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface ObjectStore {
  /** Stores `bytes` under `key`, replacing what was there; whole or not at all. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes, or undefined when there is none. They are the caller's own (a
   *  copy): scrub moves them to its background thread. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Every key that starts with `prefix`, in ascending order. */
  list(prefix: string): Promise<string[]>;
  /** Removes the object (nothing when there is none). */
  delete(key: string): Promise<void>;
}

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export function checkObjectKey(key: string): void {
  if (typeof key !== 'string' || !KEY_PATTERN.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
    throw new RangeError(`object key ${JSON.stringify(key)} must be /-separated names of letters, digits, '.', '_' and '-' (no '.' or '..' parts)`);
  }
}

/** Temporary files of interrupted puts end so; list() never shows them. */
const TEMP_SUFFIX = '.partial';
let tempCounter = 0;

/**
 * Objects as files under `root` (key `a/b` is `<root>/a/b`). A put writes a temporary
 * file, fsyncs it, renames it over the key's file and fsyncs the directory: a reader or a
 * crash sees the old object or the new one, never part of one.
 */
export class DirectoryObjectStore implements ObjectStore {
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  private file(key: string): string {
    checkObjectKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(key);
    // fs/promises: the archiver runs on the main thread, which also routes requests; its
    // fsyncs must not stall the event loop.
    await mkdir(dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}-${tempCounter++}${TEMP_SUFFIX}`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(temp, { force: true });
      throw error;
    }
    await handle.close();
    await rename(temp, file);
    await syncDirectory(dirname(file));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const file = this.file(key);
    try {
      return new Uint8Array(await readFile(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = (dir: string, keyPrefix: string): void => {
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw error;
      }
      for (const entry of entries) {
        const name = entry.name;
        if (name.endsWith(TEMP_SUFFIX)) continue;
        const key = keyPrefix === '' ? name : `${keyPrefix}/${name}`;
        // Descend only where the prefix may still match.
        if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
        if (entry.isDirectory()) walk(join(dir, name), key);
        else if (entry.isFile() && key.startsWith(prefix)) out.push(key);
      }
    };
    walk(this.root, '');
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a directory; the file itself is synced.
  } finally {
    await handle?.close();
  }
}
