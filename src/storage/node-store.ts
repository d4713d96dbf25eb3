/**
 * NodeStore: everything one storage node keeps on disk, used synchronously from that
 * node's worker thread. Under `dir`:
 *
 *  - `dir/wal/` — the durability point: append-only segment files holding WAL records,
 *                 hard states, group records (see wal.ts). 'sync' fdatasyncs every
 *                 persist (one write + one sync per batch); 'async' never syncs.
 *  - `dir/data` — the items B-tree and each group's applied index (see items.ts), always
 *                 noSync, made durable by `checkpoint()` ('sync' only). Write-mapped
 *                 with 'async' (fastest); written with pwrite under 'sync', because
 *                 the checkpoint's msync of a write-mapped B-tree stalled every node's
 *                 WAL fsync behind it (p99 175 ms vs 68 ms, measured with 3 nodes).
 *
 * Crash recovery: `appliedIndex(group)` is what the B-tree holds (same transaction as the
 * items); the shell replays committed WAL entries after it. The WAL must keep every entry
 * above `checkpointedIndex(group)` (the applied index known durable), since an OS crash
 * can take the data env back to its last sync.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HardState, LogEntry, LogReader } from '../replication/types.js';
import type { ApplyBatchResults, GetRequest, GetResult, OutboxRecord, PageResult, QueryRequest, ScanRequest } from './operations.js';
import { Wal, type GroupRecord, type PersistRecord, type WalArchiveView } from './wal.js';
import { ItemStore, type RottedItem } from './items.js';
import { groupRange, hashIntervalBounds, type GroupRange } from './key-intervals.js';
import type { InstalledSnapshot, SnapshotRow, SnapshotSource } from './snapshot.js';
import { ItemChecksumError } from './checked-values.js';

export type { GroupRecord, PersistRecord } from './wal.js';
export { WalChecksumError } from './wal.js';
export { ItemChecksumError } from './checked-values.js';
export type { RottedItem } from './items.js';

export interface NodeStoreOptions {
  dir: string;
  /** 'sync': every WAL commit is fsync'ed before persist() returns (acknowledgeable).
   *  'async': WAL commits are noSync (survives a process crash, not an OS crash). */
  durability: 'sync' | 'async';
  /** Open the data env with MDB_WRITEMAP: fewer mallocs and copies per dirty page, but a
   *  checkpoint (msync) stalls writers. Default: true with 'async' (which never flushes
   *  the B-tree), false with 'sync'. */
  useWritemap?: boolean;
  /** Size at which a WAL segment is closed and a new one begun (default 64 MiB). The WAL
   *  frees space a whole segment at a time. */
  walSegmentBytes?: number;
  /** Keep sealed WAL segments until an archiver has read them (walArchiveView,
   *  markWalArchived). Default false. */
  archiveWal?: boolean;
  /** For the power-off test (emulatePowerLoss): `onDurable` hears how far the WAL is
   *  durable after each sync, and each checkpoint leaves a copy of the items B-tree as it
   *  was made durable in `copyDir`, so that a power failure can be played back (the WAL
   *  cut to what was synced, the B-tree back to a state a sync made durable). */
  powerLoss?: { onDurable: (segment: number, bytes: number) => void; copyDir: string };
}

/** What an archiver reads of a node's WAL: the segments (WalArchiveView) and, per hosted
 *  group, its applied index at the same moment: entries up to it are committed and
 *  written, so the archiver may take them as final once it has read every segment. */
export interface NodeWalArchiveView extends WalArchiveView {
  applied: Record<number, number>;
}

export type NodeStoreStats = {
  /** WAL batches written (each persist is one write, and one sync in 'sync' mode). */
  walCommits: number;
  /** Bytes written to WAL segments (record headers + payloads). */
  walBytes: number;
  walEntries: number;
  walChecksumFailures: number;
  /** Stored values (items, index entries, bookkeeping rows) that failed their CRC32C when
   *  read: each read that met one counts (checked-values.ts). */
  itemChecksumFailures: number;
  /** Apply transactions on the data env, and the entries they applied. */
  applyTxns: number;
  appliedEntries: number;
  applyInternalErrors: number;
  checkpoints: number;
};

