/**
 * The simulator's storage: a WAL with hard state per replica (durable: survives crashes)
 * and an in-memory items store that runs src/storage/apply.ts (volatile: lost on crash;
 * a node restarts from its last checkpoint and replays the WAL above it, as a real node
 * does with its noSync B-tree). `SimNodeStore` puts them behind the node shell's storage
 * port, so the simulator runs the real StorageNode on them.
 */
import type { NodeStorage } from '../../src/node/ports.js';
import type { HardState, LogEntry, LogReader, Ready } from '../../src/replication/types.js';
import { applyEntry, getItem, type ApplyTarget, type ItemKV } from '../../src/storage/apply.js';
import { checkedKV, ItemChecksumError, type StoredKV } from '../../src/storage/checked-values.js';
import type { ApplyBatchResults, ApplyDamage, GetRequest, GetResult, OutboxRecord, PageResult, WriteResult } from '../../src/storage/operations.js';
import type { GroupRecord, PersistRecord } from '../../src/storage/wal.js';
import type { InstalledSnapshot, SnapshotRow, SnapshotSource } from '../../src/storage/snapshot.js';
import { groupKeyIntervals, type KeyInterval } from '../../src/storage/key-intervals.js';
import { readIndexConfig, writeSplitChildIndexConfig } from '../../src/storage/indexes.js';
import { compareBytes } from '../../src/storage/codec.js';
import { crc32c } from '../../src/checksum/crc32c.js';

/** The durable part of a replica: a WAL and its hard state. Survives crashes. */
export class MemLog implements LogReader {
  /** log[k].index === first + k */
  log: LogEntry[] = [];
  first = 1;
  /** Term of entry first-1 (like the real WAL's compactedTerm). */
  boundaryTerm = 0;
  hardState: HardState = { term: 0, vote: -1, commit: 0 };
  /** Persist calls seen, and log restarts among them (test introspection). */
  persists = 0;
  logRestarts = 0;

  firstIndex(): number {
    return this.first;
  }
  lastIndex(): number {
    return this.first + this.log.length - 1;
  }
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (index === this.first - 1) return this.boundaryTerm;
    if (index < this.first || index > this.lastIndex()) return undefined;
    return this.log[index - this.first].term;
  }
  entries(lo: number, hi: number, maxBytes: number): LogEntry[] {
    if (lo < this.first || hi > this.lastIndex() + 1 || lo >= hi) {
      throw new Error(`MemLog.entries [${lo}, ${hi}) outside [${this.first}, ${this.lastIndex() + 1})`);
    }
    const out: LogEntry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.log[i - this.first];
      if (out.length > 0 && size + e.data.byteLength > maxBytes) break;
      out.push(e);
      size += e.data.byteLength;
    }
    return out;
  }
  persist(r: Pick<Ready, 'entries' | 'truncateFrom' | 'hardState' | 'logStart'>): void {
    this.persists++;
    if (r.logStart !== undefined) {
      this.logRestarts++;
      this.log = [];
      this.first = r.logStart.index + 1;
      this.boundaryTerm = r.logStart.term;
    }
    if (r.truncateFrom !== undefined) {
      if (r.truncateFrom < this.first) throw new Error(`MemLog: truncate below first index`);
      this.log.length = Math.max(0, Math.min(this.log.length, r.truncateFrom - this.first));
    }
    for (const e of r.entries) {
      if (e.index < this.first) throw new Error(`MemLog: overwrite of compacted entry ${e.index}`);
      if (e.index <= this.lastIndex()) this.log.length = e.index - this.first; // overwrite
      if (e.index !== this.lastIndex() + 1) throw new Error(`MemLog: gap, appending ${e.index} after ${this.lastIndex()}`);
      this.log.push(e);
    }
    if (r.hardState) this.hardState = { ...r.hardState };
  }
  /** Drops the entries below `firstIndex`. */
  compact(firstIndex: number): void {
    if (firstIndex <= this.first) return;
    if (firstIndex > this.lastIndex() + 1) throw new Error(`MemLog: compact to ${firstIndex} past last index ${this.lastIndex()}`);
    this.boundaryTerm = this.term(firstIndex - 1)!;
    this.log = this.log.slice(firstIndex - this.first);
    this.first = firstIndex;
  }
}


