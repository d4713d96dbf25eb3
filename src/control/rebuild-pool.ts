/**
 * The background thread partitions are rebuilt on (scrub, point-in-time restore): one
 * piscina thread, started on first use, so that a rebuild never runs on a storage node's
 * thread or holds up the main thread's routing.
 */
import { Piscina } from 'piscina';
import { compiledScriptUrl } from './compiled-script.js';
import type { RebuildTask, RebuiltRows } from './scrub-worker.js';

function rebuildWorkerUrl(): URL {
  return compiledScriptUrl(import.meta.url, 'scrub-worker.js', 'rebuild worker');
}

export class RebuildPool {
  private pool: Piscina | undefined;

  /** The partition's rows at each index of `task.at`. */
  run(task: RebuildTask): Promise<RebuiltRows[]> {
    // One thread: the machine's cores belong to the storage nodes and the clients.
    this.pool ??= new Piscina({ filename: rebuildWorkerUrl().href, minThreads: 0, maxThreads: 1, idleTimeout: 5000 });
    return this.pool.run(task) as Promise<RebuiltRows[]>;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = undefined;
  }
}
