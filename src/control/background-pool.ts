/**
 * The background thread that jobs' heavy work runs on (scrub's rebuilds and comparisons,
 * point-in-time restore's rebuilds, backups' chunks): one piscina thread at the lowest
 * priority (background-thread.ts), started on first use, so that such work never runs on
 * a storage node's thread or holds up the main thread's routing.
 */
import { Piscina } from 'piscina';
import type { BackupChunk, BackupChunkTask } from './backup-worker.js';
import { compiledScriptUrl } from './compiled-script.js';
import type { RebuildTask, RebuiltRows, ScrubOutcome, ScrubTask } from './scrub-worker.js';

export class BackgroundPool {
  private pool: Piscina | undefined;

  /** The partition's rows at each index of `task.at`. */
  rebuild(task: RebuildTask): Promise<RebuiltRows[]> {
    return this.run(task, 'scrub-worker.js', 'default', []);
  }

  /** One partition's scrub: its rebuild, and each replica compared with it. The bytes of
   *  the base snapshot and of the replicas' pieces move to the thread. */
  scrubPartition(task: ScrubTask): Promise<ScrubOutcome> {
    const moved: ArrayBuffer[] = [];
    const base = task.base === undefined ? undefined : { snapshot: task.base.snapshot, bytes: movable(task.base.bytes, moved) };
    const replicas = task.replicas.map((r) => ({ ...r, pieces: r.pieces.map((p) => ({ payload: movable(p.payload, moved), crc: p.crc })) }));
    return this.run({ ...task, base, replicas }, 'scrub-worker.js', 'scrubPartition', moved);
  }

  /** One backup chunk of the items in `task.pieces`, whose bytes move to the thread. */
  backupChunk(task: BackupChunkTask): Promise<BackupChunk> {
    const moved: ArrayBuffer[] = [];
    const pieces = task.pieces.map((p) => ({ payload: movable(p.payload, moved), crc: p.crc }));
    return this.run({ ...task, pieces }, 'backup-worker.js', 'default', moved);
  }

  private run<T>(task: unknown, script: string, name: string, transferList: ArrayBuffer[]): Promise<T> {
    // One thread: the machine's cores belong to the storage nodes and the clients.
    this.pool ??= new Piscina({ minThreads: 0, maxThreads: 1, idleTimeout: 5000 });
    const filename = compiledScriptUrl(import.meta.url, script, 'background worker').href;
    return this.pool.run(task, { filename, name, transferList }) as Promise<T>;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = undefined;
  }
}

/** `bytes`, whose buffer joins `moved` to be transferred instead of copied; a copy only
 *  when it is a view of a larger buffer (the caller must not use `bytes` afterwards). */
function movable(bytes: Uint8Array, moved: ArrayBuffer[]): Uint8Array {
  const own = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  if (!moved.includes(own.buffer as ArrayBuffer)) moved.push(own.buffer as ArrayBuffer);
  return own;
}