function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** The rows of a node's items store in memory, as the LMDB B-tree holds them (stored
 *  keys, values sealed with their checksum); apply reads them through `checkedKV`, as a
 *  node's ItemStore does. */
export class MemItems implements StoredKV {
  readonly map: Map<string, Uint8Array>;
  constructor(from?: Map<string, Uint8Array>) {
    this.map = new Map(from);
  }
  get(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(keyString(key));
  }
  put(key: Uint8Array, value: Uint8Array): void {
    // The value may be a view into a log entry's data: keep bytes of our own, as LMDB does.
    this.map.set(keyString(key), new Uint8Array(value));
  }
  remove(key: Uint8Array): void {
    this.map.delete(keyString(key));
  }
}

/** The items and applied indexes a checkpoint made durable. */
export interface Checkpoint {
  items: Map<string, Uint8Array>;
  applied: Map<number, number>;
  installed: Map<number, InstalledSnapshot>;
  installs: Map<number, SimInstall>;
}

/** A snapshot install under way (as ItemStore's marker and the staged rows it has not
 *  moved yet): kept with the items, so a crash midway is rolled forward. */
interface SimInstall {
  snapshot: InstalledSnapshot;
  phase: 'clear' | 'move';
  intervals: KeyInterval[];
  rows: SnapshotRow[];
}

function copyInstalls(installs: Map<number, SimInstall>): Map<number, SimInstall> {
  return new Map([...installs].map(([group, i]) => [group, { ...i, rows: [...i.rows] }]));
}

/**
 * One simulated node's disk, behind the storage port (src/node/ports.ts). Durable, kept
 * across crashes: each group's record and WAL (MemLog), and the last checkpoint. Volatile,
 * lost by a crash: the items and applied indexes (a noSync B-tree), and WAL batches
 * written but not yet synced. The simulator runs the sync and the checkpoint the node asks
 * for (`takeUnsynced`/`makeDurable`, `snapshot`/`checkpointDone`) after a disk latency.
 */
export class SimNodeStore implements NodeStorage {
  readonly syncs = true;
  readonly stats = { walCommits: 0, walEntries: 0, applyTxns: 0, appliedEntries: 0, applyInternalErrors: 0, itemChecksumFailures: 0, checkpoints: 0, snapshotsInstalled: 0 };
  private readonly wal = new Map<number, MemLog>();
  private readonly records = new Map<number, { rec: GroupRecord; target: ApplyTarget; hashStart: bigint; hashEnd: bigint }>();
  private checkpointed: Checkpoint = { items: new Map(), applied: new Map(), installed: new Map(), installs: new Map() };
  items = new MemItems();
  /** apply.ts's view of `items` (rebuilt when a crash replaces them). */
  private checked: { of: MemItems; kv: ItemKV } | undefined;
  private applied = new Map<number, number>();
  /** The snapshot each group's items were last replaced with (volatile, like the items). */
  private installed = new Map<number, InstalledSnapshot>();
  private readonly staged = new Map<number, SnapshotRow[]>();
  /** Installs under way (volatile, like the items). */
  private installs = new Map<number, SimInstall>();
  private unsynced: PersistRecord[] = [];

  /** `onApply` sees every entry applied here, before it is (the simulator's checkers). */
  constructor(private readonly onApply: (group: number, entry: LogEntry, expectedIndex: number) => void) {}

  /** The simulator archives nothing. */
  walArchiveView(): undefined {
    return undefined;
  }
  markWalArchived(): void {}

