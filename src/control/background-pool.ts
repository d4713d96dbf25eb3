/**
 * The background thread that jobs' heavy work runs on (scrub's and point-in-time
 * restore's partition rebuilds, backups' chunks): one piscina thread at the lowest
 * priority (background-thread.ts), started on first use, so that such work never runs on
 * a storage node's thread or holds up the main thread's routing.
 */
import { Piscina } from 'piscina';
import type { BackupChunk, BackupChunkTask } from './backup-worker.js';
import { compiledScriptUrl } from './compiled-script.js';
import type { RebuildTask, RebuiltRows } from './scrub-worker.js';

export class BackgroundPool {
  private pool: Piscina | undefined;

  /** The partition's rows at each index of `task.at`. */
  rebuild(task: RebuildTask): Promise<RebuiltRows[]> {
    return this.run(task, compiledScriptUrl(import.meta.url, 'scrub-worker.js', 'rebuild worker'), []);
  }

  /** One backup chunk of the items in `task.pieces`, whose buffers move to the thread. */
  backupChunk(task: BackupChunkTask): Promise<BackupChunk> {
    const pieces = task.pieces.map((p) => ({ payload: p.payload.slice(), crc: p.crc }));
    return this.run({ ...task, pieces }, compiledScriptUrl(import.meta.url, 'backup-worker.js', 'backup worker'), pieces.map((p) => p.payload.buffer));
  }

  private run<T>(task: unknown, script: URL, transferList: ArrayBuffer[]): Promise<T> {
    // One thread: the machine's cores belong to the storage nodes and the clients.
    this.pool ??= new Piscina({ minThreads: 0, maxThreads: 1, idleTimeout: 5000 });
    return this.pool.run(task, { filename: script.href, transferList }) as Promise<T>;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = undefined;
  }
}