/** The node shell's storage (it fits src/node/ports.ts NodeStorage; the worker runs its
 *  syncNow and checkpoint when the node asks). */
export class NodeStore {
  readonly stats: NodeStoreStats = {
    walCommits: 0,
    walBytes: 0,
    walEntries: 0,
    walChecksumFailures: 0,
    itemChecksumFailures: 0,
    applyTxns: 0,
    appliedEntries: 0,
    applyInternalErrors: 0,
    checkpoints: 0,
  };
  private readonly wal: Wal;
  private readonly data: ItemStore;
  private readonly ranges = new Map<number, GroupRange>();
  private readonly checkpointed = new Map<number, number>();
  private readonly durability: 'sync' | 'async';
  private readonly archiveWal: boolean;
  private closed = false;

  private readonly powerLoss: NodeStoreOptions['powerLoss'];

  private async copyForPowerLoss(copyDir: string): Promise<void> {
    const next = `${copyDir}.next`;
    rmSync(next, { recursive: true, force: true });
    mkdirSync(next, { recursive: true });
    await this.data.root.backup(next, false);
    rmSync(copyDir, { recursive: true, force: true });
    renameSync(next, copyDir);
  }

  private constructor(opts: NodeStoreOptions) {
    if (opts.durability !== 'sync' && opts.durability !== 'async') {
      throw new Error(`options.durability must be 'sync' or 'async', got ${String(opts.durability)}`);
    }
    if (typeof opts.dir !== 'string' || opts.dir === '') throw new Error('options.dir must be a directory path');
    mkdirSync(opts.dir, { recursive: true });
    this.durability = opts.durability;
    this.powerLoss = opts.powerLoss;
    this.archiveWal = opts.archiveWal ?? false;
    this.wal = new Wal(join(opts.dir, 'wal'), opts.durability, this.stats, {
      archive: this.archiveWal, ...(opts.walSegmentBytes === undefined ? {} : { segmentBytes: opts.walSegmentBytes }),
      ...(opts.powerLoss === undefined ? {} : { onDurable: opts.powerLoss.onDurable }),
    });
    this.data = new ItemStore(join(opts.dir, 'data'), { useWritemap: opts.useWritemap ?? opts.durability === 'async' }, this.stats);
    for (const rec of this.wal.groups()) {
      this.ranges.set(rec.group, groupRange(rec));
      this.checkpointed.set(rec.group, this.wal.logMeta(rec.group).checkpointed);
    }
    // Finish drops whose item deletion may not have reached the disk.
    for (const rec of this.wal.droppedGroups()) this.deleteGroupItems(rec);
    for (const rec of this.wal.groups()) this.continueLogAfterSnapshot(rec.group);
  }

  /**
   * A snapshot installed and made durable in the B-tree, before the WAL durably restarted
   * its log after it (a crash in between): the WAL still holds the log from before, which
   * ends below the snapshot or does not match it. Restart it there now, as the replica
   * would have.
   */
  private continueLogAfterSnapshot(group: number): void {
    const installed = this.data.installedSnapshot(group);
    if (installed === undefined || this.data.appliedIndex(group) !== installed.index) return;
    const log = this.wal.logReader(group);
    if (log.term(installed.index) === installed.term) return;
    this.wal.persist([{ group, entries: [], logStart: installed }]);
  }

  static open(opts: NodeStoreOptions): NodeStore {
    return new NodeStore(opts);
  }

  // ---- groups ------------------------------------------------------------------------------

  groups(): GroupRecord[] {
    return this.wal.groups();
  }

  group(group: number): GroupRecord | undefined {
    return this.ranges.get(group)?.rec;
  }

  /** Durably records (or replaces) a group this node hosts. */
  saveGroup(rec: GroupRecord): void {
    this.assertOpen();
    const range = groupRange(rec); // validates the bounds before anything is written
    this.wal.saveGroup(rec);
    this.ranges.set(rec.group, range);
    if (!this.checkpointed.has(rec.group)) this.checkpointed.set(rec.group, this.wal.logMeta(rec.group).checkpointed);
  }