  /** A crash: what was not durable is gone; the items are the last checkpoint's. */
  crash(): void {
    this.items = new MemItems(this.checkpointed.items);
    this.applied = new Map(this.checkpointed.applied);
    this.installed = new Map(this.checkpointed.installed);
    this.installs = copyInstalls(this.checkpointed.installs);
    this.unsynced = [];
    this.staged.clear();
    // As ItemStore does when it opens: an install the checkpoint caught midway is finished.
    for (const group of [...this.installs.keys()]) this.continueInstall(group, Infinity);
    // As NodeStore does when it opens: a snapshot the checkpoint holds whose log restart
    // the WAL lost continues the log after it.
    for (const [group, snap] of this.installed) {
      const log = this.wal.get(group);
      if (log === undefined || this.applied.get(group) !== snap.index || log.term(snap.index) === snap.term) continue;
      log.persist({ entries: [], logStart: snap });
    }
  }

  /** The WAL records written since the last sync began (the batch a sync makes durable). */
  takeUnsynced(): PersistRecord[] {
    const records = this.unsynced;
    this.unsynced = [];
    return records;
  }

  /** A sync completed: its records are on disk (also each record a torn write kept). */
  makeDurable(records: readonly PersistRecord[]): void {
    for (const rec of records) {
      try {
        this.wal.get(rec.group)?.persist(rec);
      } catch (e) {
        throw new Error(`a WAL batch of group ${rec.group} leaves a hole in the log on disk (${(e as Error).message}): the node took entries as durable that never reached its disk`);
      }
    }
  }

  /** What a checkpoint started now makes durable once it completes. */
  snapshot(): Checkpoint {
    return { items: new Map(this.items.map), applied: new Map(this.applied), installed: new Map(this.installed), installs: copyInstalls(this.installs) };
  }

  checkpointDone(checkpoint: Checkpoint): void {
    this.checkpointed = checkpoint;
    this.stats.checkpoints++;
  }

  groups(): GroupRecord[] {
    return [...this.records.values()].map((r) => r.rec);
  }

  group(group: number): GroupRecord | undefined {
    return this.records.get(group)?.rec;
  }

  saveGroup(rec: GroupRecord): void {
    const hashStart = BigInt(`0x${rec.hashStart}`);
    const hashEnd = BigInt(`0x${rec.hashEnd}`);
    if (hashStart > hashEnd) throw new Error(`group ${rec.group}: hashStart ${rec.hashStart} > hashEnd ${rec.hashEnd}`);
    this.records.set(rec.group, { rec, target: { group: rec.group, tableId: rec.tableId, keyShape: rec.keyShape, ...(rec.indexes !== undefined ? { indexes: rec.indexes } : {}) }, hashStart, hashEnd });
    if (!this.wal.has(rec.group)) this.wal.set(rec.group, new MemLog());
  }

  dropGroup(group: number): void {
    const r = this.records.get(group);
    if (r === undefined) return;
    // Not the rows another hosted group of the table covers (a split parent's children).
    const others = [...this.records.values()].filter((o) => o !== r && o.rec.tableId === r.rec.tableId);
    for (const key of [...this.items.map.keys()]) if (this.holds(r, key) && !others.some((o) => this.holds(o, key))) this.items.map.delete(key);
    this.records.delete(group);
    this.wal.delete(group);
    this.applied.delete(group);
    this.installed.delete(group);
    this.staged.delete(group);
    this.installs.delete(group);
  }

  /** As NodeStore.adoptSplitChild: the record and log are durable at once, the data
   *  (applied index, index configuration) volatile like any apply. */
  adoptSplitChild(child: GroupRecord, base: { index: number; term: number }): void {
    if (!this.records.has(child.group)) {
      this.saveGroup(child);
      this.logOf(child.group).persist({ entries: [], logStart: base, hardState: { term: base.term, vote: -1, commit: base.index } });
    }
    if (child.splitFrom !== undefined && (this.applied.get(child.group) ?? 0) < base.index) {
      writeSplitChildIndexConfig(this.kv(), child.splitFrom.group, child.group, base.index, child.indexes);
      this.applied.set(child.group, base.index);
      this.installed.set(child.group, { ...base });
    }
  }

