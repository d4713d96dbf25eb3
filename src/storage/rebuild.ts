/**
 * A partition rebuilt away from any node: a snapshot's rows, then the log entries after
 * it applied by the same code every replica runs (apply.ts), in memory. Scrub compares
 * the result with the live replicas; point-in-time restore reads the items it holds at
 * a given entry. Deterministic apply (DESIGN invariant 3) is what makes the rebuilt rows
 * byte for byte those of a healthy replica at the same index.
 */
import type { LogEntry } from '../replication/types.js';
import { isControlEntry } from '../replication/membership.js';
import type { Item } from '../model/types.js';
import { applyEntry, type ApplyStats, type ApplyTarget } from './apply.js';
import { checkedKV, type ChecksumStats, type StoredKV } from './checked-values.js';
import { readIndexConfig } from './indexes.js';
import { itemsOfRows, type SnapshotRow } from './snapshot.js';
import type { GroupRecord } from './wal.js';

/** Rows in a Map, keyed by their stored key as a latin1 string (byte order = string order). */
class MemoryRows implements StoredKV {
  readonly rows = new Map<string, Uint8Array>();
  get(key: Uint8Array): Uint8Array | undefined {
    return this.rows.get(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'));
  }
  put(key: Uint8Array, value: Uint8Array): void {
    this.rows.set(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'), new Uint8Array(value));
  }
  remove(key: Uint8Array): void {
    this.rows.delete(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'));
  }
}

export class PartitionRebuild {
  private readonly store = new MemoryRows();
  private readonly stats: ApplyStats & ChecksumStats = { applyTxns: 0, appliedEntries: 0, applyInternalErrors: 0, itemChecksumFailures: 0 };
  private readonly kv = checkedKV(this.store, this.stats);
  private readonly target: ApplyTarget;
  private index: number;

  /** Starts from a snapshot of the group at `index` (its rows; none and 0 for the empty
   *  partition a group starts as). */
  constructor(readonly rec: GroupRecord, rows: Iterable<SnapshotRow>, index: number) {
    for (const [key, value] of rows) this.store.put(key, value);
    this.index = index;
    const indexes = readIndexConfig(this.kv, rec.group)?.indexes ?? rec.indexes;
    this.target = {
      group: rec.group, tableId: rec.tableId, keyShape: rec.keyShape, ...(indexes !== undefined ? { indexes } : {}),
      ...(rec.itemCollectionLimitBytes !== undefined ? { itemCollectionLimitBytes: rec.itemCollectionLimitBytes } : {}),
    };
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