  /**
   * Hosts `child`, a child of a split applied here (node/split.ts), idempotently: its
   * record and a log that begins after the split entry `base` (durable in the WAL), and its
   * data: the rows already stored in its range, applied at `base` (a log replica has none,
   * but its applied index must not be below its log, which begins there).
   * Called right after the parent's apply of `base`, in the same round.
   */
  adoptSplitChild(child: GroupRecord, base: { index: number; term: number }): void {
    this.assertOpen();
    if (!this.ranges.has(child.group)) {
      this.saveGroup(child);
      this.wal.persist([{ group: child.group, entries: [], logStart: base, hardState: { term: base.term, vote: -1, commit: base.index } }]);
    }
    if (child.splitFrom !== undefined && this.data.appliedIndex(child.group) < base.index) {
      this.data.adoptSplitRange(child, child.splitFrom.group, base);
    }
  }

  /**
   * Removes the group's WAL, hard state, applied index and items (its table's keys in its
   * hash range, except sub-ranges another hosted group of the same table still covers).
   */
  dropGroup(group: number): void {
    this.assertOpen();
    const range = this.ranges.get(group);
    if (range === undefined) return;
    // WAL first (durable, leaves a tombstone), then the items: a crash in between is
    // finished on the next open; the tombstone goes at the next checkpoint.
    this.wal.dropGroup(group);
    this.ranges.delete(group);
    this.checkpointed.delete(group);
    this.deleteGroupItems(range.rec);
  }

  private deleteGroupItems(rec: GroupRecord): number {
    const { hashStart, hashEnd } = groupRange(rec);
    // Subtract the hash ranges of other hosted groups of the same table.
    let pieces: Array<[bigint, bigint]> = [[hashStart, hashEnd]];
    for (const other of this.ranges.values()) {
      if (other.rec.group === rec.group || other.rec.tableId !== rec.tableId) continue;
      const next: Array<[bigint, bigint]> = [];
      for (const [a, b] of pieces) {
        if (other.hashEnd < a || other.hashStart > b) {
          next.push([a, b]);
          continue;
        }
        if (other.hashStart > a) next.push([a, other.hashStart - 1n]);
        if (other.hashEnd < b) next.push([other.hashEnd + 1n, b]);
      }
      pieces = next;
    }
    const intervals = pieces.map(([a, b]) => hashIntervalBounds(rec.tableId, a, b));
    // Its local indexes' entries in the same pieces; its outbox and index config.
    for (const [a, b] of pieces) intervals.push(...this.data.localIndexIntervals(rec, a, b));
    intervals.push(...this.data.groupIndexRows(rec.group));
    return this.data.deleteRanges(intervals, this.ranges.has(rec.group) ? undefined : rec.group);
  }

  // ---- WAL ---------------------------------------------------------------------------------

  hardState(group: number): HardState {
    return this.wal.hardState(group);
  }

  logReader(group: number): LogReader {
    return this.wal.logReader(group);
  }

  /** One WAL write (and one sync) for the whole batch; each record truncates first. */
  /** One WAL batch for every group's new entries and hard states (group commit); see
   *  Wal.persist for `deferSync`. */
  persist(batch: PersistRecord[], deferSync = false): void {
    this.assertOpen();
    if (batch.length === 0) return;
    this.wal.persist(batch, deferSync);
  }

  /** Makes everything persisted so far durable, on this thread. */
  syncNow(): void {
    this.assertOpen();
    this.wal.syncNow();
  }

  /** Whether a persist must be synced to count (durability 'sync'). */
  get syncs(): boolean {
    return this.durability === 'sync';
  }

  /** Drops WAL entries <= upTo (the term of upTo is kept for term(upTo)). */
  compactWal(group: number, upTo: number): void {
    this.assertOpen();
    this.wal.compact(group, upTo);
  }

  // ---- apply -------------------------------------------------------------------------------

