/**
 * Point-in-time recovery from the archive (DESIGN, "Durability"): a table's partitions as
 * of any moment since recovery was enabled, rebuilt from an archived snapshot taken before
 * that moment and the archived WAL after it, up to the moment.
 *
 * The log knows no time; clock marks give it one. While recovery is on, the control plane
 * proposes a clock mark (replication/membership.ts: when its leader proposed it) in every
 * partition of the table every MARK_EVERY_MS. A restore to time T keeps the entries before
 * the first mark later than T: entries the leaders proposed before T, and at most
 * MARK_EVERY_MS of entries after it.
 *
 * Splits do not narrow the window: a restore to a moment before a split rebuilds the
 * parent as it was then, and one after it rebuilds each child, through its parent's
 * archive when it has no snapshot of its own from before the moment (partition-lineage.ts).
 */
import { clockMarkTime, encodeClockMark } from '../replication/membership.js';
import type { LogEntry } from '../replication/types.js';
import type { PartitionInfo } from '../router/partition-map.js';
import type { RebuildSplit } from '../storage/rebuild.js';
import type { PackedSnapshotPiece, SnapshotRow } from '../storage/snapshot.js';
import type { GroupRecord } from '../storage/wal.js';
import { archiveSnapshot, readArchivedSnapshot } from './archive-snapshots.js';
import { readArchivedEntries } from './archiver.js';
import type { Metadata, TableMeta } from './metadata.js';
import type { ObjectStore } from './object-store.js';
import { lineageBase, partitionsAsOf, splitEntryEmptied, type PastPartition } from './partition-lineage.js';

/** Time between clock marks in each partition of a table with recovery on (ms). */
export const MARK_EVERY_MS = 200;

export interface PointInTimeDeps {
  metadata: Pick<Metadata, 'tables' | 'table'>;
  store: ObjectStore;
  /** Proposes `entry` in a partition through its leader (a write request). */
  propose(partition: PartitionInfo, entry: Uint8Array): Promise<unknown>;
  /** ControlPlane.exportPieces, from the leader. */
  exportPieces(partition: PartitionInfo): AsyncGenerator<PackedSnapshotPiece>;
  /** Seals and archives every node's WAL. */
  flush(): Promise<unknown>;
  nowMs?: () => number;
}

/** What a restore rebuilds a partition (as the table had it then) from: an archived
 *  snapshot's rows and group record (its own or an ancestor's), the entries after it up
 *  to the cut, and the splits on the way from that ancestor. */
export interface PartitionAt {
  partition: PastPartition;
  rec: GroupRecord;
  rows: SnapshotRow[];
  index: number;
  entries: LogEntry[];
  splits: RebuildSplit[];
}

export class PointInTime {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Per table, per partition group: the time of its last clock mark that committed. */
  private readonly marked = new Map<string, Map<number, number>>();
  /** Partition groups whose mark is being proposed. */
  private readonly marking = new Set<number>();
  private readonly now: () => number;

