/**
 * Scrub's background work, on the background pool's thread (never a storage node's, nor
 * the main thread, where embedded callers' requests are routed): rebuilds one partition
 * from an archived snapshot and the archived WAL after it (storage/rebuild.ts), as of each
 * index asked for; for a scrub, also opens each live replica's export and compares it with
 * the rebuild through Merkle trees over the key space.
 */
import './background-thread.js';
import { buildMerkleTree, diffKeys, diffMerkleTrees, DEFAULT_LEAF_BITS } from '../checksum/merkle.js';
import type { Item } from '../model/types.js';
import { extractKey } from '../model/validate.js';
import type { LogEntry } from '../replication/types.js';
import { openValue } from '../storage/checked-values.js';
import { decodeItem } from '../storage/codec.js';
import { PartitionRebuild, type RebuildSplit } from '../storage/rebuild.js';
import { unpackRows, type PackedRows, type SnapshotRow } from '../storage/snapshot.js';
import type { GroupRecord } from '../storage/wal.js';
import { ArchivedSnapshotError, parseArchivedSnapshot, type ArchivedSnapshot } from './archive-snapshots.js';

export interface RebuildTask {
  /** The group the rebuild starts as (the base snapshot's). */
  rec: GroupRecord;
  /** The base snapshot's rows and index (none and 0: the empty partition of a new group). */
  rows: SnapshotRow[];
  index: number;
  /** Entries index+1 .. the last of `at`, in order. */
  entries: LogEntry[];
  /** The indexes to hand the rows back at, ascending. */
  at: number[];
  /** Splits on the way, ascending: the rebuild starts as a parent and ends as a child
   *  (control/partition-lineage.ts). */
  splits?: RebuildSplit[];
}

export interface RebuiltRows {
  index: number;
  rows: SnapshotRow[];
}

export default function rebuild(task: RebuildTask): RebuiltRows[] {
  const partition = new PartitionRebuild(task.rec, task.rows, task.index);
  const splits = [...(task.splits ?? [])];
  const splitIfDue = (): void => {
    while (splits.length > 0 && splits[0].index === partition.appliedIndex) partition.split(splits.shift()!);
  };
  splitIfDue();
  const out: RebuiltRows[] = [];
  let next = 0;
  for (const at of task.at) {
    while (partition.appliedIndex < at) {
      const e = task.entries[next++];
      if (e === undefined) throw new Error(`rebuild of group ${partition.group}: the archive's entries end at ${partition.appliedIndex}, before ${at}`);
      partition.apply([e]);
      splitIfDue();
    }
    out.push({ index: at, rows: partition.rows() });
  }
  return out;
}

export interface ScrubTask {
  rec: GroupRecord;
  /** The archived snapshot the rebuild starts from, its object unopened; none: the empty
   *  partition of a new group. */
  base: { snapshot: ArchivedSnapshot; bytes: Uint8Array } | undefined;
  /** Entries after the base's index, to the highest replica's index, in order. */
  entries: LogEntry[];
  /** A split child rebuilt from an ancestor's archive: the ancestor the rebuild starts as
   *  (the base is its), and the splits down to this partition. */
  lineage?: { start: Pick<GroupRecord, 'group' | 'hashStart' | 'hashEnd'>; splits: RebuildSplit[] };
  /** Each live replica's export (damaged rows included), its pieces unopened. */
  replicas: Array<{ node: number; index: number; pieces: PackedRows[] }>;
}

export interface ScrubComparison {
  node: number;
  /** Whether its data is the rebuilt partition's at its index. */
  agrees: boolean;
  /** The keys that differ: an item's key attributes, or the stored key (hex) of a row
   *  that is not an item (an index entry, bookkeeping). */
  keys: Array<Item | { storedKey: string }>;
}

/** What a partition's scrub found: each replica compared with the rebuild, or a base
 *  snapshot that fails its checks (what is wrong with it), which rebuilds nothing. */
export type ScrubOutcome = { comparisons: ScrubComparison[] } | { damagedBase: string };

/** Rebuilds the partition as of each replica's index and compares the replica with it. */
export function scrubPartition(task: ScrubTask): ScrubOutcome {
  let base: { rows: SnapshotRow[]; index: number };
  try {
    base = task.base === undefined ? { rows: [], index: 0 } : { rows: parseArchivedSnapshot(task.base.bytes, task.base.snapshot).rows, index: task.base.snapshot.index };
  } catch (error) {
    if (error instanceof ArchivedSnapshotError) return { damagedBase: error.what };
    throw error;
  }
  const at = [...new Set(task.replicas.map((r) => r.index))].sort((a, b) => a - b);
  const start = task.lineage?.start;
  const rec = start === undefined ? task.rec : { ...task.rec, group: start.group, hashStart: start.hashStart, hashEnd: start.hashEnd };
  const rebuilt = rebuild({ rec, rows: base.rows, index: base.index, entries: task.entries, at, splits: task.lineage?.splits ?? [] });
  return { comparisons: task.replicas.map(({ node, index, pieces }) => {
    const expected = rebuilt.find((r) => r.index === index)!.rows;
    const rows = pieces.flatMap((p) => unpackRows(p.payload, p.crc));
    const ranges = diffMerkleTrees(buildMerkleTree(expected, DEFAULT_LEAF_BITS), buildMerkleTree(rows, DEFAULT_LEAF_BITS));
    if (ranges.length === 0) return { node, agrees: true, keys: [] };
    const differences = diffKeys(expected, rows, DEFAULT_LEAF_BITS, ranges);
    const stored = [...differences.onlyA, ...differences.onlyB, ...differences.changed];
    return { node, agrees: false, keys: stored.map((key) => keyOf(key, task.rec, expected, rows)) };
  }) };
}

/** The key to report for a stored key: an item's key attributes (from whichever copy of
 *  it is intact), else the stored key in hex. */
function keyOf(stored: Uint8Array, rec: GroupRecord, a: readonly SnapshotRow[], b: readonly SnapshotRow[]): Item | { storedKey: string } {
  const isItem = stored.length >= 4 && new DataView(stored.buffer, stored.byteOffset, 4).getUint32(0) === rec.tableId;
  if (isItem) {
    for (const rows of [a, b]) {
      const row = rows.find(([k]) => Buffer.compare(k, stored) === 0);
      const payload = row === undefined ? undefined : openValue(row[0], row[1]);
      if (payload !== undefined) return extractKey(decodeItem(payload), rec.keyShape);
    }
  }
  return { storedKey: Buffer.from(stored).toString('hex') };
}