  hardState(group: number): HardState {
    return { ...this.logOf(group).hardState };
  }

  logReader(group: number): LogReader {
    return this.logOf(group);
  }

  persist(batch: PersistRecord[], deferSync = false): void {
    if (batch.length === 0) return;
    this.stats.walCommits++;
    for (const rec of batch) this.stats.walEntries += rec.entries.length;
    if (deferSync) this.unsynced.push(...batch);
    else this.makeDurable(batch);
  }

  compactWal(group: number, upTo: number): void {
    this.logOf(group).compact(upTo + 1);
  }

  /** As ItemStore.applyBatch: a group whose entry meets a damaged value stops there (the
   *  entry wrote nothing) and is named in `damaged`. */
  applyCommitted(batch: Array<{ group: number; entries: LogEntry[] }>): ApplyBatchResults {
    this.stats.applyTxns++;
    const damaged: ApplyDamage[] = [];
    const results: ApplyBatchResults = batch.map(({ group, entries }) => {
      const target = this.rangeOf(group).target;
      const out: Array<WriteResult | undefined> = [];
      if (damaged.some((d) => d.group === group)) return out;
      for (const entry of entries) {
        // (Before the apply, as the checkers expect; the simulator damages nothing at rest.)
        this.onApply(group, entry, (this.applied.get(group) ?? 0) + 1);
        let result: WriteResult | undefined;
        try {
          result = entry.data.length === 0 ? undefined : applyEntry(this.kv(), target, entry.data, entry.index, this.stats);
        } catch (error) {
          if (!(error instanceof ItemChecksumError)) throw error;
          damaged.push({ group, index: entry.index, error: error.inGroup(group, target.tableId) });
          break;
        }
        this.applied.set(group, entry.index);
        this.stats.appliedEntries++;
        out.push(result);
      }
      return out;
    });
    if (damaged.length > 0) results.damaged = damaged;
    return results;
  }

  appliedIndex(group: number): number {
    return this.applied.get(group) ?? 0;
  }

  checkpointedIndex(group: number): number {
    return this.checkpointed.applied.get(group) ?? 0;
  }

  get(group: number, req: GetRequest): GetResult {
    return getItem(this.kv(), this.rangeOf(group).target, req);
  }

  private kv(): ItemKV {
    if (this.checked?.of !== this.items) this.checked = { of: this.items, kv: checkedKV(this.items, this.stats) };
    return this.checked.kv;
  }

  rot(): { damaged: never[]; available: number } {
    throw new Error('SimNodeStore: the simulator injects no damage at rest (rot)');
  }

  query(): PageResult {
    throw new Error('SimNodeStore: the simulated clients issue no Query (the items store\'s range reads are not simulated)');
  }

  scan(): PageResult {
    throw new Error('SimNodeStore: the simulated clients issue no Scan (the items store\'s range reads are not simulated)');
  }

  spaceStats(): { items: number; bytes: number } {
    throw new Error('SimNodeStore: the simulated tables have no index to size');
  }

  outbox(): OutboxRecord[] {
    throw new Error('SimNodeStore: the simulated tables have no global index, so nothing reads an outbox');
  }

  groupDigest(group: number): { items: number; crc: number } {
    const r = this.rangeOf(group);
    const keys = [...this.items.map.keys()].filter((key) => this.holds(r, key)).sort();
    let crc = 0;
    for (const key of keys) {
      const k = Buffer.from(key, 'latin1');
      const v = this.items.map.get(key)!;
      crc = crc32c(v, 0, v.length, crc32c(k, 0, k.length, crc));
    }
    return { items: keys.length, crc };
  }

