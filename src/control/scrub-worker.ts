/**
 * Scrub's background work, on a piscina thread (never a storage node's): rebuilds one
 * partition from an archived snapshot and the archived WAL after it (storage/rebuild.ts),
 * and hands back its rows as of each index asked for (one per replica compared).
 */
import './background-thread.js';
import type { LogEntry } from '../replication/types.js';
import { PartitionRebuild } from '../storage/rebuild.js';
import type { SnapshotRow } from '../storage/snapshot.js';
import type { GroupRecord } from '../storage/wal.js';

export interface RebuildTask {
  rec: GroupRecord;
  /** The base snapshot's rows and index (none and 0: the empty partition of a new group). */
  rows: SnapshotRow[];
  index: number;
  /** Entries index+1 .. the last of `at`, in order. */
  entries: LogEntry[];
  /** The indexes to hand the rows back at, ascending. */
  at: number[];
}

export interface RebuiltRows {
  index: number;
  rows: SnapshotRow[];
}

export default function rebuild(task: RebuildTask): RebuiltRows[] {
  const partition = new PartitionRebuild(task.rec, task.rows, task.index);
  const out: RebuiltRows[] = [];
  let next = 0;
  for (const at of task.at) {
    while (partition.appliedIndex < at) {
      const e = task.entries[next++];
      if (e === undefined) throw new Error(`rebuild of group ${task.rec.group}: the archive's entries end at ${partition.appliedIndex}, before ${at}`);
      partition.apply([e]);
    }
    out.push({ index: at, rows: partition.rows() });
  }
  return out;
}
