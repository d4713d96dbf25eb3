/**
 * A partition rebuilt away from any node: a snapshot's rows, then the log entries after
 * it applied by the same code every replica runs (apply.ts), in memory. Scrub compares
 * the result with the live replicas; point-in-time restore reads the items it holds at
 * a given entry. Deterministic apply (DESIGN invariant 3) is what makes the rebuilt rows
 * byte for byte those of a healthy replica at the same index. A rebuild may start from a
 * split parent and become one of its children at the split entry (`split`), as a replica
 * that applied the split does.
 */
import type { LogEntry } from '../replication/types.js';
import { isControlEntry } from '../replication/membership.js';
import type { Item } from '../model/types.js';
import { applyEntry, type ApplyStats, type ApplyTarget } from './apply.js';
import { checkedKV, type ChecksumStats, type StoredKV } from './checked-values.js';
import { readIndexConfig, writeSplitChildIndexConfig } from './indexes.js';
import { groupKeyIntervals, groupRange } from './key-intervals.js';
import { itemsOfRows, type SnapshotRow } from './snapshot.js';
import type { GroupRecord } from './wal.js';

/** A split on a rebuild's way from a parent's log to its child's: after the split entry
 *  at `index`, the rebuild holds the child's rows (group, range) and applies its log. */
export interface RebuildSplit {
  index: number;
  group: number;
  hashStart: string;
  hashEnd: string;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Rows in a Map, keyed by their stored key as a latin1 string (byte order = string order). */
class MemoryRows implements StoredKV {
  readonly rows = new Map<string, Uint8Array>();
  get(key: Uint8Array): Uint8Array | undefined {
    return this.rows.get(latin1(key));
  }
  put(key: Uint8Array, value: Uint8Array): void {
    this.rows.set(latin1(key), new Uint8Array(value));
  }
  remove(key: Uint8Array): void {
    this.rows.delete(latin1(key));
  }
}

export class PartitionRebuild {
  private readonly store = new MemoryRows();
  private readonly stats: ApplyStats & ChecksumStats = { applyTxns: 0, appliedEntries: 0, applyInternalErrors: 0, itemChecksumFailures: 0 };
  private readonly kv = checkedKV(this.store, this.stats);
  private target: ApplyTarget;
  private index: number;

  /** Starts from a snapshot of the group at `index` (its rows; none and 0 for the empty
   *  partition a group starts as). */
  constructor(private rec: GroupRecord, rows: Iterable<SnapshotRow>, index: number) {
    for (const [key, value] of rows) this.store.put(key, value);
    this.index = index;
    this.target = this.targetOf(rec);
  }

  private targetOf(rec: GroupRecord): ApplyTarget {
    const indexes = readIndexConfig(this.kv, rec.group)?.indexes ?? rec.indexes;
    return {
      group: rec.group, tableId: rec.tableId, keyShape: rec.keyShape, ...(indexes !== undefined ? { indexes } : {}),
      ...(rec.itemCollectionLimitBytes !== undefined ? { itemCollectionLimitBytes: rec.itemCollectionLimitBytes } : {}),
    };
  }

  /** The group whose log the rebuild follows now. */
  get group(): number {
    return this.rec.group;
  }

  /**
   * The split entry just applied: from here on the rebuild is `child`, holding what a
   * replica that applied the split holds for it (node/split.ts): the rows of the child's
   * key intervals (items, local-index entries and collection sizes in its range) and its
   * index configuration, written from the parent's.
   */
  split(child: RebuildSplit): void {
    if (child.index !== this.index) throw new Error(`rebuild of group ${this.rec.group}: split into ${child.group} at ${child.index}, but the rebuild is at ${this.index}`);
    writeSplitChildIndexConfig(this.kv, this.rec.group, child.group, child.index, this.target.indexes);
    const { splitFrom: _from, split: _split, ...base } = this.rec;
    const rec: GroupRecord = { ...base, group: child.group, hashStart: child.hashStart, hashEnd: child.hashEnd };
    const kept = groupKeyIntervals(groupRange(rec), this.target.indexes).map(({ lo, hi }) => ({ lo: latin1(lo), hi: latin1(hi) }));
    for (const key of [...this.store.rows.keys()]) {
      if (!kept.some(({ lo, hi }) => key >= lo && key < hi)) this.store.rows.delete(key);
    }
    this.rec = rec;
    this.target = this.targetOf(rec);
  }

  /** The index of the last entry applied. */
  get appliedIndex(): number {
    return this.index;
  }

  /** Applies the next entries, which must continue the log exactly. */
  apply(entries: readonly LogEntry[]): void {
    for (const e of entries) {
      if (e.index !== this.index + 1) throw new Error(`rebuild of group ${this.rec.group}: entry ${e.index} where ${this.index + 1} was expected`);
      if (e.data.length > 0 && !isControlEntry(e.data)) applyEntry(this.kv, this.target, e.data, e.index, this.stats);
      this.index = e.index;
    }
  }

  /** Every row, in key order (as a replica's B-tree holds them). */
  rows(): SnapshotRow[] {
    return [...this.store.rows.keys()].sort().map((k) => [new Uint8Array(Buffer.from(k, 'latin1')), this.store.rows.get(k)!]);
  }

  /** The table's items. */
  items(): Item[] {
    return itemsOfRows(this.rows(), this.rec.tableId);
  }
}
