/**
 * `db.archive`: WAL archiving of an open cluster (ShardBox's `archive` option; the work is
 * control/archiver.ts). `flush()` seals every live node's WAL and archives it, `verify()`
 * compares the replicas' archives, `readEntries()` reads a partition's log back.
 */
import {
  readArchivedEntries, verifyArchive, type ArchiveService, type ArchiveVerification, type NodeArchivePass,
} from '../control/archiver.js';
import type { ObjectStore } from '../control/object-store.js';
import type { LogEntry } from '../replication/types.js';
import type { ControlPlane } from './control-plane.js';

export interface ArchiveApi {
  /** Whether the cluster was opened with `archive`. */
  readonly enabled: boolean;
  /** Where the archive lives (undefined when archiving is off). */
  readonly store: ObjectStore | undefined;
  /** Seals every live node's current WAL segment and archives everything final; resolves
   *  with each node's pass (entries and objects written, segments marked, any error). */
  flush(): Promise<NodeArchivePass[]>;
  /** Compares the replicas' archives of every partition (of `table`, or of every table
   *  whose archive is here, dropped ones included). */
  verify(options?: { table?: string }): Promise<ArchiveVerification>;
  /** Entries fromIndex..toIndex of a partition's log (`group`: the partition's group, see
   *  `verify().coverage`), from any intact archived copy; throws ArchiveHoleError where
   *  no replica's archive has one. */
  readEntries(table: string, group: number, fromIndex: number, toIndex: number): Promise<LogEntry[]>;
}

export function archiveOf(controlPlane: ControlPlane, service: ArchiveService | undefined): ArchiveApi {
  const live = (): ArchiveService => {
    controlPlane.checkOpen();
    if (service === undefined) throw new Error('archive: this database was opened without the archive option (ShardBox.open({ archive: true }))');
    return service;
  };
  return {
    enabled: service !== undefined,
    store: service?.archiver.store,
    flush: async () => live().flush(),
    verify: async (options = {}) => {
      const store = live().archiver.store;
      return verifyArchive(store, options.table === undefined ? {} : { tableId: controlPlane.meta(options.table).tableId });
    },
    readEntries: async (table, group, fromIndex, toIndex) => {
      const store = live().archiver.store;
      const meta = controlPlane.meta(table);
      if (!meta.partitions.some((p) => p.group === group)) {
        throw new RangeError(`archive: table ${table} has no partition group ${group}`);
      }
      return readArchivedEntries(store, meta.tableId, group, fromIndex, toIndex);
    },
  };
}