  openSnapshot(group: number): SnapshotSource {
    const rows: SnapshotRow[] = this.keysOwnedBy(group).sort()
      .map((key) => [new Uint8Array(Buffer.from(key, 'latin1')), new Uint8Array(this.items.map.get(key)!)]);
    let at = 0;
    return {
      index: this.appliedIndex(group),
      next(maxBytes: number): SnapshotRow[] {
        const out: SnapshotRow[] = [];
        let bytes = 0;
        while (at < rows.length && bytes < maxBytes) {
          bytes += rows[at][0].length + rows[at][1].length + 8;
          out.push(rows[at++]);
        }
        return out;
      },
      close(): void {},
    };
  }

  stageSnapshotRows(group: number, rows: readonly SnapshotRow[]): void {
    this.rangeOf(group);
    let staged = this.staged.get(group);
    if (staged === undefined) this.staged.set(group, (staged = []));
    staged.push(...rows);
  }

  discardStagedSnapshot(group: number): void {
    this.staged.delete(group);
  }

  beginInstall(group: number, snapshot: InstalledSnapshot): void {
    const r = this.rangeOf(group);
    const intervals = groupKeyIntervals(r, readIndexConfig(this.kv(), group)?.indexes ?? r.rec.indexes);
    this.installs.set(group, { snapshot: { ...snapshot }, phase: 'clear', intervals, rows: this.staged.get(group) ?? [] });
    this.staged.delete(group);
  }

  /** As ItemStore.continueInstall: clears the old rows, then moves the staged ones in, at
   *  most `maxRows` a step. */
  continueInstall(group: number, maxRows: number): boolean {
    const install = this.installs.get(group);
    if (install === undefined) return true;
    let budget = maxRows;
    if (install.phase === 'clear') {
      const old = [...this.items.map.keys()].filter((key) => inIntervals(key, install.intervals)).slice(0, budget);
      for (const key of old) this.items.map.delete(key);
      budget -= old.length;
      if (budget <= 0) return false;
      install.phase = 'move';
    }
    const moved = install.rows.splice(0, budget);
    for (const [key, value] of moved) this.items.put(key, value);
    if (moved.length === budget) return false;
    this.installs.delete(group);
    this.applied.set(group, install.snapshot.index);
    this.installed.set(group, install.snapshot);
    this.stats.snapshotsInstalled++;
    return true;
  }

  /** Every key of the group's rows (items.ts groupKeyIntervals, as a snapshot holds them). */
  private keysOwnedBy(group: number): string[] {
    const r = this.rangeOf(group);
    const intervals = groupKeyIntervals(r, readIndexConfig(this.kv(), group)?.indexes ?? r.rec.indexes);
    return [...this.items.map.keys()].filter((key) => inIntervals(key, intervals));
  }

  /** Whether a stored key (tableId: 4 bytes | hash: 8 bytes | ...) is in the group's range. */
  private holds(r: { rec: GroupRecord; hashStart: bigint; hashEnd: bigint }, key: string): boolean {
    const bytes = Buffer.from(key.slice(0, 12), 'latin1');
    if (bytes.readUInt32BE(0) !== r.rec.tableId) return false;
    const hash = bytes.readBigUInt64BE(4);
    return hash >= r.hashStart && hash <= r.hashEnd;
  }

  private rangeOf(group: number): { rec: GroupRecord; target: ApplyTarget; hashStart: bigint; hashEnd: bigint } {
    const r = this.records.get(group);
    if (r === undefined) throw new Error(`group ${group} is not hosted by this node`);
    return r;
  }

  private logOf(group: number): MemLog {
    const log = this.wal.get(group);
    if (log === undefined) throw new Error(`group ${group} has no WAL on this node`);
    return log;
  }
}

/** Whether a stored key (latin1 string) is in one of the intervals. */
function inIntervals(key: string, intervals: readonly KeyInterval[]): boolean {
  const bytes = Buffer.from(key, 'latin1');
  return intervals.some(({ lo, hi }) => compareBytes(bytes, lo) >= 0 && compareBytes(bytes, hi) < 0);
}