  constructor(private readonly deps: PointInTimeDeps) {
    this.now = deps.nowMs ?? Date.now;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /**
   * Turns recovery on for a table: a base snapshot of every partition goes to the archive
   * and clock marks start. Resolves to the earliest time a restore may ask for.
   */
  async enable(meta: TableMeta): Promise<number> {
    let earliest = 0;
    await Promise.all(meta.partitions.map(async (partition) => {
      await this.mark(meta.name, partition);
      // Taken from this moment on: a restore to a later time can start from it.
      const at = this.now();
      await archiveSnapshot(this.deps.store, meta.tableId, this.deps.exportPieces(partition), at);
      earliest = Math.max(earliest, at);
    }));
    return earliest;
  }

  /** The latest time a restore of `table` may ask for: the oldest of its partitions' last
   *  committed marks (every partition's log has gone past it); undefined before any. */
  latest(meta: TableMeta): number | undefined {
    const marks = this.marked.get(meta.name);
    if (marks === undefined) return undefined;
    let latest = Infinity;
    for (const p of meta.partitions) latest = Math.min(latest, marks.get(p.group) ?? -Infinity);
    return Number.isFinite(latest) ? latest : undefined;
  }

  /**
   * What a restore of `meta` to time `atMs` rebuilds each of the partitions it had then
   * from: the archive is flushed first, so it holds every mark up to now.
   */
  async partitionsAt(meta: TableMeta, atMs: number): Promise<PartitionAt[]> {
    await this.deps.flush();
    return Promise.all(partitionsAsOf(meta, atMs).map(async (partition) => {
      const { end } = partition;
      const lineage = await lineageBase(this.deps.store, meta, partition, (s) => s.atMs <= atMs && (end === undefined || s.index <= end));
      const { base } = lineage;
      if (base === undefined) throw new Error(`no archived snapshot of partition group ${lineage.start.group} of ${meta.name} before ${new Date(atMs).toISOString()}`);
      const { rec, rows } = await readArchivedSnapshot(this.deps.store, base);
      const own = await this.entriesUntil(meta.tableId, partition.group, lineage.from, atMs, end);
      return { partition, rec, rows, index: base.index, entries: [...lineage.entries, ...own], splits: lineage.splits };
    }));
  }

  /** The archived entries after `from` up to the cut for `atMs`: before the first clock
   *  mark later than it; else, for a partition that split (its log ends at `end`), every
   *  entry to its split entry; else up to the last mark (none later is archived yet). */
  private async entriesUntil(tableId: number, group: number, from: number, atMs: number, end = Infinity): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    let lastMark = -1;
    for (let next = from + 1; next <= end; next += READ_ENTRIES) {
      const to = Math.min(next + READ_ENTRIES - 1, end);
      let batch: LogEntry[];
      try {
        batch = await readArchivedEntries(this.deps.store, tableId, group, next, to);
      } catch (error) {
        // The end of what is archived (the last range ends before `to`).
        batch = await readUpToEnd(this.deps.store, tableId, group, next, error);
      }
      for (const e of batch) {
        const t = clockMarkTime(e.data);
        if (t !== undefined && t > atMs) return out;
        if (t !== undefined) lastMark = out.length;
        out.push(e.index === end ? splitEntryEmptied(e, group) : e);
      }
      if (batch.length < to - next + 1) {
        if (end !== Infinity) throw new Error(`the archive of partition group ${group} ends at ${next + batch.length - 1}, before its split entry ${end}`);
        return out.slice(0, lastMark + 1);
      }
    }
    return out;
  }

  private async mark(table: string, partition: PartitionInfo): Promise<void> {
    const at = this.now();
    await this.deps.propose(partition, encodeClockMark(at));
    let marks = this.marked.get(table);
    if (marks === undefined) this.marked.set(table, (marks = new Map()));
    if (at > (marks.get(partition.group) ?? -Infinity)) marks.set(partition.group, at);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const tables = this.deps.metadata.tables().filter((t) => t.status === 'ACTIVE' && t.pointInTimeRecovery?.enabled === true);
      for (const name of this.marked.keys()) if (!tables.some((t) => t.name === name)) this.marked.delete(name);
      // Each partition's marks on their own: one that waits (a leader change, a split
      // parent refusing it) must not hold up the others', or a restore's cut in them
      // would fall seconds late. One that fails is simply made again next time.
      for (const t of tables) {
        for (const p of t.partitions) {
          if (this.marking.has(p.group)) continue;
          this.marking.add(p.group);
          void this.mark(t.name, p).catch(() => undefined).finally(() => this.marking.delete(p.group));
        }
      }
      this.schedule();
    }, MARK_EVERY_MS);
    this.timer.unref();
  }
}

const READ_ENTRIES = 4096;

/** Entries from `from` to the end of the archive, one at a time past the first hole. */
async function readUpToEnd(store: ObjectStore, tableId: number, group: number, from: number, error: unknown): Promise<LogEntry[]> {
  if (!(error instanceof Error) || error.name !== 'ArchiveHoleError') throw error;
  const hole = (error as Error & { index: number }).index;
  if (hole <= from) return [];
  return readArchivedEntries(store, tableId, group, from, hole - 1);
}