  /** Applies committed entries in one noSync transaction that also records each group's
   *  applied index. Results parallel the entries; undefined for no-op (empty) entries. A
   *  group that met a damaged value stops at that entry (see ItemStore.applyBatch): the
   *  results name it in `damaged`. */
  applyCommitted(batch: Array<{ group: number; entries: LogEntry[] }>): ApplyBatchResults {
    this.assertOpen();
    return this.data.applyBatch(batch, this.ranges);
  }

  appliedIndex(group: number): number {
    return this.data.appliedIndex(group);
  }

  /** The applied index known durable in the data env (0 before the first checkpoint). */
  checkpointedIndex(group: number): number {
    return this.checkpointed.get(group) ?? 0;
  }

  /**
   * Makes the data env durable: notes every group's applied index, runs mdb_env_sync on
   * a libuv thread (the worker keeps serving meanwhile), then records those indexes as
   * checkpointed in the WAL (durable with its next sync, and always before a WAL segment
   * that only they free is deleted), and clears drop tombstones that are now moot.
   * Concurrent calls share nothing; each is correct on its own.
   */
  async checkpoint(): Promise<void> {
    this.assertOpen();
    const applied = this.data.appliedIndexes();
    const dropped = this.wal.droppedGroups().map((r) => r.group);
    // With durability 'async' nothing is synced, the WAL included: a committed noSync
    // transaction survives a crash of the process (it is in the OS page cache), which is
    // all 'async' promises, so the B-tree needs no flush before the WAL is dropped. A
    // flush would only stall the writers (msync of a write-mapped B-tree blocks them).
    if (this.durability === 'sync') await this.data.sync();
    if (this.closed) return;
    // The copy is a consistent state at or after the sync's: every entry it applied is in
    // the WAL's synced part (a core hands out only durable entries to apply).
    if (this.powerLoss !== undefined) await this.copyForPowerLoss(this.powerLoss.copyDir);
    if (this.closed) return;
    const hosted = new Map<number, number>();
    for (const [group, idx] of applied) {
      if (!this.ranges.has(group)) continue;
      hosted.set(group, idx);
      if ((this.checkpointed.get(group) ?? 0) < idx) this.checkpointed.set(group, idx);
    }
    this.wal.setCheckpointed(hosted);
    this.wal.clearDropped(dropped.filter((g) => !this.ranges.has(g)));
    this.stats.checkpoints++;
  }

  // ---- snapshots ---------------------------------------------------------------------------

  /** A consistent view of the group's rows at its applied index (snapshot.ts). */
  openSnapshot(group: number, options: { keepDamaged?: boolean } = {}): SnapshotSource {
    return this.data.openSnapshot(this.rangeOf(group), options);
  }

  /** Keeps a received snapshot chunk's rows aside until `installSnapshot`. */
  stageSnapshotRows(group: number, rows: readonly SnapshotRow[]): void {
    this.rangeOf(group);
    this.data.stageSnapshotRows(group, rows);
  }

  discardStagedSnapshot(group: number): void {
    this.assertOpen();
    this.data.discardStagedSnapshot(group);
  }

  /** Starts replacing the group's data with the staged rows, applied at `snapshot.index`
   *  (ItemStore.beginInstall): `continueInstall` does it a step at a time. */
  beginInstall(group: number, snapshot: InstalledSnapshot): void {
    this.assertOpen();
    this.data.beginInstall(this.rangeOf(group), snapshot);
  }

  /** One step of the group's install, at most `maxRows` rows; true once it is finished
   *  (durable at the next checkpoint). */
  continueInstall(group: number, maxRows: number): boolean {
    this.assertOpen();
    return this.data.continueInstall(group, maxRows);
  }

  // ---- reads -------------------------------------------------------------------------------

  // Every read verifies the checksum of each value it reads: a damaged one throws
  // ItemChecksumError (naming the group), never comes back as data.

  get(group: number, req: GetRequest): GetResult {
    const r = this.rangeOf(group, req.tableId);
    try {
      return this.data.get(r, req);
    } catch (error) {
      throw inGroup(error, r);
    }
  }

  query(group: number, req: QueryRequest): PageResult {
    const r = this.rangeOf(group, req.tableId);
    try {
      return this.data.query(r, req);
    } catch (error) {
      throw inGroup(error, r);
    }
  }

