/**
 * Partitions' lineage in the archive. A split child's data begins as its parent's rows in
 * its range at the split entry, and its log continues after that entry (node/split.ts).
 * So the archive rebuilds a child that has no usable snapshot of its own from its parent:
 * the parent's snapshot, the parent's entries up to the split entry, the split (the
 * rebuild keeps the child's rows: storage/rebuild.ts), then the child's own entries. A
 * parent may be a child too. The table's split history (metadata `splitHistory`) says who
 * came from whom and when, which also gives the partitions a table had at a past moment.
 */
import { isSplitEntry } from '../node/split.js';
import type { LogEntry } from '../replication/types.js';
import type { RebuildSplit } from '../storage/rebuild.js';
import type { GroupRecord } from '../storage/wal.js';
import { archivedSnapshots, type ArchivedSnapshot } from './archive-snapshots.js';
import { readArchivedEntries } from './archiver.js';
import type { SplitRecord, TableMeta } from './metadata.js';
import type { ObjectStore } from './object-store.js';

export type PartitionRange = Pick<GroupRecord, 'group' | 'hashStart' | 'hashEnd'>;

/** A partition as of a past moment: `end`, the index of its split entry when it split
 *  later (its log ends there). */
export type PastPartition = PartitionRange & { end?: number };

/** Where the archive's rebuild of a partition begins. */
export interface LineageBase {
  /** The partition the rebuild starts as: this one, or the ancestor whose snapshot it is. */
  start: PartitionRange;
  /** That snapshot; undefined: the empty partition a group no split made starts as. */
  base: ArchivedSnapshot | undefined;
  /** The ancestors' entries after the base, through the last split entry (emptied: it
   *  applies nothing). */
  entries: LogEntry[];
  /** The splits down to this partition, oldest first. */
  splits: RebuildSplit[];
  /** The index this partition's own entries continue after. */
  from: number;
  /** Every snapshot the archive holds of this partition itself (usable or not), oldest
   *  first: the listing this was chosen from, for the caller's retention. */
  own: ArchivedSnapshot[];
}

type Lineage = Pick<TableMeta, 'tableId' | 'splitHistory'>;

function birthOf(meta: Pick<TableMeta, 'splitHistory'>, group: number): SplitRecord | undefined {
  return meta.splitHistory?.find((s) => s.children.includes(group));
}

/**
 * Where the archive's rebuild of `partition` begins: its own newest snapshot that `usable`
 * accepts; else, for a split child, its parent's rebuild through the split entry (the
 * parent's newest snapshot before it, or its own parent's, ...); else index 0, empty.
 */
export async function lineageBase(store: ObjectStore, meta: Lineage, partition: PartitionRange, usable: (s: ArchivedSnapshot) => boolean): Promise<LineageBase> {
  const own = await archivedSnapshots(store, meta.tableId, partition.group);
  const usableOwn = own.filter(usable).pop();
  if (usableOwn !== undefined) return { start: partition, base: usableOwn, entries: [], splits: [], from: usableOwn.index, own };
  const birth = birthOf(meta, partition.group);
  if (birth === undefined) return { start: partition, base: undefined, entries: [], splits: [], from: 0, own };
  const up = await lineageBase(store, meta, birth, (s) => s.index <= birth.index);
  const entries = up.from < birth.index ? await readArchivedEntries(store, meta.tableId, birth.group, up.from + 1, birth.index) : [];
  if (entries.length > 0) entries[entries.length - 1] = splitEntryEmptied(entries[entries.length - 1], birth.group);
  const split: RebuildSplit = { index: birth.index, group: partition.group, hashStart: partition.hashStart, hashEnd: partition.hashEnd };
  return { start: up.start, base: up.base, entries: [...up.entries, ...entries], splits: [...up.splits, split], from: birth.index, own };
}

/** A parent's split entry, as a rebuild applies it: nothing (the split is the rebuild's). */
export function splitEntryEmptied(entry: LogEntry, group: number): LogEntry {
  if (!isSplitEntry(entry.data)) throw new Error(`the archive of partition group ${group} has no split entry at ${entry.index}, where its split history says it split`);
  return { index: entry.index, term: entry.term, data: new Uint8Array(0) };
}

/**
 * The partitions a table had at `atMs`: each of today's, or the ancestor it was part of
 * then (a split later than `atMs` undone), with the index its log ends at.
 */
export function partitionsAsOf(meta: Pick<TableMeta, 'partitions' | 'splitHistory'>, atMs: number): PastPartition[] {
  const out = new Map<number, PastPartition>();
  const visit = (p: PartitionRange, end: number | undefined): void => {
    const birth = birthOf(meta, p.group);
    if (birth !== undefined && birth.atMs > atMs) return visit(birth, birth.index);
    out.set(p.group, { group: p.group, hashStart: p.hashStart, hashEnd: p.hashEnd, ...(end !== undefined ? { end } : {}) });
  };
  for (const p of meta.partitions) visit(p, undefined);
  return [...out.values()].sort((a, b) => (a.hashStart < b.hashStart ? -1 : 1));
}
