/**
 * Archive retention. Every replica archives every entry it holds, so the archive grows by
 * three copies of each write, and it only has to rebuild what can still be asked of it: a
 * scrub starts from a partition's newest snapshot its replicas have passed, and a
 * point-in-time restore (DynamoDB keeps continuous backups for the table's recovery
 * period, at most 35 days) from the newest snapshot taken at or before the start of the
 * window. So once a scrub found a partition's replicas equal to its archive rebuilt from a
 * snapshot, what lies before the snapshot to keep goes: older snapshots, and the WAL
 * ranges that end at or before it.
 *
 * Left as they are: split parents' archives (a child with no snapshot of its own, and a
 * restore to before the split, rebuild from them: partition-lineage.ts) and deleted
 * tables' archives.
 */
import type { PointInTimeRecoverySetting } from './metadata.js';
import { removeArchivedSnapshot, type ArchivedSnapshot } from './archive-snapshots.js';
import type { ObjectStore } from './object-store.js';

const DAY_MS = 86_400_000;

/**
 * The oldest snapshot a partition's archive must keep, given the snapshot its last scrub
 * started from (`base`, which every replica has passed): `base` itself, or with recovery
 * on, the newest snapshot no later than the start of the window (and no later than
 * `base`); undefined when none is yet that old (nothing can go).
 */
export function retainedFrom(
  snapshots: readonly ArchivedSnapshot[], base: ArchivedSnapshot, recovery: PointInTimeRecoverySetting | undefined, nowMs: number,
): ArchivedSnapshot | undefined {
  if (recovery?.enabled !== true) return base;
  const windowStart = nowMs - recovery.recoveryPeriodDays * DAY_MS;
  return snapshots.filter((s) => s.atMs <= windowStart && s.index <= base.index).pop();
}

export interface Pruned {
  snapshots: number;
  /** WAL range objects, over every replica's archive. */
  objects: number;
}

/** Removes what a partition's archive holds before `keep`: its older snapshots (of
 *  `snapshots`, the partition's listing), then (by `forgetThrough`, the archiver's, which
 *  rewrites the manifests) its WAL up to `keep`. */
export async function pruneBefore(
  store: ObjectStore, forgetThrough: (tableId: number, group: number, through: number) => Promise<number>,
  snapshots: readonly ArchivedSnapshot[], keep: ArchivedSnapshot,
): Promise<Pruned> {
  const older = snapshots.filter((s) => s.index < keep.index);
  for (const s of older) await removeArchivedSnapshot(store, s);
  const objects = await forgetThrough(keep.tableId, keep.group, keep.index);
  return { snapshots: older.length, objects };
}
