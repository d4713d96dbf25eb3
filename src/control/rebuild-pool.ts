/**
 * The background thread partitions are rebuilt on (scrub, point-in-time restore): one
 * piscina thread, started on first use, so that a rebuild never runs on a storage node's
 * thread or holds up the main thread's routing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { RebuildTask, RebuiltRows } from './scrub-worker.js';

function rebuildWorkerUrl(): URL {
  const here = fileURLToPath(import.meta.url);
  const compiled = here.endsWith('.ts')
    ? path.join(path.dirname(here), '..', '..', 'dist', 'src', 'control', 'scrub-worker.js')
    : path.join(path.dirname(here), 'scrub-worker.js');
  if (!existsSync(compiled)) throw new Error(`rebuild worker script ${compiled} is missing: run \`npm run build\` first`);
  return pathToFileURL(compiled);
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