  scan(group: number, req: ScanRequest): PageResult {
    const r = this.rangeOf(group, req.tableId);
    try {
      return this.data.scan(r, req);
    } catch (error) {
      throw inGroup(error, r);
    }
  }

  /** Entries and bytes of key space `spaceId` (the group's table, or an index it holds)
   *  in the group's hash range. */
  spaceStats(group: number, spaceId: number): { items: number; bytes: number } {
    const r = this.rangeOf(group);
    try {
      return this.data.spaceStats(spaceId, r.hashStart, r.hashEnd);
    } catch (error) {
      throw inGroup(error, r);
    }
  }

  /** The group's outbox records after log index `after` (indexes.ts), at most `max`. */
  outbox(group: number, after: number, max: number): OutboxRecord[] {
    const r = this.rangeOf(group);
    try {
      return this.data.outbox(group, after, max);
    } catch (error) {
      throw inGroup(error, r);
    }
  }

  /** Order-dependent CRC32C over every (key, value) of the group's range (its items, then
   *  its local-index entries), and the count and size of its items. */
  groupDigest(group: number): { items: number; crc: number; bytes: number } {
    const r = this.rangeOf(group);
    const { lo, hi } = hashIntervalBounds(r.rec.tableId, r.hashStart, r.hashEnd);
    try {
      // The group's local-index entries too: replicas must agree on them as on the items.
      return this.data.digest(lo, hi, this.data.localIndexIntervals(r.rec, r.hashStart, r.hashEnd));
    } catch (error) {
      throw inGroup(error, r);
    }
  }

  /**
   * Fault injection: flips a byte at rest in `count` distinct items of the tables of the
   * groups this node hosts (drawn from `seed`), leaving their checksums as they were.
   * Returns which items were damaged; none when the node holds fewer than `count`
   * (`available` says how many it holds).
   */
  rot(count: number, seed: number): { damaged: RottedItem[]; available: number } {
    this.assertOpen();
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`rot: count must be a positive integer (got ${String(count)})`);
    return this.data.rot([...this.ranges.values()], count, seed);
  }

  private rangeOf(group: number, tableId?: number): GroupRange {
    this.assertOpen();
    const r = this.ranges.get(group);
    if (r === undefined) throw new Error(`group ${group} is not hosted by this node`);
    if (tableId !== undefined && tableId !== r.rec.tableId) {
      throw new Error(`group ${group} holds table ${r.rec.tableId}, not ${tableId}`);
    }
    return r;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('NodeStore is closed');
  }

  /** Closes both environments (the data env is NOT synced: call checkpoint() first for a
   *  clean shutdown; a process exit loses nothing either way). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.wal.close(), this.data.close()]);
  }

  // ---- archiving ---------------------------------------------------------------------------

  /** The WAL segments to archive (sealing the current one first with `seal`) and every
   *  hosted group's applied index; undefined when archiving is off. */
  walArchiveView(seal: boolean): NodeWalArchiveView | undefined {
    this.assertOpen();
    if (!this.archiveWal) return undefined;
    const applied: Record<number, number> = {};
    for (const rec of this.wal.groups()) applied[rec.group] = this.data.appliedIndex(rec.group);
    return { ...this.wal.archiveView(seal), applied };
  }

  /** Segments <= `segment` are archived: compaction may delete them (no-op when off). */
  markWalArchived(segment: number): void {
    this.assertOpen();
    if (this.archiveWal) this.wal.markArchived(segment);
  }

  /** For tests and tools: the directory of the WAL's segment files. */
  get walDir(): string {
    return this.wal.path;
  }

  /** For tests and tools: the WAL's segment numbers on disk, oldest first. */
  walSegments(): number[] {
    return this.wal.segmentNumbers();
  }
}

/** A damaged-value error, naming the group it was read for; other errors as they are. */
function inGroup(error: unknown, r: GroupRange): unknown {
  return error instanceof ItemChecksumError ? error.inGroup(r.rec.group, r.rec.tableId) : error;
}
